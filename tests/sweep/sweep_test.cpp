// megzawicol sweep: grid expansion, statistics, CSV, and real sweeps through the executable.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <set>

#include "megzawicol/sweep/csv.hpp"
#include "megzawicol/sweep/grid.hpp"
#include "megzawicol/sweep/stats.hpp"
#include "megzawicol/sweep/sweep.hpp"

namespace fs = std::filesystem;
using namespace mz::sweep;

namespace {

const std::string kExe = std::string(MZ_BINARY_DIR) + "/sim/megzawicol";
const std::string kPing = std::string(MZ_SOURCE_DIR) + "/scenarios/ping.json";

std::string fresh_dir(const std::string& name) {
  const fs::path d = fs::path(MZ_BINARY_DIR) / "test-out" / "sweep" / name;
  fs::remove_all(d);
  fs::create_directories(d.parent_path());
  return d.string();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), p.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs megzawicol with `args` (shell words), returns the exit status; output in *out.
int megzawicol(const std::string& args, std::string* out = nullptr) {
  const fs::path log = fs::path(MZ_BINARY_DIR) / "test-out" / "sweep" / "last-command.txt";
  fs::create_directories(log.parent_path());
  const std::string cmd = kExe + " " + args + " > " + log.string() + " 2>&1";
  const int st = std::system(cmd.c_str());
  if (out) *out = slurp(log);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<std::vector<std::string>> csv(const fs::path& p) { return parse_csv(slurp(p), p.string()); }

}  // namespace

TEST_CASE("parse_vary: PATH=v1,v2 and its errors") {
  const Vary v = parse_vary("links[0].loss=0,0.01,0.1");
  CHECK(v.path == "links[0].loss");
  CHECK(v.values == std::vector<std::string>{"0", "0.01", "0.1"});
  CHECK(parse_vary("apps.0.transport.mode=stop-and-wait").values.size() == 1);
  for (const char* bad : {"links[0].loss", "=1,2", "links[0].loss=", "links[0].loss=1,,2", "links[0].loss=1,1",
                          "links[0.loss=1", "links[x].loss=1", ".a=1", "a..b=1", "a b=1", "seed=1,2"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_vary(bad), SweepError);
  }
}

TEST_CASE("parse_seeds and parse_shard") {
  CHECK(parse_seeds("1-5") == std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(parse_seeds("7") == std::vector<uint64_t>{7});
  CHECK(parse_seeds("1-2,9,12-13") == std::vector<uint64_t>{1, 2, 9, 12, 13});
  CHECK(parse_seeds("18446744073709551615") == std::vector<uint64_t>{18446744073709551615ull});
  for (const char* bad : {"", "a", "3-1", "1-", "-1", "1,,2", "1-3,2", "1.5", "18446744073709551616", "1-200000"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_seeds(bad), SweepError);
  }
  const Shard s = parse_shard("3/10");
  CHECK(s.index == 3);
  CHECK(s.count == 10);
  CHECK(s.contains(13));
  CHECK_FALSE(s.contains(14));
  for (const char* bad : {"10/10", "1", "1/0", "a/2", "-1/2", "1/2/3"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_shard(bad), SweepError);
  }
}

TEST_CASE("grid expansion: combination-major run ids, last --vary fastest") {
  Grid g;
  g.vary = {parse_vary("a=a1,a2"), parse_vary("b=x,y,z")};
  g.seeds = {5, 6};
  g.validate();
  CHECK(g.combinations() == 6);
  CHECK(g.size() == 12);
  CHECK(g.values(g.combination_of(0)) == std::vector<std::string>{"a1", "x"});
  CHECK(g.seed_of(0) == 5);
  CHECK(g.seed_of(1) == 6);
  CHECK(g.values(g.combination_of(1)) == std::vector<std::string>{"a1", "x"});
  CHECK(g.values(g.combination_of(2)) == std::vector<std::string>{"a1", "y"});
  CHECK(g.values(g.combination_of(7)) == std::vector<std::string>{"a2", "x"});
  CHECK(g.seed_of(7) == 6);
  CHECK(g.overrides(5) == std::vector<std::string>{"a=a2", "b=z"});
  // Every (values, seed) exactly once.
  std::set<std::pair<std::vector<std::string>, uint64_t>> seen;
  for (size_t id = 0; id < g.size(); ++id) seen.insert({g.values(g.combination_of(id)), g.seed_of(id)});
  CHECK(seen.size() == 12);
  Grid none;
  none.seeds = {1, 2, 3};
  CHECK(none.size() == 3);
  CHECK(none.values(0).empty());
  Grid twice;
  twice.vary = {parse_vary("a=1"), parse_vary("a=2")};
  twice.seeds = {1};
  CHECK_THROWS_AS(twice.validate(), SweepError);
}

TEST_CASE("t quantiles: exact forms for 1 and 2 degrees of freedom, tabulated values") {
  for (double p : {0.6, 0.9, 0.95, 0.975, 0.995}) {
    CHECK(t_quantile(p, 1) == doctest::Approx(std::tan(std::numbers::pi * (p - 0.5))).epsilon(1e-9));
    CHECK(t_quantile(p, 2) == doctest::Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-9));
  }
  // Two-sided 95% (p = 0.975), from the usual table.
  const std::pair<double, double> t975[] = {{1, 12.706}, {2, 4.303},  {3, 3.182},  {4, 2.776},  {5, 2.571},
                                            {6, 2.447},  {7, 2.365},  {8, 2.306},  {9, 2.262},  {10, 2.228},
                                            {15, 2.131}, {19, 2.093}, {20, 2.086}, {30, 2.042}, {60, 2.000},
                                            {120, 1.980}};
  for (const auto& [df, t] : t975) {
    INFO("df " << df);
    CHECK(std::abs(t_quantile(0.975, df) - t) < 0.0005);
  }
  CHECK(std::abs(t_quantile(0.95, 10) - 1.812) < 0.0005);
  CHECK(std::abs(t_quantile(0.995, 10) - 3.169) < 0.0005);
  CHECK(std::abs(t_quantile(0.995, 1) - 63.657) < 0.0005);
  CHECK(std::abs(t_quantile(0.975, 1e7) - 1.959964) < 1e-5);  // the normal limit
  CHECK(t_quantile(0.025, 5) == doctest::Approx(-t_quantile(0.975, 5)));
  CHECK(t_cdf(0, 3) == doctest::Approx(0.5));
}

TEST_CASE("describe: mean, sd and 95% CI against hand-computed values") {
  // 2 4 4 4 5 5 7 9: mean 5, sum of squares 32, sd sqrt(32/7), t(0.975, 7) = 2.364624.
  const Stats s = describe({2, 4, 4, 4, 5, 5, 7, 9});
  CHECK(s.n == 8);
  CHECK(s.mean == doctest::Approx(5));
  CHECK(s.sd == doctest::Approx(std::sqrt(32.0 / 7)).epsilon(1e-12));
  CHECK(s.ci95 == doctest::Approx(1.7874879182362104).epsilon(1e-8));
  const Stats t = describe({1.5, 2.5, 4.0});
  CHECK(t.mean == doctest::Approx(8.0 / 3));
  CHECK(t.sd == doctest::Approx(1.2583057392117916).epsilon(1e-12));
  CHECK(t.ci95 == doctest::Approx(3.125804739805442).epsilon(1e-8));
  const Stats one = describe({42});
  CHECK(one.n == 1);
  CHECK(one.mean == 42);
  CHECK(describe({}).n == 0);
  CHECK(describe({3, 3, 3}).ci95 == 0);
}

TEST_CASE("CSV quoting round trip") {
  const std::vector<std::string> row{"plain", "a,b", "say \"hi\"", "", "line\nbreak"};
  const auto rows = parse_csv(csv_line(row) + csv_line({"1", "2", "3", "4", "5"}), "t");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == row);
  CHECK(rows[1].size() == 5);
  CHECK_THROWS_AS(parse_csv("\"open", "t"), SweepError);
}

