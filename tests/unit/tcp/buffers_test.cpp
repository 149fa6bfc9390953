// RingBuffer, SeqRangeSet, Assembler (receiver SACK blocks) and SackScoreboard.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l4/assembler.hpp"
#include "megzawicol/l4/ranges.hpp"
#include "megzawicol/l4/ring_buffer.hpp"
#include "megzawicol/l4/scoreboard.hpp"

using namespace mz;
using namespace mz::l4;

TEST_CASE("ring buffer: push peek consume across the wrap and writes ahead") {
  RingBuffer r(8);
  const uint8_t abc[] = {1, 2, 3, 4, 5, 6};
  CHECK(r.push(abc) == 6);
  r.consume(5);
  CHECK(r.size() == 1);
  CHECK(r.push(abc) == 6);  // wraps
  CHECK(r.push(abc) == 1);  // full
  CHECK(r.free() == 0);
  uint8_t out[8] = {};
  CHECK(r.peek(2, out) == 6);
  CHECK(out[0] == 2);
  CHECK(out[5] == 1);
  CHECK(r.pop(out) == 8);
  CHECK(r.empty());
  // Written ahead, then committed once the gap is filled; emptying must not move them.
  const uint8_t x[] = {9, 9};
  CHECK(r.write_at(2, x) == 2);
  CHECK(r.write_at(7, x) == 1);  // only what fits in the capacity
  CHECK(r.write_at(8, x) == 0);
  const uint8_t y[] = {7, 7};
  CHECK(r.write_at(0, y) == 2);
  r.commit(4);
  CHECK(r.pop(out) == 4);
  CHECK(out[0] == 7);
  CHECK(out[3] == 9);
  RingBuffer zero(0);
  CHECK(zero.push(abc) == 0);
  CHECK(zero.pop(out) == 0);
}

TEST_CASE("ranges: merge adjacent and overlapping and stay bounded") {
  SeqRangeSet s(3);
  CHECK(s.insert(SeqNum(10), SeqNum(20)));
  CHECK(s.insert(SeqNum(30), SeqNum(40)));
  CHECK(s.insert(SeqNum(20), SeqNum(25)));  // adjacent: merges
  CHECK(s.size() == 2);
  CHECK(s.ranges()[0] == SeqRange{SeqNum(10), SeqNum(25)});
  CHECK(s.insert(SeqNum(50), SeqNum(60)));
  CHECK_FALSE(s.insert(SeqNum(70), SeqNum(80)));  // a fourth range is refused
  CHECK(s.insert(SeqNum(22), SeqNum(55)));        // bridges three ranges
  CHECK(s.size() == 1);
  CHECK(s.ranges()[0] == SeqRange{SeqNum(10), SeqNum(60)});
  CHECK(s.covered(SeqNum(0), SeqNum(15)) == 5);
  CHECK(s.contains(SeqNum(12), SeqNum(60)));
  CHECK_FALSE(s.contains(SeqNum(12), SeqNum(61)));
  s.remove_below(SeqNum(30));
  CHECK(s.ranges()[0] == SeqRange{SeqNum(30), SeqNum(60)});
  CHECK(s.bytes() == 30);
  // Across the sequence-number wrap.
  SeqRangeSet w(4);
  w.insert(SeqNum(0xfffffff0u), SeqNum(0x10));
  w.insert(SeqNum(0x10), SeqNum(0x20));
  CHECK(w.size() == 1);
  CHECK(w.bytes() == 0x30);
}

TEST_CASE("assembler: SACK blocks lead with the most recent segment (RFC 2018 4)") {
  Assembler a;
  std::vector<wire::SackBlock> b;
  a.add(SeqNum(2000), SeqNum(3000));
  a.add(SeqNum(5000), SeqNum(6000));
  a.add(SeqNum(8000), SeqNum(9000));
  a.add(SeqNum(3000), SeqNum(4000));  // extends the first range; most recent
  a.sack_blocks(b, 4);
  REQUIRE(b.size() == 3);
  CHECK(b[0] == wire::SackBlock{2000, 4000});
  CHECK(b[1] == wire::SackBlock{8000, 9000});
  CHECK(b[2] == wire::SackBlock{5000, 6000});
  a.sack_blocks(b, 2);
  CHECK(b.size() == 2);
  CHECK(a.advance(SeqNum(1500)) == SeqNum(1500));  // a hole remains
  CHECK(a.advance(SeqNum(2000)) == SeqNum(4000));  // the hole is filled: RCV.NXT jumps
  a.sack_blocks(b, 4);
  REQUIRE(b.size() == 2);
  CHECK(b[0] == wire::SackBlock{8000, 9000});
}

