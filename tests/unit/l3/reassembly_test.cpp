#include "megzawicol/l3/reassembly.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l3/fragment.hpp"

using namespace mz;
using namespace mz::l3;
using R = Reassembler;

namespace {

const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);
const Time kT0 = Time::zero() + Duration::seconds(5);

wire::Ipv4Repr header(uint16_t ident = 0x1234) {
  wire::Ipv4Repr h;
  h.protocol = wire::ipproto::kIcmp;
  h.src = kA;
  h.dst = kB;
  h.ident = ident;
  h.ttl = 63;
  return h;
}

Bytes random_bytes(Rng& rng, size_t n) {
  Bytes b(n);
  rng.fill(b.data(), n);
  return b;
}

struct Frag {
  wire::Ipv4Repr h;
  Bytes payload;
};

std::vector<Frag> split(const wire::Ipv4Repr& h, ByteView payload, size_t mtu) {
  std::vector<Frag> out;
  for (const auto& f : fragment_ipv4(h, payload, mtu)) {
    auto p = wire::parse_ipv4(f.view());
    REQUIRE(p.ok());
    out.push_back({p->repr, Bytes(p->payload.begin(), p->payload.end())});
  }
  return out;
}

// A hand-made fragment: `len` bytes of `fill` at byte offset `off`.
Frag frag(uint32_t off, size_t len, bool mf, uint8_t fill, uint16_t ident = 0x1234) {
  Frag f{header(ident), Bytes(len, fill)};
  f.h.frag_offset = static_cast<uint16_t>(off);
  f.h.more_frags = mf;
  return f;
}

R::AddResult add(R& r, const Frag& f, Time now = kT0) { return r.add(now, f.h, f.payload); }

void check_complete(const R::AddResult& res, const wire::Ipv4Repr& orig, ByteView payload) {
  REQUIRE(res.status == R::Status::Complete);
  CHECK(res.header.src == orig.src);
  CHECK(res.header.dst == orig.dst);
  CHECK(res.header.ident == orig.ident);
  CHECK(res.header.protocol == orig.protocol);
  CHECK(res.header.ttl == orig.ttl);
  CHECK(res.header.options == orig.options);
  CHECK_FALSE(res.header.more_frags);
  CHECK(res.header.frag_offset == 0);
  CHECK(res.header.payload_len == payload.size());
  REQUIRE(res.payload.size() == payload.size());
  CHECK(std::equal(payload.begin(), payload.end(), res.payload.view().begin()));
}

}  // namespace

TEST_CASE("reassembly: fragments in order and in reverse order") {
  Rng rng(7);
  const Bytes payload = random_bytes(rng, 3980);
  const auto h = header();
  auto frags = split(h, payload, 1500);
  REQUIRE(frags.size() == 3);

  SUBCASE("in order") {
    R r;
    auto a = add(r, frags[0]);
    CHECK(a.status == R::Status::Incomplete);
    CHECK(a.fragments == 1);
    CHECK(a.bytes == 1480);
    CHECK_FALSE(a.total);
    CHECK(r.datagrams() == 1);
    CHECK(r.poll_timeout() == kT0 + Duration::seconds(30));
    CHECK(add(r, frags[1]).status == R::Status::Incomplete);
    check_complete(add(r, frags[2]), h, payload);
    CHECK(r.datagrams() == 0);
    CHECK(r.memory() == 0);
    CHECK_FALSE(r.poll_timeout());
    CHECK(r.counters().completed == 1);
    CHECK(r.counters().accepted == 3);
  }
  SUBCASE("reverse order: the last fragment tells the size first") {
    R r;
    auto a = add(r, frags[2]);
    CHECK(a.status == R::Status::Incomplete);
    CHECK(a.total == 3980);
    CHECK_FALSE(a.expected_fragments);  // no non-last fragment seen yet
    auto b = add(r, frags[1]);
    CHECK(b.status == R::Status::Incomplete);
    CHECK(b.fragments == 2);
    CHECK(b.bytes == 2500);
    CHECK(b.expected_fragments == 3);  // ceil(3980 / 1480)
    check_complete(add(r, frags[0]), h, payload);
  }
  SUBCASE("a non-fragment completes at once") {
    R r;
    Frag whole{h, payload};
    check_complete(add(r, whole), h, payload);
    CHECK(r.datagrams() == 0);
  }
}