TEST_CASE("flatten_summary: numeric app fields, booleans as 0/1, link counters; column order") {
  const std::string j = R"({"apps": [
      {"target": "10.0.0.2:5001", "bytes_sent": 500, "name": "t", "kind": "bulk", "node": "a"},
      {"port": 5001, "complete": true, "goodput_bps": 1.5, "name": "t", "kind": "bulk_receiver", "node": "b"},
      {"port": 9000, "name": "u", "kind": "udp", "node": "a"},
      {"port": 9000, "lost": 2, "name": "u", "kind": "udp_receiver", "node": "b"}],
    "links": [{"name": "x", "a_to_b": {"sent": 5, "bytes_sent": 472, "delivered": 4, "dropped": {"queue": 0, "loss": 1}},
               "b_to_a": {"sent": 3, "bytes_sent": 300, "delivered": 1, "dropped": {"queue": 1, "loss": 1}}}]})";
  const auto m = flatten_summary(j);
  CHECK(m.at("t.bytes_sent") == "500");
  CHECK(m.at("t.complete") == "1");
  CHECK(m.at("t.goodput_bps") == "1.5");
  CHECK(m.at("t.port") == "5001");
  CHECK(m.count("t.target") == 0);
  CHECK(m.at("u.port") == "9000");
  CHECK(m.at("u.udp_receiver.port") == "9000");
  CHECK(m.at("links[0].dropped") == "3");
  CHECK(m.at("links[0].a_to_b.dropped") == "1");
  CHECK(m.at("links[0].b_to_a.bytes_sent") == "300");
  CHECK(metric_less("t.zzz", "links[0].dropped"));
  CHECK(metric_less("links[0].dropped", "links[0].a_to_b.sent"));
  CHECK(metric_less("links[2].dropped", "links[10].dropped"));
  CHECK(metric_less("a.x", "b.a"));
}

