#include "megzawicol/wire/udp.hpp"

#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);

// 10.0.0.1:5000 > 10.0.0.2:53 carrying "hello", produced once with Python:
//   ph = bytes([10,0,0,1, 10,0,0,2, 0,17]) + struct.pack('!H', 13)
//   u  = struct.pack('!HHHH', 5000, 53, 13, 0) + b"hello"
//   c  = RFC 1071 checksum of ph + u == 0x9442
const char* kHelloHex = "1388 0035 000d 9442 68656c6c6f";

}  // namespace

TEST_CASE("udp: parse the Python datagram") {
  const Bytes d = hex(kHelloHex);
  auto r = parse_udp(d, kIp1, kIp2);
  REQUIRE(r.ok());
  CHECK(r->repr == UdpRepr{5000, 53, 13, 0x9442});
  CHECK(Bytes(r->payload.begin(), r->payload.end()) == hex("68656c6c6f"));
  CHECK(r->repr.describe() == "UDP 5000 > 53 len 13");
  // The same bytes between other addresses fail the pseudo-header check.
  CHECK(error_contains(parse_udp(d, kIp1, Ipv4Addr::from_octets(10, 0, 0, 3)), "bad UDP checksum 0x9442"));
}

TEST_CASE("udp: emit reproduces the Python bytes") {
  PacketBuf pkt = PacketBuf::from(hex("68656c6c6f"));
  emit_udp(pkt, 5000, 53, kIp1, kIp2);
  CHECK(pkt.to_bytes() == hex(kHelloHex));
}

TEST_CASE("udp: round trips, trailing bytes, no checksum") {
  Rng rng(768);
  for (size_t len : {0u, 1u, 2u, 511u, 1472u}) {
    Bytes payload(len);
    rng.fill(payload.data(), len);
    PacketBuf pkt = PacketBuf::from(payload);
    emit_udp(pkt, 1234, 4321, kIp2, kIp1);
    Bytes d = pkt.to_bytes();
    d.push_back(0xEE);  // bytes beyond the UDP length are ignored
    auto r = parse_udp(d, kIp2, kIp1);
    REQUIRE(r.ok());
    CHECK(r->repr.length == len + 8);
    CHECK(r->repr.checksum != 0);
    CHECK(Bytes(r->payload.begin(), r->payload.end()) == payload);
  }
  Bytes d = hex(kHelloHex);
  store_be16(d.data() + 6, 0);
  d[8] ^= 0xFF;  // without a checksum, corruption goes unnoticed
  auto r = parse_udp(d, kIp1, kIp2);
  REQUIRE(r.ok());
  CHECK(r->repr.describe() == "UDP 5000 > 53 len 13 (no checksum)");
}

TEST_CASE("udp: a computed checksum of zero is sent as 0xffff") {
  // Pick the two payload bytes so that the one's complement sum is 0xffff (-0).
  PacketBuf probe = PacketBuf::from(hex("0000"));
  emit_udp(probe, 1, 2, kIp1, kIp2);
  // Sum with the payload 0000 and checksum field 0: S. A payload word W makes the sum
  // S + W; choosing W = ~S (one's complement) makes it 0xffff, i.e. checksum 0.
  const uint32_t s = inet_sum(probe.view().first(6), pseudo_header_sum(kIp1, kIp2, ipproto::kUdp, 10));
  uint32_t f = s;
  while (f >> 16) f = (f & 0xFFFF) + (f >> 16);
  Bytes payload(2);
  store_be16(payload.data(), static_cast<uint16_t>(~f));
  PacketBuf pkt = PacketBuf::from(payload);
  emit_udp(pkt, 1, 2, kIp1, kIp2);
  CHECK(load_be16(pkt.data() + 6) == 0xFFFF);
  CHECK(parse_udp(pkt.view(), kIp1, kIp2).ok());
}

TEST_CASE("udp: errors") {
  const Bytes d = hex(kHelloHex);
  CHECK(error_contains(parse_udp(ByteView(d).first(7), kIp1, kIp2), "UDP datagram too short: 7 bytes, minimum 8"));
  Bytes b = d;
  store_be16(b.data() + 4, 7);
  CHECK(error_contains(parse_udp(b, kIp1, kIp2), "bad UDP length 7: minimum 8"));
  CHECK(error_contains(parse_udp(ByteView(d).first(12), kIp1, kIp2), "truncated: UDP length 13 > 12 bytes received"));
  b = d;
  b[9] ^= 0x01;
  CHECK(error_contains(parse_udp(b, kIp1, kIp2), "bad UDP checksum 0x9442, expected"));
  b = d;
  store_be16(b.data() + 6, 0x1234);
  CHECK(error_contains(parse_udp(b, kIp1, kIp2), "bad UDP checksum 0x1234, expected 0x9442"));
}
