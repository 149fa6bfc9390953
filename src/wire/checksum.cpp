#include "megzawicol/wire/checksum.hpp"

#include <algorithm>
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MZ_INET_SUM_AVX2 1
#endif

namespace mz::wire {
namespace {

// Reduces a 64-bit sum to 32 bits without changing it modulo 0xFFFF (2^32 == 1 there).
uint32_t fold64(uint64_t s) {
  while (s >> 32) s = (s & 0xFFFFFFFFu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

#ifdef MZ_INET_SUM_AVX2
/// Sum of the little-endian 16-bit words of p[0..n) (n a multiple of 32), 32 bytes per step:
/// each 32-bit lane adds its low and high halves. RFC 1071 2(B): the one's complement sum
/// is byte-order independent, so the caller byte-swaps the folded result.
__attribute__((target("avx2"))) uint64_t sum_le16_avx2(const uint8_t* p, size_t n) {
  const __m256i low = _mm256_set1_epi32(0xFFFF);
  uint64_t total = 0;
  while (n > 0) {
    // Each lane gains < 2^17 per step: 16,384 steps keep it under 2^31.
    const size_t block = std::min(n, size_t{32} * 16384);
    __m256i a = _mm256_setzero_si256();
    __m256i b = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 64 <= block; i += 64) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
      a = _mm256_add_epi32(a, _mm256_add_epi32(_mm256_and_si256(v, low), _mm256_srli_epi32(v, 16)));
      b = _mm256_add_epi32(b, _mm256_add_epi32(_mm256_and_si256(w, low), _mm256_srli_epi32(w, 16)));
    }
    if (i < block) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
      a = _mm256_add_epi32(a, _mm256_add_epi32(_mm256_and_si256(v, low), _mm256_srli_epi32(v, 16)));
    }
    alignas(32) uint32_t lanes[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), b);
    for (const uint32_t l : lanes) total += l;
    p += block;
    n -= block;
  }
  return total;
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

bool inet_sum_uses_avx2() {
#ifdef MZ_INET_SUM_AVX2
  return kHaveAvx2;
#else
  return false;
#endif
}

uint32_t inet_sum(ByteView data, uint32_t acc) {
  // Summing big-endian 32-bit words is equivalent to summing their two 16-bit halves,
  // because 2^16 == 1 modulo 0xFFFF. Each step adds < 2^33, so the 64-bit
  // accumulator cannot overflow for any buffer that fits in memory.
  uint64_t s = acc;
  const uint8_t* p = data.data();
  size_t n = data.size();
#ifdef MZ_INET_SUM_AVX2
  if (kHaveAvx2 && n >= 64) {
    const size_t chunk = n & ~size_t{31};
    uint32_t le = fold64(sum_le16_avx2(p, chunk));
    while (le >> 16) le = (le & 0xFFFF) + (le >> 16);
    s += ((le & 0xFF) << 8) | (le >> 8);  // back to network byte order
    p += chunk;
    n -= chunk;
  }
#endif
  while (n >= 8) {
    s += uint64_t{load_be32(p)} + load_be32(p + 4);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    s += load_be32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    s += load_be16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) s += uint32_t{p[0]} << 8;
  return fold64(s);
}

uint16_t inet_fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

uint16_t inet_checksum(ByteView data) { return inet_fold(inet_sum(data)); }

uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, uint16_t len) {
  return (src.v >> 16) + (src.v & 0xFFFF) + (dst.v >> 16) + (dst.v & 0xFFFF) + proto + len;
}

}  // namespace mz::wire
