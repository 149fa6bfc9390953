// `megzawicol sweep`: run a scenario over a grid of parameter values and seeds, in parallel
// child processes, and summarize the runs.
//
//   megzawicol sweep SCENARIO --vary PATH=v1,v2,... [--vary ...] [--seeds 1-20] [--jobs N]
//                    [--out DIR] [--metric APP.FIELD] [--shard I/N] [--traces] [--quiet]
//   megzawicol sweep merge DIR... --out DIR [--metric APP.FIELD] [--quiet]
//
// Output (DIR):
//   sweep.json    the grid: scenario, varied paths and values, seeds, shard, metric
//   runs/<id>/    each run's output (summary.json; traces only with --traces; stderr.txt)
//   results.csv   one row per run: run,<varied paths...>,seed,status,<metrics...>
//   summary.csv   one row per combination and metric: <varied paths...>,runs,failed,metric,n,mean,sd,ci95
//   plot.svg      --metric against the first varied path, one series per value of the
//                 others, error bars = 95% confidence interval of the mean
// A shard (--shard) writes sweep.json, runs/ and results.csv only; `merge` combines shards.
//
// Exit status: 0 success, 1 a run failed (it is recorded in results.csv with its exit
// status and left out of the statistics) or an output could not be written, 2 bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "megzawicol/sweep/grid.hpp"

namespace mz::sweep {

/// One run's row of results.csv.
struct RunRecord {
  size_t id = 0;
  uint64_t seed = 0;
  int status = 0;  // the child's exit status; 128+N if killed by signal N; -1: exit 0 but no readable summary.json
  std::map<std::string, std::string> metrics;  // column -> value as written (JSON number text)
};

/// What sweep.json records: enough to check that shards belong to the same grid.
struct SweepInfo {
  std::string scenario;       // the path as given
  std::string scenario_name;  // the scenario's "name"
  Grid grid;
  std::string metric;         // may be empty
  std::string shard;          // "I/N" or empty
};

/// The metrics of a run's summary.json: every numeric (or boolean, as 0/1) field of every
/// app as "<app name>.<field>" ("<app name>.<kind>.<field>" if an earlier app of the same
/// name has that field, e.g. a udp receiver's "port"), and per link i
/// "links[i].dropped" (all causes, both directions) and "links[i].<dir>.{sent,bytes_sent,
/// delivered,dropped}" for dir a_to_b and b_to_a. Throws std::runtime_error on bad JSON.
std::map<std::string, std::string> flatten_summary(const std::string& json_text);

/// The column order of the metrics in results.csv: app metrics by name, then link metrics
/// by link index (a fixed order within a link). Depends on the names only, so a merge of
/// shards orders its columns exactly like the unsharded sweep.
bool metric_less(const std::string& a, const std::string& b);

std::string sweep_json(const SweepInfo& info);
/// Parses sweep.json; throws SweepError.
SweepInfo parse_sweep_json(const std::string& text, const std::string& source);

/// The file contents (records in any order; they are sorted by run id).
std::string results_csv(const SweepInfo& info, std::vector<RunRecord> records);
std::string summary_csv(const SweepInfo& info, const std::vector<RunRecord>& records);
/// The SVG plot of `info.metric`, or "" if there is nothing to plot (no metric, no varied
/// parameter, or no value of the metric).
std::string plot_svg(const SweepInfo& info, const std::vector<RunRecord>& records);
/// A Markdown table of `info.metric` per combination (mean, 95% CI, sd, n), or "".
std::string metric_table(const SweepInfo& info, const std::vector<RunRecord>& records);

/// Reads a results.csv written by results_csv for this grid; throws SweepError.
std::vector<RunRecord> parse_results_csv(const SweepInfo& info, const std::string& text, const std::string& source);

/// Runs `argvs[i]` (argv[0] included) as children of `exe`, at most `jobs` at once, each
/// with stdout to /dev/null and stderr to `stderr_paths[i]`; calls done(i, status) as each
/// ends. On SIGINT or SIGTERM it stops launching, terminates and reaps the running
/// children and throws std::runtime_error.
void run_children(const std::string& exe, const std::vector<std::vector<std::string>>& argvs,
                  const std::vector<std::string>& stderr_paths, size_t jobs,
                  const std::function<void(size_t, int)>& done);

/// The number of CPUs this process may run on.
size_t available_cpus();

/// `args` are the words after "sweep". Returns the exit status.
int sweep_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mz::sweep
