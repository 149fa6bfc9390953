#include "megzawicol/engine/scheduler.hpp"

#include <algorithm>

namespace mz::engine {

EventId Scheduler::schedule_at(Time t, Callback cb) {
  if (t < now_) t = now_;
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.cb = std::move(cb);
  s.live = true;
  ++live_;
  heap_.push_back(Entry{t.ns, seq_++, slot, s.gen});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return EventId{slot, s.gen};
}

void Scheduler::release(uint32_t slot) {
  Slot& s = slots_[slot];
  s.live = false;
  ++s.gen;
  --live_;
  free_.push_back(slot);
}

bool Scheduler::cancel(EventId id) {
  if (!is_pending(id)) return false;
  slots_[id.slot].cb = nullptr;
  release(id.slot);
  return true;
}

bool Scheduler::is_pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].live && slots_[id.slot].gen == id.gen;
}

bool Scheduler::step(Time limit) {
  if (event_limit_reached()) return false;
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    const Slot& s = slots_[top.slot];
    if (!s.live || s.gen != top.gen) {  // cancelled: drop the stale entry
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
      continue;
    }
    if (top.t > limit.ns) return false;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
    Callback cb = std::move(slots_[top.slot].cb);
    release(top.slot);
    now_ = Time{top.t};
    last_ = now_;
    ++executed_;
    cb();
    return true;
  }
  return false;
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
