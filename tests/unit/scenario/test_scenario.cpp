#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/scenario/scenario.hpp"

using namespace mz;
using namespace mz::scenario;

namespace {

const std::string kSrc = "scenarios/x.json";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario_text(text, kSrc, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a ScenarioError: ") + e.what() + ">";
  }
  return "<no error>";
}

// Two hosts on one subnet.
const std::string kTwo =
    R"("nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
                 {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}])";
// a sits between b (10.0.0.0/24) and c (10.0.1.0/24).
const std::string kThree =
    R"("nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"},
                                              {"name": "eth1", "address": "10.0.1.1/24"}]},
                 {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]},
                 {"name": "c", "interfaces": [{"name": "eth0", "address": "10.0.1.3/24"}]}])";
const std::string kLinkAB = R"({"ends": ["a:eth0", "b:eth0"]})";

std::string doc(const std::string& body) { return "{" + body + "}"; }
std::string two_with_link(const std::string& link_fields) {
  return doc(kTwo + R"(, "links": [{"ends": ["a:eth0", "b:eth0"], )" + link_fields + "}]");
}
std::string two_with_app(const std::string& app_fields) {
  return doc(kTwo + R"(, "apps": [{"node": "a", "target": "b", )" + app_fields + "}]");
}
std::string one_node(const std::string& node_fields) {
  return doc(R"("nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}], )" +
             node_fields + "}]");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BrokenCase {
  std::string json;
  std::string expected;  // the full message after "scenarios/x.json: "
};

}  // namespace

