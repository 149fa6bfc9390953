#include "megzawicol/l3/autoroute.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace mz;
using namespace mz::l3;

namespace {

Ipv4Cidr cidr(const char* s) { return *Ipv4Cidr::parse(s); }

struct Topo {
  std::vector<TopoNode> nodes;
  std::vector<TopoLink> links;

  uint32_t node(const char* name, bool forwards, std::vector<const char*> addrs) {
    TopoNode n;
    n.name = name;
    n.forwards = forwards;
    for (const char* a : addrs) n.interfaces.push_back({cidr(a)});
    nodes.push_back(std::move(n));
    return static_cast<uint32_t>(nodes.size() - 1);
  }
  uint32_t router(const char* name, std::vector<const char*> addrs) { return node(name, true, addrs); }
  uint32_t host(const char* name, std::vector<const char*> addrs) { return node(name, false, addrs); }
  size_t link(uint32_t a, uint32_t a_if, uint32_t b, uint32_t b_if, uint32_t cost = 1) {
    links.push_back({a, a_if, b, b_if, cost, true});
    return links.size() - 1;
  }
  std::vector<std::vector<RouteEntry>> run() const {
    return compute_auto_routes(nodes, links, std::vector<bool>(nodes.size(), true));
  }
};

/// "10.0.2.0/24 via 10.0.1.1 dev 0 metric 3"; anything but an auto route with a gateway
/// is flagged so that it cannot match an expectation.
std::string fmt(const RouteEntry& r) {
  std::string s = r.dest.to_string();
  s += r.gateway ? " via " + r.gateway->to_string() : std::string(" NO-GATEWAY");
  s += " dev " + std::to_string(r.ifindex) + " metric " + std::to_string(r.metric);
  if (r.origin != RouteOrigin::Auto) s += " NOT-AUTO";
  return s;
}

std::vector<std::string> fmt(const std::vector<RouteEntry>& rs) {
  std::vector<std::string> v;
  for (const auto& r : rs) v.push_back(fmt(r));
  return v;
}

using Lines = std::vector<std::string>;

// h1 - r1 - r2 - r3 - h2, unit costs.
//   A 10.0.1.0/24:  h1.0 .2   r1.0 .1
//   B 10.0.12.0/24: r1.1 .1   r2.0 .2
//   C 10.0.23.0/24: r2.1 .2   r3.0 .3
//   D 10.0.2.0/24:  r3.1 .1   h2.0 .2
Topo chain() {
  Topo t;
  auto h1 = t.host("h1", {"10.0.1.2/24"});
  auto r1 = t.router("r1", {"10.0.1.1/24", "10.0.12.1/24"});
  auto r2 = t.router("r2", {"10.0.12.2/24", "10.0.23.2/24"});
  auto r3 = t.router("r3", {"10.0.23.3/24", "10.0.2.1/24"});
  auto h2 = t.host("h2", {"10.0.2.2/24"});
  t.link(h1, 0, r1, 0);
  t.link(r1, 1, r2, 0);
  t.link(r2, 1, r3, 0);
  t.link(r3, 1, h2, 0);
  return t;
}

}  // namespace

TEST_CASE("autoroute: chain h1 - r1 - r2 - r3 - h2") {
  Topo t = chain();
  auto out = t.run();
  REQUIRE(out.size() == 5);
  // Routes sorted by network: 10.0.2.0 < 10.0.12.0 < 10.0.23.0 (connected ones left out).
  CHECK(fmt(out[0]) == Lines{"10.0.2.0/24 via 10.0.1.1 dev 0 metric 3",
                             "10.0.12.0/24 via 10.0.1.1 dev 0 metric 1",
                             "10.0.23.0/24 via 10.0.1.1 dev 0 metric 2"});
  CHECK(fmt(out[1]) == Lines{"10.0.2.0/24 via 10.0.12.2 dev 1 metric 2",
                             "10.0.23.0/24 via 10.0.12.2 dev 1 metric 1"});
  CHECK(fmt(out[2]) == Lines{"10.0.1.0/24 via 10.0.12.1 dev 0 metric 1",
                             "10.0.2.0/24 via 10.0.23.3 dev 1 metric 1"});
  CHECK(fmt(out[3]) == Lines{"10.0.1.0/24 via 10.0.23.2 dev 0 metric 2",
                             "10.0.12.0/24 via 10.0.23.2 dev 0 metric 1"});
  CHECK(fmt(out[4]) == Lines{"10.0.1.0/24 via 10.0.2.1 dev 0 metric 3",
                             "10.0.12.0/24 via 10.0.2.1 dev 0 metric 2",
                             "10.0.23.0/24 via 10.0.2.1 dev 0 metric 1"});
}

TEST_CASE("autoroute: only the nodes that want auto routes get them") {
  Topo t = chain();
  auto out = compute_auto_routes(t.nodes, t.links, {false, true, false, false, true});
  REQUIRE(out.size() == 5);
  CHECK(out[0].empty());
  CHECK(out[2].empty());
  CHECK(out[3].empty());
  CHECK(fmt(out[1]) == Lines{"10.0.2.0/24 via 10.0.12.2 dev 1 metric 2",
                             "10.0.23.0/24 via 10.0.12.2 dev 1 metric 1"});
  CHECK(fmt(out[4]).size() == 3);
}