TEST_CASE("reassembly: random permutations with duplicates (fixed seeds)") {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const size_t len = rng.uniform_int(1, 9000);
    const size_t mtu = rng.uniform_int(0, 1) ? 576 : static_cast<size_t>(rng.uniform_int(68, 1500));
    const Bytes payload = random_bytes(rng, len);
    auto h = header(static_cast<uint16_t>(seed));
    if (seed % 3 == 0) h.options = {0x94, 0x04, 0x00, 0x00};
    auto frags = split(h, payload, mtu);
    // Every fragment once, plus some duplicates, in a random order.
    std::vector<size_t> seq(frags.size());
    for (size_t i = 0; i < seq.size(); ++i) seq[i] = i;
    const size_t dups = rng.uniform_int(0, frags.size());
    for (size_t i = 0; i < dups; ++i) seq.push_back(rng.uniform_int(0, frags.size() - 1));
    for (size_t i = seq.size(); i > 1; --i) std::swap(seq[i - 1], seq[rng.uniform_int(0, i - 1)]);

    R r;
    std::set<size_t> seen;
    size_t completions = 0;
    for (size_t i : seq) {
      const bool dup = seen.count(i) != 0;
      auto res = add(r, frags[i]);
      if (completions) {
        // After completion, a late duplicate starts a new (never completed) datagram.
        if (frags.size() > 1) CHECK(res.status != R::Status::Complete);
        continue;
      }
      seen.insert(i);
      if (dup) {
        CHECK(res.status == R::Status::Duplicate);
      } else if (seen.size() == frags.size()) {
        check_complete(res, h, payload);
        ++completions;
      } else {
        CHECK(res.status == R::Status::Incomplete);
        CHECK_FALSE(res.overlap);
      }
    }
    CHECK(completions == 1);
    // (A datagram that fits in one fragment completes again with each late duplicate.)
    if (frags.size() > 1) CHECK(r.counters().completed == 1);
    CHECK(r.counters().overlaps == 0);
    // Late duplicates are all given up by the timer.
    r.handle_timeout(kT0 + Duration::seconds(30));
    CHECK(r.datagrams() == 0);
    CHECK(r.memory() == 0);
  }
}

TEST_CASE("reassembly: overlaps keep the first-received bytes") {
  SUBCASE("A then B") {
    R r;
    CHECK(add(r, frag(0, 16, true, 'A')).status == R::Status::Incomplete);
    auto b = add(r, frag(8, 16, true, 'B'));
    CHECK(b.status == R::Status::Incomplete);
    CHECK(b.overlap);
    CHECK(b.new_bytes == 8);
    auto c = add(r, frag(24, 8, false, 'C'));
    REQUIRE(c.status == R::Status::Complete);
    const Bytes want = [] {
      Bytes w(16, 'A');
      w.insert(w.end(), 8, 'B');
      w.insert(w.end(), 8, 'C');
      return w;
    }();
    CHECK(c.payload.to_bytes() == want);
    CHECK(r.counters().overlaps == 1);
    CHECK(r.counters().overlap_conflicts == 1);
  }
  SUBCASE("B then A: B's bytes win where they overlap") {
    R r;
    add(r, frag(8, 16, true, 'B'));
    auto a = add(r, frag(0, 16, true, 'A'));
    CHECK(a.overlap);
    auto c = add(r, frag(24, 8, false, 'C'));
    REQUIRE(c.status == R::Status::Complete);
    Bytes want(8, 'A');
    want.insert(want.end(), 16, 'B');
    want.insert(want.end(), 8, 'C');
    CHECK(c.payload.to_bytes() == want);
  }
  SUBCASE("a big fragment fills the gaps between held pieces; equal overlapping bytes are no conflict") {
    R r;
    add(r, frag(0, 8, true, 'X'));
    add(r, frag(16, 8, true, 'X'));
    auto big = add(r, frag(0, 32, false, 'X'));
    REQUIRE(big.status == R::Status::Complete);
    CHECK(big.payload.to_bytes() == Bytes(32, 'X'));
    CHECK(r.counters().overlaps == 1);
    CHECK(r.counters().overlap_conflicts == 0);
  }
  SUBCASE("a fragment inside held data is a duplicate, even if its bytes differ") {
    R r;
    add(r, frag(0, 32, true, 'A'));
    auto d = add(r, frag(8, 8, true, 'Z'));
    CHECK(d.status == R::Status::Duplicate);
    CHECK(r.counters().duplicates == 1);
    auto e = add(r, frag(32, 8, false, 'E'));
    REQUIRE(e.status == R::Status::Complete);
    CHECK(e.payload.to_bytes()[8] == 'A');
  }
  SUBCASE("a last fragment inside held data still brings the end") {
    R r;
    add(r, frag(0, 32, true, 'A'));
    auto e = add(r, frag(16, 16, false, 'Z'));
    REQUIRE(e.status == R::Status::Complete);
    CHECK(e.payload.to_bytes() == Bytes(32, 'A'));
  }
  SUBCASE("DiscardDatagram policy (Linux >= 4.19): a partial overlap discards the datagram") {
    R::Config cfg;
    cfg.overlap = R::OverlapPolicy::DiscardDatagram;
    R r(cfg);
    add(r, frag(0, 16, true, 'A'));
    add(r, frag(32, 8, false, 'C'));
    CHECK(add(r, frag(0, 8, true, 'A')).status == R::Status::Duplicate);  // duplicates are still just ignored
    auto b = add(r, frag(8, 16, true, 'B'));
    CHECK(b.status == R::Status::Dropped);
    CHECK(b.reason == R::DropReason::Overlap);
    CHECK(b.datagram_discarded);
    CHECK(b.fragments == 2);
    CHECK(r.datagrams() == 0);
    CHECK(r.memory() == 0);
    CHECK(r.counters().drop_overlap == 1);
    CHECK(r.counters().discarded == 1);
  }
}

