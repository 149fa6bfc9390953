// One TCP connection (RFC 9293) as a sans-I/O state machine.
//
// Theory of operation
// -------------------
// A TcpConnection never reads a clock and never does I/O. Its driver (the host's TCP
// demultiplexer, or a test) feeds it and drains it:
//
//   handle_segment(now, repr, payload)  a segment for this connection, checksum verified
//   handle_timeout(now)                 when now >= poll_timeout()
//   send / recv / close / abort         the application side
//
// and after ANY of these calls: drain poll_transmit(now) until it returns nullopt, then ask
// poll_timeout() for the next wake-up, then drain poll_event(). poll_transmit builds one
// segment per call from the current state (plus a few queued replies such as RSTs), so
// the work per call is bounded.
//
// Creation: connect() is the active open (queues a SYN, state SYN-SENT); accept() is the
// passive open from a SYN a listener saw (queues the SYN-ACK, state SYN-RECEIVED). A
// listener itself (LISTEN, SYN queue, port demultiplexing) belongs to the host.
//
// What is implemented
// -------------------
//   - RFC 9293 states, including simultaneous open and close, TIME-WAIT for
//     `time_wait`, the segment acceptability test (3.10.7.4) with trimming to the window,
//     RSTs for unacceptable segments in SYN-SENT / SYN-RECEIVED / CLOSED, RST validation
//     and a challenge ACK for in-window SYNs and inexact RSTs (RFC 5961, as Linux).
//   - Options: MSS (effective MSS = min of ours and the peer's, 536 if absent, minus 12
//     with timestamps), window scale (RFC 7323, both must offer it; shift capped at 14),
//     SACK-permitted / SACK (RFC 2018), timestamps (RFC 7323: RTT samples from TSecr, no
//     PAWS) when enabled.
//   - Sender: sliding window min(peer window, cwnd, window_segments * MSS); Nagle; sender
//     SWS avoidance (a sub-MSS segment that is not the end of the queued data goes out only
//     with nothing in flight); FIN after the queued data; zero-window probing with a persist
//     timer backed off exponentially (the probe is Linux's: an empty segment with
//     SEQ = SND.UNA - 1 that the receiver must answer with an ACK).
//   - Retransmission: RFC 6298 timer (l4/rtt.hpp) with Karn's rule (one timed segment,
//     cleared by any retransmission; with timestamps every ACK of new data is a sample);
//     after a timeout everything from SND.UNA is resent in order (go-back-N, SACKed ranges
//     skipped); RFC 5681 fast retransmit / RFC 6582 NewReno recovery (l4/congestion.hpp);
//     with SACK, RFC 6675-style recovery driven by the scoreboard's pipe (l4/scoreboard.hpp).
//   - Receiver: out-of-order data kept in the receive buffer within the advertised window
//     (l4/assembler.hpp), SACK blocks when negotiated, delayed ACK (every second full
//     segment or after `ack_delay`; immediately for out-of-order data, a filled hole, a
//     FIN), receiver SWS avoidance (the window opens by min(rcv_buf/2, MSS) or not at all),
//     window updates after recv() when the window at least doubles.
//   - Failure: `max_syn_retries` SYN (or SYN-ACK) retransmissions, then TimedOut; after
//     `max_retries` consecutive retransmission timeouts without SND.UNA advancing (or that
//     many unanswered zero-window probes), TimedOut; the connection is then Closed (no RST
//     is sent, as Linux).
// Not implemented: urgent data (URG is ignored), PAWS, ECN, keep-alive, FIN-WAIT-2
// timeout, data carried on SYN segments (ignored, so the peer retransmits it), D-SACK,
// restart after idle, path MTU discovery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/l4/assembler.hpp"
#include "megzawicol/l4/congestion.hpp"
#include "megzawicol/l4/ring_buffer.hpp"
#include "megzawicol/l4/rtt.hpp"
#include "megzawicol/l4/scoreboard.hpp"
#include "megzawicol/l4/seq.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mz::l4 {

struct Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;
  /// "10.0.0.1:80"
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

