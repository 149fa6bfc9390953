#include "megzawicol/wire/icmp.hpp"

#include "fmt.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"

namespace mz::wire {

namespace {

const char* unreachable_reason(uint8_t code) {
  switch (code) {
    case icmpcode::kNetUnreachable: return "net unreachable";
    case icmpcode::kHostUnreachable: return "host unreachable";
    case icmpcode::kProtocolUnreachable: return "protocol unreachable";
    case icmpcode::kPortUnreachable: return "port unreachable";
    case icmpcode::kFragNeeded: return "fragmentation needed and DF set";
    default: return nullptr;
  }
}

// " for 10.0.0.1:5000 > 10.0.0.2:53 UDP" from the quoted packet of an error message;
// best effort, without validation (the quote is truncated by design).
std::string describe_quote(ByteView q) {
  if (q.size() < 20 || (q[0] >> 4) != 4) return {};
  const size_t hl = size_t{q[0] & 0x0Fu} * 4;
  const uint8_t proto = q[9];
  std::string src = Ipv4Addr{load_be32(q.data() + 12)}.to_string();
  std::string dst = Ipv4Addr{load_be32(q.data() + 16)}.to_string();
  if ((proto == ipproto::kUdp || proto == ipproto::kTcp) && hl >= 20 && q.size() >= hl + 4) {
    src += ":" + std::to_string(load_be16(q.data() + hl));
    dst += ":" + std::to_string(load_be16(q.data() + hl + 2));
  }
  return " for " + src + " > " + dst + " " + ipproto_name(proto);
}

}  // namespace

std::string IcmpRepr::describe() const {
  const std::string size = " (" + std::to_string(data.size()) + " bytes)";
  switch (type) {
    case icmptype::kEchoRequest:
    case icmptype::kEchoReply:
      if (code == 0)
        return std::string(type == icmptype::kEchoRequest ? "echo request" : "echo reply") + " id " +
               detail::hex16(ident) + " seq " + std::to_string(seq) + size;
      break;
    case icmptype::kDestUnreachable:
      if (const char* why = unreachable_reason(code)) {
        std::string s = std::string("destination unreachable: ") + why;
        if (code == icmpcode::kFragNeeded) s += " (next-hop MTU " + std::to_string(next_hop_mtu) + ")";
        return s + describe_quote(data);
      }
      return "destination unreachable: code " + std::to_string(code) + describe_quote(data);
    case icmptype::kTimeExceeded:
      if (code == icmpcode::kTtlExceeded) return "time exceeded: TTL exceeded in transit" + describe_quote(data);
      if (code == icmpcode::kReassemblyExceeded)
        return "time exceeded: fragment reassembly time exceeded" + describe_quote(data);
      return "time exceeded: code " + std::to_string(code) + describe_quote(data);
    default: break;
  }
  return "ICMP type " + std::to_string(type) + " code " + std::to_string(code) + size;
}

Result<IcmpRepr> parse_icmp(ByteView m) {
  if (m.size() < kIcmpHeaderLen)
    return make_error("ICMP message too short: " + std::to_string(m.size()) + " bytes, minimum 8");
  const uint8_t* p = m.data();
  if (inet_checksum(m) != 0) {
    const uint16_t expected = inet_fold(inet_sum(m.subspan(4), inet_sum(m.first(2))));
    return make_error("bad ICMP checksum " + detail::hex16(load_be16(p + 2)) + ", expected " +
                      detail::hex16(expected));
  }
  IcmpRepr r;
  r.type = p[0];
  r.code = p[1];
  if (r.type == icmptype::kEchoRequest || r.type == icmptype::kEchoReply) {
    r.ident = load_be16(p + 4);
    r.seq = load_be16(p + 6);
  } else if (r.type == icmptype::kDestUnreachable && r.code == icmpcode::kFragNeeded) {
    r.next_hop_mtu = load_be16(p + 6);
  }
  r.data = m.subspan(kIcmpHeaderLen);
  return r;
}

uint32_t icmp_rest_of_header(const IcmpRepr& r) {
  if (r.type == icmptype::kEchoRequest || r.type == icmptype::kEchoReply)
    return (uint32_t{r.ident} << 16) | r.seq;
  if (r.type == icmptype::kDestUnreachable) return r.next_hop_mtu;
  return 0;
}

void emit_icmp_header(PacketBuf& pkt, uint8_t type, uint8_t code, uint32_t rest) {
  uint8_t* p = pkt.push_front(kIcmpHeaderLen).data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest);
  store_be16(p + 2, inet_checksum(pkt.view()));
}

PacketBuf make_icmp(const IcmpRepr& r) {
  PacketBuf pkt = PacketBuf::from(r.data);
  emit_icmp_header(pkt, r.type, r.code, icmp_rest_of_header(r));
  return pkt;
}

}  // namespace mz::wire
