// The udp and traceroute applications, run in the simulator from scenario JSON.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "megzawicol/app/traceroute.hpp"
#include "megzawicol/app/udp_flow.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

using namespace mz;

namespace {

// Two hosts on one cable; `link` and `apps` are spliced in.
std::string two_hosts(const std::string& link, const std::string& apps, const std::string& seed = "7") {
  return R"({"name": "udp-test", "seed": )" + seed + R"(, "duration": "20s",
    "nodes": [
      {"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
      {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}
    ],
    "links": [{"ends": ["a:eth0", "b:eth0"], )" + link + R"(}],
    "apps": [)" + apps + "]}";
}

// a - r1 - r2 - r3 - b, every link 10 Mbit/s with 1 ms of delay; `link1_extra` is spliced
// into the r1-r2 link.
std::string chain(const std::string& apps, const std::string& link1_extra = "") {
  return R"({"name": "chain", "seed": 3, "duration": "60s",
    "nodes": [
      {"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.1.2/24"}],
       "routes": [{"to": "default", "via": "10.0.1.1"}]},
      {"name": "r1", "kind": "router",
       "interfaces": [{"name": "eth0", "address": "10.0.1.1/24"}, {"name": "eth1", "address": "10.0.2.1/24"}],
       "routes": [{"to": "10.0.3.0/24", "via": "10.0.2.2"}, {"to": "10.0.4.0/24", "via": "10.0.2.2"}]},
      {"name": "r2", "kind": "router",
       "interfaces": [{"name": "eth0", "address": "10.0.2.2/24"}, {"name": "eth1", "address": "10.0.3.1/24"}],
       "routes": [{"to": "10.0.1.0/24", "via": "10.0.2.1"}, {"to": "10.0.4.0/24", "via": "10.0.3.2"}]},
      {"name": "r3", "kind": "router",
       "interfaces": [{"name": "eth0", "address": "10.0.3.2/24"}, {"name": "eth1", "address": "10.0.4.1/24"}],
       "routes": [{"to": "10.0.1.0/24", "via": "10.0.3.1"}, {"to": "10.0.2.0/24", "via": "10.0.3.1"}]},
      {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.4.2/24"}],
       "routes": [{"to": "default", "via": "10.0.4.1"}]}
    ],
    "links": [
      {"ends": ["a:eth0", "r1:eth0"], "delay": "1ms"},
      {"ends": ["r1:eth1", "r2:eth0"], "delay": "1ms")" + link1_extra + R"(},
      {"ends": ["r2:eth1", "r3:eth0"], "delay": "1ms"},
      {"ends": ["r3:eth1", "b:eth0"], "delay": "1ms"}
    ],
    "apps": [)" + apps + "]}";
}

template <class T>
T& app_of(sim::Simulation& s, const std::string& node, const char* kind) {
  for (const auto& a : s.host(node).apps())
    if (std::string(a->kind()) == kind) return dynamic_cast<T&>(*a);
  FAIL("no app of kind " << kind << " on " << node);
  throw 0;  // unreachable
}

struct Run {
  std::ostringstream console;
  std::unique_ptr<sim::Simulation> sim;
  explicit Run(const std::string& json) {
    const auto sc = scenario::load_scenario_text(json, "test.json");
    sim::RunOptions o;
    o.console = &console;
    sim = std::make_unique<sim::Simulation>(sc, o);
    sim->run();
  }
};

}  // namespace

