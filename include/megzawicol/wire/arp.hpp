// ARP (RFC 826) for Ethernet hardware addresses and IPv4 protocol addresses only.
//
//   | htype=1 (2) | ptype=0x0800 (2) | hlen=6 | plen=4 | op (2) |
//   | sha (6) | spa (4) | tha (6) | tpa (4) |                      28 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kArpLen = 28;

namespace arpop {
inline constexpr uint16_t kRequest = 1;
inline constexpr uint16_t kReply = 2;
}  // namespace arpop

struct ArpRepr {
  uint16_t op = arpop::kRequest;
  MacAddr sha;   // sender hardware address
  Ipv4Addr spa;  // sender protocol address
  MacAddr tha;   // target hardware address (zero in a request)
  Ipv4Addr tpa;  // target protocol address

  /// "who-has 10.0.0.2 tell 10.0.0.1" (request), "10.0.0.2 is-at 02:00:00:00:00:02"
  /// (reply), with " (gratuitous)" appended when spa == tpa.
  std::string describe() const;
  bool operator==(const ArpRepr&) const = default;
};

/// Checks htype 1, ptype 0x0800, hlen 6, plen 4, op 1 or 2 and length >= 28 (trailing
/// bytes, e.g. Ethernet padding, are ignored).
Result<ArpRepr> parse_arp(ByteView data);

/// Prepends the 28-byte ARP packet to `pkt` (normally empty).
void emit_arp(PacketBuf& pkt, const ArpRepr& r);

}  // namespace mz::wire
