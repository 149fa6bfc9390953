// The discrete-event kernel: a virtual clock and a queue of events.
//
// Events run in a total order: by time, then by the order in which they were
// scheduled (a sequence number breaks every tie), so the same inputs always give the
// same run. Nothing here reads the wall clock.
//
// Cancellation is O(1): an event lives in a slot whose generation changes when it is
// cancelled or run; the heap entry that still points at it is skipped when popped
// (lazy deletion, like ns-3's cancel bit).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "megzawicol/core/time.hpp"

namespace mz::engine {

struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t gen = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

class Scheduler {
 public:
  using Callback = std::function<void()>;

  Time now() const { return now_; }

  /// Schedules `cb` at absolute time `t` (clamped to now if in the past).
  EventId schedule_at(Time t, Callback cb);
  EventId schedule_in(Duration d, Callback cb) { return schedule_at(now_ + d, std::move(cb)); }
  /// Cancels a pending event; returns false if it already ran or was cancelled.
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  /// Runs until no event is left or stop() is called.
  void run();
  /// Runs every event with time <= t, then sets the clock to t (unless stopped earlier).
  void run_until(Time t);
  /// Makes run()/run_until() return after the current event.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  /// Time of the last event run (zero before any).
  Time last_event_time() const { return last_; }
  size_t pending() const { return live_; }
  /// A watchdog: run() and run_until() stop after this many events in total (0: no limit).
  void set_event_limit(uint64_t n) { limit_ = n; }
  bool event_limit_reached() const { return limit_ != 0 && executed_ >= limit_; }
  uint64_t executed() const { return executed_; }

 private:
  struct Entry {
    int64_t t;
    uint64_t seq;
    uint32_t slot;
    uint32_t gen;
  };
  struct Slot {
    Callback cb;
    uint32_t gen = 0;
    bool live = false;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.t != b.t ? a.t > b.t : a.seq > b.seq;
  }
  bool step(Time limit);
  void release(uint32_t slot);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  Time now_{};
  Time last_{};
  uint64_t seq_ = 0;
  uint64_t executed_ = 0;
  uint64_t limit_ = 0;
  size_t live_ = 0;
  bool stopped_ = false;
};

}  // namespace mz::engine
