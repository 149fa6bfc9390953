#include "megzawicol/wire/ethernet.hpp"

#include <cstring>

#include "fmt.hpp"
#include "megzawicol/wire/crc32.hpp"

namespace mz::wire {

std::string ethertype_name(uint16_t et) {
  switch (et) {
    case ethertype::kIpv4: return "IPv4";
    case ethertype::kArp: return "ARP";
    case ethertype::kIpv6: return "IPv6";
    default: return "ethertype " + detail::hex16(et);
  }
}

std::string EthernetRepr::describe() const {
  return src.to_string() + " > " + dst.to_string() + " " + ethertype_name(ethertype);
}

bool fcs_ok(ByteView frame) {
  if (frame.size() < kEthHeaderLen + kEthFcsLen) return false;
  const size_t body = frame.size() - kEthFcsLen;
  return crc32(frame.first(body)) == load_le32(frame.data() + body);
}

Result<EthernetParsed> parse_ethernet(ByteView frame) {
  if (frame.size() < kEthMinFrame)
    return make_error("frame too short: " + std::to_string(frame.size()) + " bytes, minimum " +
                      std::to_string(kEthMinFrame));
  const size_t body = frame.size() - kEthFcsLen;
  const uint32_t received = load_le32(frame.data() + body);
  const uint32_t computed = crc32(frame.first(body));
  if (received != computed)
    return make_error("FCS mismatch: received " + detail::hex32(received) + ", computed " +
                      detail::hex32(computed));
  EthernetParsed out;
  std::memcpy(out.repr.dst.b.data(), frame.data(), 6);
  std::memcpy(out.repr.src.b.data(), frame.data() + 6, 6);
  out.repr.ethertype = load_be16(frame.data() + 12);
  out.payload = frame.subspan(kEthHeaderLen, body - kEthHeaderLen);
  out.fcs = received;
  return out;
}

void emit_ethernet(PacketBuf& pkt, const EthernetRepr& r) {
  if (pkt.size() < kEthMinPayload) {
    MutByteView pad = pkt.push_back(kEthMinPayload - pkt.size());
    std::memset(pad.data(), 0, pad.size());
  }
  MutByteView h = pkt.push_front(kEthHeaderLen);
  std::memcpy(h.data(), r.dst.b.data(), 6);
  std::memcpy(h.data() + 6, r.src.b.data(), 6);
  store_be16(h.data() + 12, r.ethertype);
  const uint32_t fcs = crc32(pkt.view());
  store_le32(pkt.push_back(kEthFcsLen).data(), fcs);
}

}  // namespace mz::wire
