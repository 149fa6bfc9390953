// ICMP for IPv4 (RFC 792), with the next-hop MTU of "fragmentation needed" (RFC 1191).
//
//   | type | code | checksum (2) | rest of header (4) | data ... |
//
// The rest of header is ident/seq for echo, unused/next-hop MTU for destination
// unreachable, and unused (zero) for time exceeded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kIcmpHeaderLen = 8;

namespace icmptype {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;
}  // namespace icmptype

namespace icmpcode {
// Destination unreachable.
inline constexpr uint8_t kNetUnreachable = 0;
inline constexpr uint8_t kHostUnreachable = 1;
inline constexpr uint8_t kProtocolUnreachable = 2;
inline constexpr uint8_t kPortUnreachable = 3;
inline constexpr uint8_t kFragNeeded = 4;
// Time exceeded.
inline constexpr uint8_t kTtlExceeded = 0;
inline constexpr uint8_t kReassemblyExceeded = 1;
}  // namespace icmpcode

/// For error messages: the offending IP header plus the first 8 bytes of its payload.
inline constexpr size_t kIcmpErrorQuoteExtra = 8;

struct IcmpRepr {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t ident = 0;         // echo request/reply
  uint16_t seq = 0;           // echo request/reply
  uint16_t next_hop_mtu = 0;  // destination unreachable, fragmentation needed
  ByteView data;              // echo data or, for errors, the offending IP header + 8 bytes

  /// "echo request id 0x1234 seq 1 (16 bytes)", "destination unreachable: port
  /// unreachable for 10.0.0.1:5000 > 10.0.0.2:53 UDP", "time exceeded: TTL exceeded in
  /// transit for ...", "type 13 code 0 (12 bytes)".
  std::string describe() const;
};

/// Checks length >= 8 and the checksum. `data` views into `msg`. Unknown types are
/// accepted (only type, code and data are meaningful for them).
Result<IcmpRepr> parse_icmp(ByteView msg);

/// The 32-bit "rest of header" for `r`: ident << 16 | seq for echo, next_hop_mtu for
/// destination unreachable, 0 otherwise.
uint32_t icmp_rest_of_header(const IcmpRepr& r);

/// `pkt_with_data` holds the message body; prepends the 8-byte header and computes the
/// checksum over the whole message.
void emit_icmp_header(PacketBuf& pkt_with_data, uint8_t type, uint8_t code, uint32_t rest_of_header);

/// A new PacketBuf (default headroom, room for IPv4/Ethernet below) holding the
/// complete message for `r`: header, r.data, correct checksum.
PacketBuf make_icmp(const IcmpRepr& r);

}  // namespace mz::wire
