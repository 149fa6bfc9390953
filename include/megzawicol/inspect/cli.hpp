// The `trace` and `plot` commands of the megzawicol executable.
//
//   megzawicol trace summary DIR [--json]
//   megzawicol trace filter DIR [--node N] [--layer L] [--event E] [--from T] [--to T] [--grep TEXT] [--json]
//   megzawicol trace diff DIR1 DIR2
//   megzawicol plot DIR [--out PLOTDIR]
//
// Both return the exit status: 0 success (diff: the runs are identical), 1 run-time
// failure (diff: the runs differ), 2 bad input (usage, a missing or malformed trace).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mz::inspect {

/// `args` are the words after "trace".
int trace_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
/// `args` are the words after "plot".
int plot_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mz::inspect
