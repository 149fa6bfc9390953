#include "megzawicol/l4/congestion.hpp"

#include <algorithm>

namespace mz::l4 {

NewReno::NewReno(uint32_t mss, SeqNum iss, uint32_t initial_segments, bool sack)
    : mss_(std::max<uint32_t>(mss, 1)),
      initial_segments_(std::max<uint32_t>(initial_segments, 1)),
      sack_(sack),
      cwnd_(mss_ * initial_segments_),
      recover_(iss) {}

void NewReno::set_mss(uint32_t mss, bool sack) {
  mss_ = std::max<uint32_t>(mss, 1);
  sack_ = sack;
  if (!anything_acked_) cwnd_ = mss_ * initial_segments_;
}

NewReno::Outcome NewReno::on_new_ack(SeqNum ack, uint32_t acked, uint32_t flight_after) {
  Outcome o;
  anything_acked_ = true;
  dupacks_ = 0;
  if (in_recovery_) {
    if (ack > recover_) {  // full acknowledgment
      in_recovery_ = false;
      o.recovery_ended = true;
      cwnd_ = std::min(ssthresh_, std::max(flight_after, mss_) + mss_);
      ca_acked_ = 0;
    } else {  // partial acknowledgment
      o.partial_ack = true;
      o.first_partial = !partial_seen_;
      partial_seen_ = true;
      if (!sack_) {
        cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
        if (acked >= mss_) cwnd_ += mss_;
        cwnd_ = std::max(cwnd_, mss_);
      }
    }
    return o;
  }
  if (cwnd_ < ssthresh_) {  // slow start
    const uint32_t grow = std::min({acked, 2 * mss_, ssthresh_ - cwnd_});
    cwnd_ = std::min(cwnd_ + grow, kMaxCwnd);
    acked -= std::min(acked, grow);
    if (cwnd_ < ssthresh_) return o;
  }
  ca_acked_ += acked;
  if (ca_acked_ >= cwnd_) {
    ca_acked_ -= cwnd_;
    cwnd_ = std::min(cwnd_ + mss_, kMaxCwnd);
    ca_acked_ = std::min(ca_acked_, cwnd_);  // at most one more increase per ACK
  }
  return o;
}

NewReno::Outcome NewReno::on_dup_ack(SeqNum ack, uint32_t flight, SeqNum snd_max) {
  Outcome o;
  if (in_recovery_) {
    if (!sack_) cwnd_ = std::min(cwnd_ + mss_, kMaxCwnd);  // RFC 5681 3.2 step 4: inflation
    return o;
  }
  ++dupacks_;
  if (dupacks_ != kDupThresh) return o;
  // RFC 6582 3.2 step 2: after a timeout, duplicate ACKs that do not cover `recover`
  // may come from retransmitted segments the receiver already had: no fast retransmit.
  if (!(ack > recover_)) return o;
  in_recovery_ = true;
  partial_seen_ = false;
  recover_ = snd_max - 1;
  ssthresh_ = std::max(flight / 2, 2 * mss_);
  cwnd_ = sack_ ? ssthresh_ : std::min(ssthresh_ + kDupThresh * mss_, kMaxCwnd);
  ca_acked_ = 0;
  o.fast_retransmit = true;
  return o;
}

void NewReno::on_timeout(uint32_t flight, SeqNum snd_max, bool first) {
  if (first) ssthresh_ = std::max(flight / 2, 2 * mss_);
  cwnd_ = mss_;
  recover_ = snd_max - 1;
  in_recovery_ = false;
  dupacks_ = 0;
  ca_acked_ = 0;
}

}  // namespace mz::l4
