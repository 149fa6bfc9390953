// Serial-number arithmetic, the RFC 6298 estimator and NewReno, with hand-computed numbers.
#include <doctest/doctest.h>

#include "megzawicol/l4/congestion.hpp"
#include "megzawicol/l4/rtt.hpp"
#include "megzawicol/l4/seq.hpp"

using namespace mz;
using namespace mz::l4;

namespace {
Duration ms(int64_t v) { return Duration::millis(v); }
Duration us(int64_t v) { return Duration::micros(v); }
}  // namespace

TEST_CASE("seq: RFC 1982 comparisons across the wrap") {
  const SeqNum a(0xfffffff0u);
  const SeqNum b = a + 0x20;  // wrapped to 0x10
  CHECK(b.raw() == 0x10u);
  CHECK(a < b);
  CHECK(b > a);
  CHECK(a <= b);
  CHECK_FALSE(b < a);
  CHECK(b - a == 0x20);
  CHECK(a - b == -0x20);
  CHECK(seq_dist(a, b) == 0x20u);
  CHECK(seq_dist(b, a) == 0u);
  CHECK(seq_max(a, b) == b);
  CHECK(seq_min(a, b) == a);
  CHECK(seq_in(SeqNum(0), a, b));
  CHECK_FALSE(seq_in(b, a, b));
  CHECK(a <= a);
  CHECK(a >= a);
  CHECK_FALSE(a < a);
  // 2^31 apart: unordered (RFC 1982 3.2 leaves it undefined).
  const SeqNum c = a + 0x80000000u;
  CHECK_FALSE(a < c);
  CHECK_FALSE(c < a);
  CHECK_FALSE(a <= c);
  CHECK_FALSE(a >= c);
  // 2^31 - 1 ahead is still "after".
  CHECK(a < a + 0x7fffffffu);
}

TEST_CASE("rtt: RFC 6298 values") {
  RttEstimator r;
  CHECK(r.rto() == Duration::seconds(1));  // 2.1
  CHECK_FALSE(r.has_sample());
  r.sample(ms(100));  // 2.2: SRTT 100, RTTVAR 50, RTO = 100 + 4 * 50
  CHECK(r.srtt() == ms(100));
  CHECK(r.rttvar() == ms(50));
  CHECK(r.rto() == ms(300));
  r.sample(ms(200));  // 2.3: RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
  CHECK(r.rttvar() == us(62500));
  CHECK(r.srtt() == us(112500));
  CHECK(r.rto() == us(112500 + 4 * 62500));  // 362.5 ms
  // 5.5: doubling, clamped to max_rto (120 s).
  r.backoff();
  CHECK(r.rto() == us(725000));
  for (int i = 0; i < 20; ++i) r.backoff();
  CHECK(r.rto() == Duration::seconds(120));
  CHECK(r.backoffs() == 21);
  r.sample(ms(112));  // a new sample recomputes from SRTT/RTTVAR: RTTVAR = 46875 + 125 = 47 ms, SRTT = 112.4375 ms
  CHECK(r.rttvar() == us(47000));
  CHECK(r.srtt() == us(112437) + Duration::nanos(500));
  CHECK(r.rto() == us(112437) + Duration::nanos(500) + us(188000));
  CHECK(r.backoffs() == 0);
}

TEST_CASE("rtt: min RTO 200 ms and clock granularity") {
  RttEstimator r;
  r.sample(ms(10));  // 10 + 4 * 5 = 30 ms -> 200 ms floor (Linux TCP_RTO_MIN)
  CHECK(r.rto() == ms(200));
  RttConfig c;
  c.min_rto = Duration::zero();
  c.granularity = ms(10);
  RttEstimator g(c);
  g.sample(ms(2));  // 2 + max(G = 10, 4 * 1) = 12 ms
  CHECK(g.rto() == ms(12));
  RttConfig one_sec;
  one_sec.min_rto = Duration::seconds(1);  // RFC 6298 2.4 as written
  RttEstimator s(one_sec);
  s.sample(ms(100));
  CHECK(s.rto() == Duration::seconds(1));
  // RFC 6298 5.7: 3 s after a retransmitted SYN, only while there is no sample.
  RttEstimator t;
  t.backoff();
  t.set_rto_without_samples(Duration::seconds(3));
  CHECK(t.rto() == Duration::seconds(3));
  CHECK(t.backoffs() == 0);
  t.sample(ms(100));
  t.set_rto_without_samples(Duration::seconds(3));
  CHECK(t.rto() == ms(300));
}

