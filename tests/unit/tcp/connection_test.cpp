// One TcpConnection fed hand-built segments; what it sends, its timers and its events are
// checked against RFC 9293 / 6298 / 5681 / 6582 / 2018 / 7323 with hand-computed values.
//
// Conventions: we are 10.0.0.1:49152 with ISS 100 (unless said otherwise); the peer is
// 10.0.0.2:80 with ISS 5000; MSS 1000 on both sides keeps the arithmetic readable.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l4/tcp_connection.hpp"

using namespace mz;
using namespace mz::l4;
using namespace mz::wire::tcpflag;
using Seg = TcpConnection::Segment;

namespace {

const Endpoint kLocal{Ipv4Addr::from_octets(10, 0, 0, 1), 49152};
const Endpoint kRemote{Ipv4Addr::from_octets(10, 0, 0, 2), 80};

Duration ms(int64_t v) { return Duration::millis(v); }
Time at_ms(int64_t v) { return Time::zero() + Duration::millis(v); }

wire::TcpRepr seg(uint8_t flags, uint32_t seq, uint32_t ack = 0, uint16_t win = 65535) {
  wire::TcpRepr r;
  r.src_port = kRemote.port;
  r.dst_port = kLocal.port;
  r.seq = seq;
  r.ack = ack;
  r.flags = flags;
  r.window = win;
  return r;
}

Bytes bytes(size_t n, uint8_t first = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

struct Driver {
  TcpConnection c;
  Time now = Time::zero();
  std::vector<TcpEvent> log;  // every event so far

  std::vector<Seg> out() {
    std::vector<Seg> v;
    while (auto s = c.poll_transmit(now)) v.push_back(std::move(*s));
    return v;
  }
  std::vector<TcpEvent> ev() {
    std::vector<TcpEvent> v;
    while (auto e = c.poll_event()) {
      log.push_back(*e);
      v.push_back(std::move(*e));
    }
    return v;
  }
  void in(const wire::TcpRepr& r, ByteView p = {}) { c.handle_segment(now, r, p); }
  void at(Time t) { now = t; }
  /// Moves to the next timer and runs it; returns its time.
  Time fire() {
    REQUIRE(c.poll_timeout());
    now = *c.poll_timeout();
    c.handle_timeout(now);
    return now;
  }
};

template <class E>
bool has(const std::vector<TcpEvent>& v) {
  for (const auto& e : v)
    if (std::holds_alternative<E>(e)) return true;
  return false;
}

template <class E>
const E* find(const std::vector<TcpEvent>& v) {
  for (const auto& e : v)
    if (auto* x = std::get_if<E>(&e)) return x;
  return nullptr;
}
template <class E>
const E* find(std::vector<TcpEvent>&&) = delete;  // the pointer would dangle

template <class E>
const E* find_last(const std::vector<TcpEvent>& v) {
  for (auto it = v.rbegin(); it != v.rend(); ++it)
    if (auto* x = std::get_if<E>(&*it)) return x;
  return nullptr;
}

TcpConfig small_cfg() {
  TcpConfig c;
  c.mss = 1000;
  return c;
}

/// An active open completed: SYN at 0, SYN-ACK (seq 5000, mss 1000) after `rtt`, our ACK sent.
Driver established(TcpConfig cfg = small_cfg(), uint16_t peer_win = 65535, std::optional<uint8_t> peer_ws = {},
                   bool peer_sack = false, Duration rtt = ms(100)) {
  Driver d{TcpConnection::connect(Time::zero(), kLocal, kRemote, cfg, 100)};
  REQUIRE(d.out().size() == 1);
  d.at(Time::zero() + rtt);
  wire::TcpRepr sa = seg(SYN | ACK, 5000, 101, peer_win);
  sa.mss = 1000;
  sa.window_scale = peer_ws;
  sa.sack_permitted = peer_sack;
  d.in(sa);
  REQUIRE(d.c.state() == TcpState::Established);
  REQUIRE(d.out().size() == 1);
  d.ev();
  return d;
}

/// A passive open completed: the peer's SYN (seq 5000, mss 1000) and its ACK, our ISS 300.
Driver accepted(TcpConfig cfg = small_cfg(), bool peer_sack = true, std::optional<uint8_t> peer_ws = {}) {
  wire::TcpRepr syn = seg(SYN, 5000);
  syn.mss = 1000;
  syn.sack_permitted = peer_sack;
  syn.window_scale = peer_ws;
  Driver d{TcpConnection::accept(Time::zero(), kLocal, kRemote, cfg, 300, syn)};
  REQUIRE(d.out().size() == 1);
  d.at(at_ms(50));
  d.in(seg(ACK, 5001, 301));
  REQUIRE(d.c.state() == TcpState::Established);
  d.ev();
  return d;
}

}  // namespace

TEST_CASE("tcp: active open") {
  TcpConfig cfg;  // MSS 1460, window scale, SACK, 256 KiB buffers
  Driver d{TcpConnection::connect(Time::zero(), kLocal, kRemote, cfg, 100)};
  CHECK(d.c.state() == TcpState::SynSent);
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [SYN] seq 100 win 65535 mss 1460 ws 3 sackOK len 0");
  CHECK(o[0].payload.headroom() >= 14 + 60 + 60);
  CHECK(d.c.poll_timeout() == at_ms(1000));  // initial RTO 1 s
  d.at(at_ms(100));
  wire::TcpRepr sa = seg(SYN | ACK, 5000, 101, 65535);
  sa.mss = 1400;
  sa.window_scale = 7;
  sa.sack_permitted = true;
  d.in(sa);
  auto e = d.ev();
  CHECK(has<tcp_event::Connected>(e));
  auto* sc = find<tcp_event::StateChanged>(e);
  REQUIRE(sc);
  CHECK(sc->from == TcpState::Closed);  // the first one is connect()'s CLOSED -> SYN-SENT
  CHECK(d.c.state() == TcpState::Established);
  auto* rs = find<tcp_event::RttSample>(e);
  REQUIRE(rs);
  CHECK(rs->rtt == ms(100));
  CHECK(rs->rto == ms(300));
  o = d.out();
  REQUIRE(o.size() == 1);
  // 256 KiB >> 3 = 32768: our window, scaled by the shift we announced.
  CHECK(o[0].repr.describe() == "49152 > 80 [ACK] seq 101 ack 5001 win 32768 len 0");
  CHECK(d.c.mss() == 1400);
  CHECK(d.c.snd_wscale() == 7);
  CHECK(d.c.rcv_wscale() == 3);
  CHECK(d.c.sack_enabled());
  CHECK(d.c.snd_wnd() == 65535);  // a SYN's window is never scaled
  CHECK_FALSE(d.c.poll_timeout());
}

TEST_CASE("tcp: options not offered by the peer are not used") {
  TcpConfig cfg;
  Driver d{TcpConnection::connect(Time::zero(), kLocal, kRemote, cfg, 100)};
  d.out();
  d.in(seg(SYN | ACK, 5000, 101, 8192));  // no options at all
  CHECK(d.c.mss() == 536);                // RFC 9293 3.7.1 default
  CHECK(d.c.rcv_wscale() == 0);
  CHECK_FALSE(d.c.sack_enabled());
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.window == 65535);  // unscaled, capped
}

