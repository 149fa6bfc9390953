#include "megzawicol/wire/ethernet.hpp"

#include <doctest/doctest.h>

#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

// A broadcast ARP request from 02:00:00:00:00:01 (10.0.0.1) for 10.0.0.2, padded to the
// 64-byte minimum, produced once with Python:
//   arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, bytes.fromhex('020000000001'),
//                     bytes([10,0,0,1]), bytes(6), bytes([10,0,0,2]))
//   eth = bytes.fromhex('ffffffffffff020000000001') + struct.pack('!H', 0x0806) + arp + bytes(18)
//   frame = eth + struct.pack('<I', zlib.crc32(eth))      # zlib.crc32(eth) == 0xf84d6fe8
const char* kArpFrameHex =
    "ffffffffffff020000000001 0806"
    "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"
    "000000000000000000000000000000000000"
    "e86f4df8";

const MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMac2{{0x02, 0, 0, 0, 0, 0x02}};

}  // namespace

TEST_CASE("ethernet: parse a frame produced with Python zlib") {
  const Bytes f = hex(kArpFrameHex);
  REQUIRE(f.size() == 64);
  CHECK(fcs_ok(f));
  auto r = parse_ethernet(f);
  REQUIRE(r.ok());
  CHECK(r->repr.dst == MacAddr::broadcast());
  CHECK(r->repr.src == kMac1);
  CHECK(r->repr.ethertype == ethertype::kArp);
  CHECK(r->fcs == 0xF84D6FE8u);
  CHECK(r->payload.size() == 46);  // 28 bytes of ARP + 18 of padding
  CHECK(r->repr.describe() == "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP");
  CHECK(crc32(f) == kCrc32Residue);
}

TEST_CASE("ethernet: emit reproduces the Python frame byte for byte") {
  PacketBuf pkt;
  emit_arp(pkt, ArpRepr{arpop::kRequest, kMac1, Ipv4Addr::from_octets(10, 0, 0, 1), MacAddr::zero(),
                        Ipv4Addr::from_octets(10, 0, 0, 2)});
  emit_ethernet(pkt, EthernetRepr{MacAddr::broadcast(), kMac1, ethertype::kArp});
  CHECK(pkt.to_bytes() == hex(kArpFrameHex));
}

TEST_CASE("ethernet: emit/parse round trip, padding and the FCS residue") {
  for (size_t len : {0u, 1u, 45u, 46u, 47u, 1500u}) {
    CAPTURE(len);
    Bytes payload(len);
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<uint8_t>(i * 7 + 1);
    PacketBuf pkt = PacketBuf::from(payload);
    const EthernetRepr repr{kMac2, kMac1, ethertype::kIpv4};
    emit_ethernet(pkt, repr);
    const size_t padded = len < kEthMinPayload ? kEthMinPayload : len;
    REQUIRE(pkt.size() == kEthHeaderLen + padded + kEthFcsLen);
    CHECK(crc32(pkt.view()) == kCrc32Residue);
    auto r = parse_ethernet(pkt.view());
    REQUIRE(r.ok());
    CHECK(r->repr == repr);
    REQUIRE(r->payload.size() == padded);
    CHECK(Bytes(r->payload.begin(), r->payload.begin() + len) == payload);
    for (size_t i = len; i < padded; ++i) CHECK(r->payload[i] == 0);
  }
}

TEST_CASE("ethernet: padding is zero even over a dirty tailroom") {
  PacketBuf pkt = PacketBuf::from(Bytes(40, 0xAA));
  pkt.truncate(10);  // bytes 10..39 still hold 0xAA in the tailroom
  emit_ethernet(pkt, EthernetRepr{kMac2, kMac1, ethertype::kIpv4});
  auto r = parse_ethernet(pkt.view());
  REQUIRE(r.ok());
  for (size_t i = 10; i < kEthMinPayload; ++i) CHECK(r->payload[i] == 0);
}

TEST_CASE("ethernet: errors") {
  const Bytes f = hex(kArpFrameHex);
  auto short_frame = parse_ethernet(ByteView(f).first(20));
  CHECK(error_contains(short_frame, "frame too short: 20 bytes, minimum 64"));

  Bytes bad = f;
  bad[20] ^= 0x01;  // one flipped bit in the ARP payload
  auto r = parse_ethernet(bad);
  const uint32_t computed = crc32(ByteView(bad).first(60));
  char expect[80];
  std::snprintf(expect, sizeof expect, "FCS mismatch: received 0xf84d6fe8, computed 0x%08x", computed);
  CHECK(error_contains(r, expect));
  CHECK_FALSE(fcs_ok(bad));
  CHECK_FALSE(fcs_ok(ByteView(f).first(17)));
}

TEST_CASE("ethernet: ethertype names") {
  CHECK(ethertype_name(ethertype::kIpv4) == "IPv4");
  CHECK(ethertype_name(0x88CC) == "ethertype 0x88cc");
}
