// TCP header (RFC 9293 3.1) and its options, over IPv4.
//
//   | src port (2) | dst port (2) | sequence number (4) | acknowledgment number (4) |
//   | data offset (4 bits) | reserved (4) | flags (8) | window (2) | checksum (2) | urgent (2) |
//   | options (0..40, padded to a multiple of 4) | payload ... |
//
// Options understood (kind, length):
//   EOL (0)  NOP (1)  MSS (2, 4)  window scale (3, 3, RFC 7323)  SACK-permitted (4, 2)
//   SACK (5, 2 + 8n, RFC 2018)  timestamps (8, 10, RFC 7323)
// Unknown options are skipped by their length; a length that is < 2, runs past the
// header, or does not match a known option's fixed size is an error.
//
// The checksum covers the IPv4 pseudo-header (RFC 9293 3.1), the header and the payload.
// TCP has no length field: the segment is the whole IP payload.
//
// emit_tcp writes the options in the order Linux uses, always 4-byte aligned:
//   MSS | [SACK-permitted|NOP NOP] TS | NOP NOP SACK-permitted | NOP WS | NOP NOP SACK blocks
// so no trailing padding is ever needed. SACK blocks that do not fit in the 40 option
// bytes left are not written (at most 4, or 3 with timestamps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire {

inline constexpr size_t kTcpMinHeaderLen = 20;
inline constexpr size_t kTcpMaxHeaderLen = 60;
inline constexpr size_t kTcpMaxOptionsLen = 40;

namespace tcpflag {
inline constexpr uint8_t FIN = 0x01;
inline constexpr uint8_t SYN = 0x02;
inline constexpr uint8_t RST = 0x04;
inline constexpr uint8_t PSH = 0x08;
inline constexpr uint8_t ACK = 0x10;
inline constexpr uint8_t URG = 0x20;
inline constexpr uint8_t ECE = 0x40;
inline constexpr uint8_t CWR = 0x80;
}  // namespace tcpflag

/// One SACK block (RFC 2018): the peer holds [left, right) (sequence numbers, raw).
struct SackBlock {
  uint32_t left = 0;
  uint32_t right = 0;
  bool operator==(const SackBlock&) const = default;
};

struct TcpRepr {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;  // tcpflag::*
  uint16_t window = 0, urgent = 0;
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;  // as received (a shift > 14 is the receiver's problem)
  bool sack_permitted = false;
  std::vector<SackBlock> sack;  // emit writes at most 4 (3 with timestamps)
  std::optional<std::pair<uint32_t, uint32_t>> timestamps;  // (TSval, TSecr)
  uint16_t checksum = 0;  // parse only: as received; ignored by emit

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  /// The header length emit_tcp writes: 20 + the options, a multiple of 4, <= 60.
  size_t header_len() const;
  /// How many of `sack` emit_tcp writes (the rest do not fit in the option space).
  size_t sack_blocks_emitted() const;
  /// "49152 > 80 [SYN] seq 100 win 65535 mss 1460 ws 7 sackOK len 0"; " ack N" follows
  /// the sequence number when ACK is set, " ts V/E", " sack L-R ..." and " urg N" (URG)
  /// when present. `payload_len` only feeds the trailing "len".
  std::string describe(size_t payload_len = 0) const;
  bool operator==(const TcpRepr&) const = default;
};

/// "SYN, ACK": the names of the set flags, in the order FIN SYN RST PSH ACK URG ECE CWR;
/// "none" when no flag is set.
std::string tcp_flags_string(uint8_t flags);

struct TcpParsed {
  TcpRepr repr;
  ByteView payload;  // the bytes after the header (options included in the header)
};

/// Validates and parses a TCP segment (the whole IP payload): length >= 20, data offset
/// >= 5 and within the segment, checksum with the pseudo-header for `src`, `dst`
/// (segment length <= 65535), then the options. Never reads outside `segment`.
Result<TcpParsed> parse_tcp(ByteView segment, Ipv4Addr src, Ipv4Addr dst);

/// `pkt` holds the payload. Prepends the header for `r` (options as described above) with a
/// computed checksum; header_len() + pkt.size() must be <= 65535. r.checksum is ignored.
void emit_tcp(PacketBuf& pkt, const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst);

}  // namespace mz::wire