// Routers r0, r1, r2:
//   r0.0 10.1.1.1/24 -- r1.0 10.1.1.2/24   cost 10 (or as given)
//   r0.1 10.1.2.1/24 -- r2.0 10.1.2.2/24   cost 1
//   r2.1 10.1.3.1/24 -- r1.1 10.1.3.2/24   cost 2
//   r1.2 10.9.0.1/16: a stub LAN on r1, on no link
namespace {
Topo triangle(uint32_t direct_cost) {
  Topo t;
  auto r0 = t.router("r0", {"10.1.1.1/24", "10.1.2.1/24"});
  auto r1 = t.router("r1", {"10.1.1.2/24", "10.1.3.2/24", "10.9.0.1/16"});
  auto r2 = t.router("r2", {"10.1.2.2/24", "10.1.3.1/24"});
  t.link(r0, 0, r1, 0, direct_cost);
  t.link(r0, 1, r2, 0, 1);
  t.link(r2, 1, r1, 1, 2);
  return t;
}
}  // namespace

TEST_CASE("autoroute: a cheaper two-hop path beats the one-hop path") {
  auto out = triangle(10).run();
  // r0 to r1's LAN: direct costs 10, through r2 1 + 2 = 3.
  // 10.1.3.0/24 is held by r2 (cost 1) and r1 (cost 3): r2 wins.
  CHECK(fmt(out[0]) == Lines{"10.1.3.0/24 via 10.1.2.2 dev 1 metric 1",
                             "10.9.0.0/16 via 10.1.2.2 dev 1 metric 3"});
  // r1 to 10.1.2.0/24: held by r2 (cost 2) and r0 (direct 10, via r2 3).
  CHECK(fmt(out[1]) == Lines{"10.1.2.0/24 via 10.1.3.1 dev 1 metric 2"});
  // r2 to 10.1.1.0/24: held by r0 (1) and r1 (2); to r1's LAN: 2.
  CHECK(fmt(out[2]) == Lines{"10.1.1.0/24 via 10.1.2.1 dev 0 metric 1",
                             "10.9.0.0/16 via 10.1.3.2 dev 1 metric 2"});
}

TEST_CASE("autoroute: at equal cost the path with fewer hops wins") {
  // Direct r0-r1 costs 3, the same as r0-r2-r1: one hop beats two.
  auto out = triangle(3).run();
  CHECK(fmt(out[0]) == Lines{"10.1.3.0/24 via 10.1.2.2 dev 1 metric 1",
                             "10.9.0.0/16 via 10.1.1.2 dev 0 metric 3"});
  // And at cost 4 the two-hop path is cheaper again.
  out = triangle(4).run();
  CHECK(fmt(out[0])[1] == "10.9.0.0/16 via 10.1.2.2 dev 1 metric 3");
}

TEST_CASE("autoroute: equal cost and hops: the lowest next-hop (node index, ifindex) wins") {
  SUBCASE("two neighbours: the lower node index, whatever the local ifindex") {
    // s.0 -- b, s.1 -- a, a -- t, b -- t; t has a LAN 10.50.0.0/24. Both paths cost 2,
    // 2 hops; a (node 1) < b (node 2), so the route leaves on s.1 although s.0 < s.1.
    Topo t;
    auto s = t.router("s", {"10.3.2.1/24", "10.3.1.1/24"});
    auto a = t.router("a", {"10.3.1.2/24", "10.3.3.1/24"});
    auto b = t.router("b", {"10.3.2.2/24", "10.3.4.1/24"});
    auto d = t.router("t", {"10.3.3.2/24", "10.3.4.2/24", "10.50.0.1/24"});
    t.link(s, 0, b, 0);
    t.link(s, 1, a, 0);
    t.link(a, 1, d, 0);
    t.link(b, 1, d, 1);
    auto out = t.run();
    CHECK(fmt(out[s]) == Lines{"10.3.3.0/24 via 10.3.1.2 dev 1 metric 1",
                               "10.3.4.0/24 via 10.3.2.2 dev 0 metric 1",
                               "10.50.0.0/24 via 10.3.1.2 dev 1 metric 2"});
    // The order of the links does not matter.
    std::reverse(t.links.begin(), t.links.end());
    CHECK(fmt(t.run()[s]) == fmt(out[s]));
    // Nor which end is "a".
    for (auto& l : t.links) {
      std::swap(l.a_node, l.b_node);
      std::swap(l.a_if, l.b_if);
    }
    CHECK(fmt(t.run()[s]) == fmt(out[s]));
  }
  SUBCASE("two parallel links to one neighbour: its lower ifindex") {
    // s.0 -- n.1 and s.1 -- n.0 (both 10.4.x); n has a LAN. n.0 < n.1: leave on s.1.
    Topo t;
    auto s = t.router("s", {"10.4.1.1/24", "10.4.2.1/24"});
    auto n = t.router("n", {"10.4.2.2/24", "10.4.1.2/24", "10.60.0.1/24"});
    t.link(s, 0, n, 1);
    t.link(s, 1, n, 0);
    CHECK(fmt(t.run()[s]) == Lines{"10.60.0.0/24 via 10.4.2.2 dev 1 metric 1"});
  }
  SUBCASE("then the lower local ifindex, then the lower link index") {
    // Two links reaching the same neighbour interface (degenerate but deterministic).
    Topo t;
    auto s = t.router("s", {"10.5.1.1/24", "10.5.1.3/24"});
    auto n = t.router("n", {"10.5.1.2/24", "10.70.0.1/24"});
    t.link(s, 1, n, 0);
    t.link(s, 0, n, 0);
    CHECK(fmt(t.run()[s]) == Lines{"10.70.0.0/24 via 10.5.1.2 dev 0 metric 1"});
    t.links[1].a_if = 1;  // both on s.1: two identical first hops, link 0 wins
    CHECK(fmt(t.run()[s]) == Lines{"10.70.0.0/24 via 10.5.1.2 dev 1 metric 1"});
  }
}