TEST_CASE("tcp: passive open") {
  TcpConfig cfg;
  wire::TcpRepr syn = seg(SYN, 5000, 0, 65535);
  syn.mss = 1400;
  syn.window_scale = 7;
  syn.sack_permitted = true;
  Driver d{TcpConnection::accept(Time::zero(), kLocal, kRemote, cfg, 300, syn)};
  CHECK(d.c.state() == TcpState::SynReceived);
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [SYN, ACK] seq 300 ack 5001 win 65535 mss 1460 ws 3 sackOK len 0");
  d.at(at_ms(50));
  d.in(seg(ACK, 5001, 301, 512));  // 512 << 7 = 65536
  auto e = d.ev();
  CHECK(has<tcp_event::Connected>(e));
  CHECK(d.c.state() == TcpState::Established);
  CHECK(d.c.snd_wnd() == 65536);
  CHECK(d.c.rtt().rto() == ms(200));  // 50 + 4 * 25 = 150 ms, min RTO 200 ms
  CHECK(d.out().empty());

  // Without window scale in the SYN, the SYN-ACK offers none either.
  wire::TcpRepr plain = seg(SYN, 9000);
  Driver p{TcpConnection::accept(Time::zero(), kLocal, kRemote, cfg, 300, plain)};
  o = p.out();
  REQUIRE(o.size() == 1);
  CHECK_FALSE(o[0].repr.window_scale);
  CHECK_FALSE(o[0].repr.sack_permitted);
  CHECK(o[0].repr.mss == 1460);
}

TEST_CASE("tcp: SYN-ACK retransmission then ACK") {
  Driver d{TcpConnection::accept(Time::zero(), kLocal, kRemote, small_cfg(), 300, seg(SYN, 5000))};
  d.out();
  CHECK(d.fire() == at_ms(1000));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.flags == (SYN | ACK));
  CHECK(o[0].repr.seq == 300);
  CHECK(d.c.poll_timeout() == at_ms(3000));  // backed off to 2 s
  d.at(at_ms(1100));
  d.in(seg(ACK, 5001, 301));
  CHECK(d.c.state() == TcpState::Established);
  CHECK(d.c.stats().rtt_samples == 0);          // Karn: the SYN-ACK was retransmitted
  CHECK(d.c.rtt().rto() == Duration::seconds(3));  // RFC 6298 5.7
}

TEST_CASE("tcp: simultaneous open") {
  Driver d{TcpConnection::connect(Time::zero(), kLocal, kRemote, small_cfg(), 100)};
  d.out();
  wire::TcpRepr syn = seg(SYN, 5000);
  syn.mss = 1000;
  d.in(syn);  // the peer's own SYN crosses ours
  CHECK(d.c.state() == TcpState::SynReceived);
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [SYN, ACK] seq 100 ack 5001 win 65535 mss 1000 len 0");
  wire::TcpRepr sa = seg(SYN | ACK, 5000, 101);
  sa.mss = 1000;
  d.in(sa);  // its SYN-ACK: the SYN part is old, the ACK completes the handshake
  CHECK(d.c.state() == TcpState::Established);
  CHECK(has<tcp_event::Connected>(d.ev()));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [ACK] seq 101 ack 5001 win 65535 len 0");
}

