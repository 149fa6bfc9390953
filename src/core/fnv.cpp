#include "megzawicol/core/fnv.hpp"

#include <array>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MZ_FNV_VECTOR 1
#endif

// WHY FNV-1a CAN BE COMPUTED A BLOCK AT A TIME
// --------------------------------------------
// The byte loop h = (h ^ b) * P is one long chain: an xor and a 64-bit multiply per byte
// (4 cycles of latency each). Split h into its low byte l and the rest: h ^ b = h + e with
// e = (l ^ b) - l (in [-255, 255]), so h' = h * P + e * P, and over n bytes
//
//     h_n = h_0 * P^n + sum_i e_i * P^(n - i)        (mod 2^64)
//
// The sum is independent work once the e_i are known, and they only need the chain of low
// bytes: l' = ((l ^ b) * 0xb3) mod 256 (0xb3 = P mod 256). That chain is still serial, but
// bit k of x * 0xb3 is bit k of x xor a function of x's lower bits (0xb3 is odd). So with
// c = l ^ b, bit k of every l' in a block of 64 bytes is a prefix xor over the block of
// (bit k of b) ^ f_k(lower bits of c), and a prefix xor of 64 bits is one carry-less
// multiply by all ones. The vector path below takes the eight bit planes of 64 bytes in
// turn (f_k from a bit-sliced adder of the partial products x, x<<1, x<<4, x<<5, x<<7),
// then the weighted sum with 16-bit limbs of the weights P^(256 - i).

namespace mz {

uint64_t fnv1a64_update_portable(uint64_t h, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnv64Prime;
  }
  return h;
}

#ifdef MZ_FNV_VECTOR
namespace {

constexpr size_t kChunk = 256;  // bytes per weighted sum (its 32-bit partial sums cannot overflow)

constexpr uint64_t pow_p(size_t e) {
  uint64_t r = 1;
  for (size_t i = 0; i < e; ++i) r *= kFnv64Prime;
  return r;
}

// kWeights[t][parity][j] is limb t (of four signed 16-bit limbs, weight 2^(16 t)) of
// P^(256 - i) for byte i = 2 j + parity of the chunk.
struct Weights {
  alignas(64) int16_t w[4][2][kChunk / 2];
};
constexpr Weights make_weights() {
  Weights r{};
  for (size_t i = 0; i < kChunk; ++i) {
    uint64_t w = pow_p(kChunk - i);
    for (size_t t = 0; t < 4; ++t) {
      int64_t d = static_cast<int64_t>(w & 0xffff);
      if (d >= 0x8000) d -= 0x10000;
      r.w[t][i & 1][i / 2] = static_cast<int16_t>(d);
      w = (w - static_cast<uint64_t>(d)) >> 16;
    }
  }
  return r;
}
constexpr Weights kWeights = make_weights();
constexpr uint64_t kP256 = pow_p(kChunk);

#define MZ_FNV_TARGET __attribute__((target("avx512f,avx512bw,pclmul,sse4.1")))

MZ_FNV_TARGET inline uint64_t prefix_xor(uint64_t y) {  // bit i: y_0 ^ ... ^ y_i
  return static_cast<uint64_t>(_mm_cvtsi128_si64(
      _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(y)), _mm_set1_epi64x(-1), 0x00)));
}
inline uint64_t maj(uint64_t a, uint64_t b, uint64_t c) { return (a & b) | (c & (a | b)); }

// Plane k of a block: bit k of l for all 64 bytes from f (bit k of the partial products of
// the lower bits of c, carries included), then c_k = l_k ^ b_k, and bit k of l into lv.
MZ_FNV_TARGET inline void plane(int k, uint64_t f, const uint64_t* b, uint64_t* c, uint64_t* cin, __m512i& lv) {
  const uint64_t px = prefix_xor(b[k] ^ f);
  const uint64_t l = (px << 1) ^ cin[k];
  cin[k] ^= 0 - (px >> 63);
  c[k] = l ^ b[k];
  lv = _mm512_mask_add_epi8(lv, l, lv, _mm512_set1_epi8(static_cast<char>(1 << k)));
}

