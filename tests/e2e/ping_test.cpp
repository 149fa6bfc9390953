// End to end: two hosts, one link, ping — timing, loss, bit errors, captures, determinism.
#include <doctest/doctest.h>

#include <sstream>

#include "e2e_support.hpp"
#include "megzawicol/app/ping.hpp"

using namespace mz;
using namespace mz::test;

namespace {

// Transmission time of a frame of `len` bytes (FCS included) plus preamble and SFD.
Duration tx_time(size_t len, uint64_t bps) {
  return Duration{static_cast<int64_t>(((64 + 8 * len) * 1000000000ull + bps - 1) / bps)};
}

const app::Ping& ping_of(sim::Simulation& s, const std::string& node = "a") {
  return dynamic_cast<const app::Ping&>(*s.host(node).apps().at(0));
}

}  // namespace

TEST_CASE("ping: four echo replies with the RTT the link implies; the first one pays for ARP") {
  auto sc = scenario::load_scenario_text(ping_scenario(), "ping-test.json");
  std::ostringstream console;
  sim::RunOptions o;
  o.console = &console;
  sim::Simulation s(sc, o);
  s.run();
  const auto& p = ping_of(s);
  REQUIRE(p.finished());
  CHECK(p.transmitted() == 4);
  REQUIRE(p.received() == 4);
  const Duration delay = Duration::millis(5);
  const uint64_t bps = 10'000'000;
  // 14 (Ethernet) + 20 (IPv4) + 8 (ICMP) + 56 (data) + 4 (FCS) = 102 bytes.
  const Duration rtt = (delay + tx_time(102, bps)) * 2;
  // ARP request and reply are minimum-size frames (64 bytes).
  const Duration arp = (delay + tx_time(64, bps)) * 2;
  CHECK(p.replies()[0].rtt == rtt + arp);
  for (size_t i = 1; i < 4; ++i) {
    CHECK(p.replies()[i].seq == i + 1);
    CHECK(p.replies()[i].rtt == rtt);
    CHECK(p.replies()[i].ttl == 64);
  }
  CHECK(rtt == Duration::micros(10176));
  const std::string out = console.str();
  CHECK(out.find("64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=10.176 ms") != std::string::npos);
  CHECK(out.find("4 packets transmitted, 4 received, 0% packet loss") != std::string::npos);
  // Link counters: a->b carried the ARP request and 4 requests.
  CHECK(s.channel(0, true).delivered == 5);
  CHECK(s.channel(0, false).delivered == 5);
  CHECK(s.host("b").counters().icmp_out == 4);
}

TEST_CASE("ping: with 100% loss nothing comes back, ARP gives up and the run still ends cleanly") {
  auto sc = scenario::load_scenario_text(ping_scenario("\"loss\": 1"), "ping-test.json");
  std::ostringstream console;
  sim::RunOptions o;
  o.console = &console;
  sim::Simulation s(sc, o);
  s.run();
  const auto& p = ping_of(s);
  CHECK(p.finished());
  CHECK(p.transmitted() == 4);
  CHECK(p.received() == 0);
  CHECK(s.channel(0, true).drop_loss == s.channel(0, true).sent);
  CHECK(s.channel(0, true).delivered == 0);
  // 3 tries for pings 1-3 (queued while resolving), given up at 3 s; ping 4 (sent at 3 s,
  // after the give-up) starts a new resolution with 3 more tries.
  CHECK(s.host("a").counters().arp_requests_out == 6);
  CHECK(s.host("a").counters().drop_arp_unresolved == 4);
  CHECK(console.str().find("Destination Host Unreachable") != std::string::npos);
  CHECK(console.str().find("4 packets transmitted, 0 received") != std::string::npos);
  CHECK(s.now() < Time::zero() + Duration::seconds(60));  // ended by itself, not by the duration
}

TEST_CASE("ping: bit errors are caught by the FCS (or the line decoder) and counted consistently") {
  auto sc = scenario::load_scenario_text(ping_scenario("\"ber\": 0.0003", 200, "3"), "ping-test.json");
  sc.apps[0].interval = Duration::millis(20);
  const std::string dir = fresh_dir("ping-ber");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  s.run();
  const auto& ab = s.channel(0, true);
  const auto& b = s.host("b").counters();
  CHECK(ab.damaged > 0);
  CHECK(b.drop_fcs > 0);
  // Every damaged frame is dropped: by the PHY (framing lost), by the MAC on the PHY's receive
  // error (an invalid code group), or by the FCS check (a flip that made another valid code group).
  CHECK(b.drop_rx_error > 0);
  CHECK(ab.drop_line + b.drop_rx_error + b.drop_fcs == ab.damaged);
  CHECK(ab.delivered == b.frames_in);
  const auto& p = ping_of(s);
  CHECK(p.received() < p.transmitted());
  CHECK(p.received() > 0);
  if (!have_tshark()) {
    MESSAGE("tshark not found: skipping the capture check (CI installs it)");
    return;
  }
  // Wireshark's own FCS check on b's capture finds exactly the frames our L2 dropped.
  // Frames dropped on a receive error may or may not have a good FCS (a group decoded as 0 may
  // have been 0).
  const size_t bad = tshark_lines("-r " + dir + "/b-eth0.pcap -o eth.check_fcs:TRUE -Y eth.fcs.status==0").size();
  CHECK(bad >= b.drop_fcs);
  CHECK(bad <= b.drop_fcs + b.drop_rx_error);
  // b's capture holds what b's PHY decoded and what b sent.
  CHECK(tshark_lines("-r " + dir + "/b-eth0.pcap").size() == ab.delivered + s.channel(0, false).sent);
}

