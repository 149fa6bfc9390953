// Every parser must reject or accept, never crash or read out of bounds, on every
// truncation of a valid packet, on single-bit corruptions, and on random bytes (run
// under -DMZ_SANITIZE=ON to have out-of-bounds reads reported).
#include <doctest/doctest.h>

#include <functional>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/udp.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;

namespace {

const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);
const MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMac2{{0x02, 0, 0, 0, 0, 0x02}};

struct Counts {
  int ok = 0;
  int err = 0;
};

// Runs every parser on `d` (each parse result is inspected, so views are touched).
void parse_all(ByteView d, Counts& c) {
  auto touch = [](ByteView v) {
    unsigned x = 0;
    for (uint8_t b : v) x += b;
    return x;
  };
  auto count = [&](bool ok, const std::string& text) {
    ok ? ++c.ok : ++c.err;
    CHECK_FALSE(text.empty());
  };
  if (auto r = parse_ethernet(d); r.ok()) {
    touch(r->payload);
    count(true, r->repr.describe());
  } else {
    count(false, r.error().message);
  }
  (void)fcs_ok(d);
  if (auto r = parse_arp(d); r.ok()) count(true, r->describe()); else count(false, r.error().message);
  if (auto r = parse_ipv4(d); r.ok()) {
    touch(r->payload);
    REQUIRE(r->payload.size() == r->repr.payload_len);
    REQUIRE(r->payload.data() + r->payload.size() <= d.data() + d.size());
    count(true, r->repr.describe());
  } else {
    count(false, r.error().message);
  }
  if (auto r = parse_icmp(d); r.ok()) {
    touch(r->data);
    count(true, r->describe());
  } else {
    count(false, r.error().message);
  }
  if (auto r = parse_udp(d, kIp1, kIp2); r.ok()) {
    touch(r->payload);
    REQUIRE(r->payload.size() + 8 == r->repr.length);
    count(true, r->repr.describe());
  } else {
    count(false, r.error().message);
  }
}

// Copies each prefix into its own exactly-sized heap buffer, so that the sanitizer
// sees any read past the end.
void all_prefixes(const Bytes& b, Counts& c) {
  for (size_t n = 0; n <= b.size(); ++n) {
    Bytes prefix(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
    parse_all(prefix, c);
  }
}

Bytes sample_frame_ipv4_icmp_error() {
  // An ICMP "port unreachable" quoting a UDP datagram, in IPv4 with options, in Ethernet.
  PacketBuf inner = PacketBuf::from(Bytes(20, 0x42));
  emit_udp(inner, 5000, 53, kIp1, kIp2);
  Ipv4Repr ip;
  ip.protocol = ipproto::kUdp;
  ip.src = kIp1;
  ip.dst = kIp2;
  emit_ipv4(inner, ip);
  Bytes quote = inner.to_bytes();
  quote.resize(28);
  IcmpRepr icmp;
  icmp.type = icmptype::kDestUnreachable;
  icmp.code = icmpcode::kPortUnreachable;
  icmp.data = quote;
  PacketBuf pkt = make_icmp(icmp);
  Ipv4Repr outer;
  outer.protocol = ipproto::kIcmp;
  outer.src = kIp2;
  outer.dst = kIp1;
  outer.options.assign(8, 1);
  emit_ipv4(pkt, outer);
  emit_ethernet(pkt, EthernetRepr{kMac1, kMac2, ethertype::kIpv4});
  return pkt.to_bytes();
}

}  // namespace

TEST_CASE("robustness: every prefix of valid packets at every layer") {
  Counts c;
  const Bytes frame = sample_frame_ipv4_icmp_error();
  all_prefixes(frame, c);                                                      // Ethernet
  all_prefixes(Bytes(frame.begin() + 14, frame.end() - 4), c);                 // IPv4
  all_prefixes(Bytes(frame.begin() + 14 + 28, frame.end() - 4), c);            // ICMP
  PacketBuf arp;
  emit_arp(arp, ArpRepr{arpop::kReply, kMac1, kIp1, kMac2, kIp2});
  all_prefixes(arp.to_bytes(), c);
  PacketBuf udp = PacketBuf::from(Bytes(33, 0x17));
  emit_udp(udp, 1, 2, kIp1, kIp2);
  all_prefixes(udp.to_bytes(), c);
  CHECK(c.ok > 0);
  CHECK(c.err > 0);
}

TEST_CASE("robustness: every single-bit corruption of a valid frame") {
  Counts c;
  const Bytes frame = sample_frame_ipv4_icmp_error();
  int fcs_caught = 0;
  for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
    Bytes b = frame;
    b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    fcs_caught += parse_ethernet(b).ok() ? 0 : 1;
    parse_all(b, c);
    parse_all(ByteView(b).subspan(14, b.size() - 18), c);
  }
  CHECK(fcs_caught == static_cast<int>(frame.size() * 8));  // CRC-32 catches all 1-bit errors
}

TEST_CASE("robustness: random buffers, raw and with plausible headers") {
  Rng rng(0x5eed);
  Counts c;
  for (int i = 0; i < 4000; ++i) {
    Bytes b(rng.uniform_int(0, 120));
    rng.fill(b.data(), b.size());
    parse_all(b, c);
    if (b.size() >= 20) {
      // Make it look like IPv4 with a valid header checksum, to get past the early checks.
      b[0] = static_cast<uint8_t>(0x40 | rng.uniform_int(0, 15));
      store_be16(b.data() + 2, static_cast<uint16_t>(rng.uniform_int(0, b.size() + 4)));
      if (rng.bernoulli(0.5)) b[6] &= 0x7F;
      const size_t hl = size_t{b[0] & 0x0Fu} * 4;
      if (hl >= 20 && hl <= b.size()) {
        store_be16(b.data() + 10, 0);
        store_be16(b.data() + 10, inet_checksum(ByteView(b).first(hl)));
      }
      parse_all(b, c);
    }
    if (b.size() >= 8) {
      // Valid ICMP checksum, random type/code/body.
      store_be16(b.data() + 2, 0);
      store_be16(b.data() + 2, inet_checksum(b));
      auto r = parse_icmp(b);
      REQUIRE(r.ok());
      CHECK_FALSE(r->describe().empty());
      // Plausible UDP length field.
      store_be16(b.data() + 4, static_cast<uint16_t>(rng.uniform_int(0, b.size() + 2)));
      parse_all(b, c);
    }
  }
  CHECK(c.ok > 0);
  CHECK(c.err > 0);
}
