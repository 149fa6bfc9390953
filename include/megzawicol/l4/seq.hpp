// TCP sequence numbers: 32-bit serial numbers (RFC 1982, RFC 9293 3.4).
//
// Sequence numbers wrap, so they are never compared as raw uint32_t. `a < b` means
// "b is ahead of a by less than 2^31": the signed 32-bit difference b - a is positive.
// Two numbers exactly 2^31 apart are unordered (RFC 1982 leaves them undefined): <, >,
// <= and >= are all false. That cannot arise inside one TCP window (at most 2^30
// bytes, RFC 7323).
#pragma once

#include <cstdint>
#include <string>

namespace mz::l4 {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(uint32_t v) : v_(v) {}

  constexpr uint32_t raw() const { return v_; }

  constexpr SeqNum operator+(uint32_t n) const { return SeqNum(v_ + n); }
  constexpr SeqNum operator-(uint32_t n) const { return SeqNum(v_ - n); }
  constexpr SeqNum& operator+=(uint32_t n) { v_ += n; return *this; }
  /// Signed distance from `o` to this number (this - o), in (-2^31, 2^31].
  constexpr int32_t operator-(SeqNum o) const { return static_cast<int32_t>(v_ - o.v_); }

  constexpr bool operator==(const SeqNum&) const = default;
  /// o is ahead of this number by 1 .. 2^31 - 1.
  constexpr bool operator<(SeqNum o) const { return o.v_ - v_ - 1u < 0x7fffffffu; }
  constexpr bool operator>(SeqNum o) const { return o < *this; }
  constexpr bool operator<=(SeqNum o) const { return *this == o || *this < o; }
  constexpr bool operator>=(SeqNum o) const { return *this == o || o < *this; }

  std::string to_string() const;

 private:
  uint32_t v_ = 0;
};

constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return a < b ? b : a; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return a < b ? a : b; }
/// Bytes from `from` up to `to`; 0 when `to` is not ahead of `from`.
constexpr uint32_t seq_dist(SeqNum from, SeqNum to) {
  return to > from ? static_cast<uint32_t>(to.raw() - from.raw()) : 0;
}
/// lo <= s < hi, in serial arithmetic.
constexpr bool seq_in(SeqNum s, SeqNum lo, SeqNum hi) { return lo <= s && s < hi; }

}  // namespace mz::l4