TEST_CASE("tcp: sending within the peer window") {
  Driver d = established(small_cfg(), 3000);
  const Bytes data = bytes(5000);
  CHECK(d.c.send(data) == 5000);
  auto o = d.out();
  REQUIRE(o.size() == 3);  // the peer's window: 3000 bytes
  for (size_t i = 0; i < 3; ++i) {
    CHECK(o[i].repr.seq == 101 + 1000 * i);
    CHECK(o[i].payload.size() == 1000);
    CHECK(o[i].repr.ack == 5001);
  }
  CHECK(o[0].payload.to_bytes() == Bytes(data.begin(), data.begin() + 1000));
  CHECK(d.c.poll_timeout() == at_ms(100) + ms(300));
  d.at(at_ms(200));
  d.in(seg(ACK, 5001, 2101, 3000));  // two segments acknowledged, window slides by 2000
  o = d.out();
  REQUIRE(o.size() == 2);
  CHECK(o[0].repr.seq == 3101);
  CHECK(o[1].repr.seq == 4101);
  CHECK(o[1].repr.has(PSH));  // the end of what was queued
  CHECK(d.c.stats().rtt_samples == 2);  // the handshake and the first segment
}

TEST_CASE("tcp: receiving with delayed ACKs and window updates") {
  TcpConfig cfg = small_cfg();
  cfg.rcv_buf = 8000;
  Driver d = accepted(cfg);
  d.at(at_ms(100));
  d.in(seg(ACK, 5001, 301), bytes(1000));
  CHECK(has<tcp_event::Readable>(d.ev()));
  CHECK(d.out().empty());  // delayed
  CHECK(d.c.poll_timeout() == at_ms(140));
  d.in(seg(ACK, 6001, 301), bytes(1000));
  auto o = d.out();  // the second full segment: ACK at once
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 7001);
  CHECK(o[0].repr.window == 6000);
  d.at(at_ms(110));
  d.in(seg(ACK, 7001, 301), bytes(1000));
  CHECK(d.out().empty());
  CHECK(d.fire() == at_ms(150));  // 40 ms after that segment
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 8001);
  CHECK(o[0].repr.window == 5000);
  // Fill the buffer up to 7000 bytes unread, with delayed ACKs every second segment.
  for (uint32_t s = 8001; s < 12001; s += 1000) d.in(seg(ACK, s, 301), bytes(1000));
  o = d.out();
  REQUIRE_FALSE(o.empty());
  CHECK(o.back().repr.ack == 12001);
  CHECK(o.back().repr.window == 1000);
  CHECK(d.c.readable() == 7000);
  // Reading it all opens the window from 1000 to 8000 (more than doubled): a window update.
  Bytes buf(10000);
  CHECK(d.c.recv(buf) == 7000);
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 12001);
  CHECK(o[0].repr.window == 8000);
  CHECK(d.c.stats().bytes_delivered == 7000);
}

TEST_CASE("tcp: zero window then probe then window opens") {
  Driver d = established(small_cfg(), 2000);
  d.c.send(bytes(5000));
  CHECK(d.out().size() == 2);
  d.at(at_ms(200));
  d.in(seg(ACK, 5001, 2101, 0));  // all acknowledged, but the window is closed
  CHECK(d.out().empty());
  CHECK_FALSE(d.c.rto_deadline());
  // Persist timer: RTO (here 100 + 4 * 37.5 = 250 ms after two 100 ms samples), then doubling.
  CHECK(d.c.rtt().rto() == ms(250));
  CHECK(d.c.persist_deadline() == at_ms(450));
  CHECK(d.fire() == at_ms(450));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.seq == 2100);  // SND.UNA - 1: out of window, the peer must answer
  CHECK(o[0].payload.size() == 0);
  CHECK(d.c.stats().zero_window_probes == 1);
  CHECK(d.c.persist_deadline() == at_ms(450 + 500));
  d.at(at_ms(500));
  d.in(seg(ACK, 5001, 2101, 0));  // the answer: still closed
  CHECK(d.out().empty());
  CHECK(d.fire() == at_ms(950));
  CHECK(d.out().size() == 1);
  CHECK(d.c.persist_deadline() == at_ms(950 + 1000));
  d.at(at_ms(1000));
  d.in(seg(ACK, 5001, 2101, 4000));  // opens
  o = d.out();
  REQUIRE(o.size() == 3);
  CHECK(o[0].repr.seq == 2101);
  CHECK(o[2].repr.seq == 4101);
  CHECK_FALSE(d.c.persist_deadline());
  CHECK(d.c.rto_deadline());
}

TEST_CASE("tcp: a zero receive window is advertised and respected") {
  TcpConfig cfg = small_cfg();
  cfg.rcv_buf = 2000;
  Driver d = accepted(cfg);
  d.in(seg(ACK, 5001, 301), bytes(1000));
  d.in(seg(ACK, 6001, 301), bytes(1000));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.window == 0);
  // A probe (SEQ = RCV.NXT - 1) and a byte beyond the closed window: both answered, nothing taken.
  d.in(seg(ACK, 7000, 301));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 7001);
  CHECK(o[0].repr.window == 0);
  d.in(seg(ACK, 7001, 301), bytes(1));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 7001);
  CHECK(d.c.readable() == 2000);
  Bytes buf(2000);
  CHECK(d.c.recv(buf) == 2000);
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.window == 2000);
}

