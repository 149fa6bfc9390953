#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/bit_errors.hpp"

using namespace mz;
using namespace mz::l1;

namespace {

bool within_sigmas(double count, double n, double p, double k) {
  const double mean = n * p, sd = std::sqrt(n * p * (1 - p));
  return std::fabs(count - mean) <= k * sd;
}

}  // namespace

TEST_CASE("ber 0 never flips and never draws") {
  BitErrorInjector inj(0.0, Rng(5));
  std::vector<uint8_t> buf(1 << 16, 0x5a);
  std::vector<uint32_t> pos;
  for (int i = 0; i < 100; ++i) CHECK(inj.apply(buf.data(), buf.size() * 8, &pos) == 0);
  CHECK(pos.empty());
  CHECK(inj.errors() == 0);
  CHECK(inj.bits_seen() == 100ull * buf.size() * 8);
  for (uint8_t b : buf) REQUIRE(b == 0x5a);
  Rng copy = inj.rng();
  Rng fresh(5);
  CHECK(copy.next_u64() == fresh.next_u64());
  // Negative and NaN rates mean no errors too.
  CHECK(BitErrorInjector(-1.0, Rng(1)).ber() == 0.0);
  CHECK(BitErrorInjector(std::nan(""), Rng(1)).ber() == 0.0);
}

TEST_CASE("flips are where the positions say, MSB first") {
  BitErrorInjector inj(0.01, Rng(6));
  std::vector<uint8_t> buf(1000, 0);
  std::vector<uint32_t> pos;
  const uint32_t n = inj.apply(buf.data(), 7999, &pos);  // the last bit is out of range
  CHECK(n == pos.size());
  CHECK(n > 30);
  std::vector<uint32_t> seen;
  for (size_t i = 0; i < buf.size() * 8; ++i)
    if ((buf[i / 8] >> (7 - i % 8)) & 1) seen.push_back(static_cast<uint32_t>(i));
  CHECK(seen == pos);
  CHECK(pos.back() < 7999);
  CHECK(std::is_sorted(pos.begin(), pos.end()));
}

TEST_CASE("ber 1 flips every bit") {
  BitErrorInjector inj(1.0, Rng(7));
  std::vector<uint8_t> buf(100, 0x0f);
  CHECK(inj.apply(buf.data(), 800) == 800);
  for (uint8_t b : buf) CHECK(b == 0xf0);
}

TEST_CASE("measured rate at ber 1e-3 over 1e7 bits") {
  const double p = 1e-3;
  BitErrorInjector inj(p, Rng(0xbe5));
  std::vector<uint8_t> buf(125000);  // 1e6 bits
  for (int i = 0; i < 10; ++i) inj.apply(buf.data(), buf.size() * 8);
  CHECK(inj.bits_seen() == 10000000ull);
  CHECK(within_sigmas(static_cast<double>(inj.errors()), 1e7, p, 4));
}

TEST_CASE("measured rate at ber 1e-6 over 1e9 bits, per error cost") {
  const double p = 1e-6;
  BitErrorInjector inj(p, Rng(0xbe6));
  std::vector<uint8_t> buf(12500000);  // 1e8 bits
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) inj.apply(buf.data(), buf.size() * 8);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(inj.bits_seen() == 1000000000ull);
  CHECK(within_sigmas(static_cast<double>(inj.errors()), 1e9, p, 4));
  MESSAGE("1e9 bits at 1e-6: " << inj.errors() << " errors in " << secs << " s");
  CHECK(secs < 1.0);  // a per-bit loop would take seconds
}

TEST_CASE("mean gap between errors is (1-p)/p") {
  for (double p : {1e-3, 0.05, 0.5}) {
    CAPTURE(p);
    BitErrorInjector inj(p, Rng(11));
    std::vector<uint8_t> buf(1250000);  // 1e7 bits
    std::vector<uint32_t> pos;
    inj.apply(buf.data(), buf.size() * 8, &pos);
    REQUIRE(pos.size() > 1000);
    double sum = 0;
    for (size_t i = 1; i < pos.size(); ++i) sum += pos[i] - pos[i - 1] - 1;
    const double n = static_cast<double>(pos.size() - 1);
    const double mean = sum / n, expected = (1 - p) / p;
    const double sd_of_mean = std::sqrt(1 - p) / p / std::sqrt(n);
    CHECK(std::fabs(mean - expected) <= 4 * sd_of_mean);
  }
}

TEST_CASE("the gap is carried across calls") {
  const double p = 2e-3;
  BitErrorInjector one(p, Rng(12)), many(p, Rng(12));
  std::vector<uint8_t> a(125000), b(125000);
  std::vector<uint32_t> pos_one, pos_many, tmp;
  one.apply(a.data(), 1000000, &pos_one);
  for (uint32_t call = 0; call < 1000; ++call) {
    tmp.clear();
    many.apply(b.data() + call * 125, 1000, &tmp);
    for (uint32_t q : tmp) pos_many.push_back(call * 1000 + q);
  }
  CHECK(pos_one.size() > 1000);
  CHECK(pos_one == pos_many);
  CHECK(a == b);
  CHECK(one.errors() == many.errors());
  // Odd call sizes too (calls not on byte boundaries still cover consecutive bits).
  BitErrorInjector odd(p, Rng(12));
  std::vector<uint32_t> pos_odd;
  uint32_t start = 0;
  for (uint32_t len : {1u, 7u, 13u, 999u, 5000u}) {
    std::vector<uint8_t> buf((len + 7) / 8);
    tmp.clear();
    odd.apply(buf.data(), len, &tmp);
    for (uint32_t q : tmp) pos_odd.push_back(start + q);
    start += len;
  }
  std::vector<uint32_t> prefix;
  for (uint32_t q : pos_one)
    if (q < start) prefix.push_back(q);
  CHECK(pos_odd == prefix);
}
