// IPv4 header (RFC 791).
//
//   | ver/IHL | DSCP/ECN | total length (2) | ident (2) | flags/frag offset (2) |
//   | TTL | protocol | header checksum (2) | src (4) | dst (4) | options (0..40) |
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr size_t kIpv4MaxHeaderLen = 60;
inline constexpr size_t kIpv4MaxOptionsLen = 40;

namespace ipproto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
}  // namespace ipproto

/// "ICMP", "TCP", "UDP", or "proto 47".
std::string ipproto_name(uint8_t proto);

struct Ipv4Repr {
  uint8_t dscp_ecn = 0;
  uint16_t ident = 0;
  bool dont_frag = false;
  bool more_frags = false;
  uint16_t frag_offset = 0;  // in BYTES (the wire field times 8), multiple of 8
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  Ipv4Addr src;
  Ipv4Addr dst;
  Bytes options;             // raw, length a multiple of 4, at most 40
  uint16_t payload_len = 0;  // parse: total length - header length; ignored by emit
  uint16_t checksum = 0;     // parse: the header checksum as received; ignored by emit

  size_t header_len() const { return kIpv4MinHeaderLen + options.size(); }
  /// "10.0.0.1 > 10.0.0.2 ICMP ttl 64 id 0x0001 len 84 DF", with " MF" and " off 1480"
  /// when fragmented, " tos 0x10" when DSCP/ECN is non-zero and " opts 4B" with options.
  std::string describe() const;
  bool operator==(const Ipv4Repr&) const = default;
};

struct Ipv4Parsed {
  Ipv4Repr repr;
  ByteView payload;  // exactly payload_len bytes: link-layer padding removed
};

/// Validates and parses an IPv4 packet: length >= 20, version 4, IHL >= 5,
/// total length >= header length, total length <= bytes received, header checksum,
/// reserved flag clear, fragment offset + payload <= 65535. Bytes after the total
/// length (e.g. Ethernet padding) are ignored. Allocates only to copy the options.
Result<Ipv4Parsed> parse_ipv4(ByteView data);

/// `pkt` holds the payload. Prepends the header for `r` with total length
/// header_len() + pkt.size() (which must be <= 65535) and a computed checksum;
/// r.payload_len and r.checksum are ignored.
void emit_ipv4(PacketBuf& pkt, const Ipv4Repr& r);

/// Decrements the TTL of the header at `header` (at least 20 valid bytes, TTL > 0) and
/// updates its checksum incrementally (RFC 1624, eqn. 3), as a router does.
void ipv4_decrement_ttl(uint8_t* header);

}  // namespace mz::wire
