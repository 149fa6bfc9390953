#include "megzawicol/wire/udp.hpp"

#include <cassert>

#include "fmt.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"

namespace mz::wire {

std::string UdpRepr::describe() const {
  std::string s = "UDP " + std::to_string(src_port) + " > " + std::to_string(dst_port) + " len " +
                  std::to_string(length);
  if (checksum == 0) s += " (no checksum)";
  return s;
}

Result<UdpParsed> parse_udp(ByteView d, Ipv4Addr src, Ipv4Addr dst) {
  if (d.size() < kUdpHeaderLen)
    return make_error("UDP datagram too short: " + std::to_string(d.size()) + " bytes, minimum 8");
  const uint8_t* p = d.data();
  UdpParsed out;
  UdpRepr& r = out.repr;
  r.src_port = load_be16(p);
  r.dst_port = load_be16(p + 2);
  r.length = load_be16(p + 4);
  r.checksum = load_be16(p + 6);
  if (r.length < kUdpHeaderLen)
    return make_error("bad UDP length " + std::to_string(r.length) + ": minimum 8");
  if (r.length > d.size())
    return make_error("truncated: UDP length " + std::to_string(r.length) + " > " +
                      std::to_string(d.size()) + " bytes received");
  const ByteView dgram = d.first(r.length);
  if (r.checksum != 0) {
    const uint32_t ph = pseudo_header_sum(src, dst, ipproto::kUdp, r.length);
    if (inet_fold(inet_sum(dgram, ph)) != 0) {
      uint16_t expected = inet_fold(inet_sum(dgram.subspan(8), inet_sum(dgram.first(6), ph)));
      if (expected == 0) expected = 0xFFFF;
      return make_error("bad UDP checksum " + detail::hex16(r.checksum) + ", expected " +
                        detail::hex16(expected));
    }
  }
  out.payload = dgram.subspan(kUdpHeaderLen);
  return out;
}

void emit_udp(PacketBuf& pkt, uint16_t sport, uint16_t dport, Ipv4Addr src, Ipv4Addr dst) {
  const size_t len = kUdpHeaderLen + pkt.size();
  assert(len <= 65535);
  uint8_t* p = pkt.push_front(kUdpHeaderLen).data();
  store_be16(p, sport);
  store_be16(p + 2, dport);
  store_be16(p + 4, static_cast<uint16_t>(len));
  store_be16(p + 6, 0);
  uint16_t c = inet_fold(inet_sum(pkt.view(), pseudo_header_sum(src, dst, ipproto::kUdp, static_cast<uint16_t>(len))));
  if (c == 0) c = 0xFFFF;
  store_be16(p + 6, c);
}

}  // namespace mz::wire