TEST_CASE("tcp: out-of-order arrival with SACK blocks then the cumulative ACK jumps") {
  Driver d = accepted();  // the peer offered SACK
  REQUIRE(d.c.sack_enabled());
  d.in(seg(ACK, 5001, 301), bytes(1000, 1));  // in order: delayed
  CHECK(d.out().empty());
  d.in(seg(ACK, 7001, 301), bytes(1000, 3));  // hole at 6001
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [ACK] seq 301 ack 6001 win 65535 sack 7001-8001 len 0");
  d.in(seg(ACK, 8001, 301), bytes(1000, 4));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.sack == std::vector<wire::SackBlock>{{7001, 9001}});
  d.in(seg(ACK, 10001, 301), bytes(1000, 6));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.sack == std::vector<wire::SackBlock>{{10001, 11001}, {7001, 9001}});
  d.in(seg(ACK, 8001, 301), bytes(1000, 4));  // a duplicate of held data
  CHECK(d.c.stats().dup_bytes_received == 1000);
  d.out();
  CHECK(d.c.readable() == 1000);
  d.in(seg(ACK, 6001, 301), bytes(1000, 2));  // fills the hole: ACK at once, 9001
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 9001);
  CHECK(o[0].repr.sack == std::vector<wire::SackBlock>{{10001, 11001}});
  CHECK(d.c.readable() == 4000);
  Bytes buf(4000);
  d.c.recv(buf);
  CHECK(buf[0] == 1);
  CHECK(buf[1000] == 2);
  CHECK(buf[2000] == 3);
  CHECK(buf[3000] == 4);
  CHECK(d.c.stats().out_of_order_segs == 4);
}

TEST_CASE("tcp: retransmission timer values and Karn's rule") {
  Driver d = established();  // SYN-ACK after 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms
  d.c.send(bytes(1000));
  REQUIRE(d.out().size() == 1);
  CHECK(d.c.rto_deadline() == at_ms(400));
  CHECK(d.fire() == at_ms(400));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.seq == 101);
  const auto ev1 = d.ev();
  auto* rt = find<tcp_event::Retransmit>(ev1);
  REQUIRE(rt);
  CHECK(rt->reason == RetransmitReason::Timeout);
  CHECK(rt->seq == SeqNum(101));
  CHECK(rt->len == 1000);
  CHECK(d.c.rto_deadline() == at_ms(400 + 600));  // doubled
  CHECK(d.fire() == at_ms(1000));
  d.out();
  CHECK(d.c.rto_deadline() == at_ms(1000 + 1200));
  CHECK(d.c.congestion().cwnd() == 1000);
  CHECK(d.c.congestion().ssthresh() == 2000);  // max(FlightSize / 2, 2 MSS), set by the first timeout only
  // The ACK of the retransmitted segment gives no sample (Karn); the backed-off RTO stays.
  d.at(at_ms(1100));
  d.in(seg(ACK, 5001, 1101));
  CHECK(d.c.stats().rtt_samples == 1);
  CHECK(d.c.rtt().rto() == ms(1200));
  CHECK_FALSE(d.c.rto_deadline());
  // A fresh segment is timed: 100 ms -> RTTVAR = 3/4 * 50 = 37.5, SRTT 100, RTO 250 ms.
  d.c.send(bytes(1000));
  d.out();
  CHECK(d.c.rto_deadline() == at_ms(1100 + 1200));
  d.at(at_ms(1200));
  d.in(seg(ACK, 5001, 2101));
  CHECK(d.c.stats().rtt_samples == 2);
  CHECK(d.c.rtt().rto() == ms(250));
  CHECK(d.c.stats().timeouts == 2);
}

TEST_CASE("tcp: min RTO and the initial RTO of the SYN") {
  Driver d = established(small_cfg(), 65535, {}, false, ms(10));
  CHECK(d.c.rtt().rto() == ms(200));  // 10 + 4 * 5 = 30 ms, floored
  d.c.send(bytes(10));
  d.out();
  CHECK(d.c.rto_deadline() == at_ms(10 + 200));

  Driver s{TcpConnection::connect(Time::zero(), kLocal, kRemote, small_cfg(), 100)};
  s.out();
  std::vector<int64_t> times;
  while (s.c.state() == TcpState::SynSent) {
    times.push_back(s.fire().ns / 1000000);
    s.out();
  }
  // 1 s, then doubling: 6 retransmissions, given up at 127 s (Linux tcp_syn_retries = 6).
  CHECK(times == std::vector<int64_t>{1000, 3000, 7000, 15000, 31000, 63000, 127000});
  const auto ev = s.ev();
  auto* t = find<tcp_event::TimedOut>(ev);
  REQUIRE(t);
  CHECK(t->message == "no SYN-ACK after 6 retransmissions");
  CHECK(s.c.state() == TcpState::Closed);
  CHECK(s.out().empty());
}

