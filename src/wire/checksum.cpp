#include "megzawicol/wire/checksum.hpp"

#include <cstddef>

namespace mz::wire {
namespace {

// Reduces a 64-bit sum to 32 bits without changing it modulo 0xFFFF (2^32 == 1 there).
uint32_t fold64(uint64_t s) {
  while (s >> 32) s = (s & 0xFFFFFFFFu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

}  // namespace

uint32_t inet_sum(ByteView data, uint32_t acc) {
  // Summing big-endian 32-bit words is equivalent to summing their two 16-bit halves,
  // because 2^16 == 1 modulo 0xFFFF. Each step adds < 2^33, so the 64-bit
  // accumulator cannot overflow for any buffer that fits in memory.
  uint64_t s = acc;
  const uint8_t* p = data.data();
  size_t n = data.size();
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
