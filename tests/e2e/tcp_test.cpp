// End to end over TCP: the bulk app across simulated links. Goodput against the link
// arithmetic, stop-and-wait, resets for closed ports, giving up on a dead link, the
// capture in tshark, and four flows sharing a dumbbell bottleneck. Then the bulk app in
// TLS mode (over TLS 1.3 and the session layer): delivery with and without loss,
// determinism, tampered records, a wrong pinned key, and the capture decrypted by tshark.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e_support.hpp"
#include "megzawicol/app/bulk.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/wire/crc32.hpp"

using namespace mz;
using namespace mz::test;

namespace {

std::string scenario_path(const std::string& name) { return std::string(MZ_SOURCE_DIR) + "/scenarios/" + name; }

constexpr double kSecond = 1e9;

// ---- link arithmetic (see sim/simulation.hpp: a frame occupies the wire for
// (preamble + frame) bits, then a 96-bit inter-frame gap) ----
constexpr double kPreambleBytes = 8;   // 7 bytes of preamble + SFD
constexpr double kIfgBits = 96;
constexpr double kEthBytes = 14 + 4;   // header + FCS
constexpr double kIpTcpBytes = 20 + 20;  // no IP options; no TCP options on data segments (no timestamps)
constexpr double kMss = 1460;          // 1500-byte MTU - 40

/// Payload bit rate of a saturated link carrying full-size segments:
/// rate * MSS / (MSS + TCP/IP + Ethernet + preamble + IFG).
/// For 10 Mbit/s: a full frame is 1460 + 40 + 18 = 1518 bytes, on the wire 1526 bytes =
/// 12208 bits plus 96 bits of gap = 12304 bit times = 1230.4 us, carrying 1460*8 = 11680
/// payload bits: 10e6 * 11680 / 12304 = 9.4928 Mbit/s.
double saturated_goodput(double bps) {
  const double frame_bits = (kPreambleBytes + kEthBytes + kIpTcpBytes + kMss) * 8 + kIfgBits;
  return bps * kMss * 8 / frame_bits;
}

/// Two hosts, one link; `link` and `apps` are spliced in.
std::string two_hosts(const std::string& link, const std::string& apps, const std::string& extra = "",
                      const std::string& duration = "60s") {
  return R"({"name": "tcp", "duration": ")" + duration + R"(", "nodes": [
      {"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
      {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
    "links": [{"name": "ab", "ends": ["a:eth0", "b:eth0"], )" +
         link + R"(}], "apps": [)" + apps + "]" + extra + "}";
}

template <class T>
const T& app_of(sim::Simulation& s, const std::string& node, const std::string& name) {
  for (const auto& a : s.host(node).apps()) {
    if (auto* p = dynamic_cast<const T*>(a.get()); p && p->name() == name) return *p;
  }
  FAIL("no app " << name << " on " << node);
  throw 0;
}

uint64_t stream_seed(const scenario::Scenario& sc, const std::string& app) {
  return Rng::stream(sc.seed, "bulk:" + app).next_u64();
}

struct Run {
  scenario::Scenario sc;
  std::string dir;
  std::unique_ptr<sim::Simulation> sim;
  nlohmann::json summary;
};

Run run_scenario(scenario::Scenario sc, const std::string& name, bool files = true) {
  Run r;
  r.sc = std::move(sc);
  sim::RunOptions o;
  if (files) {
    r.dir = fresh_dir("tcp-" + name);
    o.out_dir = r.dir;
  }
  r.sim = std::make_unique<sim::Simulation>(r.sc, o);
  r.sim->run();
  r.summary = nlohmann::json::parse(r.sim->summary_json());
  return r;
}

Run run(const std::string& text, const std::string& name, bool files = true) {
  return run_scenario(scenario::load_scenario_text(text, name + ".json"), name, files);
}

/// trace.jsonl events of `node` called `event`.
std::vector<nlohmann::json> trace_events(const std::string& dir, const std::string& node, const std::string& event) {
  std::ifstream in(dir + "/trace.jsonl");
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"event\":\"" + event + "\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line);
    if (j["node"] == node) out.push_back(std::move(j));
  }
  return out;
}

/// The receiver got exactly the sender's stream.
void check_delivered(const scenario::Scenario& sc, sim::Simulation& s, const std::string& rx_node,
                     const std::string& app, uint64_t bytes) {
  const auto& rx = app_of<app::BulkReceiver>(s, rx_node, app);
  INFO("app " << app);
  CHECK(rx.complete());
  CHECK(rx.content_ok());
  CHECK(rx.received() == bytes);
  CHECK(rx.crc() == app::bulk_stream_crc(stream_seed(sc, app), bytes));
}

}  // namespace

TEST_CASE("bulk stream: four seeded generators in turn, the same bytes however the stream is cut") {
  // The definition: generator i is seeded with the i-th draw of Rng(seed); the stream is
  // the little-endian bytes of draws of generators 0, 1, 2, 3, 0, 1, ...
  const uint64_t seed = 0x1234;
  Rng master(seed);
  Rng lanes[4] = {Rng(master.next_u64()), Rng(master.next_u64()), Rng(master.next_u64()), Rng(master.next_u64())};
  std::vector<uint8_t> want(4096);
  for (size_t i = 0; i < want.size(); i += 8) {
    const uint64_t v = lanes[(i / 8) % 4].next_u64();
    for (int b = 0; b < 8; ++b) want[i + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  app::BulkStream whole(seed);
  std::vector<uint8_t> got(want.size());
  whole.next(got.data(), got.size());
  CHECK(got == want);
  // Cut at every kind of boundary: inside a draw, inside a 32-byte block, across blocks.
  Rng cuts(5);
  for (int trial = 0; trial < 50; ++trial) {
    app::BulkStream s(seed);
    std::vector<uint8_t> pieces;
    while (pieces.size() < want.size()) {
      const size_t n = std::min<size_t>(want.size() - pieces.size(), cuts.uniform_int(0, 70));
      std::vector<uint8_t> part(n);
      s.next(part.data(), n);
      pieces.insert(pieces.end(), part.begin(), part.end());
    }
    REQUIRE(pieces == want);
  }
  // The receiver's check value is the ordinary CRC-32 of those bytes.
  CHECK(app::bulk_stream_crc(seed, want.size()) == wire::crc32(want));
  CHECK(app::bulk_stream_crc(seed, 0) == 0u);
}

TEST_CASE("tcp: a clean 1 MB transfer is verified and runs at the link rate after slow start") {
  // 10 Mbit/s, 10 ms each way, a queue long enough that slow start never overflows it (the
  // window is bounded by the 256 KiB receive buffer = 180 segments): no loss at all.
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "10ms", "queue": 1000)",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "1MB"})"),
               "clean");
  auto& s = *r.sim;
  check_delivered(r.sc, s, "b", "x", 1'000'000);
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  CHECK(tx.finished());
  CHECK(tx.error() == "");
  CHECK(tx.stats().retransmitted_segs == 0);
  CHECK(s.channel(0, true).drop_queue == 0);
  // The transfer ends with a full close: the sender's summary says "ok" once its FIN is
  // acknowledged (it need not wait out TIME-WAIT).
  CHECK(r.summary["apps"][0]["result"] == "ok");

  const double rate = saturated_goodput(10e6);  // 9.4928 Mbit/s
  CHECK(rate == doctest::Approx(9.4928e6).epsilon(1e-4));

  // Steady state: data segments arriving at b from the 200th on. Once the window exceeds
  // the bandwidth-delay product (about 18 segments) the queue never empties, so b receives
  // one full segment every 1230.4 us: 9.4928 Mbit/s within 0.5%.
  const auto rx = trace_events(r.dir, "b", "rx_segment");
  std::vector<std::pair<int64_t, uint64_t>> data;  // (time, len)
  for (const auto& e : rx)
    if (e["fields"]["len"].get<uint64_t>() > 0) data.emplace_back(e["time_ns"].get<int64_t>(), e["fields"]["len"].get<uint64_t>());
  REQUIRE(data.size() == 685);  // ceil(1e6 / 1460): 684 full segments and one of 1360 bytes
  uint64_t bytes = 0;
  for (size_t i = 200; i < data.size(); ++i) bytes += data[i].second;  // bytes after the 200th segment's arrival
  const double steady = static_cast<double>(bytes) * 8e9 / static_cast<double>(data.back().first - data[199].first);
  CHECK(steady == doctest::Approx(rate).epsilon(0.005));

  // Whole transfer, as the receiver reports it (from its accept to the last byte): slow
  // start costs a few idle tens of ms out of ~0.85 s (685 frames * 1230.4 us = 0.843 s), so
  // the goodput is within 4% of the rate, and never above it.
  const double goodput = r.summary["apps"][1]["goodput_bps"].get<double>();
  MESSAGE("clean 1 MB: goodput " << goodput / 1e6 << " Mbit/s (saturated link " << rate / 1e6 << "), steady state "
                                 << steady / 1e6);
  CHECK(goodput <= rate);
  CHECK(goodput >= 0.96 * rate);
}

namespace {

/// Replays a's side of the (single) connection from trace.jsonl and returns the most data
/// bytes ever outstanding when a data segment left: the highest data sequence sent so far
/// minus the highest acknowledgment received so far (32-bit sequence arithmetic).
uint32_t max_data_in_flight(const std::string& dir, size_t* data_segments) {
  std::ifstream in(dir + "/trace.jsonl");
  std::string line;
  bool have_end = false, have_ack = false;
  uint32_t end = 0, ack = 0, worst = 0;
  *data_segments = 0;
  while (std::getline(in, line)) {
    if (line.find("\"node\":\"a\"") == std::string::npos) continue;
    const bool tx = line.find("\"event\":\"tx_segment\"") != std::string::npos;
    const bool rx = line.find("\"event\":\"rx_segment\"") != std::string::npos;
    if (!tx && !rx) continue;
    const auto f = nlohmann::json::parse(line)["fields"];
    const auto seq = f["seq"].get<uint32_t>(), len = f["len"].get<uint32_t>();
    if (rx) {
      if (f["flags"].get<uint32_t>() & 0x10) {  // ACK
        const uint32_t a = f["ack"].get<uint32_t>();
        if (!have_ack || static_cast<int32_t>(a - ack) > 0) ack = a;
        have_ack = true;
      }
      continue;
    }
    if (len == 0) continue;
    ++*data_segments;
    if (!have_end || static_cast<int32_t>(seq + len - end) > 0) end = seq + len;
    have_end = true;
    worst = std::max(worst, end - ack);
  }
  return worst;
}

}  // namespace

TEST_CASE("tcp: stop-and-wait keeps one segment in flight and delivers one MSS per round trip") {
  // 10 Mbit/s, 10 ms each way. One segment per round trip:
  //   data frame  1460 + 40 + 18 = 1518 bytes + 8 preamble = 12208 bits -> 1220.8 us
  //   its ACK     40 bytes of TCP/IP + 14 Ethernet, padded to 60, + 4 FCS + 8 preamble
  //               = 72 bytes = 576 bits -> 57.6 us
  //   RTT = 2 * 10 ms + 1220.8 us + 57.6 us = 21.2784 ms (the link is idle in between, so
  //   the inter-frame gap never delays anything), MSS / RTT = 11680 bits / 21.2784 ms
  //   = 548.9 kbit/s.
  const double rtt = 0.020 + 12208 / 10e6 + 576 / 10e6;
  const double expected = kMss * 8 / rtt;
  const std::string link = R"("bandwidth": "10Mbps", "delay": "10ms")";
  const std::string app = R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "200kB")";

