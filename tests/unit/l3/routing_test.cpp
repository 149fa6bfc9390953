#include "megzawicol/l3/routing.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace mz;
using namespace mz::l3;

namespace {

Ipv4Addr ip(const char* s) { return *Ipv4Addr::parse(s); }

RouteEntry route(const char* cidr, uint32_t ifindex, uint32_t metric = 0, const char* gw = nullptr,
                 RouteOrigin origin = RouteOrigin::Static) {
  RouteEntry e;
  e.dest = *Ipv4Cidr::parse(cidr);
  e.ifindex = ifindex;
  e.metric = metric;
  if (gw) e.gateway = ip(gw);
  e.origin = origin;
  return e;
}

}  // namespace

TEST_CASE("routing: the longest prefix wins whatever the order of insertion") {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 0));
  t.add(route("10.1.2.0/24", 2));
  t.add(route("10.1.0.0/16", 1));
  t.add(route("10.1.2.128/25", 3));
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 0);
  CHECK(t.lookup(ip("10.1.9.9"))->ifindex == 1);
  CHECK(t.lookup(ip("10.1.2.1"))->ifindex == 2);
  CHECK(t.lookup(ip("10.1.2.127"))->ifindex == 2);
  CHECK(t.lookup(ip("10.1.2.128"))->ifindex == 3);
  CHECK(t.lookup(ip("10.1.2.255"))->ifindex == 3);
  // A host route beats everything.
  t.add(route("10.1.2.200/32", 4));
  CHECK(t.lookup(ip("10.1.2.200"))->ifindex == 4);
  CHECK(t.lookup(ip("10.1.2.201"))->ifindex == 3);
}

TEST_CASE("routing: equal prefixes are decided by the metric, then by the first added") {
  RoutingTable t;
  t.add(route("192.168.0.0/16", 0, 20, "10.0.0.1"));
  t.add(route("192.168.0.0/16", 1, 10, "10.0.1.1"));
  t.add(route("192.168.0.0/16", 2, 10, "10.0.2.1"));
  auto r = t.lookup(ip("192.168.3.4"));
  REQUIRE(r);
  CHECK(r->ifindex == 1);
  CHECK(r->gateway == ip("10.0.1.1"));
  CHECK(r->metric == 10);
  // A longer prefix with a worse metric still wins: the metric only breaks ties.
  t.add(route("192.168.3.0/24", 3, 100));
  CHECK(t.lookup(ip("192.168.3.4"))->ifindex == 3);
}

TEST_CASE("routing: the default route catches what nothing else matches; no route otherwise") {
  RoutingTable t;
  t.add(route("10.0.0.0/24", 0, 0, nullptr, RouteOrigin::Connected));
  CHECK_FALSE(t.lookup(ip("8.8.8.8")));
  CHECK_FALSE(t.lookup(ip("10.0.1.1")));
  CHECK(t.lookup(ip("10.0.0.77"))->ifindex == 0);
  CHECK_FALSE(t.lookup(ip("10.0.0.77"))->gateway);  // on-link

  t.add(route("0.0.0.0/0", 1, 0, "10.0.0.254"));
  auto r = t.lookup(ip("8.8.8.8"));
  REQUIRE(r);
  CHECK(r->ifindex == 1);
  CHECK(r->gateway == ip("10.0.0.254"));
  CHECK(t.lookup(ip("255.255.255.255"))->ifindex == 1);
  CHECK(t.lookup(ip("10.0.0.77"))->ifindex == 0);

  t.remove_origin(RouteOrigin::Static);
  CHECK_FALSE(t.lookup(ip("8.8.8.8")));
  CHECK(t.entries().size() == 1);
}

TEST_CASE("routing: an empty table has no route, and describe() reads like ip route") {
  RoutingTable t;
  CHECK_FALSE(t.lookup(ip("10.0.0.1")));
  const std::vector<std::string> names{"eth0", "eth1"};
  CHECK(route("0.0.0.0/0", 1, 0, "10.0.0.254").describe(names) == "default via 10.0.0.254 dev eth1 (static)");
  CHECK(route("10.0.0.5/24", 0, 5, nullptr, RouteOrigin::Connected).describe(names) ==
        "10.0.0.0/24 dev eth0 (connected, metric 5)");
}

// ---------------------------------------------------------------------------------------
// Longest-prefix match edge cases, and the indexed lookup against a brute-force reference.

TEST_CASE("routing: /32 beats /24 beats /0 and the default route is the last resort") {
  RoutingTable t;
  t.add(route("0.0.0.0/0", 0, 0, "10.0.0.254"));
  t.add(route("10.1.2.0/24", 1));
  t.add(route("10.1.2.3/32", 2));
  CHECK(t.lookup(ip("10.1.2.3"))->ifindex == 2);
  CHECK(t.lookup(ip("10.1.2.4"))->ifindex == 1);
  CHECK(t.lookup(ip("10.1.3.3"))->ifindex == 0);
  CHECK(t.lookup(ip("0.0.0.0"))->ifindex == 0);
  // A default route written with host bits is still the default route.
  RoutingTable u;
  u.add(route("192.0.2.1/0", 5));
  CHECK(u.lookup(ip("8.8.8.8"))->ifindex == 5);
  CHECK(u.lookup(ip("255.255.255.255"))->ifindex == 5);
}

