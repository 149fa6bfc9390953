// Sender side of SACK (RFC 2018, RFC 6675): what the peer has reported holding above
// SND.UNA.
//
// Extent: a bounded list of SACKed ranges (the peer's blocks, clipped to (SND.UNA,
// SND.MAX]), used to
//   - never retransmit SACKed bytes (fast retransmit, recovery, and after a timeout, as
//     Linux keeps SACK information across an RTO; RFC 2018 8 would clear it);
//   - decide what is lost (lost_edge(): the RFC 6675 IsLost rule approximated per range);
//   - estimate the data in flight during recovery (pipe(), RFC 6675 4).
// No D-SACK (RFC 2883), no reneging detection: if the peer discards SACKed data, the
// retransmission timer recovers it once SND.UNA stalls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "megzawicol/l4/ranges.hpp"
#include "megzawicol/l4/seq.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mz::l4 {

class SackScoreboard {
 public:
  explicit SackScoreboard(size_t max_ranges = 32) : set_(max_ranges) {}

  /// Adds the peer's blocks, each clipped to [una, snd_max); blocks at or below `una`
  /// (D-SACK) or inverted are ignored. Returns true if anything new was SACKed.
  bool update(std::span<const wire::SackBlock> blocks, SeqNum una, SeqNum snd_max);
  /// SND.UNA moved to `una`: forgets what it covers.
  void advance(SeqNum una) { set_.remove_below(una); }
  void clear() { set_.clear(); }

  bool empty() const { return set_.empty(); }
  const SeqRangeSet& ranges() const { return set_; }
  bool is_sacked(SeqNum s) const { return set_.find(s) != nullptr; }
  /// The first sequence number >= s that is not SACKed.
  SeqNum skip_sacked(SeqNum s) const;
  /// Where the un-SACKed run starting at `s` ends: the next SACKed range's left edge, or
  /// `limit` if that comes first.
  SeqNum unsacked_end(SeqNum s, SeqNum limit) const;
  /// One past the highest SACKed sequence number, or `una` when nothing is SACKed.
  SeqNum high_sacked(SeqNum una) const;
  /// Every un-SACKed byte below the returned edge counts as lost: the left edge of the
  /// highest range that has more than (DupThresh - 1) * mss SACKed bytes at or above it
  /// (RFC 6675 IsLost, decided per range). `una` when nothing is lost.
  SeqNum lost_edge(uint32_t mss, SeqNum una) const;
  /// RFC 6675 4 "pipe": bytes of [una, snd_max) neither SACKed nor lost, plus lost bytes
  /// already retransmitted (below `high_rxt`).
  uint32_t pipe(SeqNum una, SeqNum snd_max, SeqNum high_rxt, uint32_t mss) const;

 private:
  SeqRangeSet set_;
};

}  // namespace mz::l4
