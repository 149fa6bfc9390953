#include "megzawicol/l4/tcp_connection.hpp"

#include <algorithm>
#include <cassert>

namespace mz::l4 {
namespace {

using namespace wire::tcpflag;

constexpr uint32_t kDefaultPeerMss = 536;  // RFC 9293 3.7.1 (MUST-15)
constexpr uint32_t kMinMss = 64;
constexpr uint32_t kTimestampOptionLen = 12;
constexpr size_t kMaxReplies = 8;
constexpr size_t kMaxEvents = 4096;
constexpr size_t kMaxRanges = 32;
constexpr uint8_t kMaxWscale = 14;  // RFC 7323 2.3
constexpr Duration kSynFallbackRto = Duration::seconds(3);  // RFC 6298 5.7

uint8_t wscale_for(uint32_t buf) {
  uint8_t s = 0;
  while (s < kMaxWscale && (buf >> s) > 65535) ++s;
  return s;
}

// The timestamp clock: milliseconds of the (virtual or real) time we are given.
uint32_t ts_clock(Time now) { return static_cast<uint32_t>(static_cast<uint64_t>(now.ns) / 1000000u); }

bool is_trace_only(const TcpEvent& e) {
  return std::holds_alternative<tcp_event::StateChanged>(e) || std::holds_alternative<tcp_event::Retransmit>(e) ||
         std::holds_alternative<tcp_event::CwndChanged>(e) || std::holds_alternative<tcp_event::RttSample>(e);
}

}  // namespace

std::string Endpoint::to_string() const { return addr.to_string() + ":" + std::to_string(port); }

const char* tcp_state_name(TcpState s) {
  switch (s) {
    case TcpState::Closed: return "CLOSED";
    case TcpState::Listen: return "LISTEN";
    case TcpState::SynSent: return "SYN-SENT";
    case TcpState::SynReceived: return "SYN-RECEIVED";
    case TcpState::Established: return "ESTABLISHED";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::Closing: return "CLOSING";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::TimeWait: return "TIME-WAIT";
  }
  return "?";
}

const char* retransmit_reason_name(RetransmitReason r) {
  switch (r) {
    case RetransmitReason::Timeout: return "timeout";
    case RetransmitReason::Fast: return "fast";
    case RetransmitReason::Sack: return "sack";
  }
  return "?";
}

std::string describe(const TcpEvent& e) {
  using namespace tcp_event;
  if (std::holds_alternative<Connected>(e)) return "connected";
  if (std::holds_alternative<Readable>(e)) return "readable";
  if (std::holds_alternative<Writable>(e)) return "writable";
  if (std::holds_alternative<PeerFin>(e)) return "peer FIN";
  if (std::holds_alternative<Closed>(e)) return "closed";
  if (std::holds_alternative<Reset>(e)) return "reset by peer";
  if (auto* t = std::get_if<TimedOut>(&e)) return "timed out: " + t->message;
  if (auto* s = std::get_if<StateChanged>(&e))
    return std::string("state ") + tcp_state_name(s->from) + " -> " + tcp_state_name(s->to);
  if (auto* r = std::get_if<Retransmit>(&e))
    return "retransmit seq " + r->seq.to_string() + " len " + std::to_string(r->len) + " (" +
           retransmit_reason_name(r->reason) + ")";
  if (auto* c = std::get_if<CwndChanged>(&e))
    return "cwnd " + std::to_string(c->cwnd) + " ssthresh " + std::to_string(c->ssthresh);
  if (auto* r = std::get_if<RttSample>(&e))
    return "rtt " + format_duration(r->rtt) + " srtt " + format_duration(r->srtt) + " rttvar " +
           format_duration(r->rttvar) + " rto " + format_duration(r->rto);
  return "?";
}

// ---------------------------------------------------------------------------------------
// Construction

TcpConnection::TcpConnection(Time /*now*/, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn)
    : cfg_(cfg),
      local_(local),
      remote_(remote),
      iss_(isn),
      snd_una_(isn),
      snd_nxt_(isn),
      snd_max_(isn),
      sndbuf_(cfg.snd_buf),
      rcvbuf_(cfg.rcv_buf),
      asm_(kMaxRanges),
      mss_(std::max<uint32_t>(cfg.mss, kMinMss)),
      rtt_(RttConfig{cfg.initial_rto, cfg.min_rto, cfg.max_rto, Duration::millis(1)}),
      cc_(std::max<uint32_t>(cfg.mss, kMinMss), SeqNum(isn), cfg.initial_window_segments, false),
      sb_(kMaxRanges),
      high_rxt_(isn) {
  sack_scratch_.reserve(4);
}

TcpConnection TcpConnection::connect(Time now, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn) {
  TcpConnection c(now, local, remote, cfg, isn);
  c.set_state(State::SynSent);
  c.syn_pending_ = true;
  c.rcv_wscale_ = cfg.window_scale ? wscale_for(cfg.rcv_buf) : 0;  // offered; kept if the peer agrees
  return c;
}

TcpConnection TcpConnection::accept(Time now, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn,
                                    const wire::TcpRepr& syn) {
  TcpConnection c(now, local, remote, cfg, isn);
  c.irs_ = SeqNum(syn.seq);
  c.rcv_nxt_ = c.irs_ + 1;
  c.rcv_adv_ = c.rcv_nxt_ + std::min<uint32_t>(c.rcvbuf_.free(), 65535);
  c.apply_syn_options(syn);
  c.snd_wnd_ = c.max_snd_wnd_ = syn.window;  // never scaled in a SYN
  c.snd_wl1_ = c.irs_;
  c.snd_wl2_ = c.iss_;
  c.set_state(State::SynReceived);
  c.syn_pending_ = true;
  return c;
}

void TcpConnection::apply_syn_options(const wire::TcpRepr& syn) {
  const uint32_t peer_mss = syn.mss ? uint32_t{*syn.mss} : kDefaultPeerMss;
  ts_ok_ = cfg_.timestamps && syn.timestamps.has_value();
  if (ts_ok_) ts_recent_ = syn.timestamps->first;
  sack_ok_ = cfg_.sack && syn.sack_permitted;
  ws_ok_ = cfg_.window_scale && syn.window_scale.has_value();
  if (ws_ok_) {
    snd_wscale_ = std::min(*syn.window_scale, kMaxWscale);
    rcv_wscale_ = wscale_for(cfg_.rcv_buf);
  } else {
    snd_wscale_ = rcv_wscale_ = 0;
  }
  uint32_t m = std::min<uint32_t>(cfg_.mss, peer_mss);
  if (ts_ok_) m = m > kTimestampOptionLen ? m - kTimestampOptionLen : 0;
  mss_ = std::max(m, kMinMss);
  cc_.set_mss(mss_, sack_ok_);
}

// ---------------------------------------------------------------------------------------
// Small helpers

bool TcpConnection::synchronized() const {
  switch (state_) {
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait:
    case State::Closing:
    case State::LastAck:
    case State::TimeWait:
      return true;
    default:
      return false;
  }
}

void TcpConnection::push_event(TcpEvent e) {
  if (events_.size() >= kMaxEvents && is_trace_only(e)) return;
  events_.push_back(std::move(e));
}

void TcpConnection::set_state(State s) {
  if (s == state_) return;
  push_event(tcp_event::StateChanged{state_, s});
  state_ = s;
}

void TcpConnection::enter_closed() {
  set_state(State::Closed);
  rto_at_.reset();
  persist_at_.reset();
  delack_at_.reset();
  timewait_at_.reset();
  syn_pending_ = probe_pending_ = ack_now_ = false;
  rexmit_now_.reset();
}

void TcpConnection::fail(std::string why) {
  push_event(tcp_event::TimedOut{std::move(why)});
  enter_closed();
}

void TcpConnection::note_cwnd(uint32_t cwnd_before, uint32_t ssthresh_before) {
  if (cc_.cwnd() != cwnd_before || cc_.ssthresh() != ssthresh_before)
    push_event(tcp_event::CwndChanged{cc_.cwnd(), cc_.ssthresh()});
}

void TcpConnection::established(Time /*now*/) {
  set_state(State::Established);
  push_event(tcp_event::Connected{});
  if (syn_retransmitted_) rtt_.set_rto_without_samples(kSynFallbackRto);
  if (fin_queued_) set_state(State::FinWait1);  // close() was called in SYN-RECEIVED
}

SeqNum TcpConnection::data_seq() const { return snd_una_ == iss_ ? iss_ + 1 : snd_una_; }

uint32_t TcpConnection::cap_window() const {
  uint64_t w = cc_.cwnd();
  if (cfg_.window_segments > 0) w = std::min<uint64_t>(w, uint64_t{cfg_.window_segments} * mss_);
  return static_cast<uint32_t>(w);
}

uint32_t TcpConnection::in_flight() const {
  if (sack_ok_ && cc_.in_recovery()) return sb_.pipe(snd_una_, snd_max_, high_rxt_, mss_);
  uint32_t f = seq_dist(snd_una_, snd_nxt_);
  if (sack_ok_) f -= sb_.ranges().covered(snd_una_, snd_nxt_);
  return f;
}

size_t TcpConnection::writable() const {
  switch (state_) {
    case State::SynSent:
    case State::SynReceived:
    case State::Established:
    case State::CloseWait:
      return fin_queued_ ? 0 : sndbuf_.free();
    default:
      return 0;
  }
}

Duration TcpConnection::persist_interval() const {
  Duration d = rtt_.rto();
  for (int i = 0; i < persist_backoff_ && d < cfg_.max_rto; ++i) d = d * 2;
  return std::min(d, cfg_.max_rto);
}

void TcpConnection::arm_rto(Time now) {
  if (!rto_at_) rto_at_ = now + rtt_.rto();
}

void TcpConnection::rtt_sample(Duration rtt) {
  rtt_.sample(rtt);
  ++stats_.rtt_samples;
  push_event(tcp_event::RttSample{rtt, rtt_.srtt(), rtt_.rttvar(), rtt_.rto()});
}

void TcpConnection::queue_rst(SeqNum seq, std::optional<SeqNum> ack) {
  if (replies_.size() >= kMaxReplies) return;
  Segment s;
  s.payload = PacketBuf::with_reserve(kSegmentHeadroom, 0, PacketBuf::kDefaultTailroom);
  s.repr.src_port = local_.port;
  s.repr.dst_port = remote_.port;
  s.repr.seq = seq.raw();
  s.repr.flags = RST;
  if (ack) {
    s.repr.flags |= ACK;
    s.repr.ack = ack->raw();
  }
  replies_.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// Application side

size_t TcpConnection::send(ByteView data) {
  const size_t room = writable();
  const size_t n = sndbuf_.push(data.first(std::min(room, data.size())));
  if (n < data.size()) send_blocked_ = true;
  return n;
}

size_t TcpConnection::recv(MutByteView out) {
  const size_t n = rcvbuf_.pop(out);
  if (n > 0 && (state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2)) {
    // Window update when the window we can offer at least doubled and grew by the
    // receiver SWS threshold (RFC 9293 3.8.6.2.2).
    const uint32_t cur = rcv_wnd();
    const uint32_t free = static_cast<uint32_t>(rcvbuf_.free());
    const uint32_t thresh = std::min<uint32_t>(static_cast<uint32_t>(rcvbuf_.capacity() / 2), mss_);
    if (free >= 2 * uint64_t{cur} && free - cur >= thresh) ack_now_ = true;
  }
  return n;
}

void TcpConnection::close() {
  switch (state_) {
    case State::SynSent:
      enter_closed();
      push_event(tcp_event::Closed{});
      break;
    case State::SynReceived:
      if (!fin_queued_) {
        fin_queued_ = true;
        fin_seq_ = data_end();
      }
      break;
    case State::Established:
      fin_queued_ = true;
      fin_seq_ = data_end();
      set_state(State::FinWait1);
      break;
    case State::CloseWait:
      fin_queued_ = true;
      fin_seq_ = data_end();
      set_state(State::LastAck);
      break;
    default:
      break;  // closed, or closing already
  }
}

void TcpConnection::abort() {
  switch (state_) {
    case State::SynReceived:
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait:
      queue_rst(snd_max_, std::nullopt);
      break;
    default:
      break;
  }
  if (state_ != State::Closed) {
    enter_closed();
    push_event(tcp_event::Closed{});
  }
}

std::optional<TcpEvent> TcpConnection::poll_event() {
  if (events_.empty()) return std::nullopt;
  TcpEvent e = std::move(events_.front());
  events_.pop_front();
  if (std::holds_alternative<tcp_event::Readable>(e)) readable_queued_ = false;
  return e;
}

// ---------------------------------------------------------------------------------------
// Input

void TcpConnection::handle_segment(Time now, const wire::TcpRepr& seg, ByteView payload) {
  ++stats_.segs_received;
  stats_.bytes_received += payload.size();
  if (seg.has(RST)) ++stats_.rsts_received;

  switch (state_) {
    case State::Closed:
    case State::Listen:
      handle_closed(seg, payload.size());
      return;
    case State::SynSent:
      handle_syn_sent(now, seg);
      update_timers(now);
      return;
    default:
      break;
  }

  const SeqNum orig_seq(seg.seq);
  SeqNum seq = orig_seq;
  bool syn = seg.has(SYN);
  bool fin = seg.has(FIN);
  ByteView data = payload;
  uint32_t seg_len = static_cast<uint32_t>(data.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);

  // Simultaneous open: the peer's SYN-ACK repeats the SYN we already hold at IRS (RFC 9293
  // figure 8). Its SYN is old; the rest (the ACK of our SYN) is processed.
  if (state_ == State::SynReceived && syn && seq == irs_) {
    syn = false;
    seq += 1;
    --seg_len;
    ack_now_ = true;
  }

  // RFC 9293 3.10.7.4, first check: sequence number acceptability.
  if (!acceptable(seq, seg_len)) {
    ++stats_.unacceptable_segs;
    if (!seg.has(RST)) {
      ack_now_ = true;
      if (state_ == State::TimeWait && fin) timewait_at_ = now + cfg_.time_wait;  // a retransmitted FIN
    }
    update_timers(now);
    return;
  }
  // Trim what lies before RCV.NXT and beyond the window.
  if (seq < rcv_nxt_) {
    uint32_t cut = seq_dist(seq, rcv_nxt_);
    if (syn) {
      syn = false;
      --cut;
      seq += 1;
    }
    const uint32_t d = static_cast<uint32_t>(std::min<size_t>(cut, data.size()));
    stats_.dup_bytes_received += d;
    data = data.subspan(d);
    seq += d;
    if (cut > d) {  // the FIN too is before RCV.NXT
      fin = false;
      seq = rcv_nxt_;
    }
  }
  if (const uint32_t room = seq_dist(seq, rcv_adv_); data.size() > room) {
    data = data.first(room);
    fin = false;
    ack_now_ = true;
  }
  if (ts_ok_ && seg.timestamps && orig_seq <= rcv_nxt_) ts_recent_ = seg.timestamps->first;

  // Second check: RST (RFC 5961 3: exact match resets, otherwise a challenge ACK).
  if (seg.has(RST)) {
    if (orig_seq == rcv_nxt_) {
      push_event(tcp_event::Reset{});
      enter_closed();
    } else {
      ack_now_ = true;
      update_timers(now);
    }
    return;
  }
  // Fourth check: a SYN in the window gets a challenge ACK (RFC 5961 4, RFC 9293 MUST-60 option).
  if (syn) {
    ack_now_ = true;
    update_timers(now);
    return;
  }
  // Fifth check: the ACK field.
  if (!seg.has(ACK)) return;
  if (!process_ack(now, seg, seg_len)) {
    if (state_ != State::Closed) update_timers(now);
    return;
  }

  // Seventh: the text.
  if (!data.empty()) {
    if (state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2)
      process_data(now, seq, data);
  }
  // Eighth: FIN.
  if (fin) {
    const SeqNum at = seq + static_cast<uint32_t>(data.size());
    if (at == rcv_nxt_) {
      peer_fin_.reset();
      process_fin(now);
    } else if (at > rcv_nxt_) {
      peer_fin_ = at;  // beyond a hole: processed once the data before it is in
      ack_now_ = true;
    }
  } else if (peer_fin_ && *peer_fin_ == rcv_nxt_) {
    peer_fin_.reset();
    process_fin(now);
  }
  update_timers(now);
}

void TcpConnection::handle_closed(const wire::TcpRepr& seg, size_t payload_len) {
  // RFC 9293 3.10.7.1: everything but a RST gets a RST.
  if (seg.has(RST)) return;
  if (seg.has(ACK)) {
    queue_rst(SeqNum(seg.ack), std::nullopt);
  } else {
    const uint32_t len = static_cast<uint32_t>(payload_len) + (seg.has(SYN) ? 1 : 0) + (seg.has(FIN) ? 1 : 0);
    queue_rst(SeqNum(0), SeqNum(seg.seq) + len);
  }
}

void TcpConnection::handle_syn_sent(Time now, const wire::TcpRepr& seg) {
  // RFC 9293 3.10.7.3.
  const SeqNum ack(seg.ack);
  bool ack_ok = false;
  if (seg.has(ACK)) {
    if (ack <= iss_ || ack > snd_max_) {
      if (!seg.has(RST)) queue_rst(ack, std::nullopt);
      return;
    }
    ack_ok = true;
  }
  if (seg.has(RST)) {
    if (ack_ok) {
      push_event(tcp_event::Reset{});
      enter_closed();
    }
    return;
  }
  if (!seg.has(SYN)) return;
  irs_ = SeqNum(seg.seq);
  rcv_nxt_ = irs_ + 1;
  rcv_adv_ = rcv_nxt_ + std::min<uint32_t>(rcvbuf_.free(), 65535);  // what our SYN offered
  apply_syn_options(seg);
  snd_wnd_ = max_snd_wnd_ = seg.window;  // never scaled in a SYN
  snd_wl1_ = irs_;
  if (ack_ok) {
    process_new_ack(now, seg, ack);
    snd_wl2_ = ack;
    established(now);
    ack_now_ = true;  // data on the SYN-ACK is not kept: the peer retransmits it
  } else {
    snd_wl2_ = iss_;
    set_state(State::SynReceived);  // simultaneous open
    syn_pending_ = true;
  }
}

bool TcpConnection::acceptable(SeqNum seq, uint32_t seg_len) const {
  const uint32_t wnd = rcv_wnd();
  if (wnd == 0) return seq == rcv_nxt_;  // seg_len > 0: only the ACK/RST part is used
  const SeqNum right = rcv_nxt_ + wnd;
  if (seg_len == 0) return seq_in(seq, rcv_nxt_, right);
  return seq_in(seq, rcv_nxt_, right) || seq_in(seq + (seg_len - 1), rcv_nxt_, right);
}

bool TcpConnection::process_ack(Time now, const wire::TcpRepr& seg, uint32_t seg_len) {
  const SeqNum ack(seg.ack);
  const SeqNum seq(seg.seq);
  if (state_ == State::SynReceived) {
    if (!(snd_una_ < ack && ack <= snd_max_)) {
      queue_rst(ack, std::nullopt);
      return false;
    }
    process_new_ack(now, seg, ack);
    snd_wnd_ = uint32_t{seg.window} << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seq;
    snd_wl2_ = ack;
    established(now);
    return true;
  }
  if (ack > snd_max_) {  // acknowledges something never sent
    ack_now_ = true;
    return false;
  }
  if (sack_ok_ && !seg.sack.empty() && ack >= snd_una_) sb_.update(seg.sack, ack, snd_max_);
  const uint32_t wnd = uint32_t{seg.window} << snd_wscale_;
  if (snd_una_ < ack) {
    process_new_ack(now, seg, ack);
  } else if (ack == snd_una_ && seg_len == 0 && wnd == snd_wnd_ && snd_wnd_ > 0 && snd_una_ < snd_max_) {
    // A duplicate ACK (RFC 5681 2).
    ++stats_.dup_acks_received;
    const uint32_t cw = cc_.cwnd(), ss = cc_.ssthresh();
    const NewReno::Outcome o = cc_.on_dup_ack(ack, seq_dist(snd_una_, snd_max_), snd_max_);
    if (o.fast_retransmit) {
      ++stats_.fast_retransmits;
      rexmit_now_ = snd_una_;
      high_rxt_ = snd_una_;
    }
    note_cwnd(cw, ss);
  }
  // Window update (RFC 9293 3.10.7.4, fifth check).
  if (snd_una_ <= ack && (snd_wl1_ < seq || (snd_wl1_ == seq && snd_wl2_ <= ack))) {
    snd_wnd_ = wnd;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seq;
    snd_wl2_ = ack;
  }
  if (snd_una_ == snd_max_) retries_ = 0;  // only probes were outstanding: they are answered

  const bool our_fin_acked = fin_queued_ && snd_max_ > fin_seq_ && snd_una_ > fin_seq_;
  switch (state_) {
    case State::FinWait1:
      if (our_fin_acked) {
        set_state(State::FinWait2);
        timewait_at_ = now + cfg_.fin_wait2_timeout;  // shares the TIME-WAIT timer slot
      }
      break;
    case State::FinWait2:
      timewait_at_ = now + cfg_.fin_wait2_timeout;  // the peer is alive: wait on
      break;
    case State::Closing:
      if (our_fin_acked) {
        set_state(State::TimeWait);
        timewait_at_ = now + cfg_.time_wait;
        rto_at_.reset();
        persist_at_.reset();
      }
      break;
    case State::LastAck:
      if (our_fin_acked) {
        enter_closed();
        push_event(tcp_event::Closed{});
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void TcpConnection::process_new_ack(Time now, const wire::TcpRepr& seg, SeqNum ack) {
  const uint32_t acked = seq_dist(snd_una_, ack);
  uint32_t data_acked = acked;
  const bool syn_acked = snd_una_ == iss_;
  if (syn_acked) --data_acked;
  if (fin_queued_ && snd_una_ <= fin_seq_ && ack > fin_seq_) --data_acked;
  data_acked = std::min<uint32_t>(data_acked, static_cast<uint32_t>(sndbuf_.size()));
  sndbuf_.consume(data_acked);
  stats_.bytes_acked += data_acked;

  // RTT (RFC 6298 3; RFC 7323 4.1 with timestamps).
  if (ts_ok_ && seg.timestamps && seg.timestamps->second != 0) {
    const int32_t ms = static_cast<int32_t>(ts_clock(now) - seg.timestamps->second);
    if (ms >= 0) rtt_sample(Duration::millis(ms));
    rtt_timed_.reset();
  } else if (rtt_timed_ && ack > rtt_timed_->first) {
    rtt_sample(now - rtt_timed_->second);
    rtt_timed_.reset();
  }

  snd_una_ = ack;
  if (snd_nxt_ < ack) snd_nxt_ = ack;
  if (high_rxt_ < ack) high_rxt_ = ack;
  if (!(snd_nxt_ < snd_max_)) timeout_rexmit_ = false;
  sb_.advance(ack);
  retries_ = 0;
  if (rexmit_now_ && *rexmit_now_ < ack) rexmit_now_.reset();

  NewReno::Outcome o;
  if (!syn_acked || acked > 1) {
    const uint32_t cw = cc_.cwnd(), ss = cc_.ssthresh();
    o = cc_.on_new_ack(ack, acked, seq_dist(ack, snd_max_));
    if (o.partial_ack && !sack_ok_) rexmit_now_ = snd_una_;  // RFC 6582 3.2 step 5
    note_cwnd(cw, ss);
  }
  // RFC 6298 5.2 / 5.3; RFC 6582: later partial ACKs do not restart the timer.
  if (snd_una_ == snd_max_) rto_at_.reset();
  else if (!(o.partial_ack && !o.first_partial && !sack_ok_)) rto_at_ = now + rtt_.rto();

  if (data_acked > 0 && send_blocked_ && writable() > 0) {
    send_blocked_ = false;
    push_event(tcp_event::Writable{});
  }
}

void TcpConnection::process_data(Time now, SeqNum seq, ByteView data) {
  if (seq == rcv_nxt_) {
    const bool filled_hole = !asm_.empty();
    const size_t n = rcvbuf_.write_at(0, data);
    SeqNum nxt = asm_.advance(rcv_nxt_ + static_cast<uint32_t>(n));
    const uint32_t adv = seq_dist(rcv_nxt_, nxt);
    rcvbuf_.commit(std::min<size_t>(adv, rcvbuf_.free()));
    rcv_nxt_ = nxt;
    stats_.bytes_delivered += adv;
    if (!readable_queued_) {
      readable_queued_ = true;
      push_event(tcp_event::Readable{});
    }
    if (filled_hole) {
      ack_now_ = true;  // RFC 5681 4.2: at once when a segment fills (part of) a gap
    } else {
      unacked_bytes_ += static_cast<uint32_t>(n);
      if (!cfg_.delayed_ack || unacked_bytes_ >= 2 * mss_) ack_now_ = true;
      else if (!delack_at_) delack_at_ = now + cfg_.ack_delay;
    }
    return;
  }
  // Out of order: keep it (bounded) and send a duplicate ACK at once (RFC 5681 4.2).
  ++stats_.out_of_order_segs;
  ack_now_ = true;
  const SeqNum end = seq + static_cast<uint32_t>(data.size());
  if (asm_.contains(seq, end)) {
    stats_.dup_bytes_received += data.size();
    return;
  }
  if (!asm_.add(seq, end)) {
    ++stats_.ooo_dropped_segs;
    return;
  }
  rcvbuf_.write_at(seq_dist(rcv_nxt_, seq), data);
}

void TcpConnection::process_fin(Time now) {
  rcv_nxt_ += 1;
  ack_now_ = true;
  push_event(tcp_event::PeerFin{});
  switch (state_) {
    case State::SynReceived:
    case State::Established:
      set_state(State::CloseWait);
      break;
    case State::FinWait1:
      if (fin_queued_ && snd_una_ > fin_seq_) {
        set_state(State::TimeWait);
        timewait_at_ = now + cfg_.time_wait;
        rto_at_.reset();
      } else {
        set_state(State::Closing);
      }
      break;
    case State::FinWait2:
      set_state(State::TimeWait);
      timewait_at_ = now + cfg_.time_wait;
      rto_at_.reset();
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Timers

void TcpConnection::update_timers(Time now) {
  if (state_ == State::Closed) return;
  if (state_ == State::TimeWait) {
    rto_at_.reset();
    persist_at_.reset();
    return;
  }
  if (synchronized()) {
    if (snd_una_ == snd_max_) rto_at_.reset();
    const bool want_persist = snd_wnd_ == 0 && snd_una_ == snd_max_ && data_end() > snd_nxt_ && !probe_pending_;
    if (want_persist) {
      if (!persist_at_) persist_at_ = now + persist_interval();
    } else if (snd_wnd_ != 0) {
      persist_at_.reset();
      persist_backoff_ = 0;
    }
  }
}

std::optional<Time> TcpConnection::poll_timeout() const {
  std::optional<Time> t;
  for (const auto& x : {rto_at_, persist_at_, delack_at_, timewait_at_})
    if (x && (!t || *x < *t)) t = x;
  return t;
}

void TcpConnection::handle_timeout(Time now) {
  if (timewait_at_ && now >= *timewait_at_) {
    timewait_at_.reset();
    enter_closed();
    push_event(tcp_event::Closed{});
    return;
  }
  if (delack_at_ && now >= *delack_at_) {
    delack_at_.reset();
    ack_now_ = true;
  }
  if (persist_at_ && now >= *persist_at_) {
    persist_at_.reset();
    if (retries_ >= cfg_.max_retries) {
      fail("no answer to " + std::to_string(retries_) + " zero-window probes");
      return;
    }
    ++retries_;
    ++persist_backoff_;
    probe_pending_ = true;
    persist_at_ = now + persist_interval();
  }
  if (rto_at_ && now >= *rto_at_) {
    rto_at_.reset();
    if (state_ == State::SynSent || state_ == State::SynReceived) {
      if (retries_ >= cfg_.max_syn_retries) {
        fail(std::string(state_ == State::SynSent ? "no SYN-ACK" : "no ACK for the SYN-ACK") + " after " +
             std::to_string(retries_) + " retransmissions");
        return;
      }
      ++retries_;
      ++stats_.timeouts;
      ++stats_.retransmitted_segs;
      rtt_.backoff();
      syn_pending_ = true;
      syn_retransmitted_ = true;
      rtt_timed_.reset();
      push_event(tcp_event::Retransmit{iss_, 1, RetransmitReason::Timeout});
      rto_at_ = now + rtt_.rto();
    } else if (snd_una_ < snd_max_) {
      if (retries_ >= cfg_.max_retries) {
        fail("no ACK after " + std::to_string(retries_) + " retransmissions");
        return;
      }
      const uint32_t cw = cc_.cwnd(), ss = cc_.ssthresh();
      cc_.on_timeout(seq_dist(snd_una_, snd_max_), snd_max_, retries_ == 0);
      note_cwnd(cw, ss);
      ++retries_;
      ++stats_.timeouts;
      rtt_.backoff();
      // RFC 6298 5.4: retransmit from SND.UNA; everything after it follows (go-back-N,
      // SACKed ranges skipped) as the window allows.
      snd_nxt_ = snd_una_;
      high_rxt_ = snd_una_;
      rexmit_now_.reset();
      rtt_timed_.reset();
      timeout_rexmit_ = true;
      rto_at_ = now + rtt_.rto();  // 5.6
    }
  }
  update_timers(now);
}

// ---------------------------------------------------------------------------------------
// Output

uint16_t TcpConnection::advertise() {
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): the right edge moves on only by at
  // least min(rcv_buf / 2, MSS).
  const uint32_t cap = static_cast<uint32_t>(rcvbuf_.capacity());
  const uint32_t free = static_cast<uint32_t>(rcvbuf_.free());
  const uint32_t cur = rcv_wnd();
  const uint32_t thresh = std::min(cap / 2, mss_);
  uint32_t wnd = cur;
  if (uint64_t{free} >= uint64_t{cur} + thresh) wnd = free;
  wnd = std::min(wnd, free);
  const uint32_t field = std::min<uint32_t>(wnd >> rcv_wscale_, 65535);
  rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + (field << rcv_wscale_));
  return static_cast<uint16_t>(field);
}

TcpConnection::Segment TcpConnection::build(Time now, SeqNum seq, uint32_t data_len, uint8_t flags) {
  Segment s;
  s.payload = PacketBuf::with_reserve(kSegmentHeadroom, data_len, PacketBuf::kDefaultTailroom);
  if (data_len > 0) {
    [[maybe_unused]] const size_t got = sndbuf_.peek(seq_dist(data_seq(), seq), s.payload.mut_view());
    assert(got == data_len);
  }
  wire::TcpRepr& r = s.repr;
  r.src_port = local_.port;
  r.dst_port = remote_.port;
  r.seq = seq.raw();
  r.flags = flags;
  if (flags & ACK) r.ack = rcv_nxt_.raw();
  if (flags & SYN) {
    r.mss = cfg_.mss;
    const uint32_t w = std::min<uint32_t>(static_cast<uint32_t>(rcvbuf_.free()), 65535);
    r.window = static_cast<uint16_t>(w);
    if (state_ == State::SynSent) {  // offer what we are configured for
      if (cfg_.window_scale) r.window_scale = rcv_wscale_;
      r.sack_permitted = cfg_.sack;
      if (cfg_.timestamps) r.timestamps = std::make_pair(ts_clock(now), 0u);
    } else {  // SYN-ACK: only what the peer offered too
      if (ws_ok_) r.window_scale = rcv_wscale_;
      r.sack_permitted = sack_ok_;
      if (ts_ok_) r.timestamps = std::make_pair(ts_clock(now), ts_recent_);
      rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + w);
    }
  } else {
    r.window = advertise();
    if (ts_ok_) r.timestamps = std::make_pair(ts_clock(now), ts_recent_);
    if (sack_ok_ && !asm_.empty() && (flags & ACK)) {
      const size_t max_blocks = ts_ok_ ? 3 : 4;
      const size_t fit = mss_ >= data_len + 12 ? (mss_ - data_len - 4) / 8 : 0;
      asm_.sack_blocks(sack_scratch_, std::min(max_blocks, fit));
      r.sack = sack_scratch_;
    }
  }
  ++stats_.segs_sent;
  stats_.bytes_sent += data_len;
  if (flags & ACK) {
    ack_now_ = false;
    delack_at_.reset();
    unacked_bytes_ = 0;
  }
  return s;
}

TcpConnection::Segment TcpConnection::send_range(Time now, SeqNum seq, uint32_t max_len,
                                                 std::optional<RetransmitReason> reason) {
  const uint32_t data_len = std::min(max_len, seq_dist(seq, data_end()));
  const bool fin = fin_queued_ && seq + data_len == fin_seq_;
  uint8_t flags = ACK;
  if (fin) flags |= FIN;
  if (data_len > 0 && seq + data_len == data_end()) flags |= PSH;
  const uint32_t seq_len = data_len + (fin ? 1 : 0);
  const SeqNum end = seq + seq_len;
  if (seq < snd_max_) {  // (partly) a retransmission
    ++stats_.retransmitted_segs;
    stats_.retransmitted_bytes += seq_dist(seq, seq_min(end, snd_max_));
    rtt_timed_.reset();  // Karn's rule
    push_event(tcp_event::Retransmit{seq, seq_len, reason.value_or(RetransmitReason::Timeout)});
  } else if (seq_len > 0 && !rtt_timed_ && !ts_ok_) {
    rtt_timed_ = std::make_pair(seq, now);
  }
  Segment s = build(now, seq, data_len, flags);
  snd_nxt_ = seq_max(snd_nxt_, end);
  snd_max_ = seq_max(snd_max_, end);
  if (seq_len > 0) arm_rto(now);
  return s;
}

std::optional<TcpConnection::Segment> TcpConnection::next_data_segment(Time now) {
  switch (state_) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck:
      break;
    default:
      return std::nullopt;
  }
  // 1. Fast retransmit, or a NewReno partial ACK: the first unacknowledged segment, now.
  if (rexmit_now_) {
    SeqNum s = *rexmit_now_;
    rexmit_now_.reset();
    if (sack_ok_) s = sb_.skip_sacked(s);
    if (snd_una_ <= s && s < snd_max_) {
      const SeqNum end = sack_ok_ ? sb_.unsacked_end(s, snd_max_) : snd_max_;
      const uint32_t len = std::min(mss_, seq_dist(s, end));
      Segment seg = send_range(now, s, len, RetransmitReason::Fast);
      high_rxt_ = seq_max(high_rxt_, SeqNum(seg.repr.seq) + std::max<uint32_t>(1, static_cast<uint32_t>(seg.payload.size())));
      return seg;
    }
  }
  const uint32_t cap = cap_window();
  const uint32_t flight = in_flight();

  // 2. SACK recovery (RFC 6675 5): while cwnd - pipe >= 1 SMSS, the next lost hole first.
  if (sack_ok_ && cc_.in_recovery()) {
    if (uint64_t{flight} + mss_ > cap) return std::nullopt;
    const SeqNum lost = sb_.lost_edge(mss_, snd_una_);
    const SeqNum s = sb_.skip_sacked(seq_max(high_rxt_, snd_una_));
    if (s < lost) {
      const uint32_t len = std::min(mss_, seq_dist(s, sb_.unsacked_end(s, lost)));
      Segment seg = send_range(now, s, len, RetransmitReason::Sack);
      high_rxt_ = s + len;
      ++stats_.sack_retransmits;
      return seg;
    }
  }
  // 3. After a timeout: resend from SND.NXT up to SND.MAX, skipping SACKed data.
  if (snd_nxt_ < snd_max_) {
    const SeqNum s = sack_ok_ ? sb_.skip_sacked(snd_nxt_) : snd_nxt_;
    if (s < snd_max_) {
      if (flight >= cap) return std::nullopt;
      const SeqNum end = sack_ok_ ? sb_.unsacked_end(s, snd_max_) : snd_max_;
      const uint32_t len = std::min({mss_, seq_dist(s, end), cap - flight});
      snd_nxt_ = s;
      return send_range(now, s, len, timeout_rexmit_ ? RetransmitReason::Timeout : RetransmitReason::Sack);
    }
    snd_nxt_ = snd_max_;
    timeout_rexmit_ = false;
  }
  // 4. New data, then the FIN.
  const uint32_t avail = seq_dist(snd_nxt_, data_end());
  const bool fin_unsent = fin_queued_ && snd_max_ <= fin_seq_;
  if (avail == 0) {
    if (fin_unsent && snd_nxt_ == fin_seq_) return send_range(now, snd_nxt_, 0, std::nullopt);
    return std::nullopt;
  }
  const uint32_t rwnd_room = seq_dist(snd_nxt_, snd_una_ + snd_wnd_);
  const uint32_t cwnd_room = cap > flight ? cap - flight : 0;
  const uint32_t len = std::min({avail, mss_, rwnd_room, cwnd_room});
  if (len == 0) return std::nullopt;
  if (len < mss_) {
    if (len < avail) {
      // Sender SWS avoidance: a window-limited runt only when nothing is in flight.
      if (flight > 0) return std::nullopt;
    } else if (cfg_.nagle && flight > 0 && !fin_queued_) {
      return std::nullopt;  // Nagle (RFC 9293 3.7.4)
    }
  }
  return send_range(now, snd_nxt_, len, std::nullopt);
}

std::optional<TcpConnection::Segment> TcpConnection::poll_transmit(Time now) {
  if (!replies_.empty()) {
    Segment s = std::move(replies_.front());
    replies_.pop_front();
    ++stats_.segs_sent;
    ++stats_.rsts_sent;
    return s;
  }
  switch (state_) {
    case State::Closed:
    case State::Listen:
      return std::nullopt;
    case State::SynSent:
    case State::SynReceived:
      if (syn_pending_) {
        syn_pending_ = false;
        const uint8_t flags = state_ == State::SynSent ? SYN : (SYN | ACK);
        Segment s = build(now, iss_, 0, flags);
        if (snd_max_ == iss_) {
          snd_nxt_ = snd_max_ = iss_ + 1;
          rtt_timed_ = std::make_pair(iss_, now);
        }
        arm_rto(now);
        return s;
      }
      if (state_ == State::SynReceived && ack_now_) {
        ++stats_.pure_acks_sent;
        return build(now, snd_max_, 0, ACK);
      }
      return std::nullopt;
    default:
      break;
  }
  if (auto s = next_data_segment(now)) return s;
  if (probe_pending_) {
    probe_pending_ = false;
    ++stats_.zero_window_probes;
    return build(now, snd_una_ - 1, 0, ACK);  // out of window: the peer must ACK it
  }
  if (ack_now_) {
    ++stats_.pure_acks_sent;
    return build(now, snd_nxt_, 0, ACK);
  }
  update_timers(now);
  return std::nullopt;
}

}  // namespace mz::l4
