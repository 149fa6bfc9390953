// Ethernet II framing (IEEE 802.3 with an EtherType), including the FCS.
//
//   | dst (6) | src (6) | ethertype (2) | payload (46..) | FCS (4, CRC-32, LSB first) |
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kEthFcsLen = 4;
inline constexpr size_t kEthMinPayload = 46;
inline constexpr size_t kEthMinFrame = 64;  // header + minimum payload + FCS

namespace ethertype {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kIpv6 = 0x86DD;  // recognised by describe() only
}  // namespace ethertype

/// "IPv4", "ARP", "IPv6", or "ethertype 0x1234".
std::string ethertype_name(uint16_t ethertype);

struct EthernetRepr {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;

  /// "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP"
  std::string describe() const;
  bool operator==(const EthernetRepr&) const = default;
};

struct EthernetParsed {
  EthernetRepr repr;
  ByteView payload;  // between the header and the FCS; includes any padding
  uint32_t fcs = 0;  // as received (the CRC-32 value)
};

/// Parses a frame including its FCS. Errors: shorter than kEthMinFrame, FCS mismatch.
/// `payload` views into `frame_with_fcs`.
Result<EthernetParsed> parse_ethernet(ByteView frame_with_fcs);

/// True if the frame is at least header + FCS long and its FCS matches its contents
/// (no minimum-size check).
bool fcs_ok(ByteView frame_with_fcs);

/// `pkt` holds the payload. Pads it with zeros to kEthMinPayload bytes, prepends the
/// header and appends the FCS: afterwards `pkt` holds the frame as on the wire.
void emit_ethernet(PacketBuf& pkt, const EthernetRepr& r);

}  // namespace mz::wire
