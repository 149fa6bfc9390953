#include "megzawicol/wire/icmp.hpp"

#include <doctest/doctest.h>

#include <string_view>

#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/udp.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

// Echo request id 0x1234 seq 1 carrying "megzawicol ping!", produced once with Python:
//   data = b"megzawicol ping!"
//   h = struct.pack('!BBHHH', 8, 0, 0, 0x1234, 1) + data
//   c = RFC 1071 checksum of h  (sum of '!H' words, end-around carry, complement) == 0xe5a3
//   h = struct.pack('!BBHHH', 8, 0, c, 0x1234, 1) + data
const char* kEchoHex = "0800e5a3123400016d65677a617769636f6c2070696e6721";
constexpr std::string_view kEchoData = "megzawicol ping!";

ByteView sv(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);

// A UDP datagram 10.0.0.1:5000 > 10.0.0.2:53 inside IPv4, and its ICMP error quote.
Bytes offending_quote() {
  PacketBuf pkt = PacketBuf::from(Bytes(100, 0x5A));
  emit_udp(pkt, 5000, 53, kIp1, kIp2);
  Ipv4Repr ip;
  ip.protocol = ipproto::kUdp;
  ip.src = kIp1;
  ip.dst = kIp2;
  emit_ipv4(pkt, ip);
  Bytes all = pkt.to_bytes();
  all.resize(ip.header_len() + kIcmpErrorQuoteExtra);
  return all;
}

}  // namespace

TEST_CASE("icmp: parse the Python echo request") {
  const Bytes m = hex(kEchoHex);
  auto r = parse_icmp(m);
  REQUIRE(r.ok());
  CHECK(r->type == icmptype::kEchoRequest);
  CHECK(r->code == 0);
  CHECK(r->ident == 0x1234);
  CHECK(r->seq == 1);
  CHECK(r->next_hop_mtu == 0);
  CHECK(Bytes(r->data.begin(), r->data.end()) == Bytes(kEchoData.begin(), kEchoData.end()));
  CHECK(r->data.data() == m.data() + 8);  // a view into the input, not a copy
  CHECK(r->describe() == "echo request id 0x1234 seq 1 (16 bytes)");
}

TEST_CASE("icmp: make_icmp reproduces the Python bytes") {
  IcmpRepr r;
  r.type = icmptype::kEchoRequest;
  r.ident = 0x1234;
  r.seq = 1;
  r.data = sv(kEchoData);
  PacketBuf pkt = make_icmp(r);
  CHECK(pkt.to_bytes() == hex(kEchoHex));
  CHECK(pkt.headroom() >= 20 + 14);  // room for IPv4 and Ethernet below
}

TEST_CASE("icmp: echo reply, odd-length data, round trip") {
  const Bytes data = hex("0102030405");
  IcmpRepr r;
  r.type = icmptype::kEchoReply;
  r.ident = 7;
  r.seq = 65535;
  r.data = data;
  PacketBuf pkt = make_icmp(r);
  CHECK(inet_checksum(pkt.view()) == 0);
  auto p = parse_icmp(pkt.view());
  REQUIRE(p.ok());
  CHECK(p->type == icmptype::kEchoReply);
  CHECK(p->ident == 7);
  CHECK(p->seq == 65535);
  CHECK(Bytes(p->data.begin(), p->data.end()) == data);
  CHECK(p->describe() == "echo reply id 0x0007 seq 65535 (5 bytes)");
}

TEST_CASE("icmp: error messages carry the offending header and describe it") {
  const Bytes quote = offending_quote();
  REQUIRE(quote.size() == 28);

  IcmpRepr r;
  r.type = icmptype::kDestUnreachable;
  r.code = icmpcode::kPortUnreachable;
  r.data = quote;
  PacketBuf pkt = make_icmp(r);
  CHECK(load_be32(pkt.data() + 4) == 0);  // unused field
  auto p = parse_icmp(pkt.view());
  REQUIRE(p.ok());
  CHECK(Bytes(p->data.begin(), p->data.end()) == quote);
  CHECK(p->describe() == "destination unreachable: port unreachable for 10.0.0.1:5000 > 10.0.0.2:53 UDP");

  r.code = icmpcode::kFragNeeded;
  r.next_hop_mtu = 1400;
  pkt = make_icmp(r);
  CHECK(load_be16(pkt.data() + 6) == 1400);
  p = parse_icmp(pkt.view());
  REQUIRE(p.ok());
  CHECK(p->next_hop_mtu == 1400);
  CHECK(p->describe() ==
        "destination unreachable: fragmentation needed and DF set (next-hop MTU 1400) for "
        "10.0.0.1:5000 > 10.0.0.2:53 UDP");

  r.type = icmptype::kTimeExceeded;
  r.code = icmpcode::kTtlExceeded;
  r.next_hop_mtu = 0;
  pkt = make_icmp(r);
  p = parse_icmp(pkt.view());
  REQUIRE(p.ok());
  CHECK(p->describe() == "time exceeded: TTL exceeded in transit for 10.0.0.1:5000 > 10.0.0.2:53 UDP");

  r.code = icmpcode::kReassemblyExceeded;
  r.data = ByteView(quote).first(20);  // no transport ports available
  CHECK(r.describe() == "time exceeded: fragment reassembly time exceeded for 10.0.0.1 > 10.0.0.2 UDP");

  r.type = icmptype::kDestUnreachable;
  r.code = icmpcode::kHostUnreachable;
  r.data = {};
  CHECK(r.describe() == "destination unreachable: host unreachable");
}

TEST_CASE("icmp: emit_icmp_header and unknown types") {
  PacketBuf pkt = PacketBuf::from(hex("00000000 00000000 00000000"));
  emit_icmp_header(pkt, 13, 0, 0xAABBCCDD);  // timestamp request
  auto p = parse_icmp(pkt.view());
  REQUIRE(p.ok());
  CHECK(p->type == 13);
  CHECK(p->ident == 0);
  CHECK(p->data.size() == 12);
  CHECK(load_be32(pkt.data() + 4) == 0xAABBCCDD);
  CHECK(p->describe() == "ICMP type 13 code 0 (12 bytes)");
}

TEST_CASE("icmp: errors") {
  const Bytes m = hex(kEchoHex);
  CHECK(error_contains(parse_icmp(ByteView(m).first(7)), "ICMP message too short: 7 bytes, minimum 8"));
  Bytes b = m;
  store_be16(b.data() + 2, 0x1234);
  CHECK(error_contains(parse_icmp(b), "bad ICMP checksum 0x1234, expected 0xe5a3"));
  b = m;
  b[10] ^= 0xFF;  // corrupted data
  CHECK(error_contains(parse_icmp(b), "bad ICMP checksum 0xe5a3, expected"));
  // Truncating the data invalidates the checksum as well.
  CHECK(error_contains(parse_icmp(ByteView(m).first(20)), "bad ICMP checksum"));
}
