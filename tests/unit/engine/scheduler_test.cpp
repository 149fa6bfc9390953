#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/engine/scheduler.hpp"

using namespace mz;
using engine::EventId;
using engine::Scheduler;

TEST_CASE("scheduler runs events in time order, ties in scheduling order") {
  Scheduler s;
  std::vector<std::string> order;
  s.schedule_at(Time{30}, [&] { order.push_back("c30"); });
  s.schedule_at(Time{10}, [&] { order.push_back("a10"); });
  s.schedule_at(Time{20}, [&] { order.push_back("b20-1"); });
  s.schedule_at(Time{20}, [&] { order.push_back("b20-2"); });
  s.schedule_at(Time{20}, [&] { order.push_back("b20-3"); });
  s.run();
  CHECK(order == std::vector<std::string>{"a10", "b20-1", "b20-2", "b20-3", "c30"});
  CHECK(s.now() == Time{30});
  CHECK(s.executed() == 5);
  CHECK(s.pending() == 0);
}

TEST_CASE("events scheduled from inside an event at the same time run after it, in order") {
  Scheduler s;
  std::vector<int> order;
  s.schedule_at(Time{5}, [&] {
    order.push_back(1);
    s.schedule_in(Duration{0}, [&] { order.push_back(3); });
    s.schedule_in(Duration{0}, [&] { order.push_back(4); });
  });
  s.schedule_at(Time{5}, [&] { order.push_back(2); });
  s.run();
  CHECK(order == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("cancelled events never run; cancel is idempotent and slot reuse is safe") {
  Scheduler s;
  int ran = 0;
  auto a = s.schedule_at(Time{10}, [&] { ran += 1; });
  auto b = s.schedule_at(Time{20}, [&] { ran += 10; });
  CHECK(s.is_pending(a));
  CHECK(s.cancel(a));
  CHECK_FALSE(s.cancel(a));
  CHECK_FALSE(s.is_pending(a));
  // The freed slot is reused; the stale id must not cancel the new event.
  auto c = s.schedule_at(Time{15}, [&] { ran += 100; });
  CHECK(c.slot == a.slot);
  CHECK_FALSE(s.cancel(a));
  CHECK(s.pending() == 2);
  s.run();
  CHECK(ran == 110);
  CHECK_FALSE(s.is_pending(b));
  CHECK_FALSE(s.cancel(b));
}

TEST_CASE("run_until stops at the limit and advances the clock; stop() ends a run") {
  Scheduler s;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) s.schedule_at(Time{i * 100}, [&] { ++ran; });
  s.run_until(Time{550});
  CHECK(ran == 5);
  CHECK(s.now() == Time{550});
  s.schedule_at(Time{600}, [&] { s.stop(); });
  s.run();
  CHECK(s.stopped());
  CHECK(s.now() == Time{600});
  CHECK(ran == 6);  // the 600 ns event scheduled earlier ran before the stop event
  s.run();
  CHECK(ran == 10);
}

TEST_CASE("past times are clamped to now") {
  Scheduler s;
  Time seen{-1};
  s.schedule_at(Time{100}, [&] { s.schedule_at(Time{50}, [&] { seen = s.now(); }); });
  s.run();
  CHECK(seen == Time{100});
}

TEST_CASE("hold model: random self-rescheduling keeps a total order and the pending count") {
  Scheduler s;
  Rng rng(42);
  const int K = 1000;
  int64_t last = 0;
  bool monotonic = true;
  uint64_t remaining = 20000;
  std::function<void()> ev = [&] {
    if (s.now().ns < last) monotonic = false;
    last = s.now().ns;
    if (remaining > 0) {
      --remaining;
      s.schedule_in(Duration{static_cast<int64_t>(rng.uniform_int(1, 1999))}, ev);
    }
  };
  for (int i = 0; i < K; ++i) s.schedule_at(Time{static_cast<int64_t>(rng.uniform_int(1, 1999))}, ev);
  CHECK(s.pending() == K);
  s.run();
  CHECK(monotonic);
  CHECK(s.executed() == K + 20000);
}

TEST_CASE("the event limit stops a run that would never end") {
  Scheduler s;
  std::function<void()> tick = [&] { s.schedule_in(Duration{1}, tick); };
  s.schedule_at(Time{0}, tick);
  s.set_event_limit(1000);
  s.run();
  CHECK(s.event_limit_reached());
  CHECK(s.executed() == 1000);
  CHECK(s.pending() == 1);
}

// A reference queue (ordered map keyed by time, then scheduling sequence) driven by the same
// random operations: schedules at offsets from 0 to 2^62 ns (ties, same block, far blocks),
// cancellations, run_until limits (the cursor may move past the limit while peeking) and
// events scheduled from inside events. The executed (id, time) sequences must be equal.
TEST_CASE("differential: the timing wheel runs exactly what an ordered map would") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Scheduler s;
    Rng rng(seed);
    std::map<std::pair<int64_t, uint64_t>, int> ref;  // (time, seq) -> label
    std::map<int, std::pair<EventId, std::pair<int64_t, uint64_t>>> handles;
    std::vector<std::pair<int, int64_t>> got;
    std::vector<std::pair<int, int64_t>> want;
    uint64_t seq = 0;
    int next_label = 0;
    int64_t ref_now = 0;
    auto offset = [&]() -> int64_t {
      switch (rng.uniform_int(0, 5)) {
        case 0: return 0;
        case 1: return static_cast<int64_t>(rng.uniform_int(0, 255));
        case 2: return static_cast<int64_t>(rng.uniform_int(0, 70'000));
        case 3: return static_cast<int64_t>(rng.uniform_int(0, 1) << rng.uniform_int(0, 62));
        case 4: return static_cast<int64_t>(rng.uniform_int(0, 5'000'000'000ULL));
        default: return static_cast<int64_t>(rng.uniform_int(0, 3)) * 256;
      }
    };
    // now + off, saturated well below INT64_MAX (offsets up to 2^62 would overflow after a few rounds).
    auto later = [&](int64_t off) {
      constexpr int64_t kMaxT = INT64_MAX / 2;
      return s.now().ns + std::min(off, kMaxT - s.now().ns);
    };
    std::function<void(int64_t, int)> add;  // (absolute time, nesting depth)
    add = [&](int64_t t, int depth) {
      const int label = next_label++;
      const int64_t eff = std::max(t, s.now().ns);
      const auto key = std::make_pair(eff, seq++);
      ref[key] = label;
      const bool spawn = depth < 3 && rng.uniform_int(0, 3) == 0;
      const int64_t child = spawn ? offset() % 1'000'000 : 0;
      auto id = s.schedule_at(Time{t}, [&, label, spawn, child, depth] {
        got.emplace_back(label, s.now().ns);
        handles.erase(label);
        if (spawn) add(s.now().ns + child, depth + 1);
      });
      handles[label] = {id, key};
    };
    // The reference run: pops the smallest key, replays what the event does.
    for (int round = 0; round < 30; ++round) {
      const int n = static_cast<int>(rng.uniform_int(0, 60));
      for (int i = 0; i < n; ++i) add(later(offset()), 0);
      // Cancel a few pending events.
      for (int c = 0; c < 5 && !handles.empty(); ++c) {
        auto it = handles.begin();
        std::advance(it, static_cast<long>(rng.uniform_int(0, handles.size() - 1)));
        CHECK(s.cancel(it->second.first));
        ref.erase(it->second.second);
        handles.erase(it);
      }
      const int64_t limit = later(offset());
      // Expected: every ref event with time <= limit, in key order, including children
      // scheduled by them (the closure adds to ref while the scheduler runs).
      s.run_until(Time{limit});
      while (!ref.empty() && ref.begin()->first.first <= limit) {
        want.emplace_back(ref.begin()->second, ref.begin()->first.first);
        ref.erase(ref.begin());
      }
      ref_now = std::max(ref_now, limit);
      CHECK(s.now().ns == ref_now);
      CHECK(s.pending() == ref.size());
    }
    s.run();
    for (const auto& [key, label] : ref) want.emplace_back(label, key.first);
    REQUIRE(got.size() == want.size());
    CHECK(got == want);
  }
}

TEST_CASE("Task: large and move-only targets run once and are destroyed exactly once") {
  static int alive = 0;
  struct Probe {
    Probe() { ++alive; }
    Probe(const Probe&) { ++alive; }
    Probe(Probe&&) noexcept { ++alive; }
    ~Probe() { --alive; }
  };
  {
    Scheduler s;
    int sum = 0;
    auto big = std::make_unique<std::array<int, 64>>();
    (*big)[63] = 7;
    std::array<int64_t, 12> wide{};  // 96 bytes: stored on the heap
    wide[11] = 5;
    Probe p;
    s.schedule_at(Time{1}, [&sum, b = std::move(big), p] { sum += (*b)[63]; });
    s.schedule_at(Time{2}, [&sum, wide, p] { sum += static_cast<int>(wide[11]); });
    auto cancelled = s.schedule_at(Time{3}, [&sum, wide, p] { sum += 1000; });
    CHECK(alive == 4);
    CHECK(s.cancel(cancelled));
    CHECK(alive == 3);  // the cancelled target is destroyed at once
    s.run();
    CHECK(sum == 12);
    CHECK(alive == 1);
    s.schedule_at(Time{9}, [p] {});  // still pending when the scheduler goes away
  }
  CHECK(alive == 0);
}

TEST_CASE("a timer re-armed a million times keeps the queue bounded and fires once") {
  Scheduler s;
  int fired = 0;
  int ticks = 0;
  EventId timeout;
  // Every microsecond, push a 60 s timeout back (cancel + schedule), like an idle timer.
  std::function<void()> tick = [&] {
    ++ticks;
    s.cancel(timeout);
    timeout = s.schedule_in(Duration::seconds(60), [&] { ++fired; });
    if (ticks < 1'000'000) s.schedule_in(Duration{1000}, tick);
    if (ticks % 100'000 == 0) CHECK(s.queued_entries() <= 2 * s.pending() + 4096 + 1);
  };
  s.schedule_at(Time{0}, tick);
  s.run();
  CHECK(ticks == 1'000'000);
  CHECK(fired == 1);
  CHECK(s.now() == Time{999'999'000 + 60'000'000'000});
  CHECK(s.queued_entries() == 0);
}
