#include "megzawicol/engine/scheduler.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace mz::engine {

namespace {

/// First set bit among `n` words, or -1.
inline int first_set(const uint64_t* w, int n) {
  for (int i = 0; i < n; ++i)
    if (w[i] != 0) return i * 64 + std::countr_zero(w[i]);
  return -1;
}

}  // namespace

inline __attribute__((always_inline)) void Scheduler::take_front(List& l, int li) {
  if (++l.head == l.end) {
    l.reset();
    if ((bits_[li >> 6] &= ~(uint64_t{1} << (li & 63))) == 0 && li < kSlots0) summary0_ &= ~(uint64_t{1} << (li >> 6));
  }
}

__attribute__((noinline)) void Scheduler::rebase(int64_t new_cur) {
  // Rare: an event is scheduled before the cursor (the cursor moved ahead while peeking at
  // an event beyond a run_until limit). Re-file everything relative to the new cursor;
  // each time's events share one list, so visiting lists in order keeps their order.
  std::vector<Entry> all;
  for (int li = 0; li < kLists; ++li) {
    List& l = lists_[static_cast<size_t>(li)];
    for (const Entry* p = l.head; p != l.end; ++p)
      if (gen_[p->slot] == p->gen) all.push_back(*p);
    l.reset();
  }
  for (auto& w : bits_) w = 0;
  summary0_ = 0;
  cur_ = new_cur;
  for (const Entry& e : all) file(e);
  stale_ = 0;
}

__attribute__((noinline)) void Scheduler::List::grow() {
  const size_t n = size();
  if (head != base && n <= static_cast<size_t>(cap - base) / 2) {
    // Taken entries fill at least half the buffer: reuse it.
    if (n != 0) std::memmove(base, head, n * sizeof(Entry));
  } else {
    const size_t want = std::max<size_t>(8, 2 * static_cast<size_t>(cap - base));
    auto* fresh = static_cast<Entry*>(std::malloc(want * sizeof(Entry)));
    if (fresh == nullptr) throw std::bad_alloc();
    if (n != 0) std::memcpy(fresh, head, n * sizeof(Entry));
    std::free(base);
    base = fresh;
    cap = fresh + want;
  }
  head = base;
  end = base + n;
}

__attribute__((noinline)) uint32_t Scheduler::new_slot() {
  const auto slot = static_cast<uint32_t>(gen_.size());
  gen_.push_back(0);
  if ((slot >> kChunkBits) == chunks_.size()) chunks_.push_back(std::make_unique<Callback[]>(size_t{1} << kChunkBits));
  return slot;
}

// The hot paths (enqueue and file in the header, next_list, step) keep their rare branches
// in separate functions, so that they need few registers: saving and restoring them was a
// fifth of the instructions of an event.
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
  for (int li = 0; li < kLists; ++li) n += lists_[static_cast<size_t>(li)].size();
  return n;
}

bool Scheduler::is_pending(EventId id) const {
  return id.valid() && id.slot < gen_.size() && gen_[id.slot] == id.gen && (id.gen & 1) != 0;
}

inline __attribute__((always_inline)) Scheduler::List* Scheduler::next_list() {
  if (summary0_ != 0) [[likely]] {
    const int w = std::countr_zero(summary0_);
    const int s0 = w * 64 + std::countr_zero(bits_[w]);
    List& l = lists_[static_cast<size_t>(s0)];
    const Entry& e = *l.head;
    if (gen_[e.slot] == e.gen) [[likely]]
      return &l;
  }
  return next_list_slow();
}

__attribute__((noinline)) Scheduler::List* Scheduler::next_list_slow() {
  for (;;) {
    while (summary0_ != 0) {
      const int w = std::countr_zero(summary0_);
      const int s0 = w * 64 + std::countr_zero(bits_[w]);
      List& l = lists_[static_cast<size_t>(s0)];
      const Entry& e = *l.head;
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
    bits_[li >> 6] &= ~(uint64_t{1} << (li & 63));
    // Its entries go to lower levels only, never back into this list. From level 1 they
    // all go to level 0, at slot t mod 256.
    if (level == 1) {
      for (const Entry* p = l.head; p != l.end; ++p) {
        const int s0 = static_cast<int>(static_cast<uint64_t>(p->t) & (kSlots0 - 1));
        List& to = lists_[static_cast<size_t>(s0)];
        if (to.empty()) {
          bits_[s0 >> 6] |= uint64_t{1} << (s0 & 63);
          summary0_ |= uint64_t{1} << (s0 >> 6);
        }
        to.push(*p);
      }
    } else {
      for (const Entry* p = l.head; p != l.end; ++p) file(*p);
    }
    l.reset();
  }
}

inline __attribute__((always_inline)) bool Scheduler::step(Time limit) {
  if (event_limit_reached()) return false;
  List* l = next_list();
  if (l == nullptr) return false;
  const Entry e = *l->head;
  if (e.t > limit.ns) return false;
  // Events of one time are many when the queue is large: fetch the callback a few entries
  // ahead, whose slot is otherwise a cache miss (slots are reused in no particular order).
  if (l->size() > 4) {
    const uint32_t ahead = l->head[4].slot;
    __builtin_prefetch(&cb_at(ahead));
    __builtin_prefetch(&gen_[ahead]);
  }
  take_front(*l, static_cast<int>(l - lists_.get()));
  // And the next event's callback, found through the level-0 bitmap (a small queue has
  // about one event per list, so the look-ahead above rarely applies).
  if (!l->empty()) {
    __builtin_prefetch(&cb_at(l->head->slot));
  } else if (summary0_ != 0) {
    const int w = std::countr_zero(summary0_);
    const int s0 = w * 64 + std::countr_zero(bits_[w]);
    const List& nl = lists_[static_cast<size_t>(s0)];
    __builtin_prefetch(&cb_at(nl.head->slot));
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
