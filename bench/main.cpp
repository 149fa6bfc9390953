// megzawicol-bench: the benchmark suite. See docs/performance.md.
//
//   megzawicol-bench [--quick] [--large] [--json FILE] [--only GROUP]... [--reps N] [--runs N]
//                    [--scenarios DIR] [--cli PATH]
//   megzawicol-bench --gen-scale N FILE      write the scale topology with N routers and N hosts
//   megzawicol-bench --child-run FILE [--set PATH=VALUE]...   (internal: one measured run)
//
// Groups: kernel (hold model), layers (per-layer MB/s), e2e (scenarios/bench), scale
// (generated topologies), socket (server/client mode, if present).
#include <sched.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench.hpp"

#ifndef MZ_BENCH_BUILD_TYPE
#define MZ_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef MZ_BENCH_SOURCE_DIR
#define MZ_BENCH_SOURCE_DIR "."
#endif
#ifndef MZ_BENCH_CLI_PATH
#define MZ_BENCH_CLI_PATH ""
#endif

namespace {

using mzb::Row;
using mzb::Rows;

void usage(std::ostream& os) {
  os << "Usage: megzawicol-bench [options]\n\n"
        "  --quick           a fast smoke run: fewer repetitions, smaller transfers (no ns-3 ratios)\n"
        "  --large           also run the scale benchmark with 10,000 routers and hosts\n"
        "  --json FILE       also write the results as JSON\n"
        "  --only GROUP      run only this group (repeatable): kernel, layers, e2e, scale, socket\n"
        "  --reps N          repetitions of the kernel and layer benchmarks (default 5; quick 3)\n"
        "  --runs N          repetitions of the end-to-end and scale runs (default 3; quick 1)\n"
        "  --scenarios DIR   where the end-to-end scenarios are (default <source>/scenarios/bench)\n"
        "  --cli PATH        the megzawicol binary, for the socket-mode check\n"
        "  --gen-scale N FILE  write the scale scenario with N routers and N hosts, and exit\n\n"
        "Every figure is the median of the repetitions.\n";
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  return "unknown";
}

unsigned online_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::thread::hardware_concurrency();
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a;
  f >> a;
  return a.empty() ? "?" : a;
}

std::string fmt_value(double v) {
  char b[32];
  if (v == 0) return "0";
  if (std::fabs(v) >= 1000) std::snprintf(b, sizeof b, "%.0f", v);
  else if (std::fabs(v) >= 100) std::snprintf(b, sizeof b, "%.1f", v);
  else if (std::fabs(v) >= 1) std::snprintf(b, sizeof b, "%.2f", v);
  else std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

void print_table(const Rows& rows, std::ostream& os) {
  size_t wname = 9;
  for (const auto& r : rows) wname = std::max(wname, r.name.size());
  auto pad = [](std::string s, size_t w, bool right = false) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
  };
  std::string group;
  os << pad("benchmark", wname) << "  " << pad("ours", 9, true) << " " << pad("ours/cpu", 9, true) << " " << pad("unit", 10)
     << "  " << pad("reference", 22) << "  " << pad("ratio", 6, true) << " " << pad("cpu r.", 6, true) << "  note\n";
  os << std::string(wname + 2 + 9 + 1 + 9 + 1 + 10 + 2 + 22 + 2 + 6 + 1 + 6 + 2 + 4, '-') << "\n";
  for (const auto& r : rows) {
    if (r.group != group && !group.empty()) os << "\n";
    group = r.group;
    std::string ref;
    if (r.reference) ref = fmt_value(*r.reference) + " " + r.reference_label;
    auto x = [](std::optional<double> q) {
      if (!q) return std::string();
      char b[32];
      std::snprintf(b, sizeof b, "%.2fx", *q);
      return std::string(b);
    };
    os << pad(r.name, wname) << "  " << pad(fmt_value(r.value), 9, true) << " "
       << pad(r.cpu_value ? fmt_value(*r.cpu_value) : "", 9, true) << " " << pad(r.unit, 10) << "  " << pad(ref, 22)
       << "  " << pad(x(r.ratio()), 6, true) << " " << pad(x(r.cpu_ratio()), 6, true) << "  " << r.note << "\n";
  }
  os << "\nours: the figure from steady_clock; ours/cpu: the same figure from the CPU time (user +\n"
        "system), which does not count the time other processes held the CPU (trust it on a loaded\n"
        "machine: the run is single-threaded). ratio / cpu r.: ours relative to the reference, > 1 =\n"
        "better (faster, or less memory); for times and memory it is reference / ours. Layer rows compare\n"
        "with AES-128-GCM seal alone measured in the same run (payload MB/s).\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--child-run") return mzb::child_run({args.begin() + 1, args.end()});

  mzb::Options o;
  o.scenario_dir = std::string(MZ_BENCH_SOURCE_DIR) + "/scenarios/bench";
  o.cli = MZ_BENCH_CLI_PATH;
  int reps = -1, runs = -1;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size()) throw std::runtime_error(a + ": missing value");
        return args[++i];
      };
      if (a == "--help" || a == "-h") {
        usage(std::cout);
        return 0;
      } else if (a == "--quick") {
        o.quick = true;
      } else if (a == "--large") {
        o.large = true;
      } else if (a == "--json") {
        o.json_path = value();
      } else if (a == "--only") {
        o.only.push_back(value());
      } else if (a == "--reps") {
        reps = std::stoi(value());
      } else if (a == "--runs") {
        runs = std::stoi(value());
      } else if (a == "--scenarios") {
        o.scenario_dir = value();
      } else if (a == "--cli") {
        o.cli = value();
      } else if (a == "--gen-scale") {
        const size_t n = std::stoul(value());
        mzb::write_scale_scenario(n, value());
        return 0;
      } else {
        throw std::runtime_error("unknown option " + a);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "megzawicol-bench: " << e.what() << "\n\n";
    usage(std::cerr);
    return 2;
  }
  o.reps = reps > 0 ? reps : (o.quick ? 3 : 5);
  o.run_reps = runs > 0 ? runs : (o.quick ? 1 : 3);
  for (const auto& g : o.only)
    if (g != "kernel" && g != "layers" && g != "e2e" && g != "scale" && g != "socket") {
      std::cerr << "megzawicol-bench: unknown group " << g << "\n";
      return 2;
    }

  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::ostringstream head;
  head << "megzawicol-bench: build " << MZ_BENCH_BUILD_TYPE << ", nproc " << online_cpus() << " ("
       << std::thread::hardware_concurrency() << " online), CPU " << cpu_model() << ", compiler "
