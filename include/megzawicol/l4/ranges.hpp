// A bounded set of disjoint sequence-number ranges, kept sorted and merged.
//
// The receiver uses it for the out-of-order data it holds (l4/assembler.hpp), the sender for
// what the peer has SACKed (l4/scoreboard.hpp). Storage is reserved once: inserting never
// allocates, and an insert that would need more than `max_ranges` ranges is refused.
// All ranges must lie within one window (< 2^31 bytes) of each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "megzawicol/l4/seq.hpp"

namespace mz::l4 {

struct SeqRange {
  SeqNum left;   // first sequence number held
  SeqNum right;  // one past the last
  uint32_t len() const { return seq_dist(left, right); }
  bool operator==(const SeqRange&) const = default;
};

class SeqRangeSet {
 public:
  explicit SeqRangeSet(size_t max_ranges = 32);

  /// Adds [left, right), merging with overlapping or adjacent ranges. Returns false (and
  /// changes nothing) if the set would then hold more than max_ranges ranges; an empty
  /// range is accepted and ignored.
  bool insert(SeqNum left, SeqNum right);
  /// Forgets everything below `s` (a range straddling `s` is cut).
  void remove_below(SeqNum s);
  void clear() { r_.clear(); }

  const std::vector<SeqRange>& ranges() const { return r_; }
  bool empty() const { return r_.empty(); }
  size_t size() const { return r_.size(); }
  size_t max_ranges() const { return max_; }
  /// Sum of the range lengths.
  uint64_t bytes() const;
  /// Bytes of [a, b) covered by the set.
  uint32_t covered(SeqNum a, SeqNum b) const;
  /// The range holding `s`, or nullptr.
  const SeqRange* find(SeqNum s) const;
  /// True if all of [a, b) is in the set (an empty [a, b) is).
  bool contains(SeqNum a, SeqNum b) const;

 private:
  size_t max_;
  std::vector<SeqRange> r_;
};

}  // namespace mz::l4
