#include "megzawicol/wire/ipv4.hpp"

#include <doctest/doctest.h>

#include <cstdio>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);

void fix_checksum(Bytes& b) {
  const size_t hl = size_t{b[0] & 0x0Fu} * 4;
  store_be16(b.data() + 10, 0);
  store_be16(b.data() + 10, inet_checksum(ByteView(b).first(hl)));
}

Bytes emit_bytes(const Ipv4Repr& r, size_t payload_len) {
  Bytes payload(payload_len);
  for (size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<uint8_t>(i);
  PacketBuf pkt = PacketBuf::from(payload);
  emit_ipv4(pkt, r);
  return pkt.to_bytes();
}

std::string hex4(uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", static_cast<unsigned>(v));
  return b;
}

}  // namespace

TEST_CASE("ipv4: parse the RFC 1071 header vector") {
  // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7: 115 bytes, DF, TTL 64, UDP.
  Bytes pkt = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  pkt.resize(0x73 + 10, 0xEE);  // 95 bytes of payload and 10 of link padding
  for (size_t i = 20; i < 0x73; ++i) pkt[i] = 0x11;
  auto r = parse_ipv4(pkt);
  REQUIRE(r.ok());
  const Ipv4Repr& h = r->repr;
  CHECK(h.src == Ipv4Addr::from_octets(192, 168, 0, 1));
  CHECK(h.dst == Ipv4Addr::from_octets(192, 168, 0, 199));
  CHECK(h.ttl == 64);
  CHECK(h.protocol == ipproto::kUdp);
  CHECK(h.dont_frag);
  CHECK_FALSE(h.more_frags);
  CHECK(h.frag_offset == 0);
  CHECK(h.checksum == 0xB861);
  CHECK(h.payload_len == 95);
  CHECK(h.header_len() == 20);
  CHECK(h.options.empty());
  REQUIRE(r->payload.size() == 95);  // the padding is not part of the payload
  CHECK(r->payload.back() == 0x11);
  CHECK(h.describe() == "192.168.0.1 > 192.168.0.199 UDP ttl 64 id 0x0000 len 115 DF");
}

TEST_CASE("ipv4: emit/parse round trip, with and without options") {
  Ipv4Repr r;
  r.ident = 1;
  r.dont_frag = true;
  r.protocol = ipproto::kIcmp;
  r.src = kIp1;
  r.dst = kIp2;
  SUBCASE("no options") {}
  SUBCASE("options and fragment fields") {
    r.options = hex("01010101 94040000");  // NOPs, then Router Alert (RFC 2113)
    r.dont_frag = false;
    r.more_frags = true;
    r.frag_offset = 1480;
    r.dscp_ecn = 0xB8;
    r.ttl = 1;
  }
  SUBCASE("maximal options") { r.options.assign(40, 1); }
  const Bytes b = emit_bytes(r, 64);
  REQUIRE(b.size() == r.header_len() + 64);
  CHECK(inet_checksum(ByteView(b).first(r.header_len())) == 0);
  auto p = parse_ipv4(b);
  REQUIRE(p.ok());
  Ipv4Repr expect = r;
  expect.payload_len = 64;
  expect.checksum = load_be16(b.data() + 10);
  CHECK(p->repr == expect);
  REQUIRE(p->payload.size() == 64);
  CHECK(p->payload[63] == 63);
}

TEST_CASE("ipv4: exact header bytes of an emitted echo-request packet") {
  // Computed with Python: a 84-byte ICMP packet, id 1, DF, TTL 64, 10.0.0.1 > 10.0.0.2:
  //   h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 84, 1, 0x4000, 64, 1, 0, bytes([10,0,0,1]), bytes([10,0,0,2]))
  //   checksum over h (RFC 1071) == 0x26a6
  Ipv4Repr r;
  r.ident = 1;
  r.dont_frag = true;
  r.protocol = ipproto::kIcmp;
  r.src = kIp1;
  r.dst = kIp2;
  const Bytes b = emit_bytes(r, 64);
  CHECK(Bytes(b.begin(), b.begin() + 20) == hex("4500 0054 0001 4000 4001 26a6 0a000001 0a000002"));
  auto p = parse_ipv4(b);
  REQUIRE(p.ok());
  CHECK(p->repr.describe() == "10.0.0.1 > 10.0.0.2 ICMP ttl 64 id 0x0001 len 84 DF");
}

TEST_CASE("ipv4: describe") {
  Ipv4Repr r;
  r.src = kIp1;
  r.dst = kIp2;
  r.protocol = ipproto::kUdp;
  r.ident = 0xBEEF;
  r.more_frags = true;
  r.frag_offset = 1480;
  r.payload_len = 1480;
  CHECK(r.describe() == "10.0.0.1 > 10.0.0.2 UDP ttl 64 id 0xbeef len 1500 MF off 1480");
  r.protocol = 47;
  r.more_frags = false;
  r.dscp_ecn = 0x10;
  r.options.assign(4, 1);
  CHECK(r.describe() == "10.0.0.1 > 10.0.0.2 proto 47 ttl 64 id 0xbeef len 1504 off 1480 tos 0x10 opts 4B");
}

