// Helpers for the inspect tests: scenario runs into fresh directories, files, processes,
// and an independent reading of trace.jsonl with nlohmann.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

namespace mz::inspect_test {

/// A fresh, empty directory under the build tree.
inline std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(MZ_BINARY_DIR) / "test-out" / "inspect" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p.string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(f, l)) lines.push_back(l);
  return lines;
}

/// Runs a shell command; returns its exit status and captures stdout+stderr.
inline int run_command(const std::string& cmd, std::string* output) {
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  std::string out;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

inline std::string megzawicol_exe() { return std::string(MZ_BINARY_DIR) + "/sim/megzawicol"; }

/// Two hosts, one lossy cable with bit errors, a 2 MB bulk transfer a -> b and a ping.
inline std::string bulk_scenario(const std::string& seed = "7", const std::string& loss = "0.02",
                                 const std::string& bytes = "2MB") {
  return R"({
  "name": "inspect-bulk", "seed": )" + seed + R"(, "duration": "30s",
  "nodes": [
    {"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
    {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}
  ],
  "links": [{"ends": ["a:eth0", "b:eth0"], "bandwidth": "10Mbps", "delay": "10ms", "loss": )" + loss +
         R"(, "ber": 1e-6, "queue": 30}],
  "apps": [
    {"kind": "bulk", "node": "a", "target": "b", "bytes": ")" + bytes + R"("},
    {"kind": "ping", "node": "a", "target": "b", "count": 5, "start": "0.5s"}
  ]
})";
}

/// Runs `text` with traces written to a fresh directory `name`; returns the directory.
/// The simulation is kept in `*keep` if given (to read its counters).
inline std::string run_scenario(const std::string& text, const std::string& name,
                                std::unique_ptr<sim::Simulation>* keep = nullptr) {
  const auto sc = scenario::load_scenario_text(text, name + ".json");
  sim::RunOptions o;
  o.out_dir = fresh_dir(name);
  auto s = std::make_unique<sim::Simulation>(sc, o);
  s->run();
  if (keep) *keep = std::move(s);
  return o.out_dir;
}

/// trace.jsonl parsed independently of the inspect module.
inline std::vector<nlohmann::json> parse_jsonl(const std::string& dir) {
  std::vector<nlohmann::json> v;
  for (const auto& l : read_lines(dir + "/trace.jsonl")) v.push_back(nlohmann::json::parse(l));
  return v;
}

}  // namespace mz::inspect_test