TEST_CASE("routing: a route written with host bits matches its whole network") {
  RoutingTable t;
  t.add(route("10.0.0.77/24", 3));
  CHECK(t.lookup(ip("10.0.0.1"))->ifindex == 3);
  CHECK(t.lookup(ip("10.0.0.255"))->ifindex == 3);
  CHECK_FALSE(t.lookup(ip("10.0.1.1")));
  // The same network with other host bits is the same prefix: the metric decides.
  t.add(route("10.0.0.5/24", 4, 0));
  CHECK(t.lookup(ip("10.0.0.1"))->ifindex == 3);  // equal metric: the first added
  t.add(route("10.0.0.9/24", 5, 0));
  CHECK(t.lookup(ip("10.0.0.1"))->ifindex == 3);
}

TEST_CASE("routing: metric ties go to the first added also after a removal and a re-add") {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 0, 5, nullptr, RouteOrigin::Static));
  t.add(route("10.0.0.0/8", 1, 5, nullptr, RouteOrigin::Auto));
  t.add(route("10.0.0.0/8", 2, 7, nullptr, RouteOrigin::Auto));
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 0);
  t.remove_origin(RouteOrigin::Static);
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 1);
  // Re-added, the static route now comes after the auto one: the tie goes to the auto route.
  t.add(route("10.0.0.0/8", 0, 5, nullptr, RouteOrigin::Static));
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 1);
  t.remove_origin(RouteOrigin::Auto);
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 0);
  CHECK(t.entries().size() == 1);
  t.remove_origin(RouteOrigin::Static);
  CHECK_FALSE(t.lookup(ip("10.9.9.9")));
  CHECK(t.entries().empty());
  // Still usable after being emptied.
  t.add(route("10.0.0.0/8", 9));
  CHECK(t.lookup(ip("10.9.9.9"))->ifindex == 9);
}

TEST_CASE("routing: a lower metric added later takes the prefix but a higher one does not") {
  RoutingTable t;
  t.add(route("172.16.0.0/12", 0, 10));
  t.add(route("172.16.0.0/12", 1, 20));
  CHECK(t.lookup(ip("172.20.0.1"))->ifindex == 0);
  t.add(route("172.16.0.0/12", 2, 9));
  CHECK(t.lookup(ip("172.20.0.1"))->ifindex == 2);
  CHECK(t.lookup(ip("172.32.0.1")) == std::nullopt);
}

namespace {

std::string key_of(const std::optional<RouteEntry>& r) {
  if (!r) return "none";
  return Ipv4Cidr{r->dest.network(), r->dest.prefix_len}.to_string() + " gw " +
         (r->gateway ? r->gateway->to_string() : std::string("-")) + " if " + std::to_string(r->ifindex) + " m " +
         std::to_string(r->metric) + " " + route_origin_name(r->origin);
}

/// The original table: a linear scan (longest prefix, then lowest metric, then first).
std::optional<RouteEntry> brute_lookup(const std::vector<RouteEntry>& all, Ipv4Addr dst, uint8_t min_len = 0) {
  const RouteEntry* best = nullptr;
  for (const auto& e : all) {
    if (e.dest.prefix_len < min_len || !e.dest.contains(dst)) continue;
    if (!best || e.dest.prefix_len > best->dest.prefix_len ||
        (e.dest.prefix_len == best->dest.prefix_len && e.metric < best->metric))
      best = &e;
  }
  if (!best) return std::nullopt;
  return *best;
}

/// A RouteSource holding each node's routes in a vector, looked up by brute force.
class VectorSource : public RouteSource {
 public:
  std::vector<std::vector<RouteEntry>> routes;
  std::optional<RouteEntry> lookup(uint32_t node, Ipv4Addr dst, uint8_t min_len) const override {
    if (node >= routes.size()) return std::nullopt;
    return brute_lookup(routes[node], dst, min_len);
  }
  void for_each(uint32_t node, const std::function<void(const RouteEntry&)>& f) const override {
    if (node < routes.size())
      for (const auto& r : routes[node]) f(r);
  }
};

std::vector<RouteEntry> listing(const RoutingTable& t) {
  std::vector<RouteEntry> v;
  t.for_each([&v](const RouteEntry& r) { v.push_back(r); });
  return v;
}

}  // namespace

