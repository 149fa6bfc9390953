// Receiver side of out-of-order data: which ranges above RCV.NXT are held, and the SACK
// blocks that describe them (RFC 2018 4).
//
// The bytes themselves live in the connection's receive RingBuffer, written ahead of the
// in-order data; the Assembler only records where. It holds at most `max_ranges` separate
// ranges: a segment that would open one more is refused (the caller drops it, and the peer
// retransmits it later), so the bookkeeping is bounded whatever arrives.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "megzawicol/l4/ranges.hpp"
#include "megzawicol/l4/seq.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mz::l4 {

class Assembler {
 public:
  explicit Assembler(size_t max_ranges = 32) : set_(max_ranges) {}

  /// Records out-of-order data [left, right) (left > RCV.NXT). False if refused (too many ranges).
  bool add(SeqNum left, SeqNum right);
  /// RCV.NXT has reached `nxt` with in-order data: returns how far the held data now extends
  /// it (`nxt` itself when the first range does not start at or below it), and forgets
  /// everything below the returned value.
  SeqNum advance(SeqNum nxt);
  /// The SACK blocks to send, at most `max`: first the range holding the most recently
  /// received segment, then the ranges of the segments received before it (most recent
  /// first), then the others from the highest down.
  void sack_blocks(std::vector<wire::SackBlock>& out, size_t max) const;

  bool empty() const { return set_.empty(); }
  const SeqRangeSet& ranges() const { return set_; }
  /// True if [left, right) is held already.
  bool contains(SeqNum left, SeqNum right) const { return set_.contains(left, right); }
  void clear();

 private:
  SeqRangeSet set_;
  std::array<SeqNum, 4> recent_{};  // starts of the most recently received segments
  size_t recent_n_ = 0;
};

}  // namespace mz::l4