#ifdef __VERSION__
       << __VERSION__
#else
       << "unknown"
#endif
       << ", load " << load_average() << (o.quick ? ", QUICK run" : "") << ", " << o.reps << " reps (micro) / " << o.run_reps
       << " runs (whole runs), medians\n";
  std::cout << head.str() << std::flush;
  if (std::string(MZ_BENCH_BUILD_TYPE) != "Release")
    std::cout << "note: not a Release build; figures are not representative\n";

  Rows rows;
  try {
    if (o.wants("kernel")) mzb::bench_kernel(o, rows);
    if (o.wants("layers")) mzb::bench_layers(o, rows);
    if (o.wants("e2e")) mzb::bench_end_to_end(o, rows);
    if (o.wants("scale")) mzb::bench_scale(o, rows);
    if (o.wants("socket")) mzb::bench_socket(o, rows);
  } catch (const std::exception& e) {
    std::cerr << "megzawicol-bench: " << e.what() << "\n";
    print_table(rows, std::cout);
    return 1;
  }
  std::cout << "\n";
  print_table(rows, std::cout);
  std::cout << "\nEach bulk scenario runs in raw TCP and \"with TLS\" (TLS 1.3 + session layer, the case the ns-3\n"
               "targets are for); (d) is the http app over TLS 1.3 + session layer.\n";

  if (!o.json_path.empty()) {
    nlohmann::ordered_json j;
    j["tool"] = "megzawicol-bench";
    j["date_utc"] = when;
    j["machine"] = {{"host", host}, {"cpu", cpu_model()}, {"nproc", online_cpus()}, {"load_average_1min", load_average()},
                    {"hardware_concurrency", std::thread::hardware_concurrency()}};
    j["build_type"] = MZ_BENCH_BUILD_TYPE;
#ifdef __VERSION__
    j["compiler"] = __VERSION__;
#endif
    j["quick"] = o.quick;
    j["reps"] = o.reps;
    j["runs"] = o.run_reps;
    j["results"] = nlohmann::ordered_json::array();
    for (const auto& r : rows) {
      nlohmann::ordered_json x;
      x["group"] = r.group;
      x["name"] = r.name;
      x["value"] = r.value;
      x["unit"] = r.unit;
      x["runs"] = r.runs;
      if (r.cpu_value) x["cpu_value"] = *r.cpu_value;
      if (r.reference) {
        x["reference"] = *r.reference;
        x["reference_label"] = r.reference_label;
        x["ratio"] = r.ratio() ? nlohmann::ordered_json(*r.ratio()) : nlohmann::ordered_json();
        x["cpu_ratio"] = r.cpu_ratio() ? nlohmann::ordered_json(*r.cpu_ratio()) : nlohmann::ordered_json();
        x["ratio_meaning"] = r.lower_is_better ? "reference / ours (> 1: better)" : "ours / reference (> 1: better)";
      }
      if (!r.note.empty()) x["note"] = r.note;
      for (auto it = r.extra.begin(); it != r.extra.end(); ++it) x[it.key()] = it.value();
      j["results"].push_back(std::move(x));
    }
    std::ofstream f(o.json_path);
    if (!f) {
      std::cerr << "megzawicol-bench: cannot write " << o.json_path << "\n";
      return 1;
    }
    f << j.dump(2) << "\n";
    std::cout << "results written to " << o.json_path << "\n";
  }
  return 0;
}