TEST_CASE("broken scenarios report FILE: PATH: problem") {
  const std::vector<BrokenCase> cases = {
      // --- structure and types
      {"[1, 2]", "(top level): must be an object, got array"},
      {"{}", R"((top level): missing required key "nodes")"},
      {R"({"nodes": []})", "nodes: must have at least one node"},
      {R"({"nodes": {}})", "nodes: must be an array, got object"},
      {R"({"nodes": [{"name": "a", "interfaces": "eth0"}]})", "nodes[0].interfaces: must be an array, got string"},
      {R"({"nodes": [{"interfaces": []}]})", R"(nodes[0]: missing required key "name")"},
      {R"({"nodes": [{"name": 7}]})", "nodes[0].name: must be a string, got number"},
      {R"({"nodes": [{"name": "a b"}]})",
       R"(nodes[0].name: must contain only letters, digits, '_', '-' and '.', got "a b")"},
      {doc(kTwo + R"(, "links": {})"), "links: must be an array, got object"},
      {doc(kTwo + R"(, "links": [[]])"), "links[0]: must be an object, got array"},
      {R"({"nodes": [{"name": "a", "name": "b"}]})", R"(nodes[0]: duplicate key "name")"},
      {doc(kTwo + R"(, "links": [{"ends": ["a:eth0", "b:eth0"], "delay": "1ms", "delay": "2ms"}])"),
       R"(links[0]: duplicate key "delay")"},
      // --- unknown keys
      {doc(kTwo + R"(, "sed": 3)"), R"(sed: unknown key (did you mean "seed"?))"},
      {two_with_link(R"("bandwith": "10Mbps")"), R"(links[0].bandwith: unknown key (did you mean "bandwidth"?))"},
      {two_with_link(R"("dealy": "10ms")"), R"(links[0].dealy: unknown key (did you mean "delay"?))"},
      {one_node(R"("colour": "red")"),
       "nodes[0].colour: unknown key (expected one of: name, kind, interfaces, routes, ttl)"},
      {two_with_link(R"("a_to_b": {"mtu": 1000})"),
       "links[0].a_to_b.mtu: unknown key (expected one of: bandwidth, delay, loss, ber, queue, duplicate, jitter)"},
      {doc(kTwo + R"(, "trace": {"Pcap": false})"), R"(trace.Pcap: unknown key (did you mean "pcap"?))"},
      // --- nodes
      {doc(R"("nodes": [{"name": "a"}, {"name": "a"}])"), R"(nodes[1].name: duplicate node name "a")"},
      {one_node(R"("kind": "bridge")"), R"(nodes[0].kind: must be one of "host", "router", "switch", got "bridge")"},
      {one_node(R"("ttl": 0)"), "nodes[0].ttl: must be in [1,255], got 0"},
      {one_node(R"("ttl": 256)"), "nodes[0].ttl: must be in [1,255], got 256"},
      {one_node(R"("ttl": 6.5)"), "nodes[0].ttl: must be an integer, got 6.5"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.300/24"}]}]})",
       R"(nodes[0].interfaces[0].address: not an IPv4 prefix like 10.0.0.1/24: "10.0.0.300/24")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1"}]}]})",
       R"(nodes[0].interfaces[0].address: not an IPv4 prefix like 10.0.0.1/24: "10.0.0.1")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.0/24"}]}]})",
       R"(nodes[0].interfaces[0].address: "10.0.0.0/24" is the network address of its subnet, not a host address)"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.255/24"}]}]})",
       R"(nodes[0].interfaces[0].address: "10.0.0.255/24" is the broadcast address of its subnet, not a host address)"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "224.0.0.1/24"}]}]})",
       R"(nodes[0].interfaces[0].address: not a usable unicast host address: "224.0.0.1/24")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0"}]}]})",
       R"(nodes[0].interfaces[0]: missing required key "address")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"},
                                                  {"name": "eth0", "address": "10.0.1.1/24"}]}]})",
       R"(nodes[0].interfaces[1].name: duplicate interface name "eth0" on node "a")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24", "mac": "02:00:00"}]}]})",
       R"(nodes[0].interfaces[0].mac: not a MAC address like 02:00:00:00:00:01: "02:00:00")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24",
                                                   "mac": "01:00:5e:00:00:01"}]}]})",
       R"(nodes[0].interfaces[0].mac: must be a unicast MAC (first octet even), got "01:00:5e:00:00:01")"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24", "mac": "02:00:00:00:09:09"}]},
                     {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24", "mac": "02:00:00:00:09:09"}]}]})",
       "nodes[1].interfaces[0].mac: MAC 02:00:00:00:09:09 is already used by nodes[0].interfaces[0]"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24", "mac": "02:00:00:01:00:00"}]},
                     {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}]})",
       "nodes[1].interfaces[0]: derived MAC 02:00:00:01:00:00 is already used by nodes[0].interfaces[0] "
       "(give this interface a \"mac\")"},
      // --- routes
      {one_node(R"("routes": "static")"), R"(nodes[0].routes: must be an array or "auto", got "static")"},
      {one_node(R"("routes": 1)"), R"(nodes[0].routes: must be an array or "auto", got number)"},
      {one_node(R"("routes": [{"to": "default"}])"), R"(nodes[0].routes[0]: a route needs "via" or "iface" (or both))"},
      {one_node(R"("routes": [{"to": "default", "iface": "eth9"}])"),
       R"(nodes[0].routes[0].iface: node "a" has no interface "eth9" (has: eth0))"},
      {one_node(R"("routes": [{"to": "everywhere", "iface": "eth0"}])"),
       R"(nodes[0].routes[0].to: not an IPv4 prefix like 10.0.0.0/8 or "default": "everywhere")"},
      {one_node(R"("routes": [{"to": "10.1.2.3/8", "iface": "eth0"}])"),
       R"(nodes[0].routes[0].to: "10.1.2.3/8" has host bits set (did you mean "10.0.0.0/8"?))"},
      {one_node(R"("routes": [{"to": "default", "via": "10.0.9.1"}])"),
       R"(nodes[0].routes[0].via: 10.0.9.1 is not in the subnet of any interface of node "a")"},
      {one_node(R"("routes": [{"to": "default", "via": "10.0.0.1"}])"),
       R"(nodes[0].routes[0].via: 10.0.0.1 is an address of node "a" itself)"},
      {one_node(R"("routes": [{"to": "default", "via": "gateway"}])"),
       R"(nodes[0].routes[0].via: not an IPv4 address like 10.0.0.254: "gateway")"},
      {one_node(R"("routes": [{"to": "default", "via": "10.0.0.9"}, {"to": "0.0.0.0/0", "iface": "eth0"}])"),
       "nodes[0].routes[1].to: duplicate route to 0.0.0.0/0 (also nodes[0].routes[0])"},
      // --- links: ends
      {doc(kTwo + R"(, "links": [{"ends": ["a:eth0", "c:eth0"]}])"),
       R"(links[0].ends[1]: unknown node "c" (known: a, b))"},
      {doc(kTwo + R"(, "links": [{"ends": ["a:eth1", "b:eth0"]}])"),
       R"(links[0].ends[0]: node "a" has no interface "eth1" (has: eth0))"},
      {doc(kTwo + R"(, "links": [{"ends": ["a", "b:eth0"]}])"),
       R"(links[0].ends[0]: must look like "node:iface", got "a")"},
      {doc(kTwo + R"(, "links": [{"ends": ["a:eth0", "b:eth0", "b:eth0"]}])"),
       "links[0].ends: must have exactly 2 elements, got 3"},
      {doc(kTwo + R"(, "links": [{"ends": "a:eth0-b:eth0"}])"), "links[0].ends: must be an array, got string"},
      {doc(kTwo + R"(, "links": [{"bandwidth": "1Gbps"}])"), R"(links[0]: missing required key "ends")"},
      {doc(kThree + R"(, "links": [{"ends": ["a:eth0", "a:eth1"]}])"),
       R"(links[0].ends: both ends are on node "a"; a link joins two different nodes)"},
      {doc(kThree + R"(, "links": [{"ends": ["a:eth0", "b:eth0"]}, {"ends": ["a:eth0", "c:eth0"]}])"),
       R"(links[1].ends[0]: interface "a:eth0" is already used by links[0])"},
      {doc(kThree + R"(, "links": [{"ends": ["a:eth0", "c:eth0"]}])"),
       "links[0].ends: a:eth0 (10.0.0.1/24) and c:eth0 (10.0.1.3/24) are not in the same IP subnet"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
                     {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]}],
          "links": [{"ends": ["a:eth0", "b:eth0"]}]})",
       "links[0].ends: a:eth0 and b:eth0 have the same address 10.0.0.1"},
      {R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
                     {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/25"}]}],
          "links": [{"ends": ["a:eth0", "b:eth0"]}]})",
       "links[0].ends: a:eth0 (10.0.0.1/24) and b:eth0 (10.0.0.2/25) are not in the same IP subnet"},
      {doc(kThree + R"(, "links": [{"ends": ["a:eth0", "b:eth0"], "name": "x"},
                                     {"ends": ["a:eth1", "c:eth0"], "name": "x"}])"),
       R"(links[1].name: duplicate link name "x" (also links[0]))"},
      // --- links: values
      {doc(kThree + R"(, "links": [{"ends": ["a:eth0", "b:eth0"]}, {"ends": ["a:eth1", "c:eth0"], "loss": 1.5}])"),
       "links[1].loss: must be in [0,1], got 1.5"},
      {two_with_link(R"("loss": -0.1)"), "links[0].loss: must be in [0,1], got -0.1"},
      {two_with_link(R"("loss": "10%")"), "links[0].loss: must be a number, got string"},
      {two_with_link(R"("ber": 1)"), "links[0].ber: must be in [0,1), got 1"},
      {two_with_link(R"("mtu": 67)"), "links[0].mtu: must be in [68,9000], got 67"},
      {two_with_link(R"("mtu": "9001")"), R"(links[0].mtu: must be in [68,9000], got "9001")"},
      {two_with_link(R"("queue": 0)"), "links[0].queue: must be >= 1, got 0"},
      {two_with_link(R"("bandwidth": 0)"), "links[0].bandwidth: must be > 0, got 0"},
      {two_with_link(R"("bandwidth": "0Mbps")"), R"(links[0].bandwidth: must be > 0, got "0Mbps")"},
      {two_with_link(R"("bandwidth": "10Mbs")"),
       R"(links[0].bandwidth: bad bandwidth "10Mbs": unknown unit 'Mbs' (expected bps, kbps, Mbps, Gbps, Tbps or bit/s forms like Mbit/s))"},
      {two_with_link(R"("bandwidth": true)"),
       R"(links[0].bandwidth: must be a number or a string like "10Mbps", got boolean)"},
      {two_with_link(R"("delay": "-1ms")"), R"(links[0].delay: must be >= 0, got "-1ms")"},
      {two_with_link(R"("delay": "1.5ns")"),
       R"(links[0].delay: bad duration "1.5ns": not a whole number of nanoseconds)"},
      {two_with_link(R"("a_to_b": {"loss": 2})"), "links[0].a_to_b.loss: must be in [0,1], got 2"},
      {two_with_link(R"("b_to_a": [])"), "links[0].b_to_a: must be an object, got array"},
      // --- top level values
      {doc(kTwo + R"(, "duration": "0s")"), R"(duration: must be > 0, got "0s")"},
      {doc(kTwo + R"(, "duration": "5 parsecs")"),
       R"(duration: bad duration "5 parsecs": unknown unit 'parsecs' (expected ns, us, ms, s, m, h))"},
      {doc(kTwo + R"(, "seed": -1)"), "seed: must be an unsigned 64-bit integer, got -1"},
      {doc(kTwo + R"(, "seed": "12ab")"), R"(seed: must be an unsigned 64-bit integer, got "12ab")"},
      {doc(kTwo + R"(, "seed": 1.5)"),
       "seed: must be an unsigned 64-bit integer (a number or a decimal string), got 1.5"},
      {doc(kTwo + R"(, "name": 5)"), "name: must be a string, got number"},
      {doc(kTwo + R"(, "trace": {"pcap": "yes"})"), "trace.pcap: must be true or false, got string"},
      {doc(kTwo + R"(, "trace": true)"), "trace: must be an object, got boolean"},
      // --- apps
      {doc(kTwo + R"(, "apps": [{"node": "a", "target": "zz"}])"), R"(apps[0].target: unknown node or address "zz")"},
      {doc(kTwo + R"(, "apps": [{"node": "q", "target": "b"}])"), R"(apps[0].node: unknown node "q" (known: a, b))"},
      {doc(kTwo + R"(, "apps": [{"node": "a"}])"), R"(apps[0]: missing required key "target")"},
      {two_with_app(R"("kind": "http2")"), R"(apps[0].kind: must be one of "ping", "udp", "traceroute", "bulk", "http", got "http2")"},
      {two_with_app(R"("kind": "bulk", "tls": "yes")"), R"(apps[0].tls: must be true or false, got string)"},
      {two_with_app(R"("kind": "bulk", "tls": 1)"), "apps[0].tls: must be true or false, got number"},
      {two_with_app(R"("kind": "bulk", "tls": {"server_key": "00"})"), "apps[0].tls: must be true or false, got object"},
      {two_with_app(R"("count": 0)"), "apps[0].count: must be >= 1, got 0"},
      {two_with_app(R"("size": 65508)"), "apps[0].size: must be <= 65507, got 65508"},
      {two_with_app(R"("size": "64KiB")"), R"(apps[0].size: must be <= 65507, got "64KiB")"},
      {two_with_app(R"("interval": "0s")"), R"(apps[0].interval: must be > 0, got "0s")"},
      {two_with_app(R"("timeout": 0)"), "apps[0].timeout: must be > 0, got 0"},
      {two_with_app(R"("start": "-1s")"), R"(apps[0].start: must be >= 0, got "-1s")"},
      {doc(kTwo + R"(, "duration": "10s", "apps": [{"node": "a", "target": "b", "start": "10s"}])"),
       R"(apps[0].start: must be before the end of the run (duration 10s), got "10s")"},
      {doc(kTwo + R"(, "apps": [{"node": "a", "target": "b"}, {"node": "b", "target": "a", "name": "ping0"}])"),
       R"(apps[1].name: duplicate app name "ping0" (also apps[0]))"},
      {doc(R"("nodes": [{"name": "a"}, {"name": "b"}], "apps": [{"node": "a", "target": "b"}])"),
       R"(apps[0].target: node "b" has no interfaces, so no address to ping)"},
  };
  CHECK(cases.size() >= 25);
  for (const auto& c : cases) {
    INFO("scenario: " << c.json);
    CHECK(error_of(c.json) == kSrc + ": " + c.expected);
  }
}

