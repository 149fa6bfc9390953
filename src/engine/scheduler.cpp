#include "megzawicol/engine/scheduler.hpp"

#include <bit>

namespace mz::engine {

namespace {

/// First set bit among `n` words, or -1.
inline int first_set(const uint64_t* w, int n) {
  for (int i = 0; i < n; ++i)
    if (w[i] != 0) return i * 64 + std::countr_zero(w[i]);
  return -1;
}

}  // namespace

inline __attribute__((always_inline)) void Scheduler::file(const Entry& e) {
  const auto x = static_cast<uint64_t>(e.t ^ cur_);
  int li;
  if (x < kSlots0) {
    li = static_cast<int>(static_cast<uint64_t>(e.t) & (kSlots0 - 1));
  } else {
    const int level = 1 + (63 - std::countl_zero(x) - kBits0) / 8;
    const int shift = kBits0 + 8 * (level - 1);
    li = kSlots0 + (level - 1) * kSlots + static_cast<int>((static_cast<uint64_t>(e.t) >> shift) & 0xFF);
  }
  List& l = lists_[static_cast<size_t>(li)];
  if (l.pos == l.v.size()) {
    bits_[li >> 6] |= uint64_t{1} << (li & 63);
    if (li < kSlots0) summary0_ |= uint64_t{1} << (li >> 6);
  }
  l.v.push_back(e);
}

inline __attribute__((always_inline)) void Scheduler::take_front(List& l, int li) {
  if (++l.pos == l.v.size()) {
    l.v.clear();
    l.pos = 0;
    if ((bits_[li >> 6] &= ~(uint64_t{1} << (li & 63))) == 0 && li < kSlots0) summary0_ &= ~(uint64_t{1} << (li >> 6));
  }
}

void Scheduler::rebase(int64_t new_cur) {
  // Rare: an event is scheduled before the cursor (the cursor moved ahead while peeking at
  // an event beyond a run_until limit). Re-file everything relative to the new cursor;
  // each time's events share one list, so visiting lists in order keeps their order.
  std::vector<Entry> all;
  for (List& l : lists_) {
    for (size_t i = l.pos; i < l.v.size(); ++i)
      if (gen_[l.v[i].slot] == l.v[i].gen) all.push_back(l.v[i]);
    l.v.clear();
    l.pos = 0;
  }
  for (auto& w : bits_) w = 0;
  summary0_ = 0;
  cur_ = new_cur;
  for (const Entry& e : all) file(e);
  stale_ = 0;
}

EventId Scheduler::enqueue(Time t) {
  if (t < now_) t = now_;
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(gen_.size());
    gen_.push_back(0);
    if ((slot >> kChunkBits) == chunks_.size()) chunks_.push_back(std::make_unique<Callback[]>(size_t{1} << kChunkBits));
  }
  const uint32_t gen = ++gen_[slot];  // odd: pending
  ++live_;
  if (t.ns < cur_) rebase(t.ns);
  file(Entry{t.ns, slot, gen});
  return EventId{slot, gen};
}

void Scheduler::release(uint32_t slot) {
  ++gen_[slot];  // even: free
  --live_;
  free_.push_back(slot);
}

bool Scheduler::cancel(EventId id) {
  if (!is_pending(id)) return false;
  cb_at(id.slot) = nullptr;
  release(id.slot);
  // The entry stays in its list until its time comes. A model that keeps re-arming a far
  // timer would pile them up: past a bound, compact (drop every cancelled entry).
  if (++stale_ > 2 * live_ + 4096) rebase(cur_);
  return true;
}

size_t Scheduler::queued_entries() const {
  size_t n = 0;
  for (const List& l : lists_) n += l.v.size() - l.pos;
  return n;
}

bool Scheduler::is_pending(EventId id) const {
  return id.valid() && id.slot < gen_.size() && gen_[id.slot] == id.gen && (id.gen & 1) != 0;
}

Scheduler::List* Scheduler::next_list() {
  for (;;) {
    while (summary0_ != 0) {
      const int w = std::countr_zero(summary0_);
      const int s0 = w * 64 + std::countr_zero(bits_[w]);
      List& l = lists_[static_cast<size_t>(s0)];
      const Entry& e = l.v[l.pos];
      if (gen_[e.slot] == e.gen) return &l;
      take_front(l, s0);  // a cancelled event's entry
      --stale_;
    }
    int level = 1;
    int slot = -1;
    for (; level < kLevels; ++level)
      if ((slot = first_set(&bits_[kWords0 + (level - 1) * 4], 4)) >= 0) break;
    if (level == kLevels) return nullptr;
    // Enter that slot's block: the cursor moves to its start, its entries are re-filed.
    const int shift = kBits0 + 8 * (level - 1);
    const uint64_t above = shift + 8 >= 64 ? 0 : ~((uint64_t{1} << (shift + 8)) - 1);
    cur_ = static_cast<int64_t>((static_cast<uint64_t>(cur_) & above) | (static_cast<uint64_t>(slot) << shift));
    const int li = kSlots0 + (level - 1) * kSlots + slot;
    List& l = lists_[static_cast<size_t>(li)];
    std::vector<Entry> moving;
    moving.swap(l.v);
    const size_t from = l.pos;
    l.pos = 0;
    bits_[li >> 6] &= ~(uint64_t{1} << (li & 63));
    for (size_t i = from; i < moving.size(); ++i) file(moving[i]);
    // Give the (emptied) buffer back so that steady state allocates nothing.
    moving.clear();
    if (l.v.empty()) l.v.swap(moving);
  }
}

bool Scheduler::step(Time limit) {
  if (event_limit_reached()) return false;
  List* l = next_list();
  if (l == nullptr) return false;
  const Entry e = l->v[l->pos];
  if (e.t > limit.ns) return false;
  // Events of one time are many when the queue is large: fetch the callback a few entries
  // ahead, whose slot is otherwise a cache miss (slots are reused in no particular order).
  if (l->pos + 4 < l->v.size()) {
    const uint32_t ahead = l->v[l->pos + 4].slot;
    __builtin_prefetch(&cb_at(ahead));
    __builtin_prefetch(&gen_[ahead]);
  }
  take_front(*l, static_cast<int>(l - lists_.data()));
  // And the next event's callback, found through the level-0 bitmap (a small queue has
  // about one event per list, so the look-ahead above rarely applies).
  if (l->pos < l->v.size()) {
    __builtin_prefetch(&cb_at(l->v[l->pos].slot));
  } else if (summary0_ != 0) {
    const int w = std::countr_zero(summary0_);
    const List& nl = lists_[static_cast<size_t>(w * 64 + std::countr_zero(bits_[w]))];
    __builtin_prefetch(&cb_at(nl.v[nl.pos].slot));
  }
  now_ = Time{e.t};
  last_ = now_;
  ++gen_[e.slot];  // no longer pending; the slot is reused only once the callback is done
  --live_;
  ++executed_;
  Callback& cb = cb_at(e.slot);
  cb();
  cb = nullptr;
  free_.push_back(e.slot);
  return true;
}

void Scheduler::run() {
  stopped_ = false;
  while (!stopped_ && step(Time::max())) {
  }
}

void Scheduler::run_until(Time t) {
  stopped_ = false;
  while (!stopped_ && step(t)) {
  }
  if (!stopped_ && now_ < t) now_ = t;
}

}  // namespace mz::engine