TEST_CASE("congestion: initial window slow start and congestion avoidance") {
  NewReno cc(1000, SeqNum(0));
  CHECK(cc.cwnd() == 10000);  // RFC 6928: 10 segments
  CHECK(cc.ssthresh() == NewReno::kInitialSsthresh);
  // Slow start: + min(acked, 2 MSS) per ACK.
  cc.on_new_ack(SeqNum(1001), 1000, 9000);
  CHECK(cc.cwnd() == 11000);
  cc.on_new_ack(SeqNum(4001), 3000, 9000);  // a stretch ACK counts at most 2 MSS (RFC 3465 L = 2)
  CHECK(cc.cwnd() == 13000);
  // Loss: 3 dupacks with 13000 bytes in flight.
  cc.on_dup_ack(SeqNum(4001), 13000, SeqNum(17001));
  cc.on_dup_ack(SeqNum(4001), 13000, SeqNum(17001));
  CHECK_FALSE(cc.in_recovery());
  const auto o = cc.on_dup_ack(SeqNum(4001), 13000, SeqNum(17001));
  CHECK(o.fast_retransmit);
  CHECK(cc.ssthresh() == 6500);        // FlightSize / 2
  CHECK(cc.cwnd() == 6500 + 3 * 1000);  // + 3 MSS
  CHECK(cc.recover() == SeqNum(17000));
  cc.on_dup_ack(SeqNum(4001), 13000, SeqNum(17001));
  CHECK(cc.cwnd() == 10500);  // inflation
  // Full ACK: cwnd = min(ssthresh, max(FlightSize, MSS) + MSS) = min(6500, 1000 + 1000).
  const auto f = cc.on_new_ack(SeqNum(17001), 13000, 0);
  CHECK(f.recovery_ended);
  CHECK(cc.cwnd() == 2000);
  CHECK(cc.ssthresh() == 6500);
  // Slow start up to ssthresh, the rest counts towards congestion avoidance.
  cc.on_new_ack(SeqNum(19001), 2000, 0);
  CHECK(cc.cwnd() == 4000);
  cc.on_new_ack(SeqNum(21001), 2000, 0);
  CHECK(cc.cwnd() == 6000);
  cc.on_new_ack(SeqNum(23001), 2000, 0);  // 500 to reach ssthresh, 1500 counted
  CHECK(cc.cwnd() == 6500);
  // Congestion avoidance: + 1 MSS per cwnd bytes acknowledged (byte counting).
  cc.on_new_ack(SeqNum(27001), 4000, 0);  // 1500 + 4000 = 5500 < 6500
  CHECK(cc.cwnd() == 6500);
  cc.on_new_ack(SeqNum(28001), 1000, 0);  // 6500: one increase
  CHECK(cc.cwnd() == 7500);
}

TEST_CASE("congestion: RFC 6582 partial ACKs and the recover variable") {
  NewReno cc(1000, SeqNum(0));
  // 10 segments out (1..10001), segments 1 and 3 lost.
  for (int i = 0; i < 3; ++i) cc.on_dup_ack(SeqNum(1), 10000, SeqNum(10001));
  CHECK(cc.in_recovery());
  CHECK(cc.ssthresh() == 5000);
  CHECK(cc.cwnd() == 8000);
  for (int i = 0; i < 5; ++i) cc.on_dup_ack(SeqNum(1), 10000, SeqNum(10001));
  CHECK(cc.cwnd() == 13000);
  // Partial ACK for 2000 bytes: deflate by 2000, add back 1 MSS.
  auto p = cc.on_new_ack(SeqNum(2001), 2000, 8000);
  CHECK(p.partial_ack);
  CHECK(p.first_partial);
  CHECK(cc.cwnd() == 12000);
  CHECK(cc.in_recovery());
  p = cc.on_new_ack(SeqNum(2501), 500, 7500);  // less than 1 MSS: nothing added back
  CHECK(p.partial_ack);
  CHECK_FALSE(p.first_partial);
  CHECK(cc.cwnd() == 11500);
  auto f = cc.on_new_ack(SeqNum(10001), 7500, 2000);  // covers recover (10000)
  CHECK(f.recovery_ended);
  CHECK(cc.cwnd() == 3000);  // min(5000, 2000 + 1000)
  // A timeout: ssthresh = FlightSize / 2, cwnd = 1 MSS, recover = highest sent.
  cc.on_timeout(8000, SeqNum(18001), true);
  CHECK(cc.ssthresh() == 4000);
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.recover() == SeqNum(18000));
  cc.on_timeout(8000, SeqNum(18001), false);  // a backoff keeps ssthresh (RFC 5681 eq. 4 note)
  CHECK(cc.ssthresh() == 4000);
  cc.on_timeout(1000, SeqNum(18001), true);
  CHECK(cc.ssthresh() == 2000);  // floor 2 MSS
  // Duplicate ACKs not beyond recover do not start a fast retransmit (RFC 6582 3.2 step 2).
  for (int i = 0; i < 3; ++i) CHECK_FALSE(cc.on_dup_ack(SeqNum(12001), 6000, SeqNum(18001)).fast_retransmit);
  CHECK_FALSE(cc.in_recovery());
}

TEST_CASE("congestion: SACK recovery keeps cwnd at ssthresh") {
  NewReno cc(1000, SeqNum(0), 10, true);
  for (int i = 0; i < 3; ++i) cc.on_dup_ack(SeqNum(1), 10000, SeqNum(10001));
  CHECK(cc.cwnd() == 5000);  // RFC 6675 5: cwnd = ssthresh
  cc.on_dup_ack(SeqNum(1), 10000, SeqNum(10001));
  CHECK(cc.cwnd() == 5000);
  cc.on_new_ack(SeqNum(2001), 2000, 8000);
  CHECK(cc.cwnd() == 5000);
  cc.set_mss(1200, true);  // after data was acknowledged: cwnd unchanged
  CHECK(cc.cwnd() == 5000);
}
