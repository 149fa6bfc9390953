// Bit errors on a link: independent bit flips at a given bit error rate (BER).
//
// Instead of drawing a random number per bit, the injector draws the gap to the next
// error from the geometric distribution (the number of good bits before the next bad one)
// and jumps straight to it, so its cost is per error, not per bit: 1e9 bits at BER 1e-6
// cost about a thousand draws. The remaining gap is carried from one call to the next (a
// frame boundary does not reset it), so cutting a bit stream into frames does not change
// which bits of it are flipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "megzawicol/core/rng.hpp"

namespace mz::l1 {

class BitErrorInjector {
 public:
  /// `ber` in [0, 1] (values <= 0 or NaN mean no errors, values > 1 mean 1).
  BitErrorInjector(double ber, Rng rng);

  /// Flips bits of `bits` (packed MSB first, as in LineBits) among the first `nbits`.
  /// Appends the positions flipped (relative to `bits`, increasing) to `positions` if
  /// given; positions are 32-bit, so calls that record them take at most 2^32 bits.
  /// Returns the number of bits flipped. With ber == 0 it never flips and never draws.
  uint32_t apply(uint8_t* bits, size_t nbits, std::vector<uint32_t>* positions = nullptr);

  double ber() const { return ber_; }
  uint64_t bits_seen() const { return bits_seen_; }
  uint64_t errors() const { return errors_; }
  /// The random stream (for tests: its state shows whether anything was drawn).
  const Rng& rng() const { return rng_; }

 private:
  double ber_;
  Rng rng_;
  uint64_t gap_ = 0;  // good bits left before the next error
  uint64_t bits_seen_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace mz::l1