TEST_CASE("a real sweep with 2 jobs: rows, and metrics equal to direct runs") {
  const std::string dir = fresh_dir("ping");
  std::string out;
  REQUIRE(megzawicol("sweep " + kPing + " --vary links[0].loss=0,0.5 --seeds 1-3 --jobs 2 --metric ping0.loss_percent --out " +
                         dir,
                     &out) == 0);
  INFO(out);
  CHECK(out.find("run 6/6 done") != std::string::npos);  // not a terminal: plain progress lines
  CHECK(out.find("| links[0].loss | n | mean |") != std::string::npos);
  const auto rows = csv(fs::path(dir) / "results.csv");
  REQUIRE(rows.size() == 7);
  const auto& h = rows[0];
  REQUIRE(h.size() > 4);
  CHECK(std::vector<std::string>(h.begin(), h.begin() + 4) ==
        std::vector<std::string>{"run", "links[0].loss", "seed", "status"});
  CHECK(std::find(h.begin(), h.end(), "ping0.loss_percent") != h.end());
  CHECK(std::find(h.begin(), h.end(), "links[0].dropped") != h.end());
  const std::string expect[6][2] = {{"0", "1"}, {"0", "2"}, {"0", "3"}, {"0.5", "1"}, {"0.5", "2"}, {"0.5", "3"}};
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    INFO("row " << i);
    CHECK(r[0] == std::to_string(i - 1));
    CHECK(r[1] == expect[i - 1][0]);
    CHECK(r[2] == expect[i - 1][1]);
    CHECK(r[3] == "0");
    // The same configuration run directly (with its traces on) gives the same metrics.
    const std::string direct = fresh_dir("direct-" + std::to_string(i));
    REQUIRE(megzawicol("run " + kPing + " --set links[0].loss=" + r[1] + " --seed " + r[2] + " --quiet --out " + direct) == 0);
    const auto m = flatten_summary(slurp(fs::path(direct) / "summary.json"));
    for (size_t k = 4; k < h.size(); ++k) {
      INFO(h[k]);
      auto it = m.find(h[k]);
      CHECK(r[k] == (it == m.end() ? std::string() : it->second));
    }
    size_t nonempty = 0;
    for (size_t k = 4; k < h.size(); ++k) nonempty += !r[k].empty();
    CHECK(nonempty == m.size());
  }
  // Loss 0: every ping answered, in every seed.
  const auto summary = csv(fs::path(dir) / "summary.csv");
  bool found = false;
  for (const auto& r : summary)
    if (r.size() == 8 && r[0] == "0" && r[3] == "ping0.loss_percent") {
      found = true;
      CHECK(r[1] == "3");  // runs
      CHECK(r[2] == "0");  // failed
      CHECK(r[4] == "3");  // n
      CHECK(r[5] == "0");
      CHECK(r[6] == "0");
      CHECK(r[7] == "0");
    }
  CHECK(found);
  const std::string svg = slurp(fs::path(dir) / "plot.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("ping0.loss_percent vs links[0].loss") != std::string::npos);
  CHECK(fs::exists(fs::path(dir) / "runs" / "5" / "summary.json"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "runs" / "5" / "trace.jsonl"));  // no --traces
}