TEST_CASE("udp flow over a clean link: everything arrives in order, one-way delay = propagation + transmission") {
  // A ping first resolves ARP both ways, so that no datagram waits for it.
  Run r(two_hosts(R"("bandwidth": "10Mbps", "delay": "5ms")",
                  R"({"kind": "ping", "node": "a", "target": "b", "count": 1},
                     {"kind": "udp", "node": "a", "target": "b", "port": 9000, "size": 100, "count": 50,
                      "interval": "10ms", "start": "1s"})"));
  auto& tx = app_of<app::UdpFlowSender>(*r.sim, "a", "udp");
  auto& rx = app_of<app::UdpFlowReceiver>(*r.sim, "b", "udp_receiver");
  CHECK(tx.sent() == 50);
  CHECK(tx.finished());
  CHECK(tx.icmp_errors() == 0);
  CHECK(rx.received() == 50);
  CHECK(rx.lost() == 0);
  CHECK(rx.reordered() == 0);
  CHECK(rx.duplicated() == 0);
  CHECK(rx.malformed() == 0);
  CHECK(rx.bytes_received() == 50 * 100);
  CHECK(rx.reported());
  // The frame: Ethernet 14 + IPv4 20 + UDP 8 + 100 bytes + FCS 4 = 146 bytes; on the wire
  // with the 8-byte preamble: 64 + 146 * 8 = 1232 bits at 10 Mbit/s = 123.2 us.
  const int64_t expected = 5'000'000 + 123'200;
  REQUIRE(rx.delay_min().has_value());
  CHECK(rx.delay_min()->ns == expected);
  CHECK(rx.delay_max()->ns == expected);
  CHECK(rx.delay_avg()->ns == expected);
  CHECK(r.sim->host("b").counters().udp_in == 50);
  CHECK(r.sim->host("a").counters().udp_out == 50);
  // The reports on the console.
  const std::string out = r.console.str();
  CHECK(out.find("[a] [  1] Sent 50 datagrams") != std::string::npos);
  CHECK(out.find("[b] Server listening on UDP port 9000") != std::string::npos);
  CHECK(out.find("0/50 (0%)  5.123/5.123/5.123 ms") != std::string::npos);
  // And in summary.json.
  const std::string js = r.sim->summary_json();
  CHECK(js.find("\"kind\": \"udp_receiver\"") != std::string::npos);
  CHECK(js.find("\"delay_min_ns\": 5123200") != std::string::npos);
  CHECK(js.find("\"udp_port_unreachable\": 0") != std::string::npos);
}

TEST_CASE("udp flow at a rate: the interval is size * 8 / rate") {
  Run r(two_hosts(R"("bandwidth": "10Mbps", "delay": "1ms")",
                  R"({"kind": "udp", "node": "a", "target": "b", "size": 125, "count": 10, "rate": "100kbps"})"));
  auto& rx = app_of<app::UdpFlowReceiver>(*r.sim, "b", "udp_receiver");
  CHECK(rx.received() == 10);
  const std::string js = r.sim->summary_json();
  CHECK(js.find("\"interval_ns\": 10000000") != std::string::npos);  // 1000 bits at 100 kbit/s
}

TEST_CASE("udp flow over a lossy link: received + lost == count, some lost") {
  Run r(two_hosts(R"("bandwidth": "10Mbps", "delay": "2ms", "a_to_b": {"loss": 0.2})",
                  R"({"kind": "udp", "node": "a", "target": "b", "size": 200, "count": 300, "interval": "5ms"})",
                  "42"));
  auto& tx = app_of<app::UdpFlowSender>(*r.sim, "a", "udp");
  auto& rx = app_of<app::UdpFlowReceiver>(*r.sim, "b", "udp_receiver");
  CHECK(tx.sent() == 300);
  CHECK(rx.received() + rx.lost() == 300);
  CHECK(rx.lost() > 0);
  CHECK(rx.received() > 150);
  CHECK(rx.reordered() == 0);  // one path, FIFO
  CHECK(rx.received() == r.sim->host("b").counters().udp_in);
  // Each datagram lost on the link is one frame lost; the rest waited for ARP and the
  // queue overflowed, or was lost with the first ARP requests.
  CHECK(int64_t{rx.lost()} + int64_t(r.sim->host("a").counters().arp_requests_out) >=
        int64_t(r.sim->channel(0, true).drop_loss));
}

TEST_CASE("udp flow to a closed port: ICMP port unreachable counted at the receiver and seen by the sender") {
  Run r(two_hosts(R"("delay": "1ms")",
                  R"({"kind": "udp", "node": "a", "target": "b", "port": 7777, "count": 5, "receiver": false})"));
  auto& tx = app_of<app::UdpFlowSender>(*r.sim, "a", "udp");
  CHECK(tx.sent() == 5);
  CHECK(r.sim->host("b").counters().udp_in == 5);
  CHECK(r.sim->host("b").counters().udp_port_unreachable == 5);
  CHECK(r.sim->host("b").counters().icmp_out == 5);
  CHECK(tx.port_unreachable() == 5);
  CHECK(tx.icmp_errors() == 5);
  for (const auto& a : r.sim->host("b").apps()) CHECK(std::string(a->kind()) != "udp_receiver");
  CHECK(r.console.str().find("[a] read failed: Connection refused (ICMP from 10.0.0.2)") != std::string::npos);
}

TEST_CASE("traceroute over three routers lists each router's incoming address, then the destination") {
  Run r(chain(R"({"kind": "traceroute", "node": "a", "target": "b"})"));
  auto& tr = app_of<app::Traceroute>(*r.sim, "a", "traceroute");
  CHECK(tr.finished());
  CHECK(tr.reached());
  const auto& hops = tr.hops();
  REQUIRE(hops.size() == 4);
  const char* expected[] = {"10.0.1.1", "10.0.2.2", "10.0.3.2", "10.0.4.2"};
  int64_t prev_max = 0;
  for (size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(hops[i].ttl == i + 1);
    REQUIRE(hops[i].probes.size() == 3);
    int64_t mn = INT64_MAX, mx = 0;
    for (const auto& p : hops[i].probes) {
      CHECK(p.answered);
      CHECK(p.from.to_string() == expected[i]);
      mn = std::min(mn, p.rtt.ns);
      mx = std::max(mx, p.rtt.ns);
    }
    // Every probe of a hop takes longer than any probe of the hop before it (the first
    // probe of each hop also waits for one ARP exchange on the newly reached link).
    CHECK(mn > prev_max);
    prev_max = mx;
  }
  CHECK(hops[3].probes[0].icmp_type == 3);  // port unreachable from b
  CHECK(hops[3].probes[0].icmp_code == 3);
  CHECK(tr.probes_sent() == 12);
  const std::string out = r.console.str();
  CHECK(out.find("[a] traceroute to 10.0.4.2 (10.0.4.2), 30 hops max, 60 byte packets\n") != std::string::npos);
  CHECK(out.find("[a]  1  10.0.1.1  ") != std::string::npos);
  CHECK(out.find("[a]  2  10.0.2.2  ") != std::string::npos);
  CHECK(out.find("[a]  3  10.0.3.2  ") != std::string::npos);
  CHECK(out.find("[a]  4  10.0.4.2  ") != std::string::npos);
  CHECK(out.find("[a]  5") == std::string::npos);
  // Each router sent three time-exceeded messages; b three port-unreachables.
  CHECK(r.sim->host("r1").counters().drop_ttl == 3);
  CHECK(r.sim->host("b").counters().udp_port_unreachable == 3);
  CHECK(r.sim->summary_json().find("\"path\": \"10.0.1.1 10.0.2.2 10.0.3.2 10.0.4.2\"") != std::string::npos);
}

TEST_CASE("traceroute prints stars for silent hops and stops at max_ttl") {
  Run r(chain(R"({"kind": "traceroute", "node": "a", "target": "b", "max_ttl": 3, "probes": 2, "timeout": "500ms"})",
              R"(, "loss": 1)"));
  auto& tr = app_of<app::Traceroute>(*r.sim, "a", "traceroute");
  CHECK(tr.finished());
  CHECK_FALSE(tr.reached());
  REQUIRE(tr.hops().size() == 3);
  CHECK(tr.hops()[0].address().has_value());
  CHECK_FALSE(tr.hops()[1].address().has_value());
  CHECK_FALSE(tr.hops()[2].address().has_value());
  const std::string out = r.console.str();
  CHECK(out.find("[a]  2  * *\n") != std::string::npos);
  CHECK(out.find("[a]  3  * *\n") != std::string::npos);
  CHECK(r.sim->summary_json().find("\"path\": \"10.0.1.1 * *\"") != std::string::npos);
}

TEST_CASE("scenario validation of udp and traceroute apps") {
  auto err = [](const std::string& apps) -> std::string {
    try {
      scenario::load_scenario_text(two_hosts(R"("delay": "1ms")", apps), "t.json");
    } catch (const scenario::ScenarioError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "port": 0})") ==
        "t.json: apps[0].port: must be in [1,65535], got 0");
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "size": 8})") ==
        "t.json: apps[0].size: must be in [12,65507] (a sequence number and a timestamp take 12 bytes), got 8");
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "rate": "1Mbps", "interval": "1ms"})") ==
        "t.json: apps[0].rate: give either \"rate\" or \"interval\", not both");
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "rate": 0})") == "t.json: apps[0].rate: must be > 0, got 0");
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "max_ttl": 3})").find("t.json: apps[0].max_ttl: unknown key") == 0);
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b", "receiver": 1})").find("t.json: apps[0].receiver: ") == 0);
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b"}, {"kind": "udp", "node": "a", "target": "10.0.0.2"})") ==
        "t.json: apps[1].port: port 9000 on 10.0.0.2 already has a receiver (apps[0])");
  CHECK(err(R"({"kind": "udp", "node": "a", "target": "b"}, {"kind": "udp", "node": "a", "target": "b", "receiver": false})") == "");
  CHECK(err(R"({"kind": "traceroute", "node": "a", "target": "b", "max_ttl": 0})") ==
        "t.json: apps[0].max_ttl: must be in [1,255], got 0");
  CHECK(err(R"({"kind": "traceroute", "node": "a", "target": "b", "probes": 11})") ==
        "t.json: apps[0].probes: must be in [1,10], got 11");
  CHECK(err(R"({"kind": "traceroute", "node": "a", "target": "b", "count": 3})").find("t.json: apps[0].count: unknown key") == 0);
  CHECK(err(R"({"kind": "ping", "node": "a", "target": "b", "port": 3})").find("t.json: apps[0].port: unknown key") == 0);
  CHECK(err(R"({"kind": "tcp", "node": "a", "target": "b"})") ==
        "t.json: apps[0].kind: must be one of \"ping\", \"udp\", \"traceroute\", \"bulk\", \"http\", got \"tcp\"");

  const auto sc = scenario::load_scenario_text(
      two_hosts(R"("delay": "1ms")", R"({"kind": "udp", "node": "a", "target": "b", "rate": "1Mbps"},
                                         {"kind": "traceroute", "node": "a", "target": "b"})"),
      "t.json");
  REQUIRE(sc.apps.size() == 2);
  CHECK(sc.apps[0].kind == scenario::AppKind::Udp);
  CHECK(sc.apps[0].name == "udp0");
  CHECK(sc.apps[0].port == 9000);
  CHECK(sc.apps[0].size == 512);
  CHECK(sc.apps[0].count == 100);
  CHECK(sc.apps[0].rate_bps == 1000000);
  CHECK(sc.apps[0].interval == Duration::micros(4096));  // 512 * 8 bits at 1 Mbit/s
  CHECK(sc.apps[0].receiver);
  CHECK(sc.apps[1].kind == scenario::AppKind::Traceroute);
  CHECK(sc.apps[1].name == "traceroute1");
  CHECK(sc.apps[1].max_ttl == 30);
  CHECK(sc.apps[1].probes == 3);
  CHECK(sc.apps[1].timeout == Duration::seconds(1));
}