TEST_CASE("autoroute: a link marked down is routed around") {
  Topo t = triangle(10);
  t.links[1].up = false;  // r0 - r2
  auto out = t.run();
  // r0: only the direct link to r1 is left. 10.1.2.0/24 is still r0's own (connected).
  CHECK(fmt(out[0]) == Lines{"10.1.3.0/24 via 10.1.1.2 dev 0 metric 10",
                             "10.9.0.0/16 via 10.1.1.2 dev 0 metric 10"});
  // r2 reaches 10.1.1.0/24 (held by r0 and r1) through r1 only.
  CHECK(fmt(out[2]) == Lines{"10.1.1.0/24 via 10.1.3.2 dev 1 metric 2",
                             "10.9.0.0/16 via 10.1.3.2 dev 1 metric 2"});
  // Back up: the original routes return.
  t.links[1].up = true;
  CHECK(fmt(t.run()[0]) == Lines{"10.1.3.0/24 via 10.1.2.2 dev 1 metric 1",
                                 "10.9.0.0/16 via 10.1.2.2 dev 1 metric 3"});
}

TEST_CASE("autoroute: a partition leaves the far subnets without routes") {
  Topo t = chain();
  t.links[2].up = false;  // r2 - r3
  auto out = t.run();
  // h1 still reaches B (r1) and C (held by r2), not D.
  CHECK(fmt(out[0]) == Lines{"10.0.12.0/24 via 10.0.1.1 dev 0 metric 1",
                             "10.0.23.0/24 via 10.0.1.1 dev 0 metric 2"});
  CHECK(fmt(out[2]) == Lines{"10.0.1.0/24 via 10.0.12.1 dev 0 metric 1"});
  // r3 holds C itself and D; A and B are cut off.
  CHECK(out[3].empty());
  // h2 reaches C through r3 (which holds it), nothing else.
  CHECK(fmt(out[4]) == Lines{"10.0.23.0/24 via 10.0.2.1 dev 0 metric 1"});
}

TEST_CASE("autoroute: a host with two interfaces is never transit") {
  //   r1.0 10.2.1.1 -- H.0 10.2.1.2     H.1 10.2.2.2 -- r2.0 10.2.2.1     r2.1 10.2.3.1 -- h2 10.2.3.2
  //   r1.1 10.2.9.1 -- r2.2 10.2.9.2 (cost 5, the bypass, down at first)
  //   r1.2 10.2.8.1/24: a stub LAN on r1
  Topo t;
  auto r1 = t.router("r1", {"10.2.1.1/24", "10.2.9.1/24", "10.2.8.1/24"});
  auto h = t.host("H", {"10.2.1.2/24", "10.2.2.2/24"});
  auto r2 = t.router("r2", {"10.2.2.1/24", "10.2.3.1/24", "10.2.9.2/24"});
  auto h2 = t.host("h2", {"10.2.3.2/24"});
  t.link(r1, 0, h, 0);
  t.link(h, 1, r2, 0);
  t.link(r2, 1, h2, 0);
  size_t bypass = t.link(r1, 1, r2, 2, 5);
  t.links[bypass].up = false;

  auto out = t.run();
  // r1 reaches H's other subnet (H holds it) but nothing behind H: not 10.2.3.0/24.
  CHECK(fmt(out[r1]) == Lines{"10.2.2.0/24 via 10.2.1.2 dev 0 metric 1"});
  // H, as a source, uses both its interfaces. 10.2.9.0/24 (the down link's subnet) is
  // held by r1 and r2, both one hop away: r1 (node 0) wins over r2 (node 2).
  CHECK(fmt(out[h]) == Lines{"10.2.3.0/24 via 10.2.2.1 dev 1 metric 1",
                             "10.2.8.0/24 via 10.2.1.1 dev 0 metric 1",
                             "10.2.9.0/24 via 10.2.1.1 dev 0 metric 1"});
  // r2 reaches H's far subnet (H's own address); r1's LAN is behind H: no route.
  CHECK(fmt(out[r2]) == Lines{"10.2.1.0/24 via 10.2.2.2 dev 0 metric 1"});
  // h2: 10.2.1.0/24 is one of H's own subnets, H ends the path and is not transit;
  // 10.2.8.0/24 is behind H: no route.
  CHECK(fmt(out[h2]) == Lines{"10.2.1.0/24 via 10.2.3.1 dev 0 metric 2",
                              "10.2.2.0/24 via 10.2.3.1 dev 0 metric 1",
                              "10.2.9.0/24 via 10.2.3.1 dev 0 metric 1"});

  // With the bypass up, paths go around H even though it costs 5 (through H: 2).
  t.links[bypass].up = true;
  out = t.run();
  CHECK(fmt(out[r1]) == Lines{"10.2.2.0/24 via 10.2.1.2 dev 0 metric 1",
                              "10.2.3.0/24 via 10.2.9.2 dev 1 metric 5"});
  CHECK(fmt(out[r2]) == Lines{"10.2.1.0/24 via 10.2.2.2 dev 0 metric 1",
                              "10.2.8.0/24 via 10.2.9.1 dev 2 metric 5"});
  CHECK(fmt(out[h2]) == Lines{"10.2.1.0/24 via 10.2.3.1 dev 0 metric 2",
                              "10.2.2.0/24 via 10.2.3.1 dev 0 metric 1",
                              "10.2.8.0/24 via 10.2.3.1 dev 0 metric 6",
                              "10.2.9.0/24 via 10.2.3.1 dev 0 metric 1"});
}