  // The receiver acknowledges every segment at once: the textbook stop-and-wait.
  auto sw = run(two_hosts(link, app + R"(, "transport": {"mode": "stop-and-wait", "delayed_ack": false}})"), "sw");
  check_delivered(sw.sc, *sw.sim, "b", "x", 200'000);
  size_t segs = 0;
  CHECK(max_data_in_flight(sw.dir, &segs) == kMss);
  CHECK(segs == 137);  // 136 full segments and one of 1440 bytes, none retransmitted
  const double sw_goodput = sw.summary["apps"][1]["goodput_bps"].get<double>();
  // The receiver times from its accept to the last byte. The first data segment carries
  // the handshake's final ACK, so the accept and the first byte coincide and 200000 bytes
  // take 136 round trips: 200000 / (136 * 1460) = 1.0073 times MSS/RTT, 552.9 kbit/s.
  MESSAGE("stop-and-wait: goodput " << sw_goodput / 1e3 << " kbit/s, MSS/RTT = " << expected / 1e3 << " kbit/s");
  CHECK(sw_goodput == doctest::Approx(expected * 200000 / (136 * kMss)).epsilon(0.001));

  // With delayed ACKs (the default) every segment also waits ack_delay = 40 ms for its ACK
  // (there is never a second segment to trigger it): MSS / (RTT + 40 ms) = 190.6 kbit/s.
  // Only the first data segment is acknowledged at once (it completes the handshake), so
  // the receiver's 136 intervals are one RTT and 135 RTT + 40 ms: 192.9 kbit/s.
  auto swd = run(two_hosts(link, app + R"(, "transport": {"mode": "stop-and-wait"}})"), "sw-delack", false);
  check_delivered(swd.sc, *swd.sim, "b", "x", 200'000);
  const double swd_goodput = swd.summary["apps"][1]["goodput_bps"].get<double>();
  CHECK(swd_goodput == doctest::Approx(200000 * 8 / (rtt + 135 * (rtt + 0.040))).epsilon(0.001));

  // The sliding window on the same link: at least 8 times faster even for this short
  // transfer that spends most of its time in slow start.
  auto win = run(two_hosts(link, app + "}"), "sw-window", false);
  check_delivered(win.sc, *win.sim, "b", "x", 200'000);
  const double win_goodput = win.summary["apps"][1]["goodput_bps"].get<double>();
  MESSAGE("sliding window: goodput " << win_goodput / 1e6 << " Mbit/s");
  CHECK(win_goodput > 8 * sw_goodput);

  // The scenario file: the same rule holds on the lossy link with retransmissions.
  auto file = run_scenario(scenario::load_scenario_file(scenario_path("stop-and-wait.json")), "sw-file");
  check_delivered(file.sc, *file.sim, "b", "transfer", 500'000);
  CHECK(app_of<app::BulkSender>(*file.sim, "a", "transfer").stats().retransmitted_segs > 0);
  CHECK(max_data_in_flight(file.dir, &segs) <= kMss);
}

TEST_CASE("tcp: a SYN to a closed port is answered with a RST and the sender reports Connection refused") {
  // b listens on 5001 (the scenario's bulk app); a second sender, added by hand, targets
  // port 5002 where nobody listens.
  auto sc = scenario::load_scenario_text(
      two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")",
                R"({"kind": "bulk", "name": "ok", "node": "a", "target": "b", "bytes": "10kB"})"),
      "refused.json");
  const std::string dir = fresh_dir("tcp-refused");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  app::BulkConfig bc;
  bc.name = "refused";
  bc.target = *Ipv4Addr::parse("10.0.0.2");
  bc.port = 5002;
  bc.bytes = 10'000;
  bc.start = Time::zero() + Duration::millis(100);  // after ARP: the SYN goes out at once
  s.host("a").add_app(std::make_unique<app::BulkSender>(bc));
  s.run();

  check_delivered(sc, s, "b", "ok", 10'000);
  const auto& refused = app_of<app::BulkSender>(s, "a", "refused");
  CHECK(refused.finished());
  CHECK(refused.error() == "connect: Connection refused");
  CHECK(refused.bytes_written() == 0);
  CHECK(s.host("b").counters().tcp_rst_out == 1);
  // One SYN, one RST, one round trip: the SYN is not retransmitted.
  const auto rst = trace_events(dir, "b", "rst");
  REQUIRE(rst.size() == 1);
  CHECK(rst[0]["msg"].get<std::string>().find(":5002") != std::string::npos);
  const auto failed = trace_events(dir, "a", "bulk_failed");
  REQUIRE(failed.size() == 1);
  // 100 ms + the SYN (a 32-byte TCP header with MSS, window scale and SACK-permitted: a
  // 70-byte frame, 78 bytes = 624 bits with the preamble, 62.4 us) + 5 ms + the RST (a
  // minimum 64-byte frame, 72 bytes = 576 bits, 57.6 us) + 5 ms = 110.12 ms.
  CHECK(rst[0]["time_ns"].get<int64_t>() == 105'062'400);
  CHECK(failed[0]["time_ns"].get<int64_t>() == 110'120'000);
  size_t syns = 0;
  for (const auto& e : trace_events(dir, "a", "tx_segment"))
    if (e["fields"]["dport"] == 5002) ++syns;
  CHECK(syns == 1);
}

TEST_CASE("tcp: a link that goes down for good makes the sender give up after max_retries and the run ends") {
  // 5 MB take 4.3 s at 9.49 Mbit/s; the only link goes down at 1 s and never comes back.
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "10ms")",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "5MB",
                             "transport": {"max_retries": 5}})",
                         R"(, "events": [{"at": "1s", "link": "ab", "action": "down"}])", "600s"),
               "link-down");
  auto& s = *r.sim;
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  const auto& rx = app_of<app::BulkReceiver>(s, "b", "x");
  CHECK(tx.finished());
  CHECK(tx.error().rfind("connection timed out: ", 0) == 0);
  MESSAGE("sender error: " << tx.error());
  CHECK(r.summary["apps"][0]["result"] == "failed");
  CHECK(!rx.complete());
  CHECK(rx.content_ok());              // what did arrive was right
  CHECK(rx.received() < 5'000'000);
  CHECK(rx.received() > 500'000);      // about a second's worth

  const auto failed = trace_events(r.dir, "a", "bulk_failed");
  REQUIRE(failed.size() == 1);
  const double t_fail = failed[0]["time_ns"].get<double>() / kSecond;
  // The RTO in force when the link died: the last RTT sample's, before 1 s.
  double rto = 0;
  for (const auto& e : trace_events(r.dir, "a", "rtt"))
    if (e["time_ns"].get<int64_t>() < 1'000'000'000) rto = e["fields"]["rto_ns"].get<double>() / kSecond;
  REQUIRE(rto > 0);
  // After the last ACK, the retransmission timer (armed at most one RTO before the link
  // died) fires after RTO, 2 RTO, 4 RTO, 8 RTO, 16 RTO (5 timeouts, 5 retransmissions of the
  // oldest segment) and the next expiry, 32 RTO later, gives up: 63 RTO after arming.
  MESSAGE("RTO " << rto << " s, gave up at " << t_fail << " s");
  CHECK(t_fail > 1.0 + 62 * rto);
  CHECK(t_fail <= 1.0 + 63 * rto);
  size_t timeout_rexmits_of_una = 0;
  std::map<uint64_t, int> per_seq;
  for (const auto& e : trace_events(r.dir, "a", "retransmit"))
    if (e["time_ns"].get<int64_t>() >= 1'000'000'000 && e["fields"]["reason"] == "timeout")
      ++per_seq[e["fields"]["seq"].get<uint64_t>()];
  for (const auto& [seq, n] : per_seq) timeout_rexmits_of_una = std::max<size_t>(timeout_rexmits_of_una, n);
  CHECK(timeout_rexmits_of_una == 5);  // a segment is sent at most 1 + max_retries times

  // Nothing is left to do after that: the run ends by itself, long before its 600 s.
  CHECK(r.summary["end_time_ns"].get<double>() / kSecond < t_fail + 1.0);
}

TEST_CASE("tcp: tshark finds no malformed packets and no bad checksums and counts the sender's retransmissions") {
  if (!have_tshark()) {
    MESSAGE("tshark not found: skipping the capture check (CI installs it)");
    return;
  }
  // bulk.json: 2 MB over 10 Mbit/s with 1% frame loss each way, SACK on; then 1 MB with 5%
  // loss, where timeouts and longer SACK recoveries occur too.
  const std::vector<std::vector<std::string>> variants = {
      {}, {"links[0].loss=0.05", "seed=5", "apps[0].bytes=1MB"}};
  for (const auto& overrides : variants) {
    const size_t bytes = overrides.empty() ? 2'000'000 : 1'000'000;
    INFO("overrides: " << overrides.size());
    auto r = run_scenario(scenario::load_scenario_file(scenario_path("bulk.json"), overrides),
                          "tshark" + std::to_string(overrides.size()));
    auto& s = *r.sim;
    check_delivered(r.sc, s, "b", "transfer", bytes);
    const auto& tx = app_of<app::BulkSender>(s, "a", "transfer");
    REQUIRE(tx.stats().retransmitted_segs > 0);
    // The capture is taken as frames start on the wire, so a frame dropped by a's own queue
    // would be missing from it; this scenario never fills that queue.
    REQUIRE(s.channel(0, true).drop_queue == 0);

    const std::string pcap = r.dir + "/a-eth0.pcap";
    const std::string opts = " -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o eth.check_fcs:TRUE ";
    CHECK(tshark_lines("-r " + pcap + opts + "-Y '_ws.malformed || _ws.expert.severity == error'").empty());
    size_t tcp_frames = 0;
    for (const auto& line : tshark_lines("-r " + pcap + opts + "-Y tcp -T fields -e eth.fcs.status -e ip.checksum.status -e tcp.checksum.status")) {
      ++tcp_frames;
      CHECK_MESSAGE(line == "1\t1\t1", line);  // 1 = good
    }
    // a's capture: every frame a sent and every frame that reached it.
    CHECK(tcp_frames == s.channel(0, true).sent + s.channel(0, false).delivered - /* ARP */ 2);

    // Wireshark (4.0) calls a segment from a below the highest sequence number seen so far
    //  - a "fast retransmission" (and also a "retransmission") when b has sent duplicate ACKs
    //    for exactly that sequence number: our fast retransmits, and here a timeout
    //    retransmission too, since the duplicate ACKs that preceded it are still the last
    //    thing b said;
    //  - an "out-of-order" segment (and NOT a retransmission) when it leaves within the
    //    connection's first RTT of the highest segment: that is how Wireshark sees the later
    //    SACK retransmissions of one recovery, which fill the second and following holes
    //    while new data is still going out;
    //  - a "retransmission" otherwise.
    // So tshark's retransmission count alone is below ours by the SACK retransmissions it
    // takes for reordering. Since a sends in order, every out-of-order segment from a is a
    // retransmission, and the two kinds together are exactly our retransmissions, segment by
    // segment (compared by raw sequence number, with multiplicity).
    const std::string from_a = "-r " + pcap + " -Y 'ip.src==10.0.0.1 && ";
    auto seqs = [](const std::vector<std::string>& lines) {
      std::vector<uint64_t> v;
      for (const auto& l : lines) v.push_back(std::stoull(l));
      std::sort(v.begin(), v.end());
      return v;
    };
    const auto rexmit = seqs(tshark_lines(from_a + "tcp.analysis.retransmission' -T fields -e tcp.seq_raw"));
    const auto fast = seqs(tshark_lines(from_a + "tcp.analysis.fast_retransmission' -T fields -e tcp.seq_raw"));
    const auto ooo = seqs(tshark_lines(from_a + "tcp.analysis.out_of_order' -T fields -e tcp.seq_raw"));
    const auto spurious = tshark_lines(from_a + "tcp.analysis.spurious_retransmission'");
    std::vector<uint64_t> ours;
    for (const auto& e : trace_events(r.dir, "a", "retransmit")) ours.push_back(e["fields"]["seq"].get<uint64_t>());
    std::sort(ours.begin(), ours.end());
    const auto& st = tx.stats();
    MESSAGE("tshark: " << rexmit.size() << " retransmissions (" << fast.size() << " fast), " << ooo.size()
                       << " out-of-order; sender: " << st.retransmitted_segs << " (" << st.timeouts << " timeouts, "
                       << st.fast_retransmits << " fast, " << st.sack_retransmits << " SACK)");
    CHECK(ours.size() == st.retransmitted_segs);
    CHECK(spurious.empty());  // nothing b had already acknowledged is sent again
    CHECK(std::includes(rexmit.begin(), rexmit.end(), fast.begin(), fast.end()));
    CHECK(rexmit.size() >= st.timeouts + st.fast_retransmits);
    CHECK(ooo.size() <= st.sack_retransmits);
    std::vector<uint64_t> theirs = rexmit;
    theirs.insert(theirs.end(), ooo.begin(), ooo.end());
    std::sort(theirs.begin(), theirs.end());
    CHECK(theirs == ours);
    CHECK(theirs.size() == st.retransmitted_segs);
  }
}

TEST_CASE("tcp: four flows across a dumbbell all arrive intact and share the bottleneck") {
  auto r = run_scenario(scenario::load_scenario_file(scenario_path("dumbbell.json")), "dumbbell");
  auto& s = *r.sim;
  for (int i = 1; i <= 4; ++i) {
    const std::string n = std::to_string(i);
    check_delivered(r.sc, s, "d" + n, "flow" + n, 2'000'000);
    CHECK(app_of<app::BulkSender>(s, "s" + n, "flow" + n).error() == "");
  }
  // links[0] is the bottleneck r1 -> r2: its 20-frame queue overflows.
  REQUIRE(r.sc.links[0].name == "bottleneck");
  const auto& bn = s.channel(0, true);
  CHECK(bn.drop_queue > 0);
  CHECK(bn.drop_loss == 0);
  MESSAGE("bottleneck: " << bn.sent << " frames sent, " << bn.drop_queue << " dropped by the queue");

  // Goodput while all four flows run: from the fourth flow's first data byte to the first
  // flow's last byte, the data bytes arriving at d1..d4 add up to at most the bottleneck's
  // payload rate (9.4928 Mbit/s, see saturated_goodput) and use most of it. (The receivers'
  // own goodputs, each over its own interval, may add up to more: a flow that runs alone
  // for a while has the whole link then.)
  std::vector<std::vector<std::pair<int64_t, uint64_t>>> arrivals(4);
  for (int i = 0; i < 4; ++i)
    for (const auto& e : trace_events(r.dir, "d" + std::to_string(i + 1), "rx_segment"))
      if (auto len = e["fields"]["len"].get<uint64_t>(); len > 0) arrivals[i].emplace_back(e["time_ns"].get<int64_t>(), len);
  int64_t from = 0, to = INT64_MAX;
  for (const auto& a : arrivals) {
    REQUIRE(!a.empty());
    from = std::max(from, a.front().first);
    to = std::min(to, a.back().first);
  }
  REQUIRE(to - from > 2'000'000'000);  // all four share the link for seconds
  uint64_t bytes = 0;
  for (const auto& a : arrivals)
    for (const auto& [t, len] : a)
      if (t > from && t <= to) bytes += len;
  const double rate = saturated_goodput(10e6);
  const double sum = static_cast<double>(bytes) * 8 * kSecond / static_cast<double>(to - from);
  double sum_of_reported = 0;
  for (const auto& a : r.summary["apps"])
    if (a["kind"] == "bulk_receiver") sum_of_reported += a["goodput_bps"].get<double>();
  MESSAGE("dumbbell: " << sum / 1e6 << " Mbit/s together while all four run (link " << rate / 1e6
                       << "); receivers' goodputs add up to " << sum_of_reported / 1e6);
  CHECK(sum <= rate * 1.001);  // one segment's worth of slack at the interval's ends
  CHECK(sum >= 0.85 * rate);
  // And over the whole run: 8 MB between the first SYN and the last byte.
  int64_t last = 0;
  for (const auto& a : arrivals) last = std::max(last, a.back().first);
  CHECK(8e6 * 8 * kSecond / static_cast<double>(last) <= rate);
}

TEST_CASE("tcp: a second connection to a busy bulk receiver is reset without touching the first transfer") {
  // Both apps target b:5001; the first receiver owns the port (the second cannot bind it),
  // takes the first connection and aborts the other. The aborted connection's first data
  // segment, which completed its handshake, must not leak into the first stream.
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "10ms")",
                         R"({"kind": "bulk", "name": "first", "node": "a", "target": "b", "bytes": "100kB"},
                            {"kind": "bulk", "name": "second", "node": "a", "target": "b", "bytes": "100kB", "start": "10ms"})"),
               "busy", false);
  auto& s = *r.sim;
  check_delivered(r.sc, s, "b", "first", 100'000);
  CHECK(app_of<app::BulkSender>(s, "a", "first").error() == "");
  CHECK(app_of<app::BulkSender>(s, "a", "second").error() == "connection reset by peer");
  CHECK(app_of<app::BulkReceiver>(s, "b", "second").received() == 0);
}

// ---------------------------------------------------------------------- bulk over TLS

namespace {

const char* kTlsApp = R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "300kB", "tls": true})";

}  // namespace

