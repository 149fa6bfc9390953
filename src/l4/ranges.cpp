#include "megzawicol/l4/ranges.hpp"

#include <algorithm>

namespace mz::l4 {

SeqRangeSet::SeqRangeSet(size_t max_ranges) : max_(std::max<size_t>(max_ranges, 1)) { r_.reserve(max_); }

bool SeqRangeSet::insert(SeqNum left, SeqNum right) {
  if (!(left < right)) return true;
  size_t i = 0;
  while (i < r_.size() && r_[i].right < left) ++i;  // first range ending at or after `left`
  size_t j = i;
  while (j < r_.size() && r_[j].left <= right) ++j;  // ranges [i, j) touch [left, right)
  if (i == j) {
    if (r_.size() >= max_) return false;
    r_.insert(r_.begin() + static_cast<std::ptrdiff_t>(i), SeqRange{left, right});
    return true;
  }
  r_[i].left = seq_min(r_[i].left, left);
  r_[i].right = seq_max(r_[j - 1].right, right);
  r_.erase(r_.begin() + static_cast<std::ptrdiff_t>(i + 1), r_.begin() + static_cast<std::ptrdiff_t>(j));
  return true;
}

void SeqRangeSet::remove_below(SeqNum s) {
  size_t k = 0;
  while (k < r_.size() && r_[k].right <= s) ++k;
  r_.erase(r_.begin(), r_.begin() + static_cast<std::ptrdiff_t>(k));
  if (!r_.empty() && r_.front().left < s) r_.front().left = s;
}

uint64_t SeqRangeSet::bytes() const {
  uint64_t n = 0;
  for (const SeqRange& x : r_) n += x.len();
  return n;
}

uint32_t SeqRangeSet::covered(SeqNum a, SeqNum b) const {
  uint32_t n = 0;
  for (const SeqRange& x : r_) {
    if (!(x.left < b)) break;
    n += seq_dist(seq_max(a, x.left), seq_min(b, x.right));
  }
  return n;
}

const SeqRange* SeqRangeSet::find(SeqNum s) const {
  for (const SeqRange& x : r_) {
    if (x.left <= s && s < x.right) return &x;
    if (s < x.left) break;
  }
  return nullptr;
}

bool SeqRangeSet::contains(SeqNum a, SeqNum b) const {
  if (!(a < b)) return true;
  const SeqRange* x = find(a);
  return x && b <= x->right;
}

}  // namespace mz::l4
