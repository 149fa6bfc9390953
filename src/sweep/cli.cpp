// `megzawicol sweep` and `megzawicol sweep merge`.
#include <boost/program_options.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sweep/sweep.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace mz::sweep {

namespace {

constexpr int kOk = 0, kFailure = 1, kBadInput = 2;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot read file");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << text;
  o.close();
  if (!o) throw std::runtime_error(p.string() + ": cannot write file");
}

void usage(std::ostream& os) {
  os << "Usage:\n"
        "  megzawicol sweep SCENARIO --vary PATH=v1,v2,... [--vary ...] [--seeds 1-20] [options]\n"
        "  megzawicol sweep merge DIR... --out DIR [--metric APP.FIELD] [--quiet]\n\n"
        "Runs SCENARIO once per combination of the --vary values and per seed (each run is\n"
        "`megzawicol run SCENARIO --set PATH=VALUE... --seed N` in a child process, --jobs at\n"
        "a time), then writes into --out DIR:\n"
        "  results.csv   one row per run: run, the varied values, seed, exit status, and every\n"
        "                numeric app field as <app>.<field>, link counters as links[i].<counter>\n"
        "  summary.csv   per combination and metric: n, mean, sd and the 95% confidence interval\n"
        "                half-width (Student's t); failed runs are left out\n"
        "  plot.svg      --metric against the first varied path, one series per value of the\n"
        "                others, with 95% CI error bars\n"
        "  runs/<id>/    each run's summary.json and stderr.txt (and traces with --traces)\n"
        "--shard I/N runs only the runs whose id % N == I and writes results.csv; `sweep merge`\n"
        "combines the shards' directories. --metric A/B plots the ratio of two columns.\n\n"
        "Exit status: 0 success, 1 a run failed or an output could not be written, 2 bad input.\n";
}

std::string eta(double seconds) {
  if (!(seconds >= 0) || seconds > 360000) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// "[#####.....] 37/120 runs, ETA 0:42" in place on a terminal, "run 37/120 done" lines otherwise.
class Progress {
 public:
  Progress(std::ostream& err, size_t total, bool quiet)
      : err_(err), total_(total), quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {
    if (!quiet_ && tty_) draw();
  }
  void step(size_t id, int status) {
    ++done_;
    if (quiet_) return;
    if (tty_) {
      if (status != 0) err_ << "\r\x1b[K" << "run " << id << " failed (status " << status << ")\n";
      draw();
      if (done_ == total_) err_ << "\n";
    } else {
      err_ << "run " << done_ << "/" << total_ << " done";
      if (status != 0) err_ << " (run " << id << " failed, status " << status << ")";
      err_ << "\n";
    }
    err_.flush();
  }

 private:
  void draw() {
    constexpr size_t kWidth = 30;
    const size_t filled = total_ ? done_ * kWidth / total_ : kWidth;
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::string e = "-:--";
    if (done_ > 0) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      e = eta(el / static_cast<double>(done_) * static_cast<double>(total_ - done_));
    }
    err_ << "\r[" << bar << "] " << done_ << "/" << total_ << " runs, ETA " << e << "\x1b[K";
    err_.flush();
  }
  std::ostream& err_;
  size_t total_, done_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
};

// APP.FIELD (an app of the scenario) or links[i].COUNTER, or A/B of two such.
void check_metric(const std::string& metric, const scenario::Scenario& sc) {
  const auto slash = metric.find('/');
  if (slash != std::string::npos) {
    check_metric(metric.substr(0, slash), sc);
    check_metric(metric.substr(slash + 1), sc);
    return;
  }
  for (const auto& app : sc.apps)
    if (metric.size() > app.name.size() + 1 && metric.rfind(app.name + ".", 0) == 0) return;
  if (metric.rfind("links[", 0) == 0) {
    const auto close = metric.find(']');
    try {
      if (close != std::string::npos && std::stoul(metric.substr(6, close - 6)) < sc.links.size() &&
          metric.size() > close + 2 && metric[close + 1] == '.')
        return;
    } catch (const std::exception&) {
    }
  }
  std::string apps;
  for (const auto& app : sc.apps) apps += (apps.empty() ? "" : ", ") + app.name;
  throw SweepError("--metric " + metric + ": expected APP.FIELD with APP one of the scenario's apps (" +
                   (apps.empty() ? "none" : apps) + ") or links[i].COUNTER with i < " + std::to_string(sc.links.size()));
}

