#include "megzawicol/wire/crc32.hpp"

#include <array>
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MZ_CRC32_CLMUL 1
#endif

namespace mz::wire {
namespace {

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// kTables[0] is the classic byte-at-a-time table; kTables[k][i] is the CRC of byte i
// followed by k zero bytes, which lets eight table lookups consume eight bytes.
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k)
    for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables[0][1] == 0x77073096u);
static_assert(kTables[0][255] == 0x2D02EF8Du);

/// Slicing-by-8 on the CRC register (not inverted).
uint32_t slice8(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 8) {
    const uint32_t lo = load_le32(p) ^ c;
    const uint32_t hi = load_le32(p + 4);
    c = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^
        kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFF];
  return c;
}

#ifdef MZ_CRC32_CLMUL
/// Folds `len` bytes (len >= 64, a multiple of 16) into the CRC register `c`.
// x^(4*128+32), x^(4*128-32), x^(128+32), x^(128-32) mod P, x^64 mod P (bit-reflected),
// then P' = 0x1DB710641 and mu = floor(x^64 / P) for the Barrett reduction.
alignas(16) const uint64_t k1k2[2] = {0x0154442bd4, 0x01c6e41596};
alignas(16) const uint64_t k3k4[2] = {0x01751997d0, 0x00ccaa009e};
alignas(16) const uint64_t k5k0[2] = {0x0163cd6124, 0x0000000000};
alignas(16) const uint64_t poly[2] = {0x01db710641, 0x01f7011641};
// x^(16*128+32), x^(16*128-32) mod P (bit-reflected): folding 256 bytes ahead.
alignas(16) const uint64_t k2048[2] = {0x011542778a, 0x01322d1430};

// Folds four 128-bit lanes (x1 at the lowest address) that stand for the bytes before p,
// then the `len` bytes at p (a multiple of 16), and reduces to the 32-bit CRC state.
__attribute__((target("pclmul,sse4.1"), always_inline)) inline uint32_t fold_lanes(__m128i x1, __m128i x2, __m128i x3,
                                                                                     __m128i x4, const uint8_t* p,
                                                                                     size_t len) {
  auto load = [](const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  __m128i x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
  while (len >= 64) {  // four independent 128-bit lanes, each folded 512 bits ahead
    const __m128i x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    const __m128i x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
    const __m128i x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
    const __m128i x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
    x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
    x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), load(p));
    x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), load(p + 16));
    x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), load(p + 32));
    x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), load(p + 48));
    p += 64;
    len -= 64;
  }
  // Fold the four lanes into one.
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));
  for (const __m128i next : {x2, x3, x4}) {
    const __m128i x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, next), x5);
  }
  while (len >= 16) {
    const __m128i x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, load(p)), x5);
    p += 16;
    len -= 16;
  }
  // 128 -> 64 bits.
  __m128i x2b = _mm_clmulepi64_si128(x1, x0, 0x10);
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2b);
  x0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
  x2b = _mm_srli_si128(x1, 4);
  x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x00);
  x1 = _mm_xor_si128(x1, x2b);
  // Barrett reduction to 32 bits.
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
  x2b = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x10);
  x2b = _mm_clmulepi64_si128(_mm_and_si128(x2b, mask32), x0, 0x00);
  x1 = _mm_xor_si128(x1, x2b);
  return static_cast<uint32_t>(_mm_extract_epi32(x1, 1));
}

// len >= 64, a multiple of 16.
__attribute__((target("pclmul,sse4.1"))) uint32_t fold_clmul(uint32_t c, const uint8_t* p, size_t len) {
  auto load = [](const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  const __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  return fold_lanes(x1, load(p + 16), load(p + 32), load(p + 48), p + 64, len - 64);
}

// The same folding on 512-bit registers (VPCLMULQDQ): four registers of four lanes each,
// 256 bytes per step, then the registers fold into one (64 bytes apart, the 4 x 128
// constants) whose four lanes continue as above. len >= 256, a multiple of 16.
// GCC 12 warns about the _mm512_undefined_* placeholders inside its own AVX-512 headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define MZ_VCLMUL_TARGET __attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.1")))
MZ_VCLMUL_TARGET inline __m512i load(const uint8_t* q) { return _mm512_loadu_si512(q); }
// x * k (per 128-bit lane: low half times k's low, high half times k's high) xor next.
MZ_VCLMUL_TARGET inline __m512i fold(__m512i x, __m512i k, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                   0x96);  // a ^ b ^ c
}

MZ_VCLMUL_TARGET uint32_t fold_vclmul(uint32_t c,
                                                                                            const uint8_t* p,
                                                                                            size_t len) {
  __m512i z1 = _mm512_xor_si512(load(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(c))));
  __m512i z2 = load(p + 64);
  __m512i z3 = load(p + 128);
  __m512i z4 = load(p + 192);
  p += 256;
  len -= 256;
  const __m512i k16 = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k2048)));
  while (len >= 256) {
    z1 = fold(z1, k16, load(p));
    z2 = fold(z2, k16, load(p + 64));
    z3 = fold(z3, k16, load(p + 128));
    z4 = fold(z4, k16, load(p + 192));
    p += 256;
    len -= 256;
  }
  const __m512i k4 = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k1k2)));
  z2 = fold(z1, k4, z2);
  z3 = fold(z2, k4, z3);
  z4 = fold(z3, k4, z4);
  return fold_lanes(_mm512_extracti32x4_epi32(z4, 0), _mm512_extracti32x4_epi32(z4, 1),
                    _mm512_extracti32x4_epi32(z4, 2), _mm512_extracti32x4_epi32(z4, 3), p, len);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

const bool kHaveClmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
const bool kHaveVclmul = kHaveClmul && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("vpclmulqdq");
#else
constexpr bool kHaveClmul = false;
constexpr bool kHaveVclmul = false;
#endif

}  // namespace

bool crc32_uses_clmul() { return kHaveClmul; }
bool crc32_uses_vclmul() { return kHaveVclmul; }

namespace {

// The folded part (whole 16-byte blocks, when there are at least 64 bytes) by carry-less
// multiplication, 512-bit wide if `wide` and the CPU has it, then the tail by table.
uint32_t update(uint32_t crc, ByteView data, [[maybe_unused]] bool wide) {
  uint32_t c = ~crc;
  const uint8_t* p = data.data();
  size_t n = data.size();
#ifdef MZ_CRC32_CLMUL
  if (kHaveClmul && n >= 64) {
    const size_t chunk = n & ~size_t{15};
    c = wide && kHaveVclmul && chunk >= 256 ? fold_vclmul(c, p, chunk) : fold_clmul(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
#endif
  return ~slice8(c, p, n);
}

}  // namespace

uint32_t crc32_update_clmul128(uint32_t crc, ByteView data) { return update(crc, data, false); }

uint32_t crc32_update_portable(uint32_t crc, ByteView data) { return ~slice8(~crc, data.data(), data.size()); }

uint32_t crc32_update(uint32_t crc, ByteView data) { return update(crc, data, true); }

uint32_t crc32(ByteView data) { return crc32_update(0, data); }

}  // namespace mz::wire
