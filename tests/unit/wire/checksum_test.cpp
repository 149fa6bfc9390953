#include "megzawicol/wire/checksum.hpp"

#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::hex;

namespace {

// Straightforward 16-bit word loop (RFC 1071 section 4.1).
uint16_t reference_checksum(ByteView d) {
  uint64_t s = 0;  // 64 bits: no overflow even for megabyte buffers
  size_t i = 0;
  for (; i + 1 < d.size(); i += 2) s += (uint32_t{d[i]} << 8) | d[i + 1];
  if (i < d.size()) s += uint32_t{d[i]} << 8;
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<uint16_t>(~s & 0xFFFF);
}

}  // namespace

TEST_CASE("checksum: the classic IPv4 header vector") {
  // Header with its checksum field zeroed; the well-known answer is 0xb861.
  Bytes h = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
  CHECK(inet_checksum(h) == 0xB861);
  store_be16(h.data() + 10, 0xB861);
  CHECK(inet_checksum(h) == 0);
}

TEST_CASE("checksum: RFC 1071 section 3 example sum") {
  // 00 01 f2 03 f4 f5 f6 f7 -> one's complement sum 0xddf2.
  const Bytes d = hex("0001f203f4f5f6f7");
  CHECK(inet_fold(inet_sum(d)) == static_cast<uint16_t>(~0xDDF2));
}

TEST_CASE("checksum: odd lengths and all offsets agree with the reference") {
  Rng rng(11);
  Bytes buf(200);
  rng.fill(buf.data(), buf.size());
  for (size_t off = 0; off < 8; ++off)
    for (size_t len = 0; off + len <= 150; ++len) {
      ByteView v(buf.data() + off, len);
      REQUIRE(inet_checksum(v) == reference_checksum(v));
    }
  // Worst case for carries: all 0xff.
  Bytes ff(1001, 0xFF);
  CHECK(inet_checksum(ff) == reference_checksum(ff));
  CHECK(inet_checksum(Bytes{}) == 0xFFFF);
  CHECK(inet_checksum(hex("01")) == static_cast<uint16_t>(~0x0100));
}

TEST_CASE("checksum: chaining at even split points") {
  Rng rng(12);
  Bytes buf(101);
  rng.fill(buf.data(), buf.size());
  const uint16_t whole = inet_checksum(buf);
  ByteView v(buf);
  for (size_t a = 0; a <= buf.size(); a += 2)
    for (size_t b = a; b <= buf.size(); b += 2) {
      const uint32_t acc = inet_sum(v.subspan(b), inet_sum(v.subspan(a, b - a), inet_sum(v.first(a))));
      REQUIRE(inet_fold(acc) == whole);
    }
  // Large starting accumulators must not overflow.
  CHECK(inet_fold(inet_sum(v, 0xFFFFFFFFu)) == inet_fold(inet_sum(v, 0xFFFF) + 0xFFFF));
}

TEST_CASE("checksum: pseudo-header sum equals summing the 12 pseudo-header bytes") {
  Rng rng(13);
  for (int i = 0; i < 200; ++i) {
    const Ipv4Addr s{rng.next_u32()}, d{rng.next_u32()};
    const auto proto = static_cast<uint8_t>(rng.next_u32());
    const auto len = static_cast<uint16_t>(rng.next_u32());
    uint8_t ph[12];
    store_be32(ph, s.v);
    store_be32(ph + 4, d.v);
    ph[8] = 0;
    ph[9] = proto;
    store_be16(ph + 10, len);
    REQUIRE(inet_fold(pseudo_header_sum(s, d, proto, len)) == inet_checksum(ByteView(ph, 12)));
  }
}

TEST_CASE("checksum: the vector path (runs of 64+ bytes) agrees with the reference everywhere") {
  if (inet_sum_uses_avx2())
    MESSAGE("this CPU sums with AVX2");
  else
    MESSAGE("this CPU has no AVX2: the scalar path is checked");
  Rng rng(2024);
  Bytes buf(70'000);
  rng.fill(buf.data(), buf.size());
  for (size_t off = 0; off < 4; ++off)
    for (size_t len = 0; off + len <= 1600; len += (len < 200 ? 1 : 7)) {
      ByteView v(buf.data() + off, len);
      REQUIRE(inet_checksum(v) == reference_checksum(v));
    }
  CHECK(inet_checksum(buf) == reference_checksum(buf));
  Bytes big(1'200'000, 0xFF);  // crosses the 512 KiB lane-reset boundary, every carry
  CHECK(inet_checksum(big) == reference_checksum(big));
  rng.fill(big.data(), big.size());
  CHECK(inet_checksum(big) == reference_checksum(big));
  // With a non-zero starting accumulator (pseudo-header sums).
  const uint32_t acc = 0x1234 + 0xFFFF;
  ByteView v(buf.data() + 1, 1481);
  CHECK(inet_fold(inet_sum(v, acc)) == inet_fold(inet_sum(v) + acc));
}
