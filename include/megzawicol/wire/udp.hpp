// UDP (RFC 768) over IPv4.
//
//   | src port (2) | dst port (2) | length (2) | checksum (2) | payload ... |
//
// The checksum covers the IPv4 pseudo-header, the UDP header and the payload. A
// transmitted checksum of 0 means "no checksum"; a computed checksum of 0 is therefore
// sent as 0xFFFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kUdpHeaderLen = 8;

struct UdpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;    // header + payload, as in the header
  uint16_t checksum = 0;  // as received; 0 = none

  /// "UDP 5000 > 53 len 13", with " (no checksum)" when the checksum field is 0.
  std::string describe() const;
  bool operator==(const UdpRepr&) const = default;
};

struct UdpParsed {
  UdpRepr repr;
  ByteView payload;  // length - 8 bytes; bytes after the UDP length are ignored
};

/// Checks length >= 8, 8 <= length field <= bytes received, and (if non-zero) the
/// checksum with the pseudo-header for `src` and `dst`.
Result<UdpParsed> parse_udp(ByteView data, Ipv4Addr src, Ipv4Addr dst);

/// `pkt` holds the payload (8 + pkt.size() must be <= 65535). Prepends the header with
/// its length and checksum (a computed 0 is sent as 0xFFFF).
void emit_udp(PacketBuf& pkt, uint16_t sport, uint16_t dport, Ipv4Addr src, Ipv4Addr dst);

}  // namespace mz::wire
