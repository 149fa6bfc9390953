// Retransmission timer computation (RFC 6298).
//
// Until the first sample the RTO is `initial_rto` (1 s, RFC 6298 2.1). The first
// measurement R sets SRTT = R, RTTVAR = R/2 (2.2); each later one R' sets
//   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|,  SRTT = 7/8 SRTT + 1/8 R'   (2.3, in that order)
// and RTO = SRTT + max(G, K * RTTVAR) with K = 4, G the clock granularity, then clamped to
// [min_rto, max_rto] (2.4, 2.5). All arithmetic is in integer nanoseconds (each division
// truncates).
//
// min_rto is 200 ms by default as in Linux (TCP_RTO_MIN); RFC 6298 asks for 1 s. Linux
// applies its floor to the variance term (RTO = SRTT + max(200 ms, 4 * RTTVAR)); this
// estimator applies it to the whole RTO as the RFC does.
//
// backoff() doubles the RTO up to max_rto (5.5); the next sample recomputes it from SRTT
// and RTTVAR, which ends the backoff. Karn's rule (no samples from retransmitted
// segments, unless timestamps make them unambiguous) is the caller's job.
#pragma once

#include <optional>

#include "megzawicol/core/time.hpp"

namespace mz::l4 {

struct RttConfig {
  Duration initial_rto = Duration::seconds(1);
  Duration min_rto = Duration::millis(200);
  Duration max_rto = Duration::seconds(120);
  Duration granularity = Duration::millis(1);  // G
};

class RttEstimator {
 public:
  explicit RttEstimator(RttConfig cfg = {});

  /// Feeds one measurement (negative values count as 0) and recomputes the RTO.
  void sample(Duration rtt);
  /// Doubles the RTO (clamped to max_rto) after a retransmission timeout.
  void backoff();
  /// Sets the RTO while there is no sample yet (RFC 6298 5.7: 3 s after a retransmitted
  /// SYN); ignored once a sample exists.
  void set_rto_without_samples(Duration rto);

  Duration rto() const { return rto_; }
  bool has_sample() const { return srtt_.has_value(); }
  /// Smoothed RTT, zero before the first sample.
  Duration srtt() const { return srtt_.value_or(Duration::zero()); }
  Duration rttvar() const { return rttvar_; }
  /// Consecutive backoffs since the last sample.
  int backoffs() const { return backoffs_; }
  const RttConfig& config() const { return cfg_; }

 private:
  Duration clamp(Duration d) const;

  RttConfig cfg_;
  std::optional<Duration> srtt_;
  Duration rttvar_ = Duration::zero();
  Duration rto_;
  int backoffs_ = 0;
};

}  // namespace mz::l4
