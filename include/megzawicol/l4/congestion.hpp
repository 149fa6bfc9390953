// NewReno congestion control (RFC 5681, RFC 6582), with the RFC 6675 variant of fast
// recovery for SACK connections.
//
// Windows are in bytes. The controller only keeps cwnd, ssthresh and the recovery state;
// the connection decides what to send, counts duplicate ACKs by the RFC 5681 definition
// and reports them here, and applies the extra caps (peer window, window_segments).
//
//   - Initial window: 10 segments (RFC 6928, as Linux). ssthresh starts "arbitrarily high".
//   - Slow start (cwnd < ssthresh): cwnd += min(acked, 2 * MSS) per ACK (RFC 3465 L = 2),
//     not beyond ssthresh; the rest of the ACK counts for congestion avoidance (as Linux).
//   - Congestion avoidance: appropriate byte counting (RFC 3465, RFC 5681 3.1): acked bytes
//     accumulate and cwnd grows by one MSS per cwnd bytes acknowledged.
//   - Third duplicate ACK: if the ACK covers more than `recover` (RFC 6582 3.2 step 2),
//     fast retransmit: recover = highest sequence number sent, ssthresh = max(FlightSize/2,
//     2 * MSS) and
//       NewReno: cwnd = ssthresh + 3 * MSS, + 1 MSS per further duplicate ACK (inflation);
//       SACK (RFC 6675 5): cwnd = ssthresh; the sender limits itself by its `pipe`.
//   - Partial ACK (new data, not beyond recover), RFC 6582 3.2 step 5: the connection
//     retransmits the first unacknowledged segment; NewReno deflates cwnd by the amount
//     acknowledged, adding back one MSS if that was at least one MSS. `first_partial` tells
//     the connection to restart its RTO timer (the "impatient" variant the RFC recommends).
//   - Full ACK (beyond recover): cwnd = min(ssthresh, max(FlightSize, MSS) + MSS) (RFC 6582
//     3.2 step 3, option 1), recovery ends.
//   - Retransmission timeout: the first one for a segment sets ssthresh = max(FlightSize/2,
//     2 * MSS) (RFC 5681 eq. 4; later backoffs keep it), cwnd = 1 MSS, recover = highest
//     sequence number sent, recovery ends (RFC 6582 3.2 step 4).
// Not done: restart after idle (RFC 5681 4.1), limited transmit (RFC 3042), undo of
// spurious retransmissions.
#pragma once

#include <cstdint>

#include "megzawicol/l4/seq.hpp"

namespace mz::l4 {

class NewReno {
 public:
  static constexpr uint32_t kDupThresh = 3;
  static constexpr uint32_t kInitialSsthresh = 0x7fffffff;
  /// cwnd never grows beyond this (the largest window RFC 7323 allows).
  static constexpr uint32_t kMaxCwnd = 1u << 30;

  /// `iss`: our initial sequence number (the first value of `recover`).
  NewReno(uint32_t mss, SeqNum iss, uint32_t initial_segments = 10, bool sack = false);

  /// Sets the MSS once the handshake has fixed it; resets cwnd to the initial window while
  /// no data has been acknowledged yet.
  void set_mss(uint32_t mss, bool sack);

  struct Outcome {
    bool fast_retransmit = false;  // retransmit the first unacknowledged segment now
    bool partial_ack = false;      // retransmit the first unacknowledged segment now
    bool first_partial = false;    // ... and restart the RTO timer
    bool recovery_ended = false;
  };

  /// An ACK acknowledging `acked` (> 0) new bytes up to `ack`; `flight_after` bytes remain
  /// outstanding after it.
  Outcome on_new_ack(SeqNum ack, uint32_t acked, uint32_t flight_after);
  /// A duplicate ACK for `ack` (RFC 5681 2). `flight`: bytes outstanding; `snd_max`: one
  /// past the highest sequence number sent.
  Outcome on_dup_ack(SeqNum ack, uint32_t flight, SeqNum snd_max);
  /// The retransmission timer expired; `first`: the first expiry for this segment.
  void on_timeout(uint32_t flight, SeqNum snd_max, bool first);

  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  uint32_t mss() const { return mss_; }
  bool in_recovery() const { return in_recovery_; }
  bool sack() const { return sack_; }
  /// The highest sequence number sent when recovery (or the last timeout) began.
  SeqNum recover() const { return recover_; }
  uint32_t dup_acks() const { return dupacks_; }

 private:
  uint32_t mss_;
  uint32_t initial_segments_;
  bool sack_;
  uint32_t cwnd_;
  uint32_t ssthresh_ = kInitialSsthresh;
  SeqNum recover_;
  bool in_recovery_ = false;
  bool partial_seen_ = false;
  bool anything_acked_ = false;
  uint32_t dupacks_ = 0;
  uint32_t ca_acked_ = 0;  // bytes counted towards the next congestion-avoidance increase
};

}  // namespace mz::l4
