// Helpers for end-to-end tests: scenario text, temporary output dirs, files, processes.
#pragma once

#include <string>
#include <vector>

#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

namespace mz::test {

/// A fresh, empty directory under the build tree for one test's outputs.
std::string fresh_dir(const std::string& name);
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
/// Runs a shell command, returns its exit status and captures stdout+stderr.
int run_command(const std::string& cmd, std::string* output);
/// The megzawicol executable in the build tree.
std::string megzawicol_exe();
/// Runs tshark with `args`; REQUIREs exit status 0 and returns its output lines (the
/// "Running as user root" notice removed).
std::vector<std::string> tshark_lines(const std::string& args);
/// True if tshark can be run.
bool have_tshark();
/// The two-host ping scenario as JSON text, with link settings spliced in.
std::string ping_scenario(const std::string& link_extra = "", int count = 4, const std::string& seed = "1");

}  // namespace mz::test
