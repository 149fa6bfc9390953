#include "e2e_support.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace mz::test {

std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(MZ_BINARY_DIR) / "test-out" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

int run_command(const std::string& cmd, std::string* output) {
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

std::vector<std::string> tshark_lines(const std::string& args) {
  std::string out;
  const int rc = run_command("tshark " + args, &out);
  INFO("tshark " << args << "\n" << out);
  REQUIRE(rc == 0);
  std::vector<std::string> lines;
  std::istringstream ss(out);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.find("Running as user") != std::string::npos || line.empty()) continue;
    lines.push_back(line);
  }
  return lines;
}

std::string megzawicol_exe() { return std::string(MZ_BINARY_DIR) + "/sim/megzawicol"; }

bool have_tshark() {
  static const bool have = run_command("tshark --version", nullptr) == 0;
  return have;
}

std::string ping_scenario(const std::string& link_extra, int count, const std::string& seed) {
  return R"({
  "name": "ping-test", "seed": )" + seed + R"(, "duration": "60s",
  "nodes": [
    {"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
    {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}
  ],
  "links": [{"ends": ["a:eth0", "b:eth0"], "bandwidth": "10Mbps", "delay": "5ms")" +
         (link_extra.empty() ? "" : ", " + link_extra) + R"(}],
  "apps": [{"kind": "ping", "node": "a", "target": "b", "count": )" + std::to_string(count) +
         R"(, "interval": "1s", "size": 56}]
})";
}

}  // namespace mz::test
