#include "megzawicol/wire/arp.hpp"

#include <cstring>

#include "fmt.hpp"

namespace mz::wire {

std::string ArpRepr::describe() const {
  std::string s;
  if (op == arpop::kRequest)
    s = "who-has " + tpa.to_string() + " tell " + spa.to_string();
  else if (op == arpop::kReply)
    s = spa.to_string() + " is-at " + sha.to_string();
  else
    s = "op " + std::to_string(op) + " " + spa.to_string() + " > " + tpa.to_string();
  if (spa == tpa) s += " (gratuitous)";
  return s;
}

Result<ArpRepr> parse_arp(ByteView d) {
  if (d.size() < kArpLen)
    return make_error("ARP packet too short: " + std::to_string(d.size()) + " bytes, minimum " +
                      std::to_string(kArpLen));
  const uint8_t* p = d.data();
  if (uint16_t htype = load_be16(p); htype != 1)
    return make_error("unsupported ARP hardware type " + std::to_string(htype) + " (expected 1, Ethernet)");
  if (uint16_t ptype = load_be16(p + 2); ptype != 0x0800)
    return make_error("unsupported ARP protocol type " + detail::hex16(ptype) + " (expected 0x0800, IPv4)");
  if (p[4] != 6 || p[5] != 4)
    return make_error("unsupported ARP address lengths: hlen " + std::to_string(p[4]) + ", plen " +
                      std::to_string(p[5]) + " (expected 6 and 4)");
  ArpRepr r;
  r.op = load_be16(p + 6);
  if (r.op != arpop::kRequest && r.op != arpop::kReply)
    return make_error("unknown ARP operation " + std::to_string(r.op) + " (expected 1 or 2)");
  std::memcpy(r.sha.b.data(), p + 8, 6);
  r.spa.v = load_be32(p + 14);
  std::memcpy(r.tha.b.data(), p + 18, 6);
  r.tpa.v = load_be32(p + 24);
  return r;
}

void emit_arp(PacketBuf& pkt, const ArpRepr& r) {
  uint8_t* p = pkt.push_front(kArpLen).data();
  store_be16(p, 1);
  store_be16(p + 2, 0x0800);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, r.op);
  std::memcpy(p + 8, r.sha.b.data(), 6);
  store_be32(p + 14, r.spa.v);
  std::memcpy(p + 18, r.tha.b.data(), 6);
  store_be32(p + 24, r.tpa.v);
}

}  // namespace mz::wire
