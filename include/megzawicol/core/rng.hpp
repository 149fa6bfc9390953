// Seeded, portable random streams (xoshiro256** seeded through SplitMix64).
//
// Every consumer (a link direction, a node, an application) owns its own stream,
// derived from the scenario seed and a stable name, so that adding a node does not
// shift the draws of another. The distributions are written here, not taken from
// <random>, whose distributions differ between standard libraries: the same seed
// gives the same draws everywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace mz {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  /// A stream for `name` under the run's `seed` ("link:a:eth0>b:eth0", "node:a", ...).
  static Rng stream(uint64_t seed, std::string_view name);

  uint64_t next_u64() {  // xoshiro256**; inline: bulk streams draw one per 8 bytes
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform01();
  /// Uniform integer in [lo, hi] (inclusive), unbiased: rejection of the top (2^64 mod n)
  /// values of next_u64(), then r mod n (n = hi - lo + 1).
  uint64_t uniform_int(uint64_t lo, uint64_t hi) {
    // The common case inline: the same range as the last call, and a draw below
    // UINT64_MAX - n + 1, which is always under the rejection limit. r mod n by the cached
    // 128-bit reciprocal (Lemire, Kaser, Kurz: "Faster remainder by direct computation",
    // 2019), exact for all 64-bit r and n.
    if (hi <= lo) return lo;
    const uint64_t n = hi - lo + 1;  // 0 for the full 64-bit range
    const uint64_t r = next_u64();
    if (n == mod_n_ && r <= UINT64_MAX - n) [[likely]] {
      const U128 low = ((static_cast<U128>(mod_m_hi_) << 64) | mod_m_lo_) * r;
      const U128 bottom = (static_cast<U128>(static_cast<uint64_t>(low)) * n) >> 64;
      const U128 top = static_cast<U128>(static_cast<uint64_t>(low >> 64)) * n;
      return lo + static_cast<uint64_t>((bottom + top) >> 64);
    }
    return uniform_int_slow(lo, hi, r);
  }
  /// True with probability p (p <= 0: never, p >= 1: always).
  bool bernoulli(double p);
  /// Number of failures before the first success of a Bernoulli(p) trial sequence,
  /// i.e. the gap between two bit errors at bit error rate p. p must be in (0, 1].
  uint64_t geometric(double p);
  /// Exponential with the given mean (> 0).
  double exponential(double mean);
  /// Fills `n` bytes at `out`.
  void fill(uint8_t* out, size_t n);

 private:
  __extension__ using U128 = unsigned __int128;
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  // Any range, any draw; `r` is the first draw (already taken).
  uint64_t uniform_int_slow(uint64_t lo, uint64_t hi, uint64_t r);

  uint64_t s_[4];
  // uniform_int's cached reciprocal of its last range size n >= 2 (1: none yet).
  uint64_t mod_n_ = 1;
  uint64_t mod_m_lo_ = 0, mod_m_hi_ = 0;
};

/// FNV-1a 64-bit: stable name hashing for stream derivation.
uint64_t fnv1a64(std::string_view s);

}  // namespace mz