TEST_CASE("reassembly: a lost fragment times out; fragment zero's bytes come back only if it arrived") {
  Rng rng(3);
  const Bytes payload = random_bytes(rng, 3008);
  const auto h = header(0xbeef);
  auto frags = split(h, payload, 1500);
  REQUIRE(frags.size() == 3);  // 1480 + 1480 + 48

  SUBCASE("the last fragment is lost") {
    R r;
    add(r, frags[0], kT0);
    add(r, frags[1], kT0 + Duration::seconds(20));  // a later fragment does not restart the timer
    REQUIRE(r.poll_timeout() == kT0 + Duration::seconds(30));
    CHECK(r.handle_timeout(kT0 + Duration::seconds(30) - Duration::nanos(1)).empty());
    auto ex = r.handle_timeout(kT0 + Duration::seconds(30));
    REQUIRE(ex.size() == 1);
    const auto& e = ex[0];
    CHECK(e.key.ident == 0xbeef);
    CHECK(e.key.src == kA);
    CHECK(e.created == kT0);
    CHECK(e.fragments == 2);
    CHECK(e.bytes == 2960);
    CHECK_FALSE(e.total);
    REQUIRE_FALSE(e.first_fragment.empty());
    auto p = wire::parse_ipv4(e.first_fragment);
    REQUIRE(p.ok());
    CHECK(p->repr.ident == 0xbeef);
    CHECK(p->repr.frag_offset == 0);
    CHECK(p->repr.more_frags);
    CHECK(p->repr.ttl == h.ttl);
    REQUIRE(p->payload.size() == 1480);
    CHECK(std::equal(p->payload.begin(), p->payload.end(), payload.begin()));
    CHECK(r.datagrams() == 0);
    CHECK(r.counters().timed_out == 1);
    CHECK_FALSE(r.poll_timeout());
  }
  SUBCASE("fragment zero is lost: nothing to quote") {
    R r;
    add(r, frags[1]);
    add(r, frags[2]);
    auto ex = r.handle_timeout(kT0 + Duration::seconds(31));
    REQUIRE(ex.size() == 1);
    CHECK(ex[0].first_fragment.empty());
    CHECK(ex[0].total == 3008);
    CHECK(ex[0].fragments == 2);
    CHECK(ex[0].expected_fragments == 3);
  }
  SUBCASE("several datagrams expire oldest first, each after its own 30 s") {
    R::Config cfg;
    cfg.timeout = Duration::seconds(10);
    R r(cfg);
    for (uint16_t i = 0; i < 5; ++i) {
      auto f = frags[0];
      f.h.ident = static_cast<uint16_t>(100 + i);
      add(r, f, kT0 + Duration::seconds(i));
    }
    CHECK(r.poll_timeout() == kT0 + Duration::seconds(10));
    auto ex = r.handle_timeout(kT0 + Duration::seconds(12));
    REQUIRE(ex.size() == 3);
    CHECK(ex[0].key.ident == 100);
    CHECK(ex[2].key.ident == 102);
    CHECK(r.poll_timeout() == kT0 + Duration::seconds(13));
    CHECK(r.datagrams() == 2);
  }
}

