#include "megzawicol/l3/fragment.hpp"

#include <doctest/doctest.h>

#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/icmp.hpp"

using namespace mz;
using namespace mz::l3;

namespace {

const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);

wire::Ipv4Repr icmp_header(uint16_t ident = 0x1234) {
  wire::Ipv4Repr h;
  h.protocol = wire::ipproto::kIcmp;
  h.src = kA;
  h.dst = kB;
  h.ident = ident;
  h.ttl = 64;
  return h;
}

Bytes pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

struct Piece {
  wire::Ipv4Repr h;
  Bytes payload;
  size_t total = 0;  // bytes on the wire
};

// Parses every fragment (which must be valid IPv4 with a good checksum).
std::vector<Piece> parse_all(const std::vector<PacketBuf>& frags) {
  std::vector<Piece> out;
  for (const auto& f : frags) {
    auto p = wire::parse_ipv4(f.view());
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    CHECK(wire::inet_checksum(f.view().first(p->repr.header_len())) == 0);
    CHECK(p->payload.size() == p->repr.payload_len);
    CHECK(f.size() == p->repr.header_len() + p->repr.payload_len);
    out.push_back({p->repr, Bytes(p->payload.begin(), p->payload.end()), f.size()});
  }
  return out;
}

// Checks the pieces tile [first_off, first_off + payload.size()) with the payload's bytes.
void check_tiling(const std::vector<Piece>& ps, ByteView payload, size_t first_off, size_t mtu) {
  size_t off = first_off;
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    CHECK(p.h.frag_offset == off);
    CHECK(p.total <= mtu);
    if (i + 1 < ps.size()) CHECK(p.payload.size() % 8 == 0);
    REQUIRE(off - first_off + p.payload.size() <= payload.size());
    CHECK(std::equal(p.payload.begin(), p.payload.end(), payload.begin() + static_cast<long>(off - first_off)));
    off += p.payload.size();
  }
  CHECK(off - first_off == payload.size());
}

}  // namespace

TEST_CASE("fragment_ipv4: a 4000-byte ICMP datagram over MTU 1500 gives 1480 + 1480 + 1020") {
  // 20-byte header + 8-byte ICMP header + 3972 data bytes = 4000 bytes; 3980 IP payload bytes.
  const Bytes data = pattern(3972);
  wire::IcmpRepr echo;
  echo.type = wire::icmptype::kEchoRequest;
  echo.ident = 1;
  echo.seq = 1;
  echo.data = data;
  PacketBuf msg = wire::make_icmp(echo);
  REQUIRE(msg.size() == 3980);
  const auto h = icmp_header();
  auto ps = parse_all(fragment_ipv4(h, msg.view(), 1500));
  REQUIRE(ps.size() == 3);
  const size_t len[] = {1480, 1480, 1020};
  const size_t off[] = {0, 1480, 2960};
  const bool mf[] = {true, true, false};
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(ps[i].payload.size() == len[i]);
    CHECK(ps[i].h.frag_offset == off[i]);
    CHECK(ps[i].h.more_frags == mf[i]);
    CHECK(ps[i].total == 20 + len[i]);
    CHECK(ps[i].h.ident == 0x1234);
    CHECK(ps[i].h.protocol == wire::ipproto::kIcmp);
    CHECK(ps[i].h.src == kA);
    CHECK(ps[i].h.dst == kB);
    CHECK(ps[i].h.ttl == 64);
    CHECK_FALSE(ps[i].h.dont_frag);
  }
  check_tiling(ps, msg.view(), 0, 1500);
  // The ICMP header travels in the first fragment only.
  CHECK(ps[0].payload[0] == wire::icmptype::kEchoRequest);
}

TEST_CASE("fragment_ipv4: MTU 576 gives 552-byte payloads (69 units of 8), MTU 68 gives 48") {
  const Bytes payload = pattern(3980);
  const auto h = icmp_header();
  {
    auto ps = parse_all(fragment_ipv4(h, payload, 576));
    // 3980 = 7 * 552 + 116
    REQUIRE(ps.size() == 8);
    for (size_t i = 0; i < 7; ++i) {
      CHECK(ps[i].payload.size() == 552);
      CHECK(ps[i].h.frag_offset == i * 552);
      CHECK(ps[i].h.more_frags);
      CHECK(ps[i].total == 572);
    }
    CHECK(ps[7].payload.size() == 116);
    CHECK(ps[7].h.frag_offset == 3864);
    CHECK_FALSE(ps[7].h.more_frags);
    check_tiling(ps, payload, 0, 576);
  }
  {
    // RFC 791: every module must forward 68 bytes without further fragmentation.
    auto ps = parse_all(fragment_ipv4(h, payload, 68));
    // 3980 = 82 * 48 + 44
    REQUIRE(ps.size() == 83);
    for (size_t i = 0; i < 82; ++i) {
      CHECK(ps[i].payload.size() == 48);
      CHECK(ps[i].h.more_frags);
    }
    CHECK(ps[82].payload.size() == 44);
    CHECK(ps[82].h.frag_offset == 3936);
    CHECK_FALSE(ps[82].h.more_frags);
    check_tiling(ps, payload, 0, 68);
  }
}

