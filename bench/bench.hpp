// megzawicol-bench: shared declarations.
//
// Wall time is measured with std::chrono::steady_clock (the benchmark is not the simulator,
// which never reads a clock). Every figure is the median of several repetitions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mzb {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// CPU time of this process (user + system), in seconds. On a loaded machine wall time also
/// counts the time other processes held the CPU; the CPU time does not, so both are reported.
double cpu_seconds();

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Options {
  bool quick = false;
  bool large = false;
  int reps = 5;             // repetitions of the micro-benchmarks (median reported)
  int run_reps = 3;         // repetitions of the end-to-end and scale runs
  std::string json_path;
  std::string scenario_dir; // scenarios/bench
  std::string cli;          // the megzawicol binary (socket-mode check)
  std::vector<std::string> only;  // groups to run: kernel, layers, e2e, scale, socket
  bool wants(const std::string& g) const {
    return only.empty() || std::find(only.begin(), only.end(), g) != only.end();
  }
};

/// One line of the table.
struct Row {
  std::string group;
  std::string name;
  double value = 0;           // the median (wall clock)
  std::optional<double> cpu_value;  // the same figure from CPU time instead of wall time
  std::string unit;
  std::vector<double> runs;   // every repetition
  // A reference figure (the ns-3 3.37 reference numbers, or AES-GCM alone) and how to compare.
  std::optional<double> reference;
  std::string reference_label;
  std::optional<double> cpu_reference;  // for cpu_ratio(), when it differs from `reference`
  bool lower_is_better = false;  // times and memory: ratio = reference / value
  std::string note;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();

  /// > 1: we do better than the reference (faster or smaller).
  std::optional<double> ratio() const { return ratio_of(value); }
  std::optional<double> cpu_ratio() const {
    if (!cpu_value) return std::nullopt;
    return ratio_of(*cpu_value, cpu_reference ? cpu_reference : reference);
  }
  std::optional<double> ratio_of(double v) const { return ratio_of(v, reference); }
  std::optional<double> ratio_of(double v, std::optional<double> ref) const {
    if (!ref || *ref <= 0 || v <= 0) return std::nullopt;
    return lower_is_better ? *ref / v : v / *ref;
  }
};

using Rows = std::vector<Row>;

void bench_kernel(const Options& o, Rows& rows);
void bench_layers(const Options& o, Rows& rows);
void bench_end_to_end(const Options& o, Rows& rows);
void bench_scale(const Options& o, Rows& rows);
void bench_socket(const Options& o, Rows& rows);

/// The child side of a measured run: loads FILE (with --set overrides), builds and runs it
/// with no trace files, prints one JSON object on stdout. Returns the exit status.
int child_run(const std::vector<std::string>& args);
/// Writes the scale topology with `n` routers and `n` hosts to `path`.
void write_scale_scenario(size_t n, const std::string& path);

}  // namespace mzb
