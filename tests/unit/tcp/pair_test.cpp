// End-to-end transfers between two connections over the simulated pipe of pair.hpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "pair.hpp"

using namespace mz;
using namespace mz::l4;
using mz::l4::test::Pair;
using mz::l4::test::PipeConfig;

namespace {

Bytes make_data(size_t n, uint64_t seed) {
  Bytes d(n);
  Rng rng(seed);
  rng.fill(d.data(), n);
  return d;
}

struct Outcome {
  bool finished = false;
  bool exact = false;
  double seconds = 0;        // connect to the last byte read
  double goodput_bps = 0;    // from B's Connected to the last byte read
  TcpStats a, b;
};

Outcome transfer(const TcpConfig& cfg, PipeConfig pipe, uint64_t seed, size_t bytes = 1 << 20,
                 Pair** out = nullptr) {
  static thread_local std::optional<Pair> keep;
  keep.emplace(cfg, cfg, pipe, seed);
  Pair& p = *keep;
  if (out) *out = &p;
  p.data = make_data(bytes, seed * 7 + 1);
  Outcome o;
  o.finished = p.run_transfer(Time::zero() + Duration::seconds(3600));
  o.exact = p.received == p.data;
  if (p.done_at) {
    o.seconds = p.done_at->to_seconds();
    if (p.established_at)
      o.goodput_bps = static_cast<double>(bytes) * 8 / (*p.done_at - *p.established_at).to_seconds();
  }
  o.a = p.a->stats();
  o.b = p.b ? p.b->stats() : TcpStats{};
  return o;
}

}  // namespace

TEST_CASE("pair: 1 MB without loss") {
  TcpConfig cfg;
  Pair* p = nullptr;
  Outcome o = transfer(cfg, PipeConfig{}, 1, 1 << 20, &p);
  CHECK(o.finished);
  CHECK(o.exact);
  CHECK(o.a.retransmitted_segs == 0);
  CHECK(o.a.timeouts == 0);
  CHECK(Pair::count<tcp_event::Closed>(p->a_events) == 1);
  CHECK(Pair::count<tcp_event::Closed>(p->b_events) == 1);
  MESSAGE("no loss: ", o.seconds, " s, goodput ", o.goodput_bps / 1e6, " Mbit/s");
}

TEST_CASE("pair: 1 MB byte-exact under loss with and without SACK") {
  for (bool sack : {true, false}) {
    for (double loss : {0.0, 0.01, 0.05, 0.20}) {
      TcpConfig cfg;
      cfg.sack = sack;
      cfg.max_retries = 15;  // at 20% loss each way a segment can need many tries (Linux: tcp_retries2 = 15)
      PipeConfig pipe;
      pipe.loss = loss;
      pipe.duplicate = loss / 4;
      pipe.reorder = loss / 2;
      Outcome o = transfer(cfg, pipe, 100 + static_cast<uint64_t>(loss * 1000) + (sack ? 1 : 0));
      CAPTURE(sack);
      CAPTURE(loss);
      CHECK(o.finished);
      CHECK(o.exact);
      MESSAGE("sack ", sack, " loss ", loss, ": ", o.seconds, " s, goodput ", o.goodput_bps / 1e6,
              " Mbit/s, retransmitted ", o.a.retransmitted_segs, " segs (", o.a.fast_retransmits, " fast, ",
              o.a.sack_retransmits, " sack), ", o.a.timeouts, " timeouts");
    }
  }
}

TEST_CASE("pair: stop-and-wait never has more than one segment in flight") {
  for (double loss : {0.0, 0.05}) {
    TcpConfig cfg;
    cfg.window_segments = 1;
    PipeConfig pipe;
    pipe.loss = loss;
    Pair* p = nullptr;
    uint32_t worst = 0;
    uint64_t data_segments = 0;
    static thread_local std::optional<Pair> keep;
    keep.emplace(cfg, cfg, pipe, 77);
    p = &*keep;
    p->data = make_data(256 * 1024, 3);
    p->on_transmit = [&](int from, const TcpConnection::Segment& s) {
      if (from != 0 || s.payload.empty()) return;
      ++data_segments;
      // What A has outstanding right after handing this segment over.
      worst = std::max(worst, static_cast<uint32_t>(p->a->snd_max() - p->a->snd_una()));
    };
    CHECK(p->run_transfer(Time::zero() + Duration::seconds(3600)));
    CHECK(p->received == p->data);
    CHECK(worst <= p->a->mss());
    CHECK(worst > 0);
    MESSAGE("stop-and-wait loss ", loss, ": ", data_segments, " data segments, done at ", p->done_at->to_seconds(),
            " s, most outstanding ", worst, " bytes");
  }
}

TEST_CASE("pair: goodput at 1% loss is within a factor 2 of the Mathis formula") {
  // 10 Mbit/s, 20 ms RTT (10 ms each way), 1% random loss each way, MSS 1460, SACK on.
  // Mathis et al. 1997: BW = (MSS / RTT) * sqrt(3/2) / sqrt(p).
  const double mss = 1460, rtt = 0.020, p = 0.01;
  const double mathis_bps = mss * 8 / rtt * std::sqrt(1.5) / std::sqrt(p);
  for (bool sack : {true, false}) {
    double sum = 0;
    const int runs = 5;
    for (int seed = 0; seed < runs; ++seed) {
      TcpConfig cfg;
      cfg.sack = sack;
      PipeConfig pipe;
      pipe.loss = p;
      pipe.delay = Duration::millis(10);
      pipe.bandwidth_bps = 10'000'000;
      Outcome o = transfer(cfg, pipe, 500 + static_cast<uint64_t>(seed), 4 << 20);
      REQUIRE(o.exact);
      sum += o.goodput_bps;
    }
    const double mean = sum / runs;
    MESSAGE("sack ", sack, ": mean goodput over ", runs, " x 4 MiB = ", mean / 1e6, " Mbit/s; Mathis ",
            mathis_bps / 1e6, " Mbit/s; ratio ", mean / mathis_bps);
    CHECK(mean > mathis_bps / 2);
    CHECK(mean < mathis_bps * 2);
  }
}
