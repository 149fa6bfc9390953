// The command line: exit statuses, messages, outputs.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "e2e_support.hpp"

using namespace mz::test;

namespace {

std::string write_scenario(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("cli: run writes the traces, captures and summary; validate says ok") {
  const std::string dir = fresh_dir("cli-run");
  const std::string file = write_scenario(dir, "ping.json", ping_scenario());
  std::string out;
  CHECK(run_command(megzawicol_exe() + " validate " + file, &out) == 0);
  CHECK(out.find("ok") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " run " + file + " --out " + dir + "/out", &out) == 0);
  CHECK(out.find("icmp_seq=4") != std::string::npos);
  for (const char* f : {"/out/trace.log", "/out/trace.jsonl", "/out/summary.json", "/out/a-eth0.pcap", "/out/b-eth0.pcap"})
    CHECK_MESSAGE(file_exists(dir + f), f);
  const std::string log = read_file(dir + "/out/trace.log");
  CHECK(log.find("[Data Link Layer]") != std::string::npos);
  CHECK(log.find("[Physical Layer]") != std::string::npos);
  CHECK(log.find("[Network Layer]") != std::string::npos);
  const std::string summary = read_file(dir + "/out/summary.json");
  CHECK(summary.find("\"received\": 4") != std::string::npos);
}

TEST_CASE("cli: --set, --seed, --until and --quiet") {
  const std::string dir = fresh_dir("cli-set");
  const std::string file = write_scenario(dir, "ping.json", ping_scenario());
  std::string out;
  CHECK(run_command(megzawicol_exe() + " run " + file + " --quiet --out " + dir + "/q", &out) == 0);
  CHECK(out.empty());
  CHECK(run_command(megzawicol_exe() + " run " + file + " --set apps[0].count=2 --seed 9 --out " + dir + "/s", &out) == 0);
  CHECK(out.find("2 packets transmitted, 2 received") != std::string::npos);
  CHECK(read_file(dir + "/s/summary.json").find("\"seed\": 9") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " run " + file + " --until 1.5s --out " + dir + "/u", &out) == 0);
  CHECK(out.find("icmp_seq=2") != std::string::npos);
  CHECK(out.find("icmp_seq=3") == std::string::npos);
}

TEST_CASE("cli: bad input exits 2 with a message naming file, path and problem, and writes nothing") {
  const std::string dir = fresh_dir("cli-bad");
  const std::string file = write_scenario(dir, "bad.json", ping_scenario("\"loss\": 1.5"));
  std::string out;
  CHECK(run_command(megzawicol_exe() + " run " + file + " --out " + dir + "/out", &out) == 2);
  CHECK(out.find(file + ": links[0].loss: must be in [0,1], got 1.5") != std::string::npos);
  CHECK_FALSE(file_exists(dir + "/out"));
  CHECK(run_command(megzawicol_exe() + " validate " + file, &out) == 2);
  CHECK(out.find("links[0].loss") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " run " + dir + "/missing.json", &out) == 2);
  CHECK(out.find("missing.json: cannot open") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " frobnicate", &out) == 2);
  CHECK(run_command(megzawicol_exe() + " run " + file + " --no-such-flag", &out) == 2);
  CHECK(run_command(megzawicol_exe() + " run " + file + " --until soon", &out) == 2);
  CHECK(run_command(megzawicol_exe(), &out) == 2);
  const std::string good = write_scenario(dir, "good.json", ping_scenario());
  CHECK(run_command(megzawicol_exe() + " run " + good + " --set links[3].loss=0.1 --out " + dir + "/o2", &out) == 2);
  CHECK(out.find("links[3]") != std::string::npos);
  CHECK_FALSE(file_exists(dir + "/o2"));
}

TEST_CASE("cli: --help on every command exits 0") {
  std::string out;
  CHECK(run_command(megzawicol_exe() + " --help", &out) == 0);
  CHECK(out.find("Usage") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " run --help", &out) == 0);
  CHECK(out.find("--out") != std::string::npos);
  CHECK(run_command(megzawicol_exe() + " validate --help", &out) == 0);
  CHECK(run_command(megzawicol_exe() + " --version", &out) == 0);
}