void report(std::ostream& out, std::ostream& err, const SweepInfo& info, const std::vector<RunRecord>& records,
            const fs::path& dir, bool quiet, bool with_summary) {
  size_t failed = 0;
  std::string failures;
  for (const auto& r : records)
    if (r.status != 0) {
      if (++failed <= 10) failures += " " + std::to_string(r.id) + " (status " + std::to_string(r.status) + ")";
    }
  if (failed)
    err << "megzawicol sweep: " << failed << " of " << records.size()
        << " runs failed and are left out of the statistics:" << failures << (failed > 10 ? " ..." : "")
        << "; see runs/<id>/stderr.txt\n";
  if (quiet) return;
  out << records.size() - failed << " of " << records.size() << " runs ok; wrote " << (dir / "results.csv").string();
  if (with_summary) out << ", " << (dir / "summary.csv").string();
  if (with_summary && fs::exists(dir / "plot.svg")) out << ", " << (dir / "plot.svg").string();
  out << "\n";
  if (with_summary) {
    const std::string t = metric_table(info, records);
    if (!t.empty()) out << "\n" << info.metric << ":\n\n" << t;
  }
}

// summary.csv, plot.svg; false if the metric has no value in any run.
bool write_summary(const SweepInfo& info, const std::vector<RunRecord>& records, const fs::path& dir, std::ostream& err) {
  write_file(dir / "summary.csv", summary_csv(info, records));
  if (info.metric.empty()) return true;
  const std::string svg = plot_svg(info, records);
  if (!svg.empty()) {
    write_file(dir / "plot.svg", svg);
    return true;
  }
  if (info.grid.vary.empty()) return true;
  fs::remove(dir / "plot.svg");
  err << "megzawicol sweep: no successful run has a value for --metric " << info.metric
      << " (see the columns of results.csv); no plot\n";
  return false;
}