TEST_CASE("scoreboard: clipping lost edge and pipe (RFC 6675)") {
  SackScoreboard sb;
  const SeqNum una(1000), max(11000);  // ten 1000-byte segments out
  const wire::SackBlock blocks[] = {{2000, 4000}, {500, 900}, {9000, 12000}, {7000, 6000}};
  CHECK(sb.update(blocks, una, max));
  REQUIRE(sb.ranges().size() == 2);
  CHECK(sb.ranges().ranges()[1] == SeqRange{SeqNum(9000), SeqNum(11000)});  // clipped to SND.MAX
  CHECK_FALSE(sb.update(blocks, una, max));  // nothing new
  CHECK(sb.skip_sacked(SeqNum(2500)) == SeqNum(4000));
  CHECK(sb.unsacked_end(SeqNum(4000), max) == SeqNum(9000));
  CHECK(sb.high_sacked(una) == SeqNum(11000));
  // 2000 SACKed bytes above 9000 is not more than 2 MSS; adding 2000..4000 is: 1000..2000 is lost.
  CHECK(sb.lost_edge(1000, una) == SeqNum(2000));
  // pipe: [2000, 11000) minus 4000 SACKed = 5000, nothing retransmitted yet.
  CHECK(sb.pipe(una, max, una, 1000) == 5000);
  CHECK(sb.pipe(una, max, SeqNum(2000), 1000) == 6000);  // the lost segment was resent
  sb.advance(SeqNum(3000));
  CHECK(sb.ranges().ranges()[0] == SeqRange{SeqNum(3000), SeqNum(4000)});
}

TEST_CASE("RingBuffer: storage grows on demand and is released when empty; contents match a deque") {
  RingBuffer r(512 * 1024);
  CHECK(r.capacity() == 512 * 1024);
  CHECK(r.allocated() == 0);  // nothing until the first byte
  Rng rng(5);
  std::deque<uint8_t> ref;
  size_t peak = 0;
  for (int step = 0; step < 4000; ++step) {
    if (rng.uniform_int(0, 2) != 0) {
      Bytes in(rng.uniform_int(0, 9000));
      rng.fill(in.data(), in.size());
      const size_t n = r.push(in);
      CHECK(n == std::min(in.size(), 512 * 1024 - ref.size()));
      ref.insert(ref.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      Bytes out(rng.uniform_int(0, 12000));
      const size_t n = r.pop(out);
      REQUIRE(n == std::min(out.size(), ref.size()));
      for (size_t i = 0; i < n; ++i) {
        REQUIRE(out[i] == ref.front());
        ref.pop_front();
      }
    }
    REQUIRE(r.size() == ref.size());
    CHECK(r.allocated() <= 512 * 1024);
    if (r.empty()) CHECK(r.allocated() == 0);
    peak = std::max(peak, r.allocated());
  }
  CHECK(peak > 4096);
  // Data written ahead of a gap (out of order) keeps the storage until it is consumed.
  RingBuffer g(64 * 1024);
  const Bytes ahead(100, 7);
  CHECK(g.write_at(30'000, ahead) == 100);
  CHECK(g.allocated() >= 30'100);
  const Bytes first(30'000, 1);
  CHECK(g.write_at(0, first) == 30'000);
  g.commit(30'100);
  Bytes all(30'100);
  CHECK(g.pop(all) == 30'100);
  CHECK(all[29'999] == 1);
  CHECK(all[30'000] == 7);
  CHECK(g.allocated() == 0);
}
