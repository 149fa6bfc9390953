#include "megzawicol/l4/scoreboard.hpp"

#include "megzawicol/l4/congestion.hpp"

namespace mz::l4 {

bool SackScoreboard::update(std::span<const wire::SackBlock> blocks, SeqNum una, SeqNum snd_max) {
  bool fresh = false;
  for (const wire::SackBlock& b : blocks) {
    SeqNum l(b.left), r(b.right);
    if (!(l < r) || r <= una || l >= snd_max) continue;
    l = seq_max(l, una);
    r = seq_min(r, snd_max);
    if (set_.contains(l, r)) continue;
    if (set_.insert(l, r)) fresh = true;
  }
  return fresh;
}

SeqNum SackScoreboard::skip_sacked(SeqNum s) const {
  const SeqRange* r = set_.find(s);
  return r ? r->right : s;
}

SeqNum SackScoreboard::unsacked_end(SeqNum s, SeqNum limit) const {
  for (const SeqRange& r : set_.ranges())
    if (r.left > s) return seq_min(r.left, limit);
  return limit;
}

SeqNum SackScoreboard::high_sacked(SeqNum una) const {
  return set_.empty() ? una : seq_max(una, set_.ranges().back().right);
}

SeqNum SackScoreboard::lost_edge(uint32_t mss, SeqNum una) const {
  const uint64_t threshold = uint64_t{NewReno::kDupThresh - 1} * mss;
  uint64_t above = 0;
  const auto& rs = set_.ranges();
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) {
    above += it->len();
    if (above > threshold) return seq_max(una, it->left);
  }
  return una;
}

uint32_t SackScoreboard::pipe(SeqNum una, SeqNum snd_max, SeqNum high_rxt, uint32_t mss) const {
  const SeqNum lost = lost_edge(mss, una);
  // Not SACKed and not lost: [lost, snd_max) minus what is SACKed there.
  uint32_t p = seq_dist(lost, snd_max) - set_.covered(lost, snd_max);
  // Lost but retransmitted: [una, min(high_rxt, lost)) minus what is SACKed there.
  const SeqNum rx = seq_min(seq_max(high_rxt, una), lost);
  p += seq_dist(una, rx) - set_.covered(una, rx);
  return p;
}

}  // namespace mz::l4
