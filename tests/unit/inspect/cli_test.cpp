// The trace and plot commands: exit statuses, messages, malformed traces; once through
// the real executable.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "megzawicol/inspect/cli.hpp"
#include "megzawicol/inspect/reader.hpp"
#include "support.hpp"

using namespace mz;
using namespace mz::inspect;
using namespace mz::inspect_test;

namespace {

struct Result {
  int rc;
  std::string out, err;
};
Result trace_cmd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int rc = trace_command(args, out, err);
  return {rc, out.str(), err.str()};
}
Result plot_cmd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int rc = plot_command(args, out, err);
  return {rc, out.str(), err.str()};
}

const std::string& ping_run() {
  static const std::string dir =
      run_scenario(read_file(std::string(MZ_SOURCE_DIR) + "/scenarios/ping.json"), "cli-ping");
  return dir;
}

// A copy of `dir`'s trace with line `n` (1-based) replaced by `text`.
std::string corrupt_copy(const std::string& dir, const std::string& name, size_t n, const std::string& text) {
  const std::string out = fresh_dir(name);
  std::filesystem::create_directories(out);
  auto lines = read_lines(dir + "/trace.jsonl");
  REQUIRE(lines.size() > n);
  lines[n - 1] = text;
  std::ofstream f(out + "/trace.jsonl", std::ios::binary);
  for (const auto& l : lines) f << l << "\n";
  return out;
}

}  // namespace

TEST_CASE("trace commands: usage errors exit 2, help exits 0") {
  CHECK(trace_cmd({}).rc == 2);
  CHECK(trace_cmd({"--help"}).rc == 0);
  CHECK(trace_cmd({"--help"}).out.find("trace summary DIR") != std::string::npos);
  auto r = trace_cmd({"frobnicate"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("unknown command \"frobnicate\"") != std::string::npos);
  CHECK(trace_cmd({"summary"}).rc == 2);
  CHECK(trace_cmd({"summary", "--help"}).rc == 0);
  CHECK(trace_cmd({"filter", "--help"}).out.find("--grep") != std::string::npos);
  CHECK(trace_cmd({"diff", ping_run()}).rc == 2);
  r = trace_cmd({"summary", "/nonexistent/run"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("/nonexistent/run") != std::string::npos);
  r = trace_cmd({"filter", ping_run(), "--from", "1.5parsecs"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("--from") != std::string::npos);
  r = trace_cmd({"filter", ping_run(), "--layer", "L9"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("L9") != std::string::npos);
  CHECK(plot_cmd({}).rc == 2);
  CHECK(plot_cmd({"--help"}).rc == 0);
}

TEST_CASE("trace commands on a ping run") {
  const std::string dir = ping_run();
  auto r = trace_cmd({"summary", dir});
  CHECK(r.rc == 0);
  CHECK(r.out.find("ping") != std::string::npos);
  CHECK(r.out.find("TCP flows\n  none") != std::string::npos);
  r = trace_cmd({"summary", dir, "--json"});
  REQUIRE(r.rc == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["rtt"][0]["source"] == "ping");
  CHECK(j["rtt"][0]["samples"] == 4);
  CHECK(j["events"] == read_lines(dir + "/trace.jsonl").size());

  r = trace_cmd({"filter", dir, "--event", "ping_reply", "--node", "a"});
  CHECK(r.rc == 0);
  size_t n = 0;
  for (size_t p = r.out.find('\n'); p != std::string::npos; p = r.out.find('\n', p + 1)) ++n;
  CHECK(n == 4);
  r = trace_cmd({"filter", dir, "--event", "ping_reply", "--from", "1.5s", "--to", "3500ms", "--json"});
  CHECK(r.rc == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);  // the replies at 2.01 s and 3.01 s
  r = trace_cmd({"diff", dir, dir});
  CHECK(r.rc == 0);
  CHECK(r.out.find("identical") == 0);
  r = plot_cmd({dir, "--out", fresh_dir("cli-ping-plots")});
  CHECK(r.rc == 0);
  CHECK(r.out.find("index.html") != std::string::npos);
}

TEST_CASE("a malformed trace.jsonl line: exit 2, the message names the file and the line") {
  const std::string dir = ping_run();
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b : {Bad{R"({"time_ns":5,"node":"a","layer":"L2","event":"x","msg":"y","fi)", "not valid JSON"},
                       Bad{R"({"time_ns":"5","node":"a","layer":"L2","event":"x","msg":"y","fields":{}})", "\"time_ns\""},
                       Bad{R"({"time_ns":5,"node":"a","layer":"L9","event":"x","msg":"y","fields":{}})", "unknown layer"},
                       Bad{R"({"time_ns":5,"node":"a","layer":"L2","msg":"y","fields":{}})", "missing key \"event\""},
                       Bad{"", "empty line"},
                       Bad{"[1,2]", "expected a JSON object"}}) {
    INFO(b.text);
    const std::string bad = corrupt_copy(dir, "malformed", 7, b.text);
    const std::string where = bad + "/trace.jsonl: line 7: ";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"summary", bad}, {"filter", bad}, {"filter", bad, "--json"}, {"diff", dir, bad}, {"diff", bad, dir}}) {
      INFO(args[0]);
      auto r = trace_cmd(args);
      CHECK(r.rc == 2);
      CHECK(r.err.find(where) != std::string::npos);
      CHECK(r.err.find(b.says) != std::string::npos);
    }
    auto r = plot_cmd({bad});
    CHECK(r.rc == 2);
    CHECK(r.err.find(where) != std::string::npos);
    TraceReader reader(bad);
    TraceRecord rec;
    for (int i = 0; i < 6; ++i) CHECK(reader.next(rec));
    CHECK_THROWS_AS(reader.next(rec), TraceError);
  }
}

TEST_CASE("the megzawicol executable dispatches trace and plot") {
  const std::string dir = ping_run();
  std::string out;
  CHECK(run_command(megzawicol_exe() + " trace summary '" + dir + "'", &out) == 0);
  CHECK(out.find("Events per node and layer") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " trace filter '" + dir + "' --layer L7 --grep 'bytes from'", &out) == 0);
  CHECK(out.find("[Application Layer]") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " trace diff '" + dir + "' '" + dir + "'", &out) == 0);
  const std::string bad = corrupt_copy(dir, "malformed-exe", 3, "{oops");
  CHECK(run_command(megzawicol_exe() + " trace summary '" + bad + "'", &out) == 2);
  CHECK(out.find("trace.jsonl: line 3: not valid JSON") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " plot '" + dir + "' --out '" + fresh_dir("exe-plots") + "'", &out) == 0);
  CHECK(run_command(megzawicol_exe() + " --help", &out) == 0);
  CHECK(out.find("megzawicol trace summary DIR") != std::string::npos);
}
