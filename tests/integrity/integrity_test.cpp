// Data integrity of TCP under every impairment the links offer, and their combinations:
// frame loss, bit errors (caught by the FCS or the PHY), duplication and reordering
// (jitter larger than the frame spacing), with SACK on and off, and stop-and-wait.
//
// Every bulk transfer must deliver exactly the sender's stream (content verified byte by
// byte on arrival, byte count, CRC-32 equal to app::bulk_stream_crc) or, only where
// that is expected (20% loss each way, where eight back-to-back timeouts are possible),
// give up with "connection timed out". Every run must end by itself.
//
// A failing combination is printed with its seed and written to
// <build>/test-out/integrity/<combination>.json, so that it replays with
//   megzawicol run <that file> -o out
// Labelled "integrity": `ctest -LE integrity` leaves it out, CI runs it.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "megzawicol/app/bulk.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

using namespace mz;

namespace {

constexpr uint64_t kBytes = 200'000;
constexpr uint64_t kSeeds = 100;  // per combination in the main grids

struct Combo {
  uint64_t seed = 1;
  double loss = 0;
  double ber = 0;
  double dup = 0;
  int jitter_ms = 0;
  std::string transport = "{}";  // the app's "transport" object
  std::string label;             // "sack", "nosack", "stop-and-wait"