TEST_CASE("shards 0/2 and 1/2, merged, equal the unsharded sweep byte for byte") {
  const std::string grid = kPing + " --vary links[0].loss=0,0.3 --vary apps[0].size=56,1400 --seeds 1-3 --metric ping0.rtt_avg_ns --jobs 2 --quiet";
  const std::string whole = fresh_dir("whole"), s0 = fresh_dir("shard0"), s1 = fresh_dir("shard1"), merged = fresh_dir("merged");
  REQUIRE(megzawicol("sweep " + grid + " --out " + whole) == 0);
  REQUIRE(megzawicol("sweep " + grid + " --shard 0/2 --out " + s0) == 0);
  REQUIRE(megzawicol("sweep " + grid + " --shard 1/2 --out " + s1) == 0);
  CHECK(csv(fs::path(s0) / "results.csv").size() == 7);  // 12 runs: ids 0, 2, ... 10
  CHECK_FALSE(fs::exists(fs::path(s0) / "summary.csv"));
  std::string out;
  REQUIRE(megzawicol("sweep merge " + s1 + " " + s0 + " --out " + merged, &out) == 0);
  for (const char* f : {"results.csv", "summary.csv", "plot.svg"}) {
    INFO(f);
    CHECK(slurp(fs::path(merged) / f) == slurp(fs::path(whole) / f));
  }
  // Overlapping shards, a grid mismatch and a missing directory are bad input.
  const std::string m2 = fresh_dir("merged2");
  CHECK(megzawicol("sweep merge " + s0 + " " + s0 + " --out " + m2, &out) == 2);
  CHECK(out.find("is in both") != std::string::npos);
  const std::string other = fresh_dir("other");
  REQUIRE(megzawicol("sweep " + kPing + " --vary links[0].loss=0,0.3 --seeds 1-2 --quiet --shard 1/2 --out " + other) == 0);
  CHECK(megzawicol("sweep merge " + s0 + " " + other + " --out " + m2, &out) == 2);
  CHECK(out.find("another grid") != std::string::npos);
  CHECK(megzawicol("sweep merge " + s0 + " /nonexistent/dir --out " + m2) == 2);
}

TEST_CASE("bad input exits 2 before anything runs") {
  const std::string dir = fresh_dir("bad");
  const std::string cases[][2] = {
      {"--vary links[0].loss --seeds 1-2", "expected PATH=v1,v2"},
      {"--vary links[0].los=0,0.1", "los"},
      {"--vary links[3].loss=0,0.1", "no such element"},
      {"--vary links[0].loss=0,2", "loss"},
      {"--vary links[0].loss=0 --seeds 3-1", "reversed"},
      {"--vary links[0].loss=0 --seeds one", "--seeds"},
      {"--vary links[0].loss=0 --shard 2/2", "--shard"},
      {"--vary links[0].loss=0 --metric nosuchapp.x", "--metric"},
      {"--vary links[0].loss=0 --jobs 0", "--jobs"},
      {"--vary links[0].loss=0 --bogus", "unrecognised"},
  };
  for (const auto& [args, needle] : cases) {
    INFO(args);
    std::string out;
    CHECK(megzawicol("sweep " + kPing + " " + args + " --out " + dir, &out) == 2);
    CHECK(out.find(needle) != std::string::npos);
    CHECK_FALSE(fs::exists(dir));
  }
  std::string out;
  CHECK(megzawicol("sweep /no/such/scenario.json --vary links[0].loss=0 --out " + dir, &out) == 2);
  CHECK_FALSE(fs::exists(dir));
  CHECK(megzawicol("sweep", &out) == 2);
}

TEST_CASE("a failing run is recorded with its status and left out of the statistics") {
  // A stand-in executable that fails: every run "exits 1".
  const std::string dir = fresh_dir("failing");
  std::string out;
  CHECK(megzawicol("sweep " + kPing + " --vary links[0].loss=0,0.5 --seeds 1-2 --jobs 2 --exe /bin/false --out " + dir, &out) == 1);
  CHECK(out.find("4 of 4 runs failed") != std::string::npos);
  const auto rows = csv(fs::path(dir) / "results.csv");
  REQUIRE(rows.size() == 5);
  for (size_t i = 1; i < rows.size(); ++i) CHECK(rows[i][3] == "1");
}
