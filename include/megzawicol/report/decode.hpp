// A captured frame decoded layer by layer with the project's own codecs, for the
// ladder diagram's details panel.
//
// Ethernet (dst, src, type, FCS and whether it matches), then ARP or IPv4 (every header
// field, checksum check, fragment info), ICMP / UDP / TCP (ports, seq/ack, flags, window,
// options, checksum check), and inside a TCP payload that starts with the session magic
// "MZ": session headers (type, flags, length, UUID, timestamp), the TLS record headers of
// DATA payloads (content type, version, length), and an HTTP start line and headers when
// they are visible in clear.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz::report {

/// Colour classes of the diagram, lowest layer first; a frame takes the highest it carries.
enum class Proto : uint8_t { Other = 0, Arp, Icmp, Udp, Tcp, Session, Tls, Http };
const char* proto_name(Proto p);

struct DecodedField {
  std::string key;
  /// A number is shown in decimal, or in hex when hex_digits > 0.
  std::variant<uint64_t, std::string> value;
  uint8_t hex_digits = 0;
};

struct DecodedLayer {
  std::string name;  // "Ethernet", "ARP", "IPv4", "ICMP", "UDP", "TCP", "Session", "TLS", "HTTP"
  std::vector<DecodedField> fields;

  /// The value of `key` as shown ("0x0800", "good", "10.0.0.1"), "" if absent.
  std::string get(const std::string& key) const;
};

struct DecodedFrame {
  std::vector<DecodedLayer> layers;
  Proto proto = Proto::Other;
  std::string summary;   // one line: the highest layer's description
  bool fcs_ok = false;
  bool truncated = false;  // the capture holds fewer bytes than the frame had

  const DecodedLayer* layer(const std::string& name) const;
};

/// Decodes a frame as captured, FCS included. `orig_len` is its length on the wire (when
/// the capture was cut by a snap length; 0 means `frame.size()`).
DecodedFrame decode_frame(ByteView frame, size_t orig_len = 0);

/// The value as the page shows it.
std::string field_text(const DecodedField& f);

}  // namespace mz::report