TEST_CASE("autoroute: duplicate subnets: the nearest holder wins, one route per prefix") {
  // 10.7.0.0/24 is on both r0's stub and r2's stub; r1 sits between r0 and r2 with r2 nearer.
  Topo t;
  auto r0 = t.router("r0", {"10.6.1.1/24", "10.7.0.1/24"});
  auto r1 = t.router("r1", {"10.6.1.2/24", "10.6.2.1/24"});
  auto r2 = t.router("r2", {"10.6.2.2/24", "10.7.0.200/24"});
  t.link(r0, 0, r1, 0, 4);
  t.link(r1, 1, r2, 0, 3);
  auto out = t.run();
  CHECK(fmt(out[r1]) == Lines{"10.7.0.0/24 via 10.6.2.2 dev 1 metric 3"});
  // r0 and r2 are connected to 10.7.0.0/24 themselves: no route for it.
  CHECK(fmt(out[r0]) == Lines{"10.6.2.0/24 via 10.6.1.2 dev 0 metric 4"});
  CHECK(fmt(out[r2]) == Lines{"10.6.1.0/24 via 10.6.2.1 dev 0 metric 3"});
}

TEST_CASE("autoroute: a longer prefix inside a connected one is not connected") {
  // r0 has 10.8.0.0/16; r1 beyond it has 10.8.5.0/24, a different destination.
  Topo t;
  auto r0 = t.router("r0", {"10.8.0.1/16", "10.6.1.1/24"});
  auto r1 = t.router("r1", {"10.6.1.2/24", "10.8.5.1/24"});
  t.link(r0, 1, r1, 0);
  auto out = t.run();
  CHECK(fmt(out[r0]) == Lines{"10.8.5.0/24 via 10.6.1.2 dev 1 metric 1"});
  CHECK(fmt(out[r1]) == Lines{"10.8.0.0/16 via 10.6.1.1 dev 0 metric 1"});
}

TEST_CASE("autoroute: nodes without links and empty inputs") {
  CHECK(compute_auto_routes({}, {}, {}).empty());
  Topo t;
  t.host("lonely", {"10.0.0.1/24"});
  t.host("empty", {});
  auto out = t.run();
  REQUIRE(out.size() == 2);
  CHECK(out[0].empty());
  CHECK(out[1].empty());
}

TEST_CASE("autoroute: invalid input is rejected") {
  Topo t = chain();
  CHECK_THROWS_AS(compute_auto_routes(t.nodes, t.links, {true, true}), std::invalid_argument);
  Topo bad = t;
  bad.links[0].b_node = 5;
  CHECK_THROWS_AS(bad.run(), std::invalid_argument);
  bad = t;
  bad.links[1].a_if = 2;
  CHECK_THROWS_AS(bad.run(), std::invalid_argument);
  bad = t;
  bad.links[3].cost = 0;
  bad.links[3].up = false;  // checked even when down
  CHECK_THROWS_AS(bad.run(), std::invalid_argument);
}

TEST_CASE("autoroute: metrics saturate at UINT32_MAX") {
  Topo t;
  auto a = t.router("a", {"10.0.1.1/24"});
  auto b = t.router("b", {"10.0.1.2/24", "10.0.2.1/24"});
  auto c = t.router("c", {"10.0.2.2/24", "10.0.3.1/24"});
  const uint32_t big = std::numeric_limits<uint32_t>::max() - 1;
  t.link(a, 0, b, 0, big);
  t.link(b, 1, c, 0, big);
  auto out = t.run();
  CHECK(fmt(out[a]) == Lines{"10.0.2.0/24 via 10.0.1.2 dev 0 metric 4294967294",
                             "10.0.3.0/24 via 10.0.1.2 dev 0 metric 4294967295"});
}