struct TcpConfig {
  uint16_t mss = 1460;  // the MSS we announce (what we can receive)
  bool window_scale = true;
  bool sack = true;
  bool timestamps = false;
  uint32_t rcv_buf = 256 * 1024;  // receive buffer: bounds the window and out-of-order data
  uint32_t snd_buf = 256 * 1024;  // send buffer: unacknowledged plus unsent bytes
  Duration min_rto = Duration::millis(200);
  Duration initial_rto = Duration::seconds(1);
  Duration max_rto = Duration::seconds(120);
  /// After this many consecutive retransmission timeouts without progress (SND.UNA not
  /// advancing), the next expiry fails the connection with TimedOut; so a segment is sent
  /// at most 1 + max_retries times. Unanswered zero-window probes count the same way.
  int max_retries = 8;
  /// The SYN (or SYN-ACK) is sent at most 1 + max_syn_retries times.
  int max_syn_retries = 6;
  Duration time_wait = Duration::seconds(60);  // 2 MSL (Linux: 60 s)
  /// FIN-WAIT-2 without a word from the peer for this long closes the connection (Linux
  /// tcp_fin_timeout), so a peer that vanished after acknowledging our FIN cannot keep it
  /// forever. Every segment received in FIN-WAIT-2 restarts it.
  Duration fin_wait2_timeout = Duration::seconds(60);
  bool delayed_ack = true;
  Duration ack_delay = Duration::millis(40);
  uint32_t window_segments = 0;  // cap on bytes in flight in MSS units; 0 = no cap; 1 = stop-and-wait
  bool nagle = true;
  uint32_t initial_window_segments = 10;  // RFC 6928
};

enum class TcpState : uint8_t {
  Closed,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
};
/// "ESTABLISHED", "SYN-SENT", ... (RFC 9293 spelling).
const char* tcp_state_name(TcpState s);

enum class RetransmitReason : uint8_t { Timeout, Fast, Sack };
/// "timeout", "fast", "sack".
const char* retransmit_reason_name(RetransmitReason r);

namespace tcp_event {
struct Connected {};
struct Readable {};  // new in-order data (reported once until the next recv())
struct Writable {};  // send buffer space freed after a send() could not take everything
struct PeerFin {};   // the peer will send no more data (recv() returns what is left)
struct Closed {};    // normal end (after TIME-WAIT or LAST-ACK), or abort()
struct Reset {};     // the peer reset the connection (or refused it)
struct TimedOut {
  std::string message;  // e.g. "no ACK after 8 retransmissions"
};
struct StateChanged {
  TcpState from, to;
};
struct Retransmit {
  SeqNum seq;
  uint32_t len;  // sequence space: data bytes, plus SYN / FIN
  RetransmitReason reason;
};
struct CwndChanged {
  uint32_t cwnd, ssthresh;
};
struct RttSample {
  Duration rtt, srtt, rttvar, rto;
};
}  // namespace tcp_event

using TcpEvent = std::variant<tcp_event::Connected, tcp_event::Readable, tcp_event::Writable, tcp_event::PeerFin,
                              tcp_event::Closed, tcp_event::Reset, tcp_event::TimedOut, tcp_event::StateChanged,
                              tcp_event::Retransmit, tcp_event::CwndChanged, tcp_event::RttSample>;
/// "connected", "state SYN-SENT -> ESTABLISHED", "retransmit seq 1001 len 1460 (fast)", ...
std::string describe(const TcpEvent& e);

struct TcpStats {
  uint64_t segs_sent = 0, segs_received = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;  // payload bytes, retransmissions and duplicates included
  uint64_t bytes_acked = 0;                     // our payload bytes acknowledged by the peer
  uint64_t bytes_delivered = 0;                 // payload bytes put in order for recv()
  uint64_t retransmitted_segs = 0, retransmitted_bytes = 0;
  uint64_t timeouts = 0, fast_retransmits = 0, sack_retransmits = 0;
  uint64_t dup_acks_received = 0;
  uint64_t dup_bytes_received = 0;  // payload bytes received that we already had
  uint64_t out_of_order_segs = 0;
  uint64_t ooo_dropped_segs = 0;    // out-of-order segments refused (range bookkeeping full)
  uint64_t unacceptable_segs = 0;   // failed the acceptability test (answered with an ACK)
  uint64_t zero_window_probes = 0;
  uint64_t pure_acks_sent = 0;
  uint64_t rsts_sent = 0, rsts_received = 0;
  uint64_t rtt_samples = 0;
};

