// Topology checks: routers, switches and Ethernet segments, link events, routing options.
#include <doctest/doctest.h>

#include <string>

#include "megzawicol/scenario/scenario.hpp"

using namespace mz;
using namespace mz::scenario;

namespace {

std::string error_of(const std::string& json) {
  try {
    load_scenario_text(json, "t.json");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(no error)";
}

// Three hosts and a switch; `extra_nodes` / `extra_links` appended.
std::string lan(const std::string& h3_addr, const std::string& extra_nodes = "", const std::string& extra_links = "") {
  return R"({"nodes": [
    {"name": "h1", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
    {"name": "h2", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]},
    {"name": "h3", "interfaces": [{"name": "eth0", "address": ")" + h3_addr + R"("}]},
    {"name": "sw", "kind": "switch", "interfaces": [{"name": "p0"}, {"name": "p1"}, {"name": "p2"}, {"name": "p3"}]})" +
         extra_nodes + R"(],
    "links": [{"ends": ["h1:eth0", "sw:p0"]}, {"ends": ["h2:eth0", "sw:p1"]}, {"ends": ["h3:eth0", "sw:p2"]})" +
         extra_links + "]}";
}

}  // namespace

TEST_CASE("segments: hosts behind a switch share one subnet and have distinct addresses") {
  auto sc = load_scenario_text(lan("10.0.0.3/24"), "t.json");
  CHECK(sc.nodes[3].kind == NodeKind::Switch);
  CHECK(sc.nodes[3].interfaces[0].address.addr.is_unspecified());
  CHECK(error_of(lan("10.0.0.1/24")) ==
        "t.json: nodes[2].interfaces[0].address: h3:eth0 has the address 10.0.0.1 of h1:eth0, on the same Ethernet segment");
  CHECK(error_of(lan("10.0.1.3/24")) ==
        "t.json: nodes[2].interfaces[0].address: h3:eth0 (10.0.1.3/24) is on the same Ethernet segment as h1:eth0 "
        "(10.0.0.1/24) but not in the same IP subnet");
  // Across two switches it is still one segment.
  const std::string two = lan("10.0.0.3/24", R"(, {"name": "sw2", "kind": "switch", "interfaces": [{"name": "p0"}, {"name": "p1"}]},
      {"name": "h4", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]})",
                              R"(, {"ends": ["sw:p3", "sw2:p0"]}, {"ends": ["h4:eth0", "sw2:p1"]})");
  CHECK(error_of(two) ==
        "t.json: nodes[5].interfaces[0].address: h4:eth0 has the address 10.0.0.2 of h2:eth0, on the same Ethernet segment");
}

TEST_CASE("switches: no IP address, no routes, no loops, no applications") {
  CHECK(error_of(R"({"nodes": [{"name": "s", "kind": "switch", "interfaces": [{"name": "p0", "address": "10.0.0.1/24"}]}]})") ==
        "t.json: nodes[0].interfaces[0].address: a switch port has no IP address (a switch works at layer 2 only)");
  CHECK(error_of(R"({"nodes": [{"name": "s", "kind": "switch", "routes": "auto", "interfaces": [{"name": "p0"}]}]})") ==
        "t.json: nodes[0].routes: a switch has no routes (it forwards by MAC address)");
  const std::string loop = R"({"nodes": [
    {"name": "s1", "kind": "switch", "interfaces": [{"name": "p0"}, {"name": "p1"}]},
    {"name": "s2", "kind": "switch", "interfaces": [{"name": "p0"}, {"name": "p1"}]}],
    "links": [{"ends": ["s1:p0", "s2:p0"]}, {"ends": ["s1:p1", "s2:p1"]}]})";
  CHECK(error_of(loop).find("t.json: links[1].ends: this link closes a loop of switches") == 0);
  CHECK(error_of(lan("10.0.0.3/24").replace(lan("10.0.0.3/24").rfind("]}"), 2,
                                             R"(], "apps": [{"kind": "ping", "node": "sw", "target": "h1"}]})")) ==
        "t.json: apps[0].node: \"sw\" is a switch: applications run on hosts and routers");
}

TEST_CASE("routers need two interfaces") {
  CHECK(error_of(R"({"nodes": [{"name": "r", "kind": "router", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]}]})") ==
        "t.json: nodes[0].interfaces: a router forwards between interfaces and needs at least 2, \"r\" has 1 "
        "(make it a \"host\" if it should not forward)");
}

TEST_CASE("links: cost, duplication and jitter are read and checked") {
  const std::string base = R"({"nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
    {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}], "links": [{"ends": ["a:eth0", "b:eth0"], )";
  auto sc = load_scenario_text(base + R"("cost": 7, "duplicate": 0.1, "jitter": "2ms", "b_to_a": {"jitter": "5ms", "duplicate": 0}}]})", "t.json");
  CHECK(sc.links[0].cost == 7);
  CHECK(sc.links[0].a_to_b.duplicate == 0.1);
  CHECK(sc.links[0].a_to_b.jitter == Duration::millis(2));
  CHECK(sc.links[0].b_to_a.jitter == Duration::millis(5));
  CHECK(sc.links[0].b_to_a.duplicate == 0.0);
  CHECK(error_of(base + R"("duplicate": 2}]})") == "t.json: links[0].duplicate: must be in [0,1], got 2");
  CHECK(error_of(base + R"("cost": 0}]})").find("t.json: links[0].cost: ") == 0);
  CHECK(error_of(base + R"("jitter": "-1ms"}]})").find("t.json: links[0].jitter: ") == 0);
}

TEST_CASE("events and routing options") {
  const std::string base = R"({"duration": "10s", "nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
    {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}], "links": [{"name": "l", "ends": ["a:eth0", "b:eth0"]}], )";
  auto sc = load_scenario_text(base + R"("events": [{"at": "5s", "link": "l", "action": "up"}, {"at": "2s", "link": "l", "action": "down"}],
    "routing": {"recompute": false, "delay": "1s"}})",
                               "t.json");
  REQUIRE(sc.events.size() == 2);
  CHECK(sc.events[0].at == Time::zero() + Duration::seconds(2));  // sorted by time
  CHECK_FALSE(sc.events[0].up);
  CHECK(sc.events[1].up);
  CHECK_FALSE(sc.routing.recompute);
  CHECK(sc.routing.delay == Duration::seconds(1));
  CHECK(error_of(base + R"("events": [{"at": "1s", "link": "m", "action": "down"}]})") ==
        "t.json: events[0].link: unknown link \"m\" (links: l)");
  CHECK(error_of(base + R"("events": [{"at": "1s", "link": "l", "action": "flap"}]})") ==
        "t.json: events[0].action: must be \"up\" or \"down\", got \"flap\"");
  CHECK(error_of(base + R"("events": [{"at": "11s", "link": "l", "action": "down"}]})").find("t.json: events[0].at: must be before") == 0);
  CHECK(error_of(base + R"("routing": {"recompute": true, "delai": "1s"}})") ==
        "t.json: routing.delai: unknown key (did you mean \"delay\"?)");
}