TEST_CASE("fragment_ipv4: a payload that fits (or exactly fills the MTU) is one packet") {
  const Bytes payload = pattern(1480);
  auto ps = parse_all(fragment_ipv4(icmp_header(), payload, 1500));
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].total == 1500);
  CHECK_FALSE(ps[0].h.more_frags);
  CHECK(ps[0].h.frag_offset == 0);
  // One byte more: 1480 + 1.
  auto ps2 = parse_all(fragment_ipv4(icmp_header(), pattern(1481), 1500));
  REQUIRE(ps2.size() == 2);
  CHECK(ps2[0].payload.size() == 1480);
  CHECK(ps2[1].payload.size() == 1);
  CHECK(ps2[1].h.frag_offset == 1480);
}

TEST_CASE("fragment_ipv4: re-fragmenting a fragment at a router keeps MF and continues the offsets") {
  const Bytes whole = pattern(3980);
  auto first = parse_all(fragment_ipv4(icmp_header(), whole, 1500));
  REQUIRE(first.size() == 3);
  SUBCASE("the middle fragment (MF, offset 1480): 552 + 552 + 376, all MF") {
    const auto& mid = first[1];
    REQUIRE(mid.h.more_frags);
    REQUIRE(mid.h.frag_offset == 1480);
    auto ps = parse_all(fragment_ipv4(mid.h, mid.payload, 576));
    REQUIRE(ps.size() == 3);
    CHECK(ps[0].h.frag_offset == 1480);
    CHECK(ps[1].h.frag_offset == 2032);
    CHECK(ps[2].h.frag_offset == 2584);
    CHECK(ps[0].payload.size() == 552);
    CHECK(ps[1].payload.size() == 552);
    CHECK(ps[2].payload.size() == 376);
    for (const auto& p : ps) CHECK(p.h.more_frags);  // the original MF stays on the last piece
    check_tiling(ps, mid.payload, 1480, 576);
  }
  SUBCASE("the last fragment (offset 2960): 552 + 468, MF only on the first piece") {
    const auto& last = first[2];
    auto ps = parse_all(fragment_ipv4(last.h, last.payload, 576));
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].h.frag_offset == 2960);
    CHECK(ps[0].h.more_frags);
    CHECK(ps[1].h.frag_offset == 3512);
    CHECK_FALSE(ps[1].h.more_frags);
    CHECK(ps[1].payload.size() == 468);
    check_tiling(ps, last.payload, 2960, 576);
  }
}

TEST_CASE("fragment_ipv4: options without the copy flag go in the first fragment only") {
  auto h = icmp_header();
  // Router alert (type 0x94: copied) + record route (type 7: not copied, 7 bytes) + EOL.
  h.options = {0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00};
  REQUIRE(h.header_len() == 32);
  const Bytes payload = pattern(1000);
  auto ps = parse_all(fragment_ipv4(h, payload, 576));
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].h.options == h.options);
  CHECK(ps[0].h.header_len() == 32);
  CHECK(ps[0].payload.size() == 544);  // (576 - 32) rounded down to 8
  CHECK(ps[1].h.options == Bytes{0x94, 0x04, 0x00, 0x00});
  CHECK(ps[1].h.header_len() == 24);
  CHECK(ps[1].payload.size() == 456);
  CHECK(ps[1].h.frag_offset == 544);
  check_tiling(ps, payload, 0, 576);

  SUBCASE("only non-copied options: later fragments have a bare 20-byte header") {
    auto h2 = icmp_header();
    h2.options = {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01};  // record route + NOP
    auto ps2 = parse_all(fragment_ipv4(h2, payload, 300));
    REQUIRE(ps2.size() >= 3);
    CHECK(ps2[0].h.options == h2.options);
    for (size_t i = 1; i < ps2.size(); ++i) {
      CHECK(ps2[i].h.options.empty());
      CHECK(ps2[i].h.header_len() == 20);
    }
    check_tiling(ps2, payload, 0, 300);
  }
}