// ---------------------------------------------------------------------------------------
// Random topology, checked against an independent BFS reference (unit costs).

namespace {

struct RandomTopo {
  std::vector<TopoNode> nodes;
  std::vector<TopoLink> links;
};

/// `routers` routers (connected: a random tree plus `extra` random links, and a few stub
/// LANs), `hosts` hosts each on one random router, some on two (multi-homed: must never
/// be transit). Some host subnets are reused on other links (duplicate subnets). Node
/// kinds are interleaved in index order.
RandomTopo random_topo(uint32_t routers, uint32_t hosts, uint32_t extra, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<uint32_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
  RandomTopo t;
  std::vector<bool> is_router(routers + hosts, false);
  std::fill(is_router.begin(), is_router.begin() + routers, true);
  std::shuffle(is_router.begin(), is_router.end(), rng);
  std::vector<uint32_t> rlist, hlist;
  t.nodes.resize(is_router.size());
  for (uint32_t i = 0; i < is_router.size(); ++i) {
    t.nodes[i].name = std::to_string(i);
    t.nodes[i].name.insert(0, 1, is_router[i] ? 'r' : 'h');
    t.nodes[i].forwards = is_router[i];
    (is_router[i] ? rlist : hlist).push_back(i);
  }
  uint32_t next_subnet = 0;
  std::vector<std::pair<uint32_t, uint32_t>> subnet_pool;  // (subnet, next host octet)
  auto new_subnet = [&] {
    subnet_pool.push_back({next_subnet++, 1});
    return subnet_pool.size() - 1;
  };
  auto add_if = [&](uint32_t node, size_t pool) {
    auto& [sn, octet] = subnet_pool[pool];
    Ipv4Cidr c{Ipv4Addr{(10u << 24) | (sn << 8) | octet++}, 24};
    t.nodes[node].interfaces.push_back({c});
    return static_cast<uint32_t>(t.nodes[node].interfaces.size() - 1);
  };
  auto connect = [&](uint32_t a, uint32_t b, size_t pool) {
    uint32_t ai = add_if(a, pool);
    uint32_t bi = add_if(b, pool);
    t.links.push_back({a, ai, b, bi, 1, true});
  };
  std::shuffle(rlist.begin(), rlist.end(), rng);
  for (uint32_t k = 1; k < rlist.size(); ++k) connect(rlist[k], rlist[pick(k)], new_subnet());
  for (uint32_t k = 0; k < extra; ++k) {
    uint32_t a = rlist[pick(rlist.size())], b = rlist[pick(rlist.size())];
    if (a != b) connect(a, b, new_subnet());
  }
  for (uint32_t k = 0; k < routers / 10; ++k) add_if(rlist[pick(rlist.size())], new_subnet());
  std::vector<size_t> host_pools;
  for (uint32_t h : hlist) {
    size_t pool = (!host_pools.empty() && pick(20) == 0) ? host_pools[pick(host_pools.size())]
                                                         : new_subnet();
    host_pools.push_back(pool);
    connect(h, rlist[pick(rlist.size())], pool);
    if (pick(5) == 0) connect(h, rlist[pick(rlist.size())], new_subnet());
  }
  return t;
}

constexpr uint32_t kInf = std::numeric_limits<uint32_t>::max();

/// Hop distances from `src` along up links; only `src` and routers are expanded.
std::vector<uint32_t> bfs(const RandomTopo& t, const std::vector<std::vector<uint32_t>>& nbrs, uint32_t src) {
  std::vector<uint32_t> d(t.nodes.size(), kInf);
  std::deque<uint32_t> q{src};
  d[src] = 0;
  while (!q.empty()) {
    uint32_t v = q.front();
    q.pop_front();
    if (v != src && !t.nodes[v].forwards) continue;
    for (uint32_t w : nbrs[v])
      if (d[w] == kInf) {
        d[w] = d[v] + 1;
        q.push_back(w);
      }
  }
  return d;
}

void check_against_reference(const RandomTopo& t, const std::vector<bool>& wants,
                             const std::vector<std::vector<RouteEntry>>& out,
                             const std::vector<uint32_t>& sources) {
  const size_t n = t.nodes.size();
  std::vector<std::vector<uint32_t>> nbrs(n);
  for (const auto& l : t.links)
    if (l.up) {
      nbrs[l.a_node].push_back(l.b_node);
      nbrs[l.b_node].push_back(l.a_node);
    }
  using Key = std::pair<uint32_t, uint32_t>;  // (network, prefix_len)
  std::map<Key, std::vector<uint32_t>> holders;
  for (uint32_t v = 0; v < n; ++v)
    for (const auto& i : t.nodes[v].interfaces) holders[{i.address.network().v, i.address.prefix_len}].push_back(v);

  for (uint32_t src : sources) {
    CAPTURE(src);
    if (!wants[src]) {
      CHECK(out[src].empty());
      continue;
    }
    auto dist = bfs(t, nbrs, src);
    std::map<uint32_t, std::vector<uint32_t>> dist_from;  // neighbour -> its BFS
    std::map<Key, const RouteEntry*> got;
    for (size_t k = 0; k < out[src].size(); ++k) {
      const RouteEntry& r = out[src][k];
      CHECK(r.origin == RouteOrigin::Auto);
      CHECK(r.dest.addr == r.dest.network());
      if (k > 0) {
        const auto& p = out[src][k - 1].dest;
        CHECK(std::make_pair(p.addr.v, p.prefix_len) < std::make_pair(r.dest.addr.v, r.dest.prefix_len));
      }
      got[{r.dest.addr.v, r.dest.prefix_len}] = &r;
    }
    size_t expected_routes = 0;
    for (const auto& [key, hs] : holders) {
      const std::string subnet = Ipv4Addr{key.first}.to_string();
      CAPTURE(subnet);
      bool connected = std::find(hs.begin(), hs.end(), src) != hs.end();
      uint32_t best = kInf;
      for (uint32_t h : hs) best = std::min(best, dist[h]);
      auto it = got.find(key);
      if (connected || best == kInf) {
        CHECK(it == got.end());
        continue;
      }
      ++expected_routes;
      REQUIRE(it != got.end());
      const RouteEntry& r = *it->second;
      CHECK(r.metric == best);
      // The expected first hop: the lowest (neighbour, neighbour ifindex, own ifindex,
      // link) among the links from src that start a shortest path.
      std::tuple<uint32_t, uint32_t, uint32_t, size_t> want{kInf, kInf, kInf, 0};
      for (size_t li = 0; li < t.links.size(); ++li) {
        const auto& l = t.links[li];
        if (!l.up || (l.a_node != src && l.b_node != src) || l.a_node == l.b_node) continue;
        bool at_a = l.a_node == src;
        uint32_t m = at_a ? l.b_node : l.a_node, m_if = at_a ? l.b_if : l.a_if, own_if = at_a ? l.a_if : l.b_if;
        bool ok = false;
        if (best == 1) {
          ok = std::find(hs.begin(), hs.end(), m) != hs.end();
        } else if (t.nodes[m].forwards) {
          auto [dit, fresh] = dist_from.try_emplace(m);
          if (fresh) dit->second = bfs(t, nbrs, m);
          uint32_t dm = kInf;
          for (uint32_t h : hs) dm = std::min(dm, dit->second[h]);
          ok = dm == best - 1;
        }
        if (ok) want = std::min(want, std::tuple<uint32_t, uint32_t, uint32_t, size_t>{m, m_if, own_if, li});
      }
      REQUIRE(std::get<0>(want) != kInf);
      REQUIRE(r.gateway.has_value());
      CHECK(*r.gateway == t.nodes[std::get<0>(want)].interfaces[std::get<1>(want)].address.addr);
      CHECK(r.ifindex == std::get<2>(want));
    }
    CHECK(out[src].size() == expected_routes);
  }
}

}  // namespace

