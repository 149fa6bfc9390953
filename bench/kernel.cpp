// The kernel "hold" model: K events pending; each event, when it runs, schedules one more
// at now + U[1, 1999] ns (a seeded stream), so the queue stays at K. Events per second of
// wall time, at K = 1,000 and K = 100,000, against ns-3 3.37 reference figures (its best
// scheduler on this kind of machine).
#include <cstdio>

#include "bench.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/engine/scheduler.hpp"

namespace mzb {
namespace {

struct Hold {
  mz::engine::Scheduler sched;
  mz::Rng rng{42};
  uint64_t budget = 0;  // events still to run after the initial K

  void fire() {
    if (budget == 0) {
      sched.stop();
      return;
    }
    --budget;
    sched.schedule_in(mz::Duration::nanos(static_cast<int64_t>(rng.uniform_int(1, 1999))), [this] { fire(); });
  }
};

/// Events per second (wall, CPU) for one run: K initial events (not timed), then `events` timed ones.
std::pair<double, double> hold_once(size_t k, uint64_t events) {
  Hold h;
  for (size_t i = 0; i < k; ++i)
    h.sched.schedule_in(mz::Duration::nanos(static_cast<int64_t>(h.rng.uniform_int(1, 1999))), [&h] { h.fire(); });
  h.budget = events;
  const uint64_t before = h.sched.executed();
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  h.sched.run();
  const auto t1 = Clock::now();
  const double c1 = cpu_seconds();
  const uint64_t ran = h.sched.executed() - before;
  // The event that found the budget spent stopped the run without scheduling a successor.
  if (h.sched.pending() != k - 1) std::fprintf(stderr, "hold: %zu pending, expected %zu\n", h.sched.pending(), k - 1);
  return {static_cast<double>(ran) / seconds_between(t0, t1), static_cast<double>(ran) / (c1 - c0)};
}

}  // namespace

void bench_kernel(const Options& o, Rows& rows) {
  struct Case {
    size_t k;
    double ns3;  // events/s, ns-3 3.37 best scheduler (reference figure, same kind of machine)
  };
  const Case cases[] = {{1'000, 7.4e6}, {100'000, 3.2e6}};
  const uint64_t events = o.quick ? 500'000 : 5'000'000;
  for (const Case& c : cases) {
    std::fprintf(stderr, "  kernel hold K=%zu ...\n", c.k);
    hold_once(c.k, events / 10);  // warm-up
    Row r;
    r.group = "kernel";
    r.name = "hold model, K = " + std::to_string(c.k);
    r.unit = "M events/s";
    std::vector<double> cpu;
    for (int i = 0; i < o.reps; ++i) {
      const auto [w, c_] = hold_once(c.k, events);
      r.runs.push_back(w / 1e6);
      cpu.push_back(c_ / 1e6);
    }
    r.value = median(r.runs);
    r.cpu_value = median(cpu);
    r.extra["cpu_runs"] = cpu;
    r.reference = c.ns3 / 1e6;
    r.reference_label = "ns-3 3.37";
    char note[96];
    std::snprintf(note, sizeof note, "%.1f M events per run, U[1,1999] ns", static_cast<double>(events) / 1e6);
    r.note = note;
    r.extra["k"] = c.k;
    r.extra["events_per_run"] = events;
    rows.push_back(std::move(r));
  }
}

}  // namespace mzb