int run_sweep(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string file, seeds_text, out_dir, metric, shard_text, exe = "/proc/self/exe";
  std::vector<std::string> vary_texts;
  size_t jobs = 0;
  bool quiet = false, traces = false, help = false;
  po::options_description d("Options");
  d.add_options()("vary", po::value(&vary_texts)->composing(),
                  "PATH=v1,v2,...: a scenario path (as for --set) and its values (repeatable)")(
      "seeds", po::value(&seeds_text), "seeds: 1-20, 7 or 1-5,9 (default: the scenario's seed)")(
      "jobs,j", po::value(&jobs), "runs at once (default: the number of CPUs)")(
      "out,o", po::value(&out_dir), "output directory (default: out/sweep-<scenario name>)")(
      "metric", po::value(&metric), "APP.FIELD (or links[i].COUNTER, or A/B) to summarize and plot")(
      "shard", po::value(&shard_text), "I/N: run only the runs with id % N == I (see `sweep merge`)")(
      "traces", po::bool_switch(&traces), "keep each run's traces (trace.log, trace.jsonl, pcaps)")(
      "quiet,q", po::bool_switch(&quiet), "no progress and no table, only errors")(
      "help,h", po::bool_switch(&help), "show this help");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file))("exe", po::value(&exe));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    usage(out);
    out << "\n" << d;
    return kOk;
  }
  if (file.empty()) throw SweepError("missing SCENARIO (see megzawicol sweep --help)");
  if (vm.count("jobs") && jobs == 0) throw SweepError("--jobs: must be at least 1");

  // Everything is checked before anything runs.
  SweepInfo info;
  info.scenario = file;
  info.metric = metric;
  for (const auto& v : vary_texts) info.grid.vary.push_back(parse_vary(v));
  Shard shard;
  if (!shard_text.empty()) {
    shard = parse_shard(shard_text);
    info.shard = shard_text;
  }
  std::vector<std::string> fixed{"trace.summary=true"};
  if (!traces) fixed.insert(fixed.end(), {"trace.log=false", "trace.jsonl=false", "trace.pcap=false"});
  const auto base = scenario::load_scenario_file(file, fixed);
  info.scenario_name = base.name;
  info.grid.seeds = seeds_text.empty() ? std::vector<uint64_t>{base.seed} : parse_seeds(seeds_text);
  info.grid.validate();
  for (size_t c = 0; c < info.grid.combinations(); ++c) {
    auto ov = fixed;
    for (const auto& o : info.grid.overrides(c)) ov.push_back(o);
    ov.push_back("seed=" + std::to_string(info.grid.seeds[0]));
    scenario::load_scenario_file(file, ov);  // throws ScenarioError: a bad path or value
  }
  if (!metric.empty()) check_metric(metric, base);

  const fs::path dir = out_dir.empty() ? fs::path("out") / ("sweep-" + base.name) : fs::path(out_dir);
  fs::create_directories(dir / "runs");
  write_file(dir / "sweep.json", sweep_json(info));
  for (const char* stale : {"results.csv", "summary.csv", "plot.svg"}) fs::remove(dir / stale);

  const size_t total = info.grid.size();
  const size_t width = std::to_string(total - 1).size();
  std::vector<size_t> ids;
  for (size_t id = 0; id < total; ++id)
    if (shard.contains(id)) ids.push_back(id);
  std::vector<std::vector<std::string>> argvs;
  std::vector<std::string> errs;
  std::vector<fs::path> run_dirs;
  for (size_t id : ids) {
    std::string name = std::to_string(id);
    name.insert(0, width - name.size(), '0');
    const fs::path rd = dir / "runs" / name;
    fs::remove_all(rd);
    fs::create_directories(rd);
    std::vector<std::string> a{"megzawicol", "run", file, "--quiet", "--out", rd.string()};
    auto sets = fixed;
    for (const auto& o : info.grid.overrides(info.grid.combination_of(id))) sets.push_back(o);
    for (const auto& s : sets) a.insert(a.end(), {"--set", s});
    a.insert(a.end(), {"--seed", std::to_string(info.grid.seed_of(id))});
    argvs.push_back(std::move(a));
    errs.push_back((rd / "stderr.txt").string());
    run_dirs.push_back(rd);
  }

  std::vector<RunRecord> records(ids.size());
  Progress progress(err, ids.size(), quiet);
  run_children(exe, argvs, errs, jobs ? jobs : available_cpus(), [&](size_t i, int status) {
    RunRecord& r = records[i];
    r.id = ids[i];
    r.seed = info.grid.seed_of(r.id);
    r.status = status;
    if (status == 0) {
      try {
        r.metrics = flatten_summary(read_file(run_dirs[i] / "summary.json"));
      } catch (const std::exception&) {
        r.status = -1;
      }
    }
    progress.step(r.id, r.status);
  });

  write_file(dir / "results.csv", results_csv(info, records));
  bool ok = true;
  if (info.shard.empty()) ok = write_summary(info, records, dir, err);
  report(out, err, info, records, dir, quiet, info.shard.empty());
  const bool failed = std::any_of(records.begin(), records.end(), [](const RunRecord& r) { return r.status != 0; });
  return failed || !ok ? kFailure : kOk;
}

