#include "megzawicol/wire/ipv4.hpp"

#include <cassert>
#include <cstring>

#include "fmt.hpp"
#include "megzawicol/wire/checksum.hpp"

namespace mz::wire {

namespace {
constexpr uint16_t kFlagReserved = 0x8000;
constexpr uint16_t kFlagDf = 0x4000;
constexpr uint16_t kFlagMf = 0x2000;
constexpr uint16_t kFragMask = 0x1FFF;
}  // namespace

std::string ipproto_name(uint8_t proto) {
  switch (proto) {
    case ipproto::kIcmp: return "ICMP";
    case ipproto::kTcp: return "TCP";
    case ipproto::kUdp: return "UDP";
    default: return "proto " + std::to_string(proto);
  }
}

std::string Ipv4Repr::describe() const {
  std::string s = src.to_string() + " > " + dst.to_string() + " " + ipproto_name(protocol) +
                  " ttl " + std::to_string(ttl) + " id " + detail::hex16(ident) + " len " +
                  std::to_string(header_len() + payload_len);
  if (dont_frag) s += " DF";
  if (more_frags) s += " MF";
  if (frag_offset != 0) s += " off " + std::to_string(frag_offset);
  if (dscp_ecn != 0) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%02x", static_cast<unsigned>(dscp_ecn));
    s += std::string(" tos ") + b;
  }
  if (!options.empty()) s += " opts " + std::to_string(options.size()) + "B";
  return s;
}

Result<Ipv4Parsed> parse_ipv4(ByteView d) {
  if (d.size() < kIpv4MinHeaderLen)
    return make_error("IPv4 packet too short: " + std::to_string(d.size()) + " bytes, minimum 20");
  const uint8_t* p = d.data();
  const unsigned version = p[0] >> 4;
  if (version != 4) return make_error("bad IP version " + std::to_string(version) + " (expected 4)");
  const size_t hl = size_t{p[0] & 0x0Fu} * 4;
  if (hl < kIpv4MinHeaderLen)
    return make_error("bad IHL " + std::to_string(hl / 4) + ": header length " + std::to_string(hl) +
                      " bytes, minimum 20");
  const size_t total = load_be16(p + 2);
  if (total < hl)
    return make_error("bad total length " + std::to_string(total) + ": less than the header length " +
                      std::to_string(hl));
  if (total > d.size())
    return make_error("truncated: total length " + std::to_string(total) + " > " +
                      std::to_string(d.size()) + " bytes received");
  const ByteView header = d.first(hl);
  const uint16_t received = load_be16(p + 10);
  if (inet_checksum(header) != 0) {
    // Expected value: the checksum computed with the field taken as zero.
    const uint16_t expected = inet_fold(inet_sum(header.subspan(12), inet_sum(header.first(10))));
    return make_error("bad header checksum " + detail::hex16(received) + ", expected " +
                      detail::hex16(expected));
  }
  const uint16_t ff = load_be16(p + 6);
  if (ff & kFlagReserved) return make_error("reserved flag bit set in IPv4 header");
  const size_t frag_off = static_cast<size_t>(ff & kFragMask) * 8;
  const size_t payload_len = total - hl;
  if (frag_off + payload_len > 65535)
    return make_error("fragment offset " + std::to_string(frag_off) + " + payload " +
                      std::to_string(payload_len) + " bytes exceeds 65535");

  Ipv4Parsed out;
  Ipv4Repr& r = out.repr;
  r.dscp_ecn = p[1];
  r.ident = load_be16(p + 4);
  r.dont_frag = (ff & kFlagDf) != 0;
  r.more_frags = (ff & kFlagMf) != 0;
  r.frag_offset = static_cast<uint16_t>(frag_off);
  r.ttl = p[8];
  r.protocol = p[9];
  r.checksum = received;
  r.src.v = load_be32(p + 12);
  r.dst.v = load_be32(p + 16);
  if (hl > kIpv4MinHeaderLen) r.options.assign(p + kIpv4MinHeaderLen, p + hl);
  r.payload_len = static_cast<uint16_t>(payload_len);
  out.payload = d.subspan(hl, payload_len);
  return out;
}

void emit_ipv4(PacketBuf& pkt, const Ipv4Repr& r) {
  assert(r.options.size() % 4 == 0 && r.options.size() <= kIpv4MaxOptionsLen);
  assert(r.frag_offset % 8 == 0);
  const size_t hl = r.header_len();
  const size_t total = hl + pkt.size();
  assert(total <= 65535);
  uint8_t* p = pkt.push_front(hl).data();
  p[0] = static_cast<uint8_t>(0x40 | (hl / 4));
  p[1] = r.dscp_ecn;
  store_be16(p + 2, static_cast<uint16_t>(total));
  store_be16(p + 4, r.ident);
  uint16_t ff = static_cast<uint16_t>((r.frag_offset / 8) & kFragMask);
  if (r.dont_frag) ff |= kFlagDf;
  if (r.more_frags) ff |= kFlagMf;
  store_be16(p + 6, ff);
  p[8] = r.ttl;
  p[9] = r.protocol;
  store_be16(p + 10, 0);
  store_be32(p + 12, r.src.v);
  store_be32(p + 16, r.dst.v);
  if (!r.options.empty()) std::memcpy(p + kIpv4MinHeaderLen, r.options.data(), r.options.size());
  store_be16(p + 10, inet_checksum(ByteView(p, hl)));
}

void ipv4_decrement_ttl(uint8_t* h) {
  assert(h[8] > 0);
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m being the 16-bit word TTL|protocol.
  const uint16_t m = load_be16(h + 8);
  h[8] = static_cast<uint8_t>(h[8] - 1);
  const uint16_t m2 = load_be16(h + 8);
  const uint16_t hc = load_be16(h + 10);
  const uint32_t sum = uint32_t{static_cast<uint16_t>(~hc)} + static_cast<uint16_t>(~m) + m2;
  store_be16(h + 10, inet_fold(sum));
}

}  // namespace mz::wire