TEST_CASE("bulk over TLS: every byte arrives decrypted and verified and the trace shows the handshake") {
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")", kTlsApp, R"(, "trace": {"keylog": true})"), "tls-clean");
  auto& s = *r.sim;
  check_delivered(r.sc, s, "b", "x", 300'000);
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  const auto& rx = app_of<app::BulkReceiver>(s, "b", "x");
  CHECK(tx.finished());
  CHECK(tx.error() == "");
  CHECK(rx.error() == "");
  CHECK(tx.bytes_written() == 300'000);
  const auto& sender = r.summary["apps"][0];
  const auto& receiver = r.summary["apps"][1];
  CHECK(sender["result"] == "ok");
  CHECK(sender["tls"] == true);
  CHECK(receiver["tls"] == true);
  CHECK(receiver["error"] == "");
  CHECK(receiver["content_ok"] == true);
  CHECK(receiver["bytes_received"] == 300'000);
  // The session OPEN/ACCEPT round trip, then the TLS one: two round trips of 10 ms and change.
  CHECK(tx.handshake_time() > Duration::millis(20));
  CHECK(tx.handshake_time() < Duration::millis(22));
  CHECK(sender["handshake_time_ns"] == tx.handshake_time().ns);

  // What a's TCP carried: the session OPEN (a 33-byte header), the ClientHello (a 128-byte
  // message in a 5-byte record header) and the client Finished (36 bytes, encrypted: + 5 + 1
  // + 16) in DATA frames, then 19 records of application data (18 of 16 KiB and one of 5088
  // bytes, each + 5 + 1 + 16) in 19 DATA frames, and close_notify (2 bytes, encrypted) in
  // one more; then its FIN. The receiver answers with its own close_notify and ends the
  // session with a CLOSE frame.
  CHECK(tx.stats().retransmitted_segs == 0);
  const uint64_t frames = 33 + (33 + 5 + 128) + (33 + 5 + 36 + 17) + 18 * (33 + 5 + 16384 + 17) + (33 + 5 + 5088 + 17) +
                          (33 + 5 + 2 + 17);
  CHECK(tx.stats().bytes_sent == frames);

  const std::string log = read_file(r.dir + "/trace.log");
  for (const char* line : {"[Session Layer] opening a new session", "accepted by the receiver (NEW)",
                           "[Presentation Layer] sent TLS ClientHello", "[Presentation Layer] sent TLS ServerHello",
                           "TLS 1.3 handshake complete: TLS_AES_128_GCM_SHA256, server key sha256:",
                           "sent close_notify", "received close_notify", "transfer complete: 300000 bytes, content verified",
                           "ACTIVE -> CLOSED"})
    CHECK_MESSAGE(log.find(line) != std::string::npos, line);
  // Handshake lines only: nothing per record at L5/L6 (TCP already traces every segment).
  CHECK(trace_events(r.dir, "a", "tls").size() < 20);
  CHECK(trace_events(r.dir, "b", "tls").size() < 20);
  // The key log holds the client's secrets.
  const std::string keylog = read_file(r.dir + "/keylog.txt");
  CHECK(keylog.find("CLIENT_TRAFFIC_SECRET_0 ") != std::string::npos);
}

TEST_CASE("bulk over TLS: with 2% loss each way every byte still arrives verified") {
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms", "loss": 0.02)",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "1MB", "tls": true})"),
               "tls-loss", false);
  auto& s = *r.sim;
  check_delivered(r.sc, s, "b", "x", 1'000'000);
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  CHECK(tx.error() == "");
  CHECK(r.summary["apps"][0]["result"] == "ok");
  CHECK(app_of<app::BulkReceiver>(s, "b", "x").error() == "");
  CHECK(tx.stats().retransmitted_segs > 0);  // the loss did bite
  CHECK(s.channel(0, true).drop_loss > 0);
  MESSAGE("TLS with 2% loss: " << tx.stats().retransmitted_segs << " segments retransmitted, goodput "
                               << r.summary["apps"][1]["goodput_bps"].get<double>() / 1e6 << " Mbit/s");
}

