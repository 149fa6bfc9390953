#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/core/time.hpp"

using namespace mz;

TEST_CASE("addresses parse strictly and print canonically") {
  CHECK(Ipv4Addr::parse("10.0.0.1")->v == 0x0a000001u);
  CHECK(Ipv4Addr::parse("255.255.255.255")->is_broadcast());
  CHECK_FALSE(Ipv4Addr::parse("10.0.0.256"));
  CHECK_FALSE(Ipv4Addr::parse("10.0.0"));
  CHECK_FALSE(Ipv4Addr::parse("10.0.0.1.2"));
  CHECK_FALSE(Ipv4Addr::parse("10.0.0.-1"));
  CHECK_FALSE(Ipv4Addr::parse("1000.0.0.1"));
  CHECK(Ipv4Addr::from_octets(192, 168, 1, 20).to_string() == "192.168.1.20");
  auto c = Ipv4Cidr::parse("192.168.1.10/24");
  REQUIRE(c);
  CHECK(c->network().to_string() == "192.168.1.0");
  CHECK(c->directed_broadcast().to_string() == "192.168.1.255");
  CHECK(c->contains(*Ipv4Addr::parse("192.168.1.200")));
  CHECK_FALSE(c->contains(*Ipv4Addr::parse("192.168.2.1")));
  CHECK(Ipv4Cidr::parse("0.0.0.0/0")->contains(*Ipv4Addr::parse("8.8.8.8")));
  CHECK_FALSE(Ipv4Cidr::parse("10.0.0.0/33"));
  auto m = MacAddr::parse("02:00:0A:0b:0c:FF");
  REQUIRE(m);
  CHECK(m->to_string() == "02:00:0a:0b:0c:ff");
  CHECK_FALSE(MacAddr::parse("02:00:0a:0b:0c"));
  CHECK(MacAddr::broadcast().is_broadcast());
}

TEST_CASE("time formatting is exact") {
  CHECK(format_time(Time{1500000000}) == "1.500000000");
  CHECK(format_time(Time{42}) == "0.000000042");
  CHECK(format_duration(Duration::micros(1500)) == "1.5ms");
  CHECK(format_duration(Duration{250}) == "250ns");
}

TEST_CASE("rng streams are reproducible and independent of each other") {
  Rng a = Rng::stream(7, "link:x");
  Rng b = Rng::stream(7, "link:x");
  Rng c = Rng::stream(7, "link:y");
  Rng d = Rng::stream(8, "link:x");
  bool all_same = true, diff_name = false, diff_seed = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    all_same &= x == b.next_u64();
    diff_name |= x != c.next_u64();
    diff_seed |= x != d.next_u64();
  }
  CHECK(all_same);
  CHECK(diff_name);
  CHECK(diff_seed);
}

TEST_CASE("rng distributions have the expected moments") {
  Rng r(123);
  const int n = 200000;
  double sum = 0;
  int hits = 0;
  double gsum = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    hits += r.bernoulli(0.1) ? 1 : 0;
    gsum += static_cast<double>(r.geometric(0.01));
  }
  CHECK(std::abs(sum / n - 0.5) < 0.005);
  CHECK(std::abs(hits / double(n) - 0.1) < 0.004);
  CHECK(std::abs(gsum / n - 99.0) / 99.0 < 0.02);  // mean (1-p)/p
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = r.uniform_int(3, 9);
    REQUIRE(v >= 3);
    REQUIRE(v <= 9);
  }
  CHECK_FALSE(r.bernoulli(0.0));
  CHECK(r.bernoulli(1.0));
}

TEST_CASE("uniform_int draws exactly what rejection sampling with r mod n gives") {
  // The reference: reject the top (2^64 mod n) values of next_u64(), then r mod n, with two
  // 64-bit divisions. uniform_int computes the same values without them; ranges change
  // between calls (its cached reciprocal is replaced) and include sizes near 2^64, where
  // rejection happens often.
  Rng pick(7);
  Rng a(11), b(11);
  const uint64_t fixed[] = {1, 2, 3, 1999, 65535, 1ull << 32, (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 12345,
                            UINT64_MAX - 1};
  for (int i = 0; i < 200000; ++i) {
    uint64_t range;
    switch (i % 4) {
      case 0: range = fixed[pick.next_u64() % (sizeof fixed / sizeof fixed[0])]; break;
      case 1: range = pick.next_u64() >> (pick.next_u64() % 64); break;
      case 2: range = pick.next_u64() | (1ull << 63); break;
      default: range = 1 + pick.next_u64() % 5000; break;
    }
    if (range == 0) range = 1;
    const uint64_t lo = pick.next_u64() % 1000;
    const uint64_t hi = lo + range < lo ? UINT64_MAX : lo + range;
    const uint64_t n = hi - lo + 1;
    uint64_t want;
    if (n == 0) {
      want = b.next_u64();
    } else {
      const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
      uint64_t r;
      do r = b.next_u64();
      while (r >= limit);
      want = lo + r % n;
    }
    REQUIRE(a.uniform_int(lo, hi) == want);
  }
}

TEST_CASE("packet buffer grows headers in front and trailers behind without copying the payload") {
  const uint8_t payload[] = {1, 2, 3};
  PacketBuf p = PacketBuf::from(ByteView(payload, 3));
  const uint8_t* before = p.data();
  auto h = p.push_front(2);
  h[0] = 0xaa;
  h[1] = 0xbb;
  CHECK(p.data() + 2 == before);
  auto t = p.push_back(1);
  t[0] = 0xcc;
  CHECK(p.to_bytes() == Bytes{0xaa, 0xbb, 1, 2, 3, 0xcc});
  p.pull_front(2);
  p.pull_back(1);
  CHECK(p.to_bytes() == Bytes{1, 2, 3});
  // Beyond the headroom it still works (by growing).
  PacketBuf q = PacketBuf::with_reserve(1, 2, 0);
  q.push_front(10);
  CHECK(q.size() == 12);
  Bytes out;
  CHECK(from_hex("0a 1B", out));
  CHECK(out == Bytes{0x0a, 0x1b});
  CHECK(to_hex(out) == "0a1b");
  CHECK_FALSE(from_hex("abc", out));
}