TEST_CASE("tcp: fast retransmit after exactly 3 duplicate ACKs and NewReno recovery") {
  TcpConfig cfg = small_cfg();
  cfg.sack = false;
  Driver d = established(cfg);
  d.c.send(bytes(20000));
  auto o = d.out();
  REQUIRE(o.size() == 10);  // initial window: 10 segments
  d.at(at_ms(200));
  d.in(seg(ACK, 5001, 1101));  // segment 1: slow start, cwnd 11000
  CHECK(d.c.congestion().cwnd() == 11000);
  o = d.out();
  REQUIRE(o.size() == 2);  // 11000 - 9000 in flight
  CHECK(o[1].repr.seq == 11101);
  // Segments 2 (1101) and 4 (3101) were lost. Duplicate ACKs:
  d.in(seg(ACK, 5001, 1101));
  d.in(seg(ACK, 5001, 1101));
  CHECK(d.out().empty());
  CHECK(d.c.stats().dup_acks_received == 2);
  d.in(seg(ACK, 5001, 1101));  // the third
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.seq == 1101);
  CHECK(o[0].payload.size() == 1000);
  auto e = d.ev();
  auto* rt = find<tcp_event::Retransmit>(e);
  REQUIRE(rt);
  CHECK(rt->reason == RetransmitReason::Fast);
  auto* cw = find_last<tcp_event::CwndChanged>(e);
  REQUIRE(cw);
  CHECK(cw->ssthresh == 5500);  // FlightSize 11000 / 2
  CHECK(cw->cwnd == 8500);      // ssthresh + 3 MSS
  CHECK(d.c.congestion().recover() == SeqNum(12100));
  // Each further duplicate inflates cwnd by 1 MSS; new data once cwnd - 11000 >= 1 MSS.
  for (int i = 0; i < 3; ++i) d.in(seg(ACK, 5001, 1101));
  CHECK(d.c.congestion().cwnd() == 11500);
  CHECK(d.out().empty());  // 500 bytes of room: no runt while data is in flight
  d.in(seg(ACK, 5001, 1101));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.seq == 12101);
  // Partial ACK (segments 2 and 3): deflate by 2000, add 1 MSS back, resend segment 4 at once.
  const Time rto_before = *d.c.rto_deadline();
  d.at(at_ms(250));
  d.in(seg(ACK, 5001, 3101));
  CHECK(d.c.congestion().cwnd() == 12500 - 2000 + 1000);
  CHECK(d.c.rto_deadline() > rto_before);  // the first partial ACK restarts the timer
  o = d.out();
  REQUIRE(o.size() == 2);
  CHECK(o[0].repr.seq == 3101);  // the retransmission
  CHECK(o[1].repr.seq == 13101);  // 11500 - 10000 in flight: one new segment
  CHECK(d.c.congestion().in_recovery());
  // Full ACK beyond recover: cwnd = min(ssthresh, max(FlightSize, MSS) + MSS).
  d.in(seg(ACK, 5001, 13101));
  CHECK_FALSE(d.c.congestion().in_recovery());
  CHECK(d.c.congestion().cwnd() == 2000);  // FlightSize 1000 (13101..14101): min(5500, 2000)
  CHECK(d.c.stats().fast_retransmits == 1);
  CHECK(d.c.stats().retransmitted_segs == 2);
}

TEST_CASE("tcp: SACK recovery retransmits only the holes") {
  Driver d = established(small_cfg(), 65535, {}, true);
  REQUIRE(d.c.sack_enabled());
  d.c.send(bytes(10000));
  REQUIRE(d.out().size() == 10);  // 101 .. 10101
  // Segments 1 (101) and 3 (2101) are lost; the peer SACKs the others as they arrive.
  auto dup = [&](std::vector<wire::SackBlock> blocks) {
    wire::TcpRepr a = seg(ACK, 5001, 101);
    a.sack = std::move(blocks);
    d.in(a);
  };
  d.at(at_ms(200));
  dup({{1101, 2101}});
  dup({{3101, 4101}, {1101, 2101}});
  dup({{3101, 5101}, {1101, 2101}});
  auto o = d.out();
  REQUIRE(o.size() >= 1);
  CHECK(o[0].repr.seq == 101);  // fast retransmit of the first hole
  CHECK(d.c.congestion().cwnd() == 5000);  // RFC 6675: cwnd = ssthresh = 10000 / 2
  // Segment 3 is lost too: 3000 bytes SACKed above it (> 2 MSS). pipe = 7000 - 3000 + ... :
  // only what cwnd - pipe allows goes out, and never a SACKed segment.
  for (const Seg& s : o) {
    CHECK(s.repr.seq != 1101);
    CHECK(s.repr.seq != 3101);
    CHECK(s.repr.seq != 4101);
  }
  for (uint32_t hi = 6101; hi <= 10101; hi += 1000) {
    dup({{3101, hi}, {1101, 2101}});
    for (const Seg& s : d.out()) {
      CHECK_FALSE((s.repr.seq >= 1101 && s.repr.seq < 2101));
      CHECK_FALSE((s.repr.seq >= 3101 && s.repr.seq < hi));
    }
  }
  CHECK(d.c.stats().sack_retransmits >= 1);  // segment 3 (2101)
  d.in(seg(ACK, 5001, 10101));
  CHECK_FALSE(d.c.congestion().in_recovery());
  CHECK(d.c.stats().retransmitted_segs == 2);
}