TEST_CASE("reassembly: a flood of incomplete datagrams never exceeds the bounds") {
  SUBCASE("default bounds: 1024 datagrams, 4 MiB") {
    R r;
    const Bytes data(1480, 0xab);
    size_t evicted = 0;
    for (uint32_t i = 0; i < 10000; ++i) {
      auto h = header(static_cast<uint16_t>(i));
      h.src = Ipv4Addr{0x0a000000u + (i >> 16)};
      h.more_frags = true;
      h.frag_offset = static_cast<uint16_t>((i % 7) * 1480);
      auto res = r.add(kT0 + Duration::micros(i), h, data);
      REQUIRE(res.status == R::Status::Incomplete);
      evicted += res.evicted.size();
      REQUIRE(r.datagrams() <= 1024);
      REQUIRE(r.memory() <= R::Config{}.max_bytes);
    }
    CHECK(r.peak_datagrams() == 1024);
    CHECK(r.datagrams() == 1024);
    CHECK(evicted == 10000 - 1024);
    CHECK(r.counters().evicted == 10000 - 1024);
    // The oldest still held is number 10000 - 1024.
    CHECK(r.poll_timeout() == kT0 + Duration::micros(10000 - 1024) + Duration::seconds(30));
  }
  SUBCASE("a small memory bound: the oldest datagrams make room, a burst still completes") {
    R::Config cfg;
    cfg.max_bytes = 64 * 1024;
    R r(cfg);
    const Bytes data(1480, 0xcd);
    for (uint32_t i = 0; i < 10000; ++i) {
      auto h = header(static_cast<uint16_t>(i));
      h.more_frags = true;
      auto res = r.add(kT0, h, data);
      REQUIRE(res.status == R::Status::Incomplete);
      REQUIRE(r.memory() <= cfg.max_bytes);
      for (const auto& e : res.evicted) REQUIRE(e.first_fragment.size() == 1500);
    }
    CHECK(r.datagrams() == 64 * 1024 / (1480 + R::kFragmentOverhead));
    CHECK(r.peak_memory() <= cfg.max_bytes);
    // A legitimate datagram arriving in a burst completes despite the flood.
    Rng rng(9);
    const Bytes payload = random_bytes(rng, 8000);
    const auto h = header(0xf00d);
    auto frags = split(h, payload, 1500);
    for (size_t i = 0; i + 1 < frags.size(); ++i) CHECK(add(r, frags[i]).status == R::Status::Incomplete);
    check_complete(add(r, frags.back()), h, payload);
    CHECK(r.memory() <= cfg.max_bytes);
  }
  SUBCASE("a fragment bigger than the whole bound is refused, nothing is evicted for it") {
    R::Config cfg;
    cfg.max_bytes = 1000;
    R r(cfg);
    CHECK(add(r, frag(0, 800, true, 1, 1)).status == R::Status::Incomplete);
    auto big = add(r, frag(0, 1480, true, 2, 2));
    CHECK(big.status == R::Status::Dropped);
    CHECK(big.reason == R::DropReason::OverMemory);
    CHECK(big.evicted.empty());
    CHECK(r.datagrams() == 1);
    // Its own datagram is never evicted to make room for it: refused as well.
    CHECK(add(r, frag(800, 400, true, 1, 1)).reason == R::DropReason::OverMemory);
    CHECK(r.counters().drop_over_memory == 2);
  }
  SUBCASE("max_datagrams 0 holds nothing") {
    R::Config cfg;
    cfg.max_datagrams = 0;
    R r(cfg);
    CHECK(add(r, frag(0, 8, true, 1)).reason == R::DropReason::OverMemory);
    CHECK(r.datagrams() == 0);
  }
}