MZ_FNV_TARGET uint64_t fnv_chunks(uint64_t h, const uint8_t* p, size_t chunks) {
  for (; chunks > 0; --chunks) {
    // cin[k]: bit k of the low byte before the current block, as 0 or all ones.
    uint64_t cin[8];
    for (int k = 0; k < 8; ++k) cin[k] = 0 - ((h >> k) & 1);
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (size_t blk = 0; blk < kChunk / 64; ++blk, p += 64) {
      const __m512i bv = _mm512_loadu_si512(p);
      uint64_t b[8], c[8];
      for (int k = 0; k < 8; ++k) b[k] = _mm512_test_epi8_mask(bv, _mm512_set1_epi8(static_cast<char>(1 << k)));
      __m512i lv = _mm512_setzero_si512();
      // Column k of c * 0xb3 adds c_k, c_(k-1), c_(k-4), c_(k-5), c_(k-7) and the carries
      // of column k - 1 (full and half adders: a sum stays, a carry moves up).
      plane(0, 0, b, c, cin, lv);
      plane(1, c[0], b, c, cin, lv);
      const uint64_t k1 = c[1] & c[0];
      plane(2, c[1] ^ k1, b, c, cin, lv);
      const uint64_t k2 = maj(c[2], c[1], k1);
      plane(3, c[2] ^ k2, b, c, cin, lv);
      const uint64_t k3 = maj(c[3], c[2], k2);
      plane(4, c[3] ^ c[0] ^ k3, b, c, cin, lv);
      const uint64_t s4 = c[4] ^ c[3] ^ c[0];
      const uint64_t a4 = maj(c[4], c[3], c[0]), b4 = s4 & k3;
      plane(5, c[4] ^ c[1] ^ c[0] ^ a4 ^ b4, b, c, cin, lv);
      const uint64_t s51 = c[5] ^ c[4] ^ c[1], s52 = c[0] ^ a4 ^ b4;
      const uint64_t x1 = maj(c[5], c[4], c[1]), x2 = maj(c[0], a4, b4), x3 = s51 & s52;
      plane(6, c[5] ^ c[2] ^ c[1] ^ x1 ^ x2 ^ x3, b, c, cin, lv);
      const uint64_t s61 = c[6] ^ c[5] ^ c[2], s62 = c[1] ^ x1 ^ x2;
      const uint64_t y1 = maj(c[6], c[5], c[2]), y2 = maj(c[1], x1, x2), y3 = maj(s61, s62, x3);
      plane(7, c[6] ^ c[3] ^ c[2] ^ c[0] ^ y1 ^ y2 ^ y3, b, c, cin, lv);  // only the carries' parity matters here
      // e = c - l = (l ^ b) - l, as 16-bit lanes for the even and the odd bytes.
      const __m512i cv = _mm512_xor_si512(lv, bv);
      const __m512i lo = _mm512_set1_epi16(0x00ff);
      const __m512i e_even = _mm512_sub_epi16(_mm512_and_si512(cv, lo), _mm512_and_si512(lv, lo));
      const __m512i e_odd = _mm512_sub_epi16(_mm512_maskz_srli_epi16(~uint32_t{0}, cv, 8),
                                             _mm512_maskz_srli_epi16(~uint32_t{0}, lv, 8));
      for (int t = 0; t < 4; ++t) {
        const __m512i we = _mm512_load_si512(&kWeights.w[t][0][32 * blk]);
        const __m512i wo = _mm512_load_si512(&kWeights.w[t][1][32 * blk]);
        acc[t] = _mm512_add_epi32(acc[t], _mm512_add_epi32(_mm512_madd_epi16(e_even, we), _mm512_madd_epi16(e_odd, wo)));
      }
    }
    uint64_t s = 0;
    for (int t = 0; t < 4; ++t) {
      alignas(64) int32_t lanes[16];
      _mm512_store_si512(lanes, acc[t]);
      int64_t sum = 0;
      for (int32_t v : lanes) sum += v;
      s += static_cast<uint64_t>(sum) << (16 * t);
    }
    h = h * kP256 + s;
  }
  return h;
}

const bool kHaveVector = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");

}  // namespace

bool fnv1a64_uses_vector() { return kHaveVector; }

uint64_t fnv1a64_update(uint64_t h, const uint8_t* p, size_t n) {
  if (kHaveVector && n >= kChunk) {
    const size_t chunks = n / kChunk;
    h = fnv_chunks(h, p, chunks);
    p += chunks * kChunk;
    n -= chunks * kChunk;
  }
  return fnv1a64_update_portable(h, p, n);
}
#else
bool fnv1a64_uses_vector() { return false; }
uint64_t fnv1a64_update(uint64_t h, const uint8_t* p, size_t n) { return fnv1a64_update_portable(h, p, n); }
#endif

}  // namespace mz