TEST_CASE("routing: the indexed lookup agrees with a linear scan on random tables (differential)") {
  std::mt19937 rng(20240611);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const uint8_t lens[] = {0, 1, 8, 12, 16, 20, 23, 24, 25, 28, 30, 31, 32};
  // Few distinct networks, so that prefixes nest, repeat and tie.
  std::vector<uint32_t> bases;
  for (int i = 0; i < 12; ++i) bases.push_back((10u << 24) | (pick(4) << 16) | (pick(4) << 8) | pick(256));
  bases.push_back(0xc0a80101u);
  auto random_entry = [&](RouteOrigin o) {
    RouteEntry e;
    e.dest = Ipv4Cidr{Ipv4Addr{bases[pick(static_cast<uint32_t>(bases.size()))] ^ (pick(4) == 0 ? pick(256) : 0)},
                      lens[pick(sizeof lens)]};
    e.ifindex = pick(1000);
    e.metric = pick(3);
    if (pick(2)) e.gateway = Ipv4Addr{pick(1u << 31)};
    e.origin = o;
    return e;
  };
  auto random_addr = [&] {
    switch (pick(3)) {
      case 0: return Ipv4Addr{bases[pick(static_cast<uint32_t>(bases.size()))]};
      case 1: return Ipv4Addr{bases[pick(static_cast<uint32_t>(bases.size()))] ^ (1u << pick(32))};
      default: return Ipv4Addr{static_cast<uint32_t>(rng())};
    }
  };
  const RouteOrigin origins[] = {RouteOrigin::Connected, RouteOrigin::Static, RouteOrigin::Auto};

  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    RoutingTable t;
    auto source = std::make_shared<VectorSource>();
    source->routes.resize(3);
    for (auto& node_routes : source->routes) {
      // A source's routes for one node have distinct prefixes.
      std::set<std::pair<uint32_t, uint8_t>> seen;
      const uint32_t count = pick(12);
      for (uint32_t k = 0; k < count; ++k) {
        RouteEntry e = random_entry(RouteOrigin::Auto);
        if (seen.insert({e.dest.network().v, e.dest.prefix_len}).second) node_routes.push_back(e);
      }
    }
    // The reference: the routes in table order; `block` marks the attached block's place.
    struct Ref {
      std::optional<RouteEntry> entry;  // nullopt: the attached block
    };
    std::vector<Ref> ref;
    std::optional<RouteOrigin> block_origin;
    uint32_t block_node = 0;
    auto expanded = [&] {
      std::vector<RouteEntry> all;
      for (const auto& r : ref) {
        if (r.entry) {
          all.push_back(*r.entry);
        } else {
          for (RouteEntry e : source->routes[block_node]) {
            e.origin = *block_origin;
            all.push_back(e);
          }
        }
      }
      return all;
    };
    const int ops = 1 + static_cast<int>(pick(60));
    for (int op = 0; op < ops; ++op) {
      const uint32_t what = pick(20);
      if (what < 14) {
        RouteEntry e = random_entry(origins[pick(3)]);
        t.add(e);
        ref.push_back({e});
      } else if (what < 16) {
        const RouteOrigin o = origins[pick(3)];
        t.remove_origin(o);
        std::erase_if(ref, [&](const Ref& r) { return r.entry ? r.entry->origin == o : *block_origin == o; });
        if (block_origin == o) block_origin.reset();
      } else if (what < 19) {
        block_node = pick(3);
        const RouteOrigin o = origins[pick(3)];
        t.attach(source, block_node, o);
        std::erase_if(ref, [](const Ref& r) { return !r.entry; });
        ref.push_back({std::nullopt});
        block_origin = o;
      } else {
        t.attach(nullptr, 0, RouteOrigin::Auto);
        std::erase_if(ref, [](const Ref& r) { return !r.entry; });
        block_origin.reset();
      }
      const auto all = expanded();
      for (int q = 0; q < 40; ++q) {
        const Ipv4Addr a = random_addr();
        CAPTURE(a.to_string());
        REQUIRE(key_of(t.lookup(a)) == key_of(brute_lookup(all, a)));
      }
      const auto listed = listing(t);
      REQUIRE(listed.size() == all.size());
      for (size_t i = 0; i < all.size(); ++i) REQUIRE(key_of(listed[i]) == key_of(all[i]));
    }
  }
}

TEST_CASE("routing: 100000 routes in one table and lookups agree with a linear scan") {
  std::mt19937 rng(7);
  RoutingTable t;
  std::vector<RouteEntry> all;
  for (uint32_t i = 0; i < 100000; ++i) {
    RouteEntry e;
    const uint8_t len = static_cast<uint8_t>(i % 3 == 0 ? 24 : i % 3 == 1 ? 30 : 16);
    e.dest = Ipv4Cidr{Ipv4Addr{static_cast<uint32_t>(rng())}, len};
    e.ifindex = i;
    e.metric = static_cast<uint32_t>(rng() % 4);
    e.origin = RouteOrigin::Auto;
    t.add(e);
    all.push_back(e);
  }
  t.add(route("0.0.0.0/0", 7));
  all.push_back(route("0.0.0.0/0", 7));
  for (int q = 0; q < 300; ++q) {
    const Ipv4Addr a{q % 2 ? all[rng() % all.size()].dest.addr.v : static_cast<uint32_t>(rng())};
    REQUIRE(key_of(t.lookup(a)) == key_of(brute_lookup(all, a)));
  }
}