TEST_CASE("reassembly: hostile fragments are dropped with a reason") {
  R r;
  SUBCASE("offset + length beyond 65535") {
    auto a = add(r, frag(65528, 16, true, 1));
    CHECK(a.status == R::Status::Dropped);
    CHECK(a.reason == R::DropReason::TooBig);
    auto b = add(r, frag(65512, 8, false, 1));  // end 65520 leaves no room for a header
    CHECK(b.reason == R::DropReason::TooBig);
    CHECK(add(r, frag(65504, 8, false, 1)).status == R::Status::Incomplete);  // end 65512 is fine
    CHECK(r.counters().drop_too_big == 2);
  }
  SUBCASE("header + payload over 65535: the datagram is discarded") {
    auto first = frag(0, 1480, true, 1);
    first.h.options = Bytes(40, 1);  // 60-byte header
    CHECK(add(r, first).status == R::Status::Incomplete);
    auto last = add(r, frag(65480, 8, false, 1));  // 60 + 65488 > 65535
    CHECK(last.status == R::Status::Dropped);
    CHECK(last.reason == R::DropReason::TooBig);
    CHECK(last.datagram_discarded);
    CHECK(r.datagrams() == 0);
  }
  SUBCASE("a zero-length fragment with MF") {
    auto a = add(r, frag(8, 0, true, 1));
    CHECK(a.reason == R::DropReason::EmptyFragment);
    CHECK(r.datagrams() == 0);
  }
  SUBCASE("a non-last fragment not a multiple of 8 long is cut (and dropped if nothing is left)") {
    auto a = add(r, frag(0, 13, true, 7));
    CHECK(a.status == R::Status::Incomplete);
    CHECK(a.truncated);
    CHECK(a.bytes == 8);
    CHECK(add(r, frag(8, 5, true, 7)).reason == R::DropReason::EmptyFragment);
    auto c = add(r, frag(8, 5, false, 9));
    REQUIRE(c.status == R::Status::Complete);
    CHECK(c.payload.size() == 13);
    CHECK(r.counters().truncated == 2);
  }
  SUBCASE("a second last fragment with another end") {
    add(r, frag(1480, 520, false, 1));
    auto b = add(r, frag(1480, 528, false, 1));
    CHECK(b.reason == R::DropReason::InconsistentEnd);
    CHECK_FALSE(b.datagram_discarded);
    CHECK(b.total == 2000);  // the first-received end stays
    CHECK(add(r, frag(1480, 520, false, 1)).status == R::Status::Duplicate);
  }
  SUBCASE("data beyond the end") {
    add(r, frag(1480, 520, false, 1));
    CHECK(add(r, frag(2000, 8, true, 1)).reason == R::DropReason::BeyondEnd);
    CHECK(add(r, frag(1480, 528, true, 1)).reason == R::DropReason::BeyondEnd);
    CHECK(r.counters().drop_beyond_end == 2);
  }
  SUBCASE("a last fragment ending before data already held") {
    add(r, frag(0, 1480, true, 1));
    add(r, frag(1480, 1480, true, 1));
    auto c = add(r, frag(0, 1000, false, 1));
    CHECK(c.reason == R::DropReason::InconsistentEnd);
    CHECK_FALSE(c.total);
    CHECK(r.datagrams() == 1);
  }
  SUBCASE("an empty last fragment marks the end") {
    add(r, frag(0, 16, true, 3));
    auto e = add(r, frag(16, 0, false, 0));
    REQUIRE(e.status == R::Status::Complete);
    CHECK(e.payload.to_bytes() == Bytes(16, 3));
  }
}

TEST_CASE("reassembly: random garbage never breaks the invariants") {
  Rng rng(2024);
  R::Config cfg;
  cfg.max_bytes = 256 * 1024;
  cfg.max_datagrams = 64;
  R r(cfg);
  Time now = kT0;
  uint64_t completes = 0;
  for (int i = 0; i < 50000; ++i) {
    auto h = header(static_cast<uint16_t>(rng.uniform_int(0, 40)));
    h.frag_offset = static_cast<uint16_t>(rng.uniform_int(0, 1) ? rng.uniform_int(0, 64) * 8 : rng.uniform_int(0, 65535));
    h.more_frags = rng.uniform_int(0, 3) != 0;
    if (rng.uniform_int(0, 20) == 0) h.options = Bytes(4 * rng.uniform_int(1, 10), 1);
    const size_t len = rng.uniform_int(0, 3) == 0 ? rng.uniform_int(0, 65535) : rng.uniform_int(0, 1500);
    const Bytes payload = random_bytes(rng, len);
    auto res = r.add(now, h, payload);
    if (res.status == R::Status::Complete) {
      ++completes;
      CHECK(res.payload.size() == res.header.payload_len);
      CHECK(res.header.header_len() + res.payload.size() <= 65535);
    }
    REQUIRE(r.memory() <= cfg.max_bytes);
    REQUIRE(r.datagrams() <= cfg.max_datagrams);
    now += Duration::millis(static_cast<int64_t>(rng.uniform_int(0, 5)));
    if (auto t = r.poll_timeout(); t && *t <= now) {
      for (const auto& e : r.handle_timeout(now)) {
        if (!e.first_fragment.empty()) CHECK(wire::parse_ipv4(e.first_fragment).ok());
      }
    }
  }
  const auto& c = r.counters();
  CHECK(c.fragments == 50000);
  CHECK(c.accepted + c.duplicates + c.dropped() == c.fragments);
  CHECK(completes == c.completed);
  CHECK(c.completed > 0);
  CHECK(c.overlaps > 0);
  CHECK(c.evicted > 0);
}