TEST_CASE("invalid JSON reports line and column from the byte position") {
  const std::string text = "{\n  \"nodes\": [\n    }\n";
  std::string err = error_of(text);
  CHECK(err.rfind(kSrc + ": line 3, column 5: syntax error", 0) == 0);
  // Agrees with nlohmann's own position report.
  try {
    auto j = nlohmann::json::parse(text);
    (void)j;
    FAIL("parse should fail");
  } catch (const nlohmann::json::parse_error& e) {
    CHECK(std::string(e.what()).find("line 3, column 5") != std::string::npos);
  }
  CHECK(error_of("") .rfind(kSrc + ": line 1, column 1: ", 0) == 0);
  CHECK(error_of("{\"nodes\": [1,]}").rfind(kSrc + ": line 1, column 14: ", 0) == 0);
  // The "[json.exception...] parse error at ..." prefix is not repeated.
  CHECK(err.find("json.exception") == std::string::npos);
  CHECK(err.find("parse error at") == std::string::npos);
}

TEST_CASE("full scenario: every resolved value") {
  const std::string path = std::string(MZ_SOURCE_DIR) + "/tests/data/scenario/full.json";
  Scenario s = load_scenario_file(path);
  CHECK(s.source == path);
  CHECK(s.name == "full");
  CHECK(s.description == "every field of the scenario model, with non-default values");
  CHECK(s.seed == 18446744073709551615ull);
  CHECK(s.duration.ns == 1'500'000'000);

  REQUIRE(s.nodes.size() == 3);
  const Node& a = s.nodes[0];
  CHECK(a.name == "a");
  CHECK(a.kind == NodeKind::Host);
  CHECK(a.default_ttl == 32);
  CHECK_FALSE(a.routes_auto);
  REQUIRE(a.interfaces.size() == 1);
  CHECK(a.interfaces[0].name == "eth0");
  CHECK(a.interfaces[0].address == *Ipv4Cidr::parse("10.0.0.1/24"));
  CHECK(a.interfaces[0].mac.to_string() == "02:00:00:00:00:00");
  REQUIRE(a.routes.size() == 1);
  CHECK(a.routes[0].dest == Ipv4Cidr{Ipv4Addr::any(), 0});
  CHECK(a.routes[0].via == Ipv4Addr::from_octets(10, 0, 0, 254));
  CHECK(a.routes[0].iface.empty());

  const Node& r = s.nodes[1];
  CHECK(r.kind == NodeKind::Router);
  CHECK(r.default_ttl == 64);
  CHECK(r.routes_auto);
  CHECK(r.routes.empty());
  REQUIRE(r.interfaces.size() == 2);
  CHECK(r.interfaces[0].mac.to_string() == "02:aa:bb:cc:dd:ee");
  CHECK(r.interfaces[1].mac.to_string() == "02:00:00:01:00:01");
  CHECK(r.find_interface("eth1") == &r.interfaces[1]);
  CHECK(r.find_interface("eth2") == nullptr);

  const Node& b = s.nodes[2];
  CHECK(b.kind == NodeKind::Host);
  CHECK(b.interfaces[0].mac.to_string() == "02:00:00:02:00:00");
  REQUIRE(b.routes.size() == 2);
  CHECK(b.routes[0].dest == *Ipv4Cidr::parse("10.0.0.0/16"));
  CHECK(b.routes[0].via == Ipv4Addr::from_octets(10, 0, 1, 254));
  CHECK(b.routes[0].iface == "eth0");
  CHECK(b.routes[1].dest == *Ipv4Cidr::parse("192.168.7.7/32"));
  CHECK_FALSE(b.routes[1].via.has_value());
  CHECK(b.routes[1].iface == "eth0");
  CHECK(s.find_node("b") == &b);
  CHECK(s.find_node("zz") == nullptr);

  REQUIRE(s.links.size() == 2);
  const Link& l0 = s.links[0];
  CHECK(l0.name == "a:eth0-r:eth0");
  CHECK(l0.a_node == "a");
  CHECK(l0.a_iface == "eth0");
  CHECK(l0.b_node == "r");
  CHECK(l0.b_iface == "eth0");
  CHECK(l0.mtu == 1500);
  // a_to_b: per-direction values merged over the link-level ones.
  CHECK(l0.a_to_b.bandwidth_bps == 56'000);
  CHECK(l0.a_to_b.delay.ns == 1'500'000);
  CHECK(l0.a_to_b.loss == 0.1);
  CHECK(l0.a_to_b.ber == 1e-6);
  CHECK(l0.a_to_b.queue_frames == 50);
  // b_to_a: {} keeps the link-level values.
  CHECK(l0.b_to_a.bandwidth_bps == 10'000'000);
  CHECK(l0.b_to_a.delay.ns == 1'500'000);
  CHECK(l0.b_to_a.loss == 0.01);
  CHECK(l0.b_to_a.ber == 1e-6);
  CHECK(l0.b_to_a.queue_frames == 50);

  const Link& l1 = s.links[1];
  CHECK(l1.name == "uplink");
  CHECK(s.find_link("uplink") == &l1);
  CHECK(s.find_link("a:eth0-r:eth0") == &l0);
  CHECK(l1.mtu == 9000);
  CHECK(l1.a_to_b.bandwidth_bps == 1'000'000'000);
  CHECK(l1.a_to_b.delay.ns == 1'500'000);  // 0.0015 (a number, seconds), exactly
  CHECK(l1.a_to_b.loss == 0.0);
  CHECK(l1.a_to_b.ber == 0.0);
  CHECK(l1.a_to_b.queue_frames == 100);
  CHECK(l1.b_to_a.bandwidth_bps == 1'000'000'000);
  CHECK(l1.b_to_a.delay.ns == 20'000);
  CHECK(l1.b_to_a.queue_frames == 7);
  CHECK(l1.b_to_a.ber == 0.5);

  REQUIRE(s.apps.size() == 2);
  const App& p0 = s.apps[0];
  CHECK(p0.kind == AppKind::Ping);
  CHECK(p0.name == "ping0");
  CHECK(p0.node == "a");
  CHECK(p0.target == Ipv4Addr::from_octets(10, 0, 1, 2));  // b's first address
  CHECK(p0.count == 3);
  CHECK(p0.interval.ns == 250'000'000);
  CHECK(p0.size == 1024);
  CHECK(p0.start.ns == 100'000'000);
  CHECK(p0.timeout.ns == 2'000'000'000);
  const App& p1 = s.apps[1];
  CHECK(p1.name == "p2");
  CHECK(p1.node == "b");
  CHECK(p1.target == Ipv4Addr::from_octets(10, 0, 0, 1));
  CHECK(p1.count == 4);
  CHECK(p1.interval == Duration::seconds(1));
  CHECK(p1.size == 56);
  CHECK(p1.start == Time::zero());
  CHECK(p1.timeout == Duration::seconds(1));

  CHECK_FALSE(s.trace.log);
  CHECK(s.trace.jsonl);
  CHECK_FALSE(s.trace.pcap);
  CHECK(s.trace.summary);
  CHECK(s.trace.l1_bits);
}

TEST_CASE("defaults: a minimal scenario") {
  Scenario s = load_scenario_text(doc(kTwo + R"(, "links": [)" + kLinkAB + R"(], "apps": [{"node": "a", "target": "b"}])"),
                                  "some/dir/minimal.json");
  CHECK(s.name == "minimal");  // the file's stem
  CHECK(s.description.empty());
  CHECK(s.seed == 1);
  CHECK(s.duration == Duration::seconds(60));
  CHECK(s.nodes[0].kind == NodeKind::Host);
  CHECK(s.nodes[0].default_ttl == 64);
  CHECK(s.nodes[0].routes.empty());
  CHECK_FALSE(s.nodes[0].routes_auto);
  const Link& l = s.links[0];
  CHECK(l.mtu == 1500);
  for (const LinkDirection* d : {&l.a_to_b, &l.b_to_a}) {
    CHECK(d->bandwidth_bps == 10'000'000);
    CHECK(d->delay == Duration::millis(1));
    CHECK(d->loss == 0.0);
    CHECK(d->ber == 0.0);
    CHECK(d->queue_frames == 100);
  }
  CHECK(s.trace.log);
  CHECK(s.trace.jsonl);
  CHECK(s.trace.pcap);
  CHECK(s.trace.summary);
  CHECK_FALSE(s.trace.l1_bits);
  CHECK(s.apps[0].count == 4);
  CHECK(s.apps[0].size == 56);
}

TEST_CASE("bulk: tls is a boolean and false by default") {
  const std::string apps = R"(, "apps": [{"kind": "bulk", "name": "plain", "node": "a", "target": "b"},
                                          {"kind": "bulk", "name": "sealed", "node": "a", "target": "b", "port": 5002, "tls": true}])";
  Scenario s = load_scenario_text(doc(kTwo + R"(, "links": [)" + kLinkAB + "]" + apps), kSrc);
  REQUIRE(s.apps.size() == 2);
  CHECK_FALSE(s.apps[0].tls);
  CHECK(s.apps[1].tls);
  CHECK(s.apps[1].port == 5002);
  // --set reaches it like any other key.
  Scenario t = load_scenario_text(doc(kTwo + R"(, "links": [)" + kLinkAB + "]" + apps), kSrc,
                                  {"apps[0].tls=true", "apps[1].tls=false"});
  CHECK(t.apps[0].tls);
  CHECK_FALSE(t.apps[1].tls);
  CHECK(error_of(doc(kTwo + R"(, "links": [)" + kLinkAB + "]" + apps), {"apps[1].tls=maybe"}).find("apps[1].tls") !=
        std::string::npos);
}

TEST_CASE("units in JSON: numbers and strings, converted exactly") {
  auto link = [](const std::string& fields) {
    return load_scenario_text(two_with_link(fields), kSrc).links[0].a_to_b;
  };
  CHECK(link(R"("delay": "1.5ms")").delay.ns == 1'500'000);
  CHECK(link(R"("delay": 0.0015)").delay.ns == 1'500'000);
  CHECK(link(R"("delay": 1e-05)").delay.ns == 10'000);
  CHECK(link(R"("delay": 0)").delay.ns == 0);
  CHECK(link(R"("delay": "2m")").delay.ns == 120'000'000'000);
  CHECK(link(R"("bandwidth": "10Mbps")").bandwidth_bps == 10'000'000);
  CHECK(link(R"("bandwidth": "10Mbit/s")").bandwidth_bps == 10'000'000);
  CHECK(link(R"("bandwidth": 9600)").bandwidth_bps == 9'600);
  CHECK(link(R"("bandwidth": 2.5e6)").bandwidth_bps == 2'500'000);
  CHECK(load_scenario_text(two_with_link(R"("mtu": "1.5KB")"), kSrc).links[0].mtu == 1500);
  CHECK(load_scenario_text(two_with_app(R"("size": "0.5KiB")"), kSrc).apps[0].size == 512);
  CHECK(load_scenario_text(two_with_app(R"("size": 0)"), kSrc).apps[0].size == 0);
  CHECK(load_scenario_text(doc(kTwo + R"(, "seed": "42")"), kSrc).seed == 42);
  CHECK(load_scenario_text(doc(kTwo + R"(, "seed": 18446744073709551615)"), kSrc).seed == 18446744073709551615ull);
  CHECK(load_scenario_text(doc(kTwo + R"(, "duration": 2.5)"), kSrc).duration.ns == 2'500'000'000);
  CHECK(load_scenario_text(one_node(R"("ttl": 1.0)"), kSrc).nodes[0].default_ttl == 1);
}

TEST_CASE("derived MACs and names are deterministic") {
  CHECK(derived_mac(0, 0).to_string() == "02:00:00:00:00:00");
  CHECK(derived_mac(1, 2).to_string() == "02:00:00:01:00:02");
  CHECK(derived_mac(0x1234, 0xabcd).to_string() == "02:00:12:34:ab:cd");

  const std::string text = doc(kThree + R"(, "links": [{"ends": ["b:eth0", "a:eth0"]}, {"ends": ["a:eth1", "c:eth0"]}],
      "apps": [{"node": "a", "target": "b"}, {"node": "b", "target": "10.0.1.3"}, {"name": "x", "node": "c", "target": "a"}])");
  Scenario s1 = load_scenario_text(text, kSrc);
  Scenario s2 = load_scenario_text(text, kSrc);
  CHECK(s1.links[0].name == "b:eth0-a:eth0");
  CHECK(s1.links[1].name == "a:eth1-c:eth0");
  CHECK(s1.apps[0].name == "ping0");
  CHECK(s1.apps[1].name == "ping1");
  CHECK(s1.apps[2].name == "x");
  CHECK(s1.apps[2].target == Ipv4Addr::from_octets(10, 0, 0, 1));
  CHECK(s1.nodes[0].interfaces[1].mac.to_string() == "02:00:00:00:00:01");
  CHECK(s1.nodes[2].interfaces[0].mac.to_string() == "02:00:00:02:00:00");
  for (size_t i = 0; i < s1.links.size(); ++i) CHECK(s1.links[i].name == s2.links[i].name);
  for (size_t i = 0; i < s1.apps.size(); ++i) CHECK(s1.apps[i].name == s2.apps[i].name);
  for (size_t n = 0; n < s1.nodes.size(); ++n)
    for (size_t k = 0; k < s1.nodes[n].interfaces.size(); ++k)
      CHECK(s1.nodes[n].interfaces[k].mac == s2.nodes[n].interfaces[k].mac);
}

TEST_CASE("--set overrides") {
  const std::string text = doc(kTwo + R"(, "seed": 1, "links": [{"ends": ["a:eth0", "b:eth0"], "loss": 0.01}],
      "apps": [{"node": "a", "target": "b"}])");
  SUBCASE("both index syntaxes") {
    CHECK(load_scenario_text(text, kSrc, {"links[0].loss=0.2"}).links[0].a_to_b.loss == 0.2);
    CHECK(load_scenario_text(text, kSrc, {"links.0.loss=0.3"}).links[0].b_to_a.loss == 0.3);
    CHECK(load_scenario_text(text, kSrc, {"apps[0].count=10"}).apps[0].count == 10);
    CHECK(load_scenario_text(text, kSrc, {"nodes[1].interfaces.0.mac=\"02:00:00:00:01:01\""})
              .nodes[1]
              .interfaces[0]
              .mac.to_string() == "02:00:00:00:01:01");
  }
  SUBCASE("JSON values and plain strings") {
    Scenario s = load_scenario_text(text, kSrc,
                                    {"seed=7", "duration=5s", "trace.pcap=false", "name=\"quoted\"",
                                     "description=two words", "links[0].bandwidth=1Gbps", "links[0].delay=0.002"});
    CHECK(s.seed == 7);
    CHECK(s.duration == Duration::seconds(5));
    CHECK_FALSE(s.trace.pcap);
    CHECK(s.name == "quoted");
    CHECK(s.description == "two words");
    CHECK(s.links[0].a_to_b.bandwidth_bps == 1'000'000'000);
    CHECK(s.links[0].b_to_a.delay == Duration::millis(2));
  }
  SUBCASE("per-direction, even when the file has no a_to_b") {
    Scenario s = load_scenario_text(text, kSrc, {"links[0].a_to_b.loss=0.5"});
    CHECK(s.links[0].a_to_b.loss == 0.5);
    CHECK(s.links[0].b_to_a.loss == 0.01);
  }
  SUBCASE("whole objects, applied in order, and appending one past the end") {
    Scenario s = load_scenario_text(
        text, kSrc,
        {R"(apps[1]={"node": "b", "target": "a", "count": 2})", "apps[1].count=3",
         R"(links[0]={"ends": ["b:eth0", "a:eth0"]})"});
    REQUIRE(s.apps.size() == 2);
    CHECK(s.apps[1].count == 3);
    CHECK(s.apps[1].name == "ping1");
    CHECK(s.links[0].name == "b:eth0-a:eth0");
    CHECK(s.links[0].a_to_b.loss == 0.0);
  }
  SUBCASE("missing containers along the path are created") {
    Scenario s = load_scenario_text(doc(kTwo), kSrc, {R"(apps[0]={"node": "a", "target": "b"})", "trace.l1_bits=true"});
    REQUIRE(s.apps.size() == 1);
    CHECK(s.apps[0].node == "a");
    CHECK(s.trace.l1_bits);
    CHECK(error_of(doc(kTwo), {"apps[1].count=2"}) == kSrc + ": --set apps[1].count=2: apps[1]: no such element (apps has 0)");
    CHECK(error_of(doc(kTwo), {"trace.colour.x=1"}) ==
          kSrc + ": trace.colour: unknown key (expected one of: log, jsonl, pcap, summary, l1_bits, keylog)");
  }
  SUBCASE("errors name the override") {
    CHECK(error_of(text, {"links[5].loss=0.1"}) == kSrc + ": --set links[5].loss=0.1: links[5]: no such element (links has 1)");
    CHECK(error_of(text, {"links.5.loss=0.1"}) == kSrc + ": --set links.5.loss=0.1: links[5]: no such element (links has 1)");
    CHECK(error_of(text, {"apps[3]={}"}) == kSrc + ": --set apps[3]={}: apps[3]: no such element (apps has 1)");
    CHECK(error_of(text, {"seed"}) == kSrc + ": --set seed: expected PATH=VALUE");
    CHECK(error_of(text, {"links[x].loss=1"}) ==
          kSrc + ": --set links[x].loss=1: bad path \"links[x].loss\" (use keys and indices like links[0].loss or links.0.loss)");
    CHECK(error_of(text, {"=1"}).find("bad path \"\"") != std::string::npos);
    CHECK(error_of(text, {"seed.x=1"}) == kSrc + ": --set seed.x=1: seed: is a number, not an object");
    CHECK(error_of(text, {"links.loss=1"}) ==
          kSrc + ": --set links.loss=1: links: is an array, use an index like links[0]");
    CHECK(error_of(text, {"nodes[0].0=1"}) == kSrc + ": --set nodes[0].0=1: nodes[0]: is an object, not an array");
  }
  SUBCASE("new keys are judged by validation") {
    CHECK(error_of(text, {"links[0].bandwith=1Gbps"}) ==
          kSrc + ": links[0].bandwith: unknown key (did you mean \"bandwidth\"?)");
    CHECK(error_of(text, {"links[0].loss=1.5"}) == kSrc + ": links[0].loss: must be in [0,1], got 1.5");
    CHECK(error_of(text, {"links[0].loss=lots"}) == kSrc + ": links[0].loss: must be a number, got string");
  }
}

TEST_CASE("load_scenario_file: missing file") {
  const std::string missing = std::string(MZ_BINARY_DIR) + "/no/such/scenario.json";
  try {
    load_scenario_file(missing);
    FAIL("expected an error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()) == missing + ": cannot open: No such file or directory");
  }
  try {
    load_scenario_file(std::string(MZ_SOURCE_DIR) + "/tests");
    FAIL("expected an error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find(": cannot open: Is a directory") != std::string::npos);
  }
}

TEST_CASE("the example in scenarios/README.md loads") {
  std::string readme = read_file(std::string(MZ_SOURCE_DIR) + "/scenarios/README.md");
  auto start = readme.find("```json\n");
  REQUIRE(start != std::string::npos);
  start += 8;
  auto end = readme.find("```", start);
  REQUIRE(end != std::string::npos);
  Scenario s = load_scenario_text(readme.substr(start, end - start), "scenarios/ping.json");
  CHECK(s.name == "ping");
  CHECK(s.nodes.size() == 2);
  CHECK(s.links.size() == 1);
  CHECK(s.apps.size() == 1);
  CHECK(s.nodes[1].interfaces[0].mac.to_string() == "02:00:00:00:01:01");
  CHECK(s.links[0].a_to_b.loss == 0.1);
  CHECK(s.links[0].b_to_a.loss == 0.0);
}