TEST_CASE("bulk over TLS: the same seed gives identical outputs and another seed differs") {
  const std::string text = two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms", "loss": 0.02)", kTlsApp);
  std::string dir[2];
  std::string summary[2];
  for (int k = 0; k < 2; ++k) {
    auto r = run(text, "tls-det" + std::to_string(k));
    dir[k] = r.dir;
    summary[k] = r.sim->summary_json();
    check_delivered(r.sc, *r.sim, "b", "x", 300'000);
  }
  CHECK(summary[0] == summary[1]);
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir[0])) {
    const std::string name = f.path().filename().string();
    CHECK_MESSAGE(read_file(f.path().string()) == read_file(dir[1] + "/" + name), name);
    ++files;
  }
  CHECK(files >= 4);  // trace.log, trace.jsonl, summary.json, two captures
  auto other = run_scenario(scenario::load_scenario_text(text, "tls-det.json", {"seed=2"}), "tls-det-seed2", false);
  check_delivered(other.sc, *other.sim, "b", "x", 300'000);
  CHECK(other.sim->summary_json() != summary[0]);
  CHECK(read_file(dir[0] + "/a-eth0.pcap").size() > 300'000);
}

TEST_CASE("bulk over TLS: a tampered record ends the transfer with bad_record_mac on both ends") {
  // The scenario's own transfer (port 5001) is the control; a second pair on port 5002,
  // added by hand, flips one bit of the first application data record's tag.
  auto sc = scenario::load_scenario_text(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")", kTlsApp), "tls-tamper.json");
  const std::string dir = fresh_dir("tcp-tls-tamper");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  std::array<uint8_t, 32> key{};
  key.fill(7);
  app::BulkReceiverConfig rc;
  rc.name = "tampered";
  rc.port = 5002;
  rc.stream_seed = 42;
  rc.expected_bytes = 100'000;
  rc.tls = true;
  rc.server_key = key;
  rc.tls_seed = 1;
  s.host("b").add_app(std::make_unique<app::BulkReceiver>(rc));
  app::BulkConfig bc;
  bc.name = "tampered";
  bc.target = *Ipv4Addr::parse("10.0.0.2");
  bc.port = 5002;
  bc.bytes = 100'000;
  bc.stream_seed = 42;
  bc.tls = true;
  bc.pinned_server_key = l6::ed25519_public(key);
  bc.tls_seed = 2;
  bc.tamper_after_handshake = true;
  s.host("a").add_app(std::make_unique<app::BulkSender>(bc));
  s.run();

  check_delivered(sc, s, "b", "x", 300'000);
  const auto& tx = app_of<app::BulkSender>(s, "a", "tampered");
  const auto& rx = app_of<app::BulkReceiver>(s, "b", "tampered");
  CHECK(tx.finished());
  CHECK(tx.error() == "TLS peer alert bad_record_mac: received from peer");
  CHECK(rx.error() == "TLS alert bad_record_mac: record authentication failed");
  CHECK(!rx.complete());
  CHECK(rx.received() == 0);  // no byte of a record that failed authentication is delivered
  CHECK(trace_events(dir, "a", "tls_tampered").size() == 1);
  // Both ends give up within a round trip or two of the handshake: the sender waits for
  // the receiver's close_notify before it counts the transfer done, so it hears the alert
  // even though all its data was written long before.
  const auto rx_failed = trace_events(dir, "b", "bulk_failed");
  const auto tx_failed = trace_events(dir, "a", "bulk_failed");
  REQUIRE(rx_failed.size() == 1);
  REQUIRE(tx_failed.size() == 1);
  CHECK(tx_failed[0]["time_ns"].get<int64_t>() < 200'000'000);
}

TEST_CASE("bulk over TLS: a pinned key that does not match fails the handshake on both ends") {
  auto sc = scenario::load_scenario_text(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")", kTlsApp), "tls-badkey.json");
  sc.apps[0].pinned_key = std::array<uint8_t, 32>{};
  sc.apps[0].pinned_key->fill(0x42);
  auto r = run_scenario(sc, "tls-badkey");
  auto& s = *r.sim;
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  const auto& rx = app_of<app::BulkReceiver>(s, "b", "x");
  CHECK(tx.finished());
  CHECK(tx.error().rfind("TLS alert bad_certificate: ", 0) == 0);
  CHECK(tx.bytes_written() == 0);
  CHECK(rx.error() == "TLS peer alert bad_certificate: received from peer");
  CHECK(rx.received() == 0);
  CHECK(!rx.complete());
  CHECK(r.summary["apps"][0]["result"] == "failed");
  CHECK(r.summary["apps"][1]["error"] == rx.error());
  MESSAGE("sender: " << tx.error());
}