  std::string name() const {
    std::ostringstream o;
    o << label << "-seed" << seed << "-loss" << loss << "-ber" << ber << "-dup" << dup << "-jitter" << jitter_ms << "ms";
    return o.str();
  }
  std::string scenario() const {
    std::ostringstream o;
    o << R"({"name": ")" << name() << R"(", "seed": )" << seed << R"(, "duration": "3600s",
  "nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
            {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
  "links": [{"ends": ["a:eth0", "b:eth0"], "bandwidth": "10Mbps", "delay": "5ms", "loss": )"
      << loss << R"(, "ber": )" << ber << R"(, "duplicate": )" << dup << R"(, "jitter": ")" << jitter_ms << R"(ms"}],
  "apps": [{"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": )" << kBytes
      << R"(, "transport": )" << transport << R"(}]})";
    return o.str();
  }
};

template <class T>
const T* find_app(sim::Simulation& s, const std::string& node) {
  for (const auto& a : s.host(node).apps())
    if (auto* p = dynamic_cast<const T*>(a.get())) return p;
  return nullptr;
}

struct Tally {
  int runs = 0, ok = 0, expected_failures = 0, bad = 0;
};

/// Runs one combination; returns "" if it behaved, else what went wrong.
std::string check(const Combo& c, Tally& t) {
  ++t.runs;
  const std::string text = c.scenario();
  auto sc = scenario::load_scenario_text(text, c.name() + ".json");
  sim::Simulation s(sc, {});
  s.run();
  const auto* tx = find_app<app::BulkSender>(s, "a");
  const auto* rx = find_app<app::BulkReceiver>(s, "b");
  if (!tx || !rx) return "apps missing";
  std::ostringstream why;
  if (!rx->content_ok()) why << "received data differs from the stream; ";
  if (rx->received() > kBytes) why << "received " << rx->received() << " bytes, more than sent; ";
  if (!tx->finished()) why << "the sender never finished (the run hit its 3600 s limit); ";
  if (tx->finished() && !tx->failed()) {
    const uint32_t want = app::bulk_stream_crc(Rng::stream(sc.seed, "bulk:x").next_u64(), kBytes);
    if (!rx->complete()) why << "sender succeeded but the receiver saw no FIN; ";
    if (rx->received() != kBytes) why << "received " << rx->received() << " of " << kBytes << " bytes; ";
    if (rx->crc() != want) why << "CRC-32 mismatch; ";
  } else if (tx->failed()) {
    const bool expected = c.loss >= 0.2 && tx->error().rfind("connection timed out", 0) == 0;
    if (!expected) why << "failed: " << tx->error() << "; ";
  }
  std::string w = why.str();
  if (w.empty()) {
    if (tx->failed()) ++t.expected_failures; else ++t.ok;
    return "";
  }
  ++t.bad;
  const std::filesystem::path dir = std::filesystem::path(MZ_BINARY_DIR) / "test-out" / "integrity";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / (c.name() + ".json")).string();
  std::ofstream(file) << text << "\n";
  return w + "sender: " + (tx->error().empty() ? "ok" : tx->error()) + ", " + std::to_string(tx->stats().retransmitted_segs) +
         " retransmitted; receiver: " + std::to_string(rx->received()) + " bytes; replay: megzawicol run " + file;
}

void run_grid(const std::vector<uint64_t>& seeds, const std::vector<double>& losses, const std::string& label,
              const std::string& transport, Tally& t, const std::vector<int>& jitters = {0, 2}) {
  for (uint64_t seed : seeds)
    for (double loss : losses)
      for (double ber : {0.0, 1e-6})
        for (double dup : {0.0, 0.02})
          for (int jitter : jitters) {
            Combo c{seed, loss, ber, dup, jitter, transport, label};
            const std::string why = check(c, t);
            CHECK_MESSAGE(why.empty(), c.name() << ": " << why);
          }
}

std::vector<uint64_t> seeds(uint64_t n) {
  std::vector<uint64_t> v;
  for (uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

void report(const std::string& what, const Tally& t, std::chrono::steady_clock::time_point t0) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(what << ": " << t.runs << " transfers, " << t.ok << " verified, " << t.expected_failures
               << " gave up at 20% loss, " << t.bad << " wrong; " << secs << " s");
}

}  // namespace

TEST_CASE("integrity: SACK on: every transfer is byte-identical across loss, bit errors, duplication and reordering") {
  const auto t0 = std::chrono::steady_clock::now();
  Tally t;
  run_grid(seeds(kSeeds), {0, 0.01, 0.05, 0.2}, "sack", R"({"sack": true})", t);
  report("SACK", t, t0);
  CHECK(t.ok > t.runs * 9 / 10);
}

TEST_CASE("integrity: SACK off (NewReno): every transfer is byte-identical") {
  const auto t0 = std::chrono::steady_clock::now();
  Tally t;
  run_grid(seeds(kSeeds), {0, 0.01, 0.05, 0.2}, "nosack", R"({"sack": false})", t);
  report("NewReno", t, t0);
  CHECK(t.ok > t.runs * 9 / 10);
}

TEST_CASE("integrity: timestamps and no delayed ACKs: every transfer is byte-identical") {
  const auto t0 = std::chrono::steady_clock::now();
  Tally t;
  run_grid(seeds(kSeeds / 4), {0, 0.01, 0.05, 0.2}, "ts", R"({"timestamps": true, "delayed_ack": false})", t);
  report("timestamps", t, t0);
}

TEST_CASE("integrity: stop-and-wait at low loss: every transfer is byte-identical") {
  const auto t0 = std::chrono::steady_clock::now();
  Tally t;
  run_grid(seeds(kSeeds / 2), {0, 0.01}, "stop-and-wait", R"({"mode": "stop-and-wait"})", t);
  report("stop-and-wait", t, t0);
  CHECK(t.ok == t.runs);
}

TEST_CASE("integrity: small buffers (flow control, zero windows) and heavy reordering: every transfer is byte-identical") {
  // An 8 KiB receive buffer (5 segments) and send buffer keep the window closing and
  // reopening; 20 ms of jitter on a 5 ms link reorders frames by up to 16 positions.
  const auto t0 = std::chrono::steady_clock::now();
  Tally t;
  run_grid(seeds(kSeeds / 4), {0, 0.01, 0.05}, "smallbuf", R"({"rcv_buf": "8KiB", "snd_buf": "8KiB"})", t);
  run_grid(seeds(kSeeds / 4), {0, 0.01, 0.05}, "reorder", R"({})", t, {20});
  run_grid(seeds(kSeeds / 4), {0, 0.01, 0.05}, "reorder-nosack", R"({"sack": false})", t, {20});
  report("small buffers / heavy reordering", t, t0);
  CHECK(t.ok == t.runs);
}
