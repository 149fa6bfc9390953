#include "megzawicol/l1/bit_errors.hpp"

namespace mz::l1 {

BitErrorInjector::BitErrorInjector(double ber, Rng rng)
    : ber_(ber > 0 ? (ber < 1 ? ber : 1.0) : 0.0), rng_(rng) {
  if (ber_ > 0) gap_ = rng_.geometric(ber_);
}

uint32_t BitErrorInjector::apply(uint8_t* bits, size_t nbits, std::vector<uint32_t>* positions) {
  bits_seen_ += nbits;
  if (ber_ == 0) return 0;
  uint32_t flipped = 0;
  size_t cur = 0;  // first bit of this call not yet covered by the gap
  while (gap_ < nbits - cur) {
    const size_t p = cur + static_cast<size_t>(gap_);
    bits[p >> 3] ^= static_cast<uint8_t>(0x80u >> (p & 7));
    if (positions) positions->push_back(static_cast<uint32_t>(p));
    ++flipped;
    cur = p + 1;
    gap_ = rng_.geometric(ber_);
  }
  gap_ -= nbits - cur;
  errors_ += flipped;
  return flipped;
}

}  // namespace mz::l1