TEST_CASE("autoroute: 1000 routers + 1000 hosts, checked on sampled sources by BFS") {
  RandomTopo t = random_topo(1000, 1000, 600, 12345);
  std::vector<bool> wants(t.nodes.size(), true);
  for (size_t i = 0; i < wants.size(); i += 97) wants[i] = false;

  auto t0 = std::chrono::steady_clock::now();
  auto out = compute_auto_routes(t.nodes, t.links, wants);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("compute_auto_routes on " << t.nodes.size() << " nodes, " << t.links.size()
                                    << " links: " << ms << " ms");
  REQUIRE(out.size() == t.nodes.size());

  std::mt19937 rng(777);
  std::vector<uint32_t> sources{0, 97, static_cast<uint32_t>(t.nodes.size() - 1)};
  for (int k = 0; k < 40; ++k)
    sources.push_back(std::uniform_int_distribution<uint32_t>(0, static_cast<uint32_t>(t.nodes.size() - 1))(rng));
  check_against_reference(t, wants, out, sources);

  // Some links down (the graph may split): still matches the reference.
  for (size_t i = 0; i < t.links.size(); i += 7) t.links[i].up = false;
  out = compute_auto_routes(t.nodes, t.links, wants);
  check_against_reference(t, wants, out, sources);
}