TEST_CASE("tcp: active close then the peer's FIN and TIME-WAIT") {
  Driver d = established();
  d.c.send(bytes(1500));
  d.c.close();
  CHECK(d.c.state() == TcpState::FinWait1);
  CHECK(d.c.send(bytes(10)) == 0);
  auto o = d.out();
  REQUIRE(o.size() == 2);
  CHECK(o[1].repr.describe(o[1].payload.size()) == "49152 > 80 [FIN, PSH, ACK] seq 1101 ack 5001 win 65535 len 500");
  d.at(at_ms(200));
  d.in(seg(ACK, 5001, 1602));  // everything and our FIN
  CHECK(d.c.state() == TcpState::FinWait2);
  d.in(seg(FIN | ACK, 5001, 1602));
  CHECK(d.c.state() == TcpState::TimeWait);
  CHECK(has<tcp_event::PeerFin>(d.ev()));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 5002);
  CHECK(d.c.time_wait_deadline() == at_ms(200) + Duration::seconds(60));
  // A retransmitted FIN is acknowledged again and restarts the 2 MSL timer.
  d.at(at_ms(1200));
  d.in(seg(FIN | ACK, 5001, 1602));
  CHECK(d.out().size() == 1);
  CHECK(d.c.time_wait_deadline() == at_ms(1200) + Duration::seconds(60));
  d.at(at_ms(1200) + Duration::seconds(60) - Duration::nanos(1));
  d.c.handle_timeout(d.now);
  CHECK(d.c.state() == TcpState::TimeWait);
  CHECK(d.fire() == at_ms(1200) + Duration::seconds(60));
  CHECK(d.c.state() == TcpState::Closed);
  CHECK(has<tcp_event::Closed>(d.ev()));
  CHECK_FALSE(d.c.poll_timeout());
}

TEST_CASE("tcp: FIN-WAIT-2 times out when the peer goes silent") {
  Driver d = established();
  d.c.close();
  REQUIRE(d.c.state() == TcpState::FinWait1);
  d.out();
  d.at(at_ms(100));
  d.in(seg(ACK, 5001, 102));  // our FIN is acknowledged, the peer's FIN never comes
  REQUIRE(d.c.state() == TcpState::FinWait2);
  CHECK(d.c.time_wait_deadline() == at_ms(100) + Duration::seconds(60));
  // A segment from the peer shows it is alive: the wait starts again.
  d.at(at_ms(5000));
  d.in(seg(ACK, 5001, 102));
  CHECK(d.c.time_wait_deadline() == at_ms(5000) + Duration::seconds(60));
  CHECK(d.fire() == at_ms(5000) + Duration::seconds(60));
  CHECK(d.c.state() == TcpState::Closed);
  CHECK(has<tcp_event::Closed>(d.ev()));
}

TEST_CASE("tcp: passive close") {
  Driver d = established();
  d.in(seg(FIN | ACK, 5001, 101), bytes(10));
  CHECK(d.c.state() == TcpState::CloseWait);
  auto e = d.ev();
  CHECK(has<tcp_event::Readable>(e));
  CHECK(has<tcp_event::PeerFin>(e));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 5012);  // 10 bytes and the FIN, at once
  CHECK(d.c.readable() == 10);
  CHECK(d.c.send(bytes(100)) == 100);  // CLOSE-WAIT may still send
  d.c.close();
  CHECK(d.c.state() == TcpState::LastAck);
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.has(FIN));
  CHECK(o[0].payload.size() == 100);
  d.in(seg(ACK, 5012, 202));
  CHECK(d.c.state() == TcpState::Closed);
  CHECK(has<tcp_event::Closed>(d.ev()));
}

TEST_CASE("tcp: simultaneous close") {
  Driver d = established();
  d.c.close();
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [FIN, ACK] seq 101 ack 5001 win 65535 len 0");
  d.in(seg(FIN | ACK, 5001, 101));  // the peer's FIN, not yet acknowledging ours
  CHECK(d.c.state() == TcpState::Closing);
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.ack == 5002);
  d.at(at_ms(150));
  d.in(seg(ACK, 5002, 102));
  CHECK(d.c.state() == TcpState::TimeWait);
  CHECK(d.c.time_wait_deadline() == at_ms(150) + Duration::seconds(60));
  // FIN lost: retransmitted by the timer, with the FIN flag.
  Driver r = established();
  r.c.close();
  r.out();
  r.fire();
  o = r.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.flags == (FIN | ACK));
  CHECK(o[0].repr.seq == 101);
}

TEST_CASE("tcp: FIN beyond a hole waits for the data") {
  Driver d = accepted();
  d.in(seg(FIN | ACK, 6001, 301), bytes(500));  // out of order, with the FIN
  CHECK(d.c.state() == TcpState::Established);
  d.in(seg(ACK, 5001, 301), bytes(1000));
  CHECK(d.c.state() == TcpState::CloseWait);
  auto o = d.out();
  REQUIRE_FALSE(o.empty());
  CHECK(o.back().repr.ack == 6502);
  CHECK(d.c.readable() == 1500);
}

