#include "megzawicol/l4/assembler.hpp"

#include <algorithm>

namespace mz::l4 {

bool Assembler::add(SeqNum left, SeqNum right) {
  if (!set_.insert(left, right)) return false;
  // Move `left` to the front of the recency list.
  size_t k = 0;
  while (k < recent_n_ && !(recent_[k] == left)) ++k;
  if (k == recent_n_) k = std::min(recent_n_, recent_.size() - 1);
  else recent_n_--;
  for (size_t m = k; m > 0; --m) recent_[m] = recent_[m - 1];
  recent_[0] = left;
  recent_n_ = std::min(recent_n_ + 1, recent_.size());
  return true;
}

SeqNum Assembler::advance(SeqNum nxt) {
  if (!set_.empty() && set_.ranges().front().left <= nxt) nxt = seq_max(nxt, set_.ranges().front().right);
  set_.remove_below(nxt);
  // Recent entries now below RCV.NXT are no longer reported.
  size_t w = 0;
  for (size_t k = 0; k < recent_n_; ++k)
    if (recent_[k] >= nxt) recent_[w++] = recent_[k];
  recent_n_ = w;
  return nxt;
}

void Assembler::sack_blocks(std::vector<wire::SackBlock>& out, size_t max) const {
  out.clear();
  auto push = [&](const SeqRange& r) {
    if (out.size() >= max) return;
    for (const wire::SackBlock& b : out)
      if (b.left == r.left.raw()) return;
    out.push_back({r.left.raw(), r.right.raw()});
  };
  for (size_t k = 0; k < recent_n_; ++k)
    if (const SeqRange* r = set_.find(recent_[k])) push(*r);
  const auto& rs = set_.ranges();
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) push(*it);
}

void Assembler::clear() {
  set_.clear();
  recent_n_ = 0;
}

}  // namespace mz::l4