TEST_CASE("autoroute: the result does not depend on the order of the links") {
  RandomTopo t = random_topo(150, 150, 100, 99);
  std::vector<bool> wants(t.nodes.size(), true);
  auto out = compute_auto_routes(t.nodes, t.links, wants);
  std::vector<uint32_t> all(t.nodes.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  check_against_reference(t, wants, out, all);
  std::mt19937 rng(5);
  std::shuffle(t.links.begin(), t.links.end(), rng);
  auto again = compute_auto_routes(t.nodes, t.links, wants);
  for (size_t v = 0; v < out.size(); ++v) CHECK(fmt(again[v]) == fmt(out[v]));
}

// ---------------------------------------------------------------------------------------
// AutoRoutes (answers from per-subnet trees, cached) against compute_auto_routes (every
// route of every node, one Dijkstra per source): the same routes, node by node.

namespace {

/// Node `v`'s routes as the old tables held them, looked up by a linear scan.
std::optional<RouteEntry> scan(const std::vector<RouteEntry>& routes, Ipv4Addr dst, uint8_t min_len) {
  const RouteEntry* best = nullptr;
  for (const auto& e : routes)
    if (e.dest.prefix_len >= min_len && e.dest.contains(dst) && (!best || e.dest.prefix_len > best->dest.prefix_len))
      best = &e;
  if (!best) return std::nullopt;
  return *best;
}

std::string fmt(const std::optional<RouteEntry>& r) { return r ? fmt(*r) : std::string("none"); }

std::string full(const std::optional<RouteEntry>& r) { return r ? r->describe({}) : std::string("none"); }

/// Every (node, subnet) answer of `ar` equals the listing of compute_auto_routes, and so
/// do lookups of addresses inside and around every subnet. Nodes are visited in `order`.
void check_same_routes(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
                       const std::vector<bool>& wants, const AutoRoutes& ar, const std::vector<uint32_t>& order,
                       std::mt19937& rng) {
  const auto expected = compute_auto_routes(nodes, links, wants);
  std::vector<Ipv4Cidr> subnets;
  for (const auto& n : nodes)
    for (const auto& i : n.interfaces) subnets.push_back(Ipv4Cidr{i.address.network(), i.address.prefix_len});
  for (uint32_t v : order) {
    CAPTURE(v);
    // The listing is the same as compute_auto_routes's row.
    CHECK(fmt(ar.routes_of(v)) == fmt(expected[v]));
    // Each subnet's route, from the trees.
    for (const auto& s : subnets) {
      CAPTURE(s.to_string());
      std::optional<RouteEntry> want;
      for (const auto& r : expected[v])
        if (r.dest == s) want = r;
      REQUIRE(fmt(ar.route_to(v, s)) == fmt(want));
    }
    // Longest-prefix lookups, with a random minimum prefix length.
    for (int q = 0; q < 30; ++q) {
      const auto& s = subnets[std::uniform_int_distribution<size_t>(0, subnets.size() - 1)(rng)];
      uint32_t a = s.addr.v;
      if (q % 3 == 1) a ^= 1u << std::uniform_int_distribution<uint32_t>(0, 31)(rng);
      if (q % 3 == 2) a = static_cast<uint32_t>(rng());
      const auto min_len = static_cast<uint8_t>(q % 4 == 0 ? std::uniform_int_distribution<uint32_t>(0, 32)(rng) : 0);
      CAPTURE(Ipv4Addr{a}.to_string());
      CAPTURE(int{min_len});
      REQUIRE(fmt(ar.lookup(v, Ipv4Addr{a}, min_len)) == fmt(scan(expected[v], Ipv4Addr{a}, min_len)));
    }
  }
}

/// Random topology with nested prefixes (/8 to /32 in a small address space), costs in
/// [1, max_cost], some links down, parallel links and self-links.
RandomTopo nested_topo(uint32_t count, uint32_t max_cost, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const uint8_t lens[] = {8, 16, 20, 24, 24, 24, 28, 30, 32};
  RandomTopo t;
  t.nodes.resize(count);
  for (uint32_t v = 0; v < count; ++v) {
    t.nodes[v].name = std::to_string(v);
    t.nodes[v].name.insert(0, 1, 'n');
    t.nodes[v].forwards = pick(3) != 0;
    const uint32_t ifs = 1 + pick(4);
    for (uint32_t i = 0; i < ifs; ++i) {
      const uint32_t addr = (10u << 24) | (pick(3) << 16) | (pick(6) << 8) | pick(8);
      t.nodes[v].interfaces.push_back({Ipv4Cidr{Ipv4Addr{addr}, lens[pick(sizeof lens)]}});
    }
  }
  const uint32_t nlinks = count * 2;
  for (uint32_t k = 0; k < nlinks; ++k) {
    const uint32_t a = pick(count), b = pick(count);
    t.links.push_back({a, pick(static_cast<uint32_t>(t.nodes[a].interfaces.size())), b,
                       pick(static_cast<uint32_t>(t.nodes[b].interfaces.size())), 1 + pick(max_cost), pick(8) != 0});
    if (pick(10) == 0) t.links.push_back(t.links.back());  // a parallel link
  }
  return t;
}

}  // namespace

TEST_CASE("autoroute: AutoRoutes gives the routes of compute_auto_routes on random topologies") {
  std::mt19937 rng(4242);
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    // Unit costs (the breadth-first trees) and random costs (Dijkstra).
    const uint32_t max_cost = seed % 2 ? 1 : (seed % 4 == 0 ? 5 : 1000);
    RandomTopo t = seed % 3 == 0 ? random_topo(25, 25, 15, seed) : nested_topo(40, max_cost, seed);
    if (seed % 3 == 0 && max_cost > 1)
      for (auto& l : t.links) l.cost = 1 + static_cast<uint32_t>(rng() % max_cost);
    std::vector<bool> wants(t.nodes.size(), true);
    for (size_t i = 0; i < wants.size(); ++i) wants[i] = rng() % 5 != 0;
    std::vector<uint32_t> order(t.nodes.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    {
      const AutoRoutes ar(t.nodes, t.links, wants);
      check_same_routes(t.nodes, t.links, wants, ar, order, rng);
    }
    {
      // Caches far too small: one tree, a handful of answers, emptied all the time.
      const AutoRoutes tiny(t.nodes, t.links, wants, AutoRoutes::Limits{1, 3});
      check_same_routes(t.nodes, t.links, wants, tiny, order, rng);
      const auto st = tiny.stats();
      CHECK(st.trees_built > 0);
    }
  }
}

TEST_CASE("autoroute: AutoRoutes on 300 routers and 300 hosts with links down") {
  RandomTopo t = random_topo(300, 300, 150, 31337);
  for (size_t i = 0; i < t.links.size(); i += 9) t.links[i].up = false;
  std::mt19937 rng(99);
  for (auto& l : t.links) l.cost = 1 + static_cast<uint32_t>(rng() % 3);
  std::vector<bool> wants(t.nodes.size(), true);
  const AutoRoutes ar(t.nodes, t.links, wants);
  std::vector<uint32_t> sample;
  for (int k = 0; k < 25; ++k) sample.push_back(static_cast<uint32_t>(rng() % t.nodes.size()));
  check_same_routes(t.nodes, t.links, wants, ar, sample, rng);
}

TEST_CASE("autoroute: the trees answer every node along the path and keep within their limits") {
  RandomTopo t = random_topo(200, 200, 100, 5);
  std::vector<bool> wants(t.nodes.size(), true);
  const AutoRoutes ar(t.nodes, t.links, wants, AutoRoutes::Limits{size_t{4} * 400 * 3, 1000});
  // Every node's route to every subnet: each tree is built once per eviction at most, and
  // most answers come from the cache of answers filled along the paths.
  std::vector<Ipv4Cidr> subnets;
  for (const auto& n : t.nodes)
    for (const auto& i : n.interfaces) subnets.push_back(Ipv4Cidr{i.address.network(), i.address.prefix_len});
  for (const auto& s : subnets)
    for (uint32_t v = 0; v < t.nodes.size(); ++v) (void)ar.route_to(v, s);
  const auto st = ar.stats();
  MESSAGE("trees built " << st.trees_built << " for " << subnets.size() << " subnet lookups; memory "
                         << st.bytes << " bytes");
  CHECK(st.trees_built <= subnets.size());
  CHECK(st.memo_hits > 0);
  // 3 trees of 400 nodes (4 bytes each with unit costs), 1000 answers of 16 bytes (x2 for
  // the hash table's load), plus the topology: well under 200 KB.
  CHECK(st.bytes < 200 * 1024);
}

TEST_CASE("autoroute: a RoutingTable with AutoRoutes attached looks up as one holding the routes") {
  RandomTopo t = nested_topo(60, 4, 77);
  std::vector<bool> wants(t.nodes.size(), true);
  const auto all = compute_auto_routes(t.nodes, t.links, wants);
  auto ar = std::make_shared<const AutoRoutes>(t.nodes, t.links, wants);
  std::mt19937 rng(8);
  for (uint32_t v = 0; v < t.nodes.size(); ++v) {
    CAPTURE(v);
    // As a host does: connected routes, a static route or two, then the auto routes.
    RoutingTable copied, shared;
    for (uint32_t i = 0; i < t.nodes[v].interfaces.size(); ++i) {
      RouteEntry c;
      c.dest = t.nodes[v].interfaces[i].address;
      c.ifindex = i;
      c.origin = RouteOrigin::Connected;
      copied.add(c);
      shared.add(c);
    }
    RouteEntry st;
    st.dest = Ipv4Cidr{Ipv4Addr{(10u << 24) | (static_cast<uint32_t>(rng() % 3) << 16)}, 16};
    st.gateway = Ipv4Addr{0x0a0000fe};
    st.metric = static_cast<uint32_t>(rng() % 3);
    copied.add(st);
    shared.add(st);
    for (const auto& r : all[v]) copied.add(r);
    shared.attach(ar, v, RouteOrigin::Auto);
    // A route added after the auto routes.
    RouteEntry late = st;
    late.dest.prefix_len = 24;
    late.metric = 2;
    copied.add(late);
    shared.add(late);

    std::vector<std::string> a, b;
    copied.for_each([&a](const RouteEntry& r) { a.push_back(r.describe({})); });
    shared.for_each([&b](const RouteEntry& r) { b.push_back(r.describe({})); });
    CHECK(a == b);
    for (int q = 0; q < 200; ++q) {
      const uint32_t addr = (10u << 24) | static_cast<uint32_t>(rng() % (3u << 16));
      CAPTURE(Ipv4Addr{addr}.to_string());
      REQUIRE(full(shared.lookup(Ipv4Addr{addr})) == full(copied.lookup(Ipv4Addr{addr})));
    }
    copied.remove_origin(RouteOrigin::Auto);
    shared.remove_origin(RouteOrigin::Auto);
    CHECK(shared.attached() == nullptr);
    for (int q = 0; q < 50; ++q) {
      const uint32_t addr = (10u << 24) | static_cast<uint32_t>(rng() % (3u << 16));
      REQUIRE(full(shared.lookup(Ipv4Addr{addr})) == full(copied.lookup(Ipv4Addr{addr})));
    }
  }
}