TEST_CASE("bulk over TLS: duration mode sends for the given time then closes cleanly") {
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "duration": "300ms", "tls": true})"),
               "tls-duration", false);
  auto& s = *r.sim;
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  CHECK(tx.error() == "");
  CHECK(tx.bytes_written() > 300'000);  // 300 ms at about 9.4 Mbit/s, plus what sat in the send buffer
  check_delivered(r.sc, s, "b", "x", tx.bytes_written());
}

TEST_CASE("bulk over TLS: a link that goes down for good ends the sender with a timeout and no hang") {
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "2MB", "tls": true,
                             "transport": {"max_retries": 3}})",
                         R"(, "events": [{"at": "500ms", "link": "ab", "action": "down"}])", "600s"),
               "tls-link-down", false);
  auto& s = *r.sim;
  const auto& tx = app_of<app::BulkSender>(s, "a", "x");
  const auto& rx = app_of<app::BulkReceiver>(s, "b", "x");
  CHECK(tx.finished());
  CHECK(tx.error().rfind("connection timed out: ", 0) == 0);
  CHECK(!rx.complete());
  CHECK(rx.content_ok());
  CHECK(rx.received() > 100'000);
  CHECK(rx.received() < 2'000'000);
  CHECK(r.summary["end_time_ns"].get<double>() / kSecond < 60);
}

