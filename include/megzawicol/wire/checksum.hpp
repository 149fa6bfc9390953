// The Internet checksum (RFC 1071): 16-bit one's complement of the one's complement
// sum of the data taken as big-endian 16-bit words.
//
// Typical use, e.g. for UDP:
//   uint32_t acc = pseudo_header_sum(src, dst, ipproto::kUdp, len);
//   acc = inet_sum(datagram, acc);
//   uint16_t csum = inet_fold(acc);
//
// Verification: the checksum computed over data that includes a correct checksum
// field is 0.
#pragma once

#include <cstdint>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"

namespace mz::wire {

/// Adds `data` to a partial sum `acc` (not complemented, not necessarily folded to 16
/// bits). An odd trailing byte counts as the high byte of a word padded with zero.
///
/// Chaining: inet_sum(b, inet_sum(a)) == inet_sum(a + b) only if `a` has an even
/// length, i.e. every chunk except the last must have an even size (each chunk must
/// start at an even offset of the checksummed whole).
uint32_t inet_sum(ByteView data, uint32_t acc = 0);
/// Whether inet_sum sums 32 bytes per step with AVX2 on this CPU (runs of 64 bytes or more).
bool inet_sum_uses_avx2();

/// Folds a partial sum to 16 bits (end-around carry) and complements it: the value to
/// store in a checksum field.
uint16_t inet_fold(uint32_t acc);

/// inet_fold(inet_sum(data)).
uint16_t inet_checksum(ByteView data);

/// Partial sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768, RFC 793):
/// source, destination, zero, protocol, and the upper-layer length.
uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, uint16_t len);

}  // namespace mz::wire
