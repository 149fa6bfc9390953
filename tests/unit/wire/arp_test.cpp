#include "megzawicol/wire/arp.hpp"

#include <doctest/doctest.h>

#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

// RFC 826 layout: htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, op 1 (request),
// sha 02:00:00:00:00:01, spa 10.0.0.1, tha 00..00, tpa 10.0.0.2.
const char* kRequestHex = "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002";

const MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMac2{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);

}  // namespace

TEST_CASE("arp: parse a request from its RFC 826 bytes") {
  auto r = parse_arp(hex(kRequestHex));
  REQUIRE(r.ok());
  CHECK(r->op == arpop::kRequest);
  CHECK(r->sha == kMac1);
  CHECK(r->spa == kIp1);
  CHECK(r->tha == MacAddr::zero());
  CHECK(r->tpa == kIp2);
  CHECK(r->describe() == "who-has 10.0.0.2 tell 10.0.0.1");
}

TEST_CASE("arp: emit matches the RFC bytes; reply round trip; padding allowed") {
  PacketBuf pkt;
  emit_arp(pkt, ArpRepr{arpop::kRequest, kMac1, kIp1, MacAddr::zero(), kIp2});
  CHECK(pkt.to_bytes() == hex(kRequestHex));

  const ArpRepr reply{arpop::kReply, kMac2, kIp2, kMac1, kIp1};
  PacketBuf p2;
  emit_arp(p2, reply);
  Bytes padded = p2.to_bytes();
  padded.resize(46, 0);  // Ethernet padding after the 28 bytes
  auto r = parse_arp(padded);
  REQUIRE(r.ok());
  CHECK(*r == reply);
  CHECK(r->describe() == "10.0.0.2 is-at 02:00:00:00:00:02");

  const ArpRepr grat{arpop::kRequest, kMac1, kIp1, MacAddr::zero(), kIp1};
  CHECK(grat.describe() == "who-has 10.0.0.1 tell 10.0.0.1 (gratuitous)");
}

TEST_CASE("arp: errors") {
  const Bytes good = hex(kRequestHex);
  CHECK(error_contains(parse_arp(ByteView(good).first(27)), "ARP packet too short: 27 bytes, minimum 28"));
  Bytes b = good;
  b[1] = 6;
  CHECK(error_contains(parse_arp(b), "unsupported ARP hardware type 6"));
  b = good;
  b[2] = 0x86;
  b[3] = 0xDD;
  CHECK(error_contains(parse_arp(b), "unsupported ARP protocol type 0x86dd"));
  b = good;
  b[4] = 8;
  CHECK(error_contains(parse_arp(b), "hlen 8, plen 4"));
  b = good;
  b[5] = 16;
  CHECK(error_contains(parse_arp(b), "hlen 6, plen 16"));
  b = good;
  b[7] = 3;
  CHECK(error_contains(parse_arp(b), "unknown ARP operation 3"));
}