TEST_CASE("tcp: RST rules for unacceptable segments") {
  // SYN-SENT: an ACK for something never sent gets <SEQ=SEG.ACK><CTL=RST>.
  Driver s{TcpConnection::connect(Time::zero(), kLocal, kRemote, small_cfg(), 100)};
  s.out();
  s.in(seg(SYN | ACK, 5000, 999));
  auto o = s.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [RST] seq 999 win 0 len 0");
  CHECK(s.c.state() == TcpState::SynSent);
  s.in(seg(RST, 0));  // a RST without an ACK is ignored in SYN-SENT
  CHECK(s.c.state() == TcpState::SynSent);
  s.in(seg(RST | ACK, 0, 101));  // refused
  CHECK(s.c.state() == TcpState::Closed);
  CHECK(has<tcp_event::Reset>(s.ev()));
  // CLOSED: no ACK -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; ACK -> <SEQ=SEG.ACK><CTL=RST>.
  s.in(seg(0, 7000), bytes(10));
  s.in(seg(ACK, 7000, 4242));
  s.in(seg(RST, 7000));
  o = s.out();
  REQUIRE(o.size() == 2);
  CHECK(o[0].repr.describe() == "49152 > 80 [RST, ACK] seq 0 ack 7010 win 0 len 0");
  CHECK(o[1].repr.describe() == "49152 > 80 [RST] seq 4242 win 0 len 0");
  // SYN-RECEIVED: a bad ACK gets a RST.
  Driver r{TcpConnection::accept(Time::zero(), kLocal, kRemote, small_cfg(), 300, seg(SYN, 5000))};
  r.out();
  r.in(seg(ACK, 5001, 777));
  o = r.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [RST] seq 777 win 0 len 0");
  CHECK(r.c.state() == TcpState::SynReceived);
}

TEST_CASE("tcp: synchronized states answer bad segments with ACKs and validate RSTs") {
  Driver d = established();
  d.in(seg(ACK, 4000, 101), bytes(100));  // entirely old data
  auto o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [ACK] seq 101 ack 5001 win 65535 len 0");
  CHECK(d.c.stats().unacceptable_segs == 1);
  d.in(seg(ACK, 5001, 9999));  // acknowledges data never sent: ACK and drop
  CHECK(d.out().size() == 1);
  d.in(seg(SYN, 6000));  // SYN in the window: challenge ACK (RFC 5961 4)
  CHECK(d.out().size() == 1);
  CHECK(d.c.state() == TcpState::Established);
  d.in(seg(RST, 5001 + 100000));  // outside the window: ignored
  CHECK(d.out().empty());
  d.in(seg(RST, 5002));  // in the window but not RCV.NXT: challenge ACK (RFC 5961 3)
  CHECK(d.out().size() == 1);
  CHECK(d.c.state() == TcpState::Established);
  d.in(seg(RST, 5001));  // exact: reset
  CHECK(d.c.state() == TcpState::Closed);
  CHECK(has<tcp_event::Reset>(d.ev()));
  // abort(): <SEQ=SND.NXT><CTL=RST>.
  Driver a = established();
  a.c.send(bytes(10));
  a.out();
  a.c.abort();
  o = a.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.describe() == "49152 > 80 [RST] seq 111 win 0 len 0");
  CHECK(has<tcp_event::Closed>(a.ev()));
}

TEST_CASE("tcp: gives up after max_retries timeouts") {
  Driver d = established();  // RTO 300 ms
  d.c.send(bytes(100));
  d.out();
  std::vector<int64_t> times;
  while (d.c.state() == TcpState::Established) {
    times.push_back(d.fire().ns / 1000000);
    d.out();
  }
  REQUIRE(times.size() == 9);
  CHECK(times.front() == 400);
  CHECK(times.back() == 100 + 300 * 511);  // 300 ms * (1 + 2 + ... + 256)
  const auto ev = d.ev();
  auto* t = find<tcp_event::TimedOut>(ev);
  REQUIRE(t);
  CHECK(t->message == "no ACK after 8 retransmissions");
  CHECK(d.c.stats().timeouts == 8);
  CHECK(d.c.stats().retransmitted_segs == 8);
  CHECK(d.c.state() == TcpState::Closed);
}

TEST_CASE("tcp: Nagle holds small segments while data is in flight") {
  for (bool nagle : {true, false}) {
    TcpConfig cfg = small_cfg();
    cfg.nagle = nagle;
    Driver d = established(cfg);
    d.c.send(bytes(100));
    CHECK(d.out().size() == 1);
    d.c.send(bytes(100));
    d.c.send(bytes(100));
    auto o = d.out();
    if (nagle) {
      CHECK(o.empty());
      d.in(seg(ACK, 5001, 201));
      o = d.out();
    }
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload.size() == 200);  // coalesced in the send buffer either way
    CHECK(o[0].repr.seq == 201);
  }
}

TEST_CASE("tcp: stop-and-wait with window_segments = 1") {
  TcpConfig cfg = small_cfg();
  cfg.window_segments = 1;
  Driver d = established(cfg);
  d.c.send(bytes(3000));
  auto o = d.out();
  REQUIRE(o.size() == 1);
  d.in(seg(ACK, 5001, 1101));
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.seq == 1101);
}