TEST_CASE("bulk over TLS: tshark decrypts the capture with the key log and sees the records on the bulk port") {
  if (!have_tshark()) {
    MESSAGE("tshark not found: skipping the capture check (CI installs it)");
    return;
  }
  auto r = run(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")",
                         R"({"kind": "bulk", "name": "x", "node": "a", "target": "b", "bytes": "200kB", "tls": true})",
                         R"(, "trace": {"keylog": true})"),
               "tls-tshark");
  check_delivered(r.sc, *r.sim, "b", "x", 200'000);
  const std::string pcap = r.dir + "/b-eth0.pcap";
  const std::string lua = std::string(MZ_SOURCE_DIR) + "/tools/megzawicol_session.lua";
  const std::string opts = " -X lua_script:" + lua + " -d tcp.port==5001,megzawicol_session ";
  // Valid FCS and checksums, nothing malformed.
  CHECK(tshark_lines("-r " + pcap + opts +
                     "-o eth.check_fcs:TRUE -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
                     "-Y '_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || tcp.checksum.status == 0'")
            .empty());
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string x; std::getline(ss, x, ',');) v.push_back(x);
    return v;
  };
  // Without keys: encrypted records (outer type application_data) to the bulk port: the
  // client Finished (53 bytes), 12 full records of data (16 KiB + 17), the last one (3392
  // + 17) and close_notify (2 + 17).
  std::vector<std::string> lengths;
  for (const auto& line : tshark_lines("-r " + pcap + opts + "-Y 'tcp.dstport == 5001 && tls.record.opaque_type == 23' "
                                                             "-T fields -e tls.record.length"))
    for (const auto& l : split(line)) lengths.push_back(l);
  std::map<std::string, int> count;
  for (const auto& l : lengths) ++count[l];
  CHECK(lengths.size() == 15);
  CHECK(count["16401"] == 12);
  CHECK(count["3409"] == 1);
  CHECK(count["53"] == 1);
  CHECK(count["19"] == 1);
  // With the key log: the inner content types, and the decrypted data (shown as "data") is
  // the stream.
  const std::string keyed = opts + "-o tls.keylog_file:" + r.dir + "/keylog.txt ";
  uint64_t app_bytes = 0;
  size_t app_records = 0, alerts = 0;
  std::string first_data;
  for (const auto& line : tshark_lines("-r " + pcap + keyed + "-Y 'tcp.dstport == 5001 && tls' -T fields "
                                                              "-e tls.record.content_type -e tls.record.length -e data.data")) {
    std::stringstream ss(line);
    std::string types, lens, data;
    std::getline(ss, types, '\t');
    std::getline(ss, lens, '\t');
    std::getline(ss, data, '\t');
    const auto t = split(types), l = split(lens);
    REQUIRE(t.size() == l.size());
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == "23") {
        ++app_records;
        app_bytes += std::stoull(l[i]) - 17;
      } else if (t[i] == "21") {
        ++alerts;
      }
    }
    if (first_data.empty() && !data.empty()) first_data = split(data)[0];
  }
  CHECK(app_records == 13);
  CHECK(app_bytes == 200'000);
  CHECK(alerts == 1);  // close_notify
  app::BulkStream stream(stream_seed(r.sc, "x"));
  uint8_t want[16];
  stream.next(want, sizeof want);
  std::string want_hex;
  for (uint8_t b : want) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", b);
    want_hex += h;
  }
  CHECK(first_data.substr(0, 32) == want_hex);
}
