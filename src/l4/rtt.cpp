#include "megzawicol/l4/rtt.hpp"

#include <algorithm>

namespace mz::l4 {

RttEstimator::RttEstimator(RttConfig cfg) : cfg_(cfg), rto_(clamp(cfg.initial_rto)) {}

Duration RttEstimator::clamp(Duration d) const { return std::clamp(d, cfg_.min_rto, cfg_.max_rto); }

void RttEstimator::sample(Duration r) {
  r = std::max(r, Duration::zero());
  if (!srtt_) {
    srtt_ = r;
    rttvar_ = r / 2;
  } else {
    const Duration err = *srtt_ > r ? *srtt_ - r : r - *srtt_;
    rttvar_ = rttvar_ - rttvar_ / 4 + err / 4;
    *srtt_ = *srtt_ - *srtt_ / 8 + r / 8;
  }
  rto_ = clamp(*srtt_ + std::max(cfg_.granularity, rttvar_ * 4));
  backoffs_ = 0;
}

void RttEstimator::backoff() {
  rto_ = rto_ > cfg_.max_rto / 2 ? cfg_.max_rto : rto_ * 2;
  ++backoffs_;
}

void RttEstimator::set_rto_without_samples(Duration rto) {
  if (!srtt_) {
    rto_ = clamp(rto);
    backoffs_ = 0;
  }
}

}  // namespace mz::l4