TEST_CASE("ping: the capture dissects in tshark with valid FCS, IPv4 and ICMP checksums") {
  if (!have_tshark()) {
    MESSAGE("tshark not found: skipping (CI installs it)");
    return;
  }
  auto sc = scenario::load_scenario_text(ping_scenario(), "ping-test.json");
  const std::string dir = fresh_dir("ping-tshark");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  s.run();
  // (capture, time of the first echo reply in it: received by a, sent by b)
  for (auto [f, reply_time] : {std::pair{"/a-eth0.pcap", "0.020291200"}, std::pair{"/b-eth0.pcap", "0.015203200"}}) {
    const std::string pcap = dir + f;
    const std::string opts = " -o eth.check_fcs:TRUE -o ip.check_checksum:TRUE ";
    CHECK(tshark_lines("-r " + pcap + opts + "-Y '_ws.malformed || _ws.expert.severity >= warning'").empty());
    int icmp = 0, arp = 0;
    for (const auto& line : tshark_lines("-r " + pcap + opts + "-T fields -e eth.fcs.status -e ip.checksum.status -e icmp.checksum.status -e icmp.type")) {
      // fields: FCS status (1 good), IP checksum status (1 good), ICMP checksum status, ICMP type
      if (line.rfind("1\t1\t1\t", 0) == 0) ++icmp;
      else if (line.rfind("1\t\t\t", 0) == 0) ++arp;
      else FAIL_CHECK("unexpected tshark line: " << line);
    }
    CHECK(icmp == 8);
    CHECK(arp == 2);
    // Nanosecond timestamps from the virtual clock (epoch = simulation start).
    const auto t = tshark_lines("-r " + pcap + " -Y 'icmp.type==0 && icmp.seq==1' -T fields -e frame.time_epoch");
    REQUIRE(t.size() == 1);
    CHECK(t[0] == reply_time);
  }
}

TEST_CASE("determinism: same seed, byte-identical traces and captures; another seed differs") {
  auto run = [](const std::string& name, const std::string& seed) {
    auto sc = scenario::load_scenario_text(ping_scenario("\"loss\": 0.3, \"ber\": 0.0001", 30, seed), "ping-test.json");
    sc.apps[0].interval = Duration::millis(100);
    const std::string dir = fresh_dir(name);
    sim::RunOptions o;
    o.out_dir = dir;
    sim::Simulation s(sc, o);
    s.run();
    return dir;
  };
  const std::string d1 = run("det-1", "7"), d2 = run("det-2", "7"), d3 = run("det-3", "8");
  for (const char* f : {"/trace.jsonl", "/trace.log", "/a-eth0.pcap", "/b-eth0.pcap", "/summary.json"}) {
    const std::string a = read_file(d1 + f);
    CHECK_MESSAGE(!a.empty(), f);
    CHECK_MESSAGE(a == read_file(d2 + f), f);
  }
  CHECK(read_file(d1 + "/trace.jsonl") != read_file(d3 + "/trace.jsonl"));
  CHECK(read_file(d1 + "/b-eth0.pcap") != read_file(d3 + "/b-eth0.pcap"));
}

TEST_CASE("queue: a full drop-tail queue drops and counts frames") {
  // 200 pings of 1400 bytes every 10 us on a 1 Mbit/s link: the queue of 5 overflows.
  auto sc = scenario::load_scenario_text(ping_scenario("\"queue\": 5", 200), "q.json");
  sc.links[0].a_to_b.bandwidth_bps = sc.links[0].b_to_a.bandwidth_bps = 1'000'000;
  sc.apps[0].interval = Duration::micros(10);
  sc.apps[0].size = 1400;
  sc.apps[0].timeout = Duration::seconds(30);
  sim::Simulation s(sc, {});
  s.run();
  const auto& ab = s.channel(0, true);
  CHECK(ab.drop_queue > 0);
  CHECK(ab.offered == ab.sent + ab.drop_queue);
  const auto& p = ping_of(s);
  // Every request is answered or accounted for: dropped while waiting for ARP (16 wait at
  // most), or by a queue on the way there or back.
  CHECK(s.host("a").counters().drop_arp_queue_full > 0);
  CHECK(p.received() + ab.drop_queue + s.channel(0, false).drop_queue + s.host("a").counters().drop_arp_queue_full ==
        p.transmitted());
}
