#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/engine/scheduler.hpp"

using namespace mz;
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