class TcpConnection {
 public:
  using State = TcpState;

  /// An outgoing segment. `payload` has kSegmentHeadroom bytes of headroom, so that the
  /// host can emit the TCP, IPv4 and Ethernet headers in front without copying.
  struct Segment {
    wire::TcpRepr repr;
    PacketBuf payload;
  };
  static constexpr size_t kSegmentHeadroom = 14 + wire::kIpv4MaxHeaderLen + wire::kTcpMaxHeaderLen;

  /// Active open: state SYN-SENT, a SYN with our options is ready to transmit.
  static TcpConnection connect(Time now, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn);
  /// Passive open from `syn` (a SYN without ACK that a listener received): state
  /// SYN-RECEIVED, the SYN-ACK is ready to transmit.
  static TcpConnection accept(Time now, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn,
                              const wire::TcpRepr& syn);

  // ---- driver side ----
  /// A segment from the peer (checksum verified by the caller); `payload` is read during
  /// the call only.
  void handle_segment(Time now, const wire::TcpRepr& seg, ByteView payload);
  /// The next segment to put on the wire, or nullopt.
  std::optional<Segment> poll_transmit(Time now);
  /// The earliest pending timer, or nullopt.
  std::optional<Time> poll_timeout() const;
  /// Runs the timers due at `now` (early calls do nothing).
  void handle_timeout(Time now);
  std::optional<TcpEvent> poll_event();

  // ---- application side ----
  /// Copies as much of `data` as the send buffer takes (in SYN-SENT, SYN-RECEIVED,
  /// ESTABLISHED and CLOSE-WAIT, before close()); returns the count, 0 if none.
  size_t send(ByteView data);
  /// Moves up to out.size() in-order bytes into `out`; returns the count.
  size_t recv(MutByteView out);
  size_t readable() const { return rcvbuf_.size(); }
  /// Bytes send() would accept now.
  size_t writable() const;
  /// Sends a FIN after the queued data (RFC 9293 3.10.4). In SYN-SENT: Closed at once.
  void close();
  /// Sends a RST (in synchronized states) and goes to Closed at once; queued data is lost.
  void abort();

  // ---- introspection ----
  State state() const { return state_; }
  const TcpStats& stats() const { return stats_; }
  const TcpConfig& config() const { return cfg_; }
  const Endpoint& local() const { return local_; }
  const Endpoint& remote() const { return remote_; }
  SeqNum iss() const { return iss_; }
  SeqNum snd_una() const { return snd_una_; }
  SeqNum snd_nxt() const { return snd_nxt_; }
  /// One past the highest sequence number ever sent.
  SeqNum snd_max() const { return snd_max_; }
  SeqNum rcv_nxt() const { return rcv_nxt_; }
  /// The peer's window in bytes (scaled).
  uint32_t snd_wnd() const { return snd_wnd_; }
  /// What we last advertised, in bytes.
  uint32_t rcv_wnd() const { return seq_dist(rcv_nxt_, rcv_adv_); }
  /// Payload bytes per segment, after the handshake.
  uint32_t mss() const { return mss_; }
  uint8_t snd_wscale() const { return snd_wscale_; }
  uint8_t rcv_wscale() const { return rcv_wscale_; }
  bool sack_enabled() const { return sack_ok_; }
  bool timestamps_enabled() const { return ts_ok_; }
  /// Bytes counted against cwnd now (the pipe during SACK recovery).
  uint32_t in_flight() const;
  /// Bytes in the send buffer (unacknowledged plus unsent).
  size_t send_queue() const { return sndbuf_.size(); }
  const NewReno& congestion() const { return cc_; }
  const RttEstimator& rtt() const { return rtt_; }
  const SackScoreboard& scoreboard() const { return sb_; }
  std::optional<Time> rto_deadline() const { return rto_at_; }
  std::optional<Time> persist_deadline() const { return persist_at_; }
  std::optional<Time> delayed_ack_deadline() const { return delack_at_; }
  std::optional<Time> time_wait_deadline() const { return timewait_at_; }