int run_merge(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> dirs;
  std::string out_dir, metric;
  bool quiet = false, help = false;
  po::options_description d("Options");
  d.add_options()("out,o", po::value(&out_dir), "the merged output directory (required)")(
      "metric", po::value(&metric), "APP.FIELD to summarize and plot (default: the shards')")(
      "quiet,q", po::bool_switch(&quiet), "no table, only errors")("help,h", po::bool_switch(&help), "show this help");
  po::options_description hidden;
  hidden.add_options()("dirs", po::value(&dirs)->composing());
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    out << "Usage: megzawicol sweep merge DIR... --out DIR [--metric APP.FIELD]\n\n"
           "Combines the results.csv of the shards of one sweep (`megzawicol sweep ... --shard I/N\n"
           "--out DIR`) into one results.csv, summary.csv and plot.svg. The shards must come from\n"
           "the same grid (same scenario, --vary lists and --seeds) and hold disjoint runs.\n\n"
        << d;
    return kOk;
  }
  if (dirs.empty()) throw SweepError("merge: no shard directories given");
  if (out_dir.empty()) throw SweepError("merge: --out DIR is required");
  SweepInfo info;
  std::vector<RunRecord> records;
  std::map<size_t, std::string> owner;
  for (size_t k = 0; k < dirs.size(); ++k) {
    const fs::path p(dirs[k]);
    if (!fs::exists(p / "sweep.json") || !fs::exists(p / "results.csv"))
      throw SweepError("merge: " + dirs[k] + ": not a sweep directory (no sweep.json and results.csv)");
    const SweepInfo si = parse_sweep_json(read_file(p / "sweep.json"), (p / "sweep.json").string());
    if (k == 0) {
      info = si;
    } else {
      auto same_vary = [](const std::vector<Vary>& a, const std::vector<Vary>& b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const Vary& x, const Vary& y) {
                 return x.path == y.path && x.values == y.values;
               });
      };
      if (si.scenario_name != info.scenario_name || !same_vary(si.grid.vary, info.grid.vary) ||
          si.grid.seeds != info.grid.seeds)
        throw SweepError("merge: " + dirs[k] + " is from another grid than " + dirs[0] +
                         " (scenario, --vary or --seeds differ)");
    }
    for (auto& r : parse_results_csv(si, read_file(p / "results.csv"), (p / "results.csv").string())) {
      auto [it, fresh] = owner.emplace(r.id, dirs[k]);
      if (!fresh)
        throw SweepError("merge: run " + std::to_string(r.id) + " is in both " + it->second + " and " + dirs[k]);
      records.push_back(std::move(r));
    }
  }
  info.shard.clear();
  if (!metric.empty()) info.metric = metric;
  if (owner.size() < info.grid.size()) {
    size_t first_missing = 0;
    while (owner.count(first_missing)) ++first_missing;
    err << "megzawicol sweep merge: warning: " << info.grid.size() - owner.size() << " of " << info.grid.size()
        << " runs are missing (the first: run " << first_missing << "); the statistics use the others\n";
  }
  const fs::path dir(out_dir);
  fs::create_directories(dir);
  write_file(dir / "sweep.json", sweep_json(info));
  write_file(dir / "results.csv", results_csv(info, records));
  const bool ok = write_summary(info, records, dir, err);
  report(out, err, info, records, dir, quiet, true);
  const bool failed = std::any_of(records.begin(), records.end(), [](const RunRecord& r) { return r.status != 0; });
  return failed || !ok ? kFailure : kOk;
}

}  // namespace

int sweep_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const bool merge = !args.empty() && args[0] == "merge";
  const std::string cmd = merge ? "sweep merge" : "sweep";
  try {
    if (args.empty()) {
      usage(err);
      return kBadInput;
    }
    if (merge) return run_merge(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
    return run_sweep(args, out, err);
  } catch (const SweepError& e) {
    err << "megzawicol " << cmd << ": " << e.what() << "\n";
    return kBadInput;
  } catch (const scenario::ScenarioError& e) {
    err << "megzawicol " << cmd << ": " << e.what() << "\n";
    return kBadInput;
  } catch (const po::error& e) {
    err << "megzawicol " << cmd << ": " << e.what() << " (see megzawicol " << cmd << " --help)\n";
    return kBadInput;
  } catch (const std::exception& e) {
    err << "megzawicol " << cmd << ": error: " << e.what() << "\n";
    return kFailure;
  }
}

}  // namespace mz::sweep
