#include "megzawicol/l3/routing.hpp"

#include <doctest/doctest.h>

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