TEST_CASE("tcp: timestamps negotiate and give an RTT sample per ACK") {
  TcpConfig cfg = small_cfg();
  cfg.timestamps = true;
  Driver d{TcpConnection::connect(Time::zero(), kLocal, kRemote, cfg, 100)};
  auto o = d.out();
  REQUIRE(o.size() == 1);
  REQUIRE(o[0].repr.timestamps);
  d.at(at_ms(30));
  wire::TcpRepr sa = seg(SYN | ACK, 5000, 101);
  sa.mss = 1000;
  sa.timestamps = std::make_pair(777u, 0u);  // echoes our TSval 0 (sent at t = 0)
  d.in(sa);
  CHECK(d.c.timestamps_enabled());
  CHECK(d.c.mss() == 988);  // 1000 - 12 bytes of timestamp option
  o = d.out();
  REQUIRE(o.size() == 1);
  CHECK(o[0].repr.timestamps == std::make_pair(30u, 777u));
  d.c.send(bytes(100));
  d.out();
  d.at(at_ms(90));
  wire::TcpRepr a = seg(ACK, 5001, 201);
  a.timestamps = std::make_pair(800u, 30u);
  d.in(a);
  CHECK(d.c.stats().rtt_samples == 2);  // the SYN (timed; its TSecr 0 is not used) and this ACK
  CHECK(d.c.rtt().srtt() > ms(30));
}

TEST_CASE("tcp: events describe themselves") {
  CHECK(describe(TcpEvent{tcp_event::StateChanged{TcpState::SynSent, TcpState::Established}}) ==
        "state SYN-SENT -> ESTABLISHED");
  CHECK(describe(TcpEvent{tcp_event::Retransmit{SeqNum(1001), 1460, RetransmitReason::Fast}}) ==
        "retransmit seq 1001 len 1460 (fast)");
  CHECK(describe(TcpEvent{tcp_event::TimedOut{"x"}}) == "timed out: x");
  CHECK(std::string(tcp_state_name(TcpState::TimeWait)) == "TIME-WAIT");
}

TEST_CASE("tcp: random segments in every state never break the invariants") {
  // Drives connections into each state, then feeds seeded random segments (flags, numbers
  // near and far from the right ones, options, payloads) with timer expiries in between.
  // Run under -DMZ_SANITIZE=ON to catch undefined behaviour.
  Rng rng(9293);
  auto near = [&](uint32_t base) -> uint32_t {
    switch (rng.uniform_int(0, 3)) {
      case 0: return base;
      case 1: return base + static_cast<uint32_t>(rng.uniform_int(0, 70000)) - 35000;
      case 2: return base + static_cast<uint32_t>(rng.uniform_int(0, 3)) - 1;
      default: return rng.next_u32();
    }
  };
  for (int round = 0; round < 300; ++round) {
    TcpConfig cfg = small_cfg();
    cfg.rcv_buf = static_cast<uint32_t>(rng.uniform_int(0, 20000));
    cfg.snd_buf = static_cast<uint32_t>(rng.uniform_int(0, 20000));
    cfg.sack = rng.bernoulli(0.7);
    cfg.timestamps = rng.bernoulli(0.3);
    cfg.window_segments = static_cast<uint32_t>(rng.uniform_int(0, 2));
    Driver d = round % 2 ? established(cfg, static_cast<uint16_t>(rng.uniform_int(0, 65535)),
                                       rng.bernoulli(0.5) ? std::optional<uint8_t>(static_cast<uint8_t>(rng.uniform_int(0, 20))) : std::nullopt,
                                       cfg.sack)
                         : accepted(cfg, cfg.sack);
    const int stage = static_cast<int>(rng.uniform_int(0, 3));
    if (stage >= 1) d.c.send(bytes(static_cast<size_t>(rng.uniform_int(0, 30000))));
    if (stage >= 2) d.c.close();
    if (stage >= 3) d.in(seg(FIN | ACK, 5001, d.c.snd_max().raw()));
    for (int i = 0; i < 200 && d.c.state() != TcpState::Closed; ++i) {
      wire::TcpRepr r = seg(static_cast<uint8_t>(rng.next_u32()), near(d.c.rcv_nxt().raw()), near(d.c.snd_una().raw()),
                            static_cast<uint16_t>(rng.next_u32()));
      if (rng.bernoulli(0.7)) r.flags = static_cast<uint8_t>((r.flags & ~(SYN | RST)) | ACK);
      if (rng.bernoulli(0.3)) {
        const size_t n = rng.uniform_int(1, 4);
        for (size_t k = 0; k < n; ++k) r.sack.push_back({near(d.c.snd_una().raw()), near(d.c.snd_max().raw())});
      }
      if (rng.bernoulli(0.2)) r.timestamps = std::make_pair(rng.next_u32(), rng.next_u32());
      const Bytes p = bytes(rng.bernoulli(0.5) ? static_cast<size_t>(rng.uniform_int(0, 3000)) : 0);
      d.in(r, p);
      if (rng.bernoulli(0.2) && d.c.poll_timeout()) d.fire();
      if (rng.bernoulli(0.3)) {
        Bytes buf(static_cast<size_t>(rng.uniform_int(0, 5000)));
        d.c.recv(buf);
      }
      if (rng.bernoulli(0.1)) d.c.send(bytes(static_cast<size_t>(rng.uniform_int(0, 5000))));
      for (const Seg& s : d.out()) {
        CHECK(s.payload.size() <= d.c.mss());
        CHECK(s.repr.header_len() <= wire::kTcpMaxHeaderLen);
      }
      d.ev();
      // Invariants: SND.UNA <= SND.NXT <= SND.MAX; the receive buffer within its capacity.
      CHECK(d.c.snd_una() <= d.c.snd_nxt());
      CHECK(d.c.snd_nxt() <= d.c.snd_max());
      CHECK(d.c.readable() <= cfg.rcv_buf);
      CHECK(d.c.send_queue() <= cfg.snd_buf);
    }
  }
}