 private:
  TcpConnection(Time now, Endpoint local, Endpoint remote, const TcpConfig& cfg, uint32_t isn);

  bool synchronized() const;
  void set_state(State s);
  void enter_closed();
  void push_event(TcpEvent e);
  void apply_syn_options(const wire::TcpRepr& syn);
  void established(Time now);

  // input
  void handle_closed(const wire::TcpRepr& seg, size_t payload_len);
  void handle_syn_sent(Time now, const wire::TcpRepr& seg);
  bool acceptable(SeqNum seq, uint32_t seg_len) const;
  bool process_ack(Time now, const wire::TcpRepr& seg, uint32_t seg_len);
  void process_new_ack(Time now, const wire::TcpRepr& seg, SeqNum ack);
  void process_data(Time now, SeqNum seq, ByteView data);
  void process_fin(Time now);
  void rtt_sample(Duration rtt);
  void queue_rst(SeqNum seq, std::optional<SeqNum> ack);

  // output
  SeqNum data_seq() const;
  SeqNum data_end() const { return data_seq() + static_cast<uint32_t>(sndbuf_.size()); }
  uint32_t cap_window() const;
  std::optional<Segment> next_data_segment(Time now);
  Segment build(Time now, SeqNum seq, uint32_t data_len, uint8_t flags);
  Segment send_range(Time now, SeqNum seq, uint32_t max_len, std::optional<RetransmitReason> reason);
  uint16_t advertise();
  void arm_rto(Time now);
  void update_timers(Time now);
  Duration persist_interval() const;
  void fail(std::string why);
  void note_cwnd(uint32_t cwnd_before, uint32_t ssthresh_before);

  TcpConfig cfg_;
  Endpoint local_, remote_;
  State state_ = State::Closed;

  // send sequence space (RFC 9293 3.3.1); snd_max_ >= snd_nxt_ (go-back after a timeout)
  SeqNum iss_, snd_una_, snd_nxt_, snd_max_;
  uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0;
  SeqNum snd_wl1_, snd_wl2_;
  RingBuffer sndbuf_;
  bool fin_queued_ = false;  // close() called: FIN at fin_seq_ after the data
  SeqNum fin_seq_;
  bool syn_pending_ = false;  // (re)send the SYN / SYN-ACK
  bool syn_retransmitted_ = false;
  bool send_blocked_ = false;  // a send() was short: report Writable when space frees

  // receive sequence space
  SeqNum irs_, rcv_nxt_, rcv_adv_;
  RingBuffer rcvbuf_;
  Assembler asm_;
  std::optional<SeqNum> peer_fin_;  // FIN seen beyond a hole
  bool ack_now_ = false;
  uint32_t unacked_bytes_ = 0;  // in-order bytes received since our last ACK

  // negotiated
  uint32_t mss_;
  uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
  bool ws_ok_ = false, sack_ok_ = false, ts_ok_ = false;
  uint32_t ts_recent_ = 0;

  // timers and retransmission
  std::optional<Time> rto_at_, persist_at_, delack_at_, timewait_at_;
  int retries_ = 0;  // consecutive timeouts (or unanswered probes) without progress
  int persist_backoff_ = 0;
  bool probe_pending_ = false;
  RttEstimator rtt_;
  std::optional<std::pair<SeqNum, Time>> rtt_timed_;  // Karn: the one timed segment
  NewReno cc_;
  SackScoreboard sb_;
  SeqNum high_rxt_;                    // RFC 6675 HighRxt: retransmitted up to here in this recovery
  std::optional<SeqNum> rexmit_now_;   // fast retransmit / partial ACK: resend this at once
  bool timeout_rexmit_ = false;        // segments below snd_max_ now are timeout retransmissions

  std::deque<Segment> replies_;  // RSTs computed from a received segment (bounded)
  std::deque<TcpEvent> events_;
  bool readable_queued_ = false;
  TcpStats stats_;
  std::vector<wire::SackBlock> sack_scratch_;
};

}  // namespace mz::l4