TEST_CASE("ipv4: errors") {
  Ipv4Repr r;
  r.protocol = ipproto::kUdp;
  r.src = kIp1;
  r.dst = kIp2;
  const Bytes good = emit_bytes(r, 40);
  const uint16_t good_csum = load_be16(good.data() + 10);
  REQUIRE(parse_ipv4(good).ok());

  CHECK(error_contains(parse_ipv4(ByteView(good).first(19)), "IPv4 packet too short: 19 bytes, minimum 20"));

  Bytes b = good;
  b[0] = 0x65;
  CHECK(error_contains(parse_ipv4(b), "bad IP version 6"));

  b = good;
  b[0] = 0x44;
  CHECK(error_contains(parse_ipv4(b), "bad IHL 4: header length 16 bytes, minimum 20"));

  b = good;
  store_be16(b.data() + 2, 16);
  CHECK(error_contains(parse_ipv4(b), "bad total length 16: less than the header length 20"));
  b = good;
  b[0] = 0x4F;  // 60-byte header, but total length 60 still covers it
  store_be16(b.data() + 2, 56);
  CHECK(error_contains(parse_ipv4(b), "bad total length 56: less than the header length 60"));

  b = good;
  store_be16(b.data() + 2, 1500);
  CHECK(error_contains(parse_ipv4(b), "truncated: total length 1500 > 60 bytes received"));
  CHECK(error_contains(parse_ipv4(ByteView(good).first(59)), "truncated: total length 60 > 59 bytes received"));

  b = good;
  store_be16(b.data() + 10, 0x1234);
  CHECK(error_contains(parse_ipv4(b), "bad header checksum 0x1234, expected " + hex4(good_csum)));
  b = good;
  b[15] ^= 0x40;  // corrupted source address
  CHECK(error_contains(parse_ipv4(b), "bad header checksum " + hex4(good_csum)));

  b = good;
  b[6] |= 0x80;
  fix_checksum(b);
  CHECK(error_contains(parse_ipv4(b), "reserved flag bit set"));

  b = good;
  store_be16(b.data() + 6, 0x1FFF);  // offset 65528 bytes, 40 bytes of payload
  fix_checksum(b);
  CHECK(error_contains(parse_ipv4(b), "fragment offset 65528 + payload 40 bytes exceeds 65535"));
  b.resize(20 + 7);
  store_be16(b.data() + 2, 27);  // 65528 + 7 = 65535: the largest legal datagram end
  fix_checksum(b);
  auto ok = parse_ipv4(b);
  REQUIRE(ok.ok());
  CHECK(ok->repr.frag_offset == 65528);
}

TEST_CASE("ipv4: a checksum field of 0xffff for a zero sum is accepted (one's complement -0)") {
  // Find a header whose correct checksum is 0x0000 by adjusting the ident, then store
  // the equivalent 0xffff.
  Ipv4Repr r;
  r.src = kIp1;
  r.dst = kIp2;
  for (uint32_t id = 0; id <= 0xFFFF; ++id) {
    r.ident = static_cast<uint16_t>(id);
    Bytes b = emit_bytes(r, 0);
    if (load_be16(b.data() + 10) != 0) continue;
    store_be16(b.data() + 10, 0xFFFF);
    CHECK(parse_ipv4(b).ok());
    return;
  }
  FAIL("no header with checksum 0 found");
}

TEST_CASE("ipv4: incremental TTL decrement matches a full recomputation") {
  Rng rng(1624);
  for (int iter = 0; iter < 3000; ++iter) {
    Ipv4Repr r;
    r.dscp_ecn = static_cast<uint8_t>(rng.next_u32());
    r.ident = static_cast<uint16_t>(rng.next_u32());
    r.dont_frag = rng.bernoulli(0.5);
    r.ttl = static_cast<uint8_t>(rng.uniform_int(1, 255));
    r.protocol = static_cast<uint8_t>(rng.next_u32());
    r.src.v = rng.next_u32();
    r.dst.v = rng.next_u32();
    r.options.resize(4 * rng.uniform_int(0, 10));
    rng.fill(r.options.data(), r.options.size());
    Bytes b = emit_bytes(r, rng.uniform_int(0, 30));
    const size_t hl = r.header_len();
    while (b[8] > 0) {
      const uint8_t ttl = b[8];
      ipv4_decrement_ttl(b.data());
      REQUIRE(b[8] == ttl - 1);
      Bytes full = b;
      fix_checksum(full);
      REQUIRE(load_be16(b.data() + 10) == load_be16(full.data() + 10));
      REQUIRE(inet_checksum(ByteView(b).first(hl)) == 0);
    }
    REQUIRE(parse_ipv4(b).ok());
  }
}
