#include "megzawicol/l3/routing.hpp"

namespace mz::l3 {

const char* route_origin_name(RouteOrigin o) {
  switch (o) {
    case RouteOrigin::Connected: return "connected";
    case RouteOrigin::Static: return "static";
    case RouteOrigin::Auto: return "auto";
  }
  return "?";
}

std::string RouteEntry::describe(const std::vector<std::string>& ifnames) const {
  Ipv4Cidr net{dest.network(), dest.prefix_len};
  std::string s = dest.prefix_len == 0 ? std::string("default") : net.to_string();
  if (gateway) s += " via " + gateway->to_string();
  s += " dev " + (ifindex < ifnames.size() ? ifnames[ifindex] : std::to_string(ifindex));
  s += std::string(" (") + route_origin_name(origin);
  if (metric) s += ", metric " + std::to_string(metric);
  s += ")";
  return s;
}

void RoutingTable::add(RouteEntry e) { entries_.push_back(std::move(e)); }

void RoutingTable::remove_origin(RouteOrigin o) {
  std::erase_if(entries_, [o](const RouteEntry& e) { return e.origin == o; });
}

std::optional<RouteEntry> RoutingTable::lookup(Ipv4Addr dst) const {
  const RouteEntry* best = nullptr;
  for (const auto& e : entries_) {
    if (!e.dest.contains(dst)) continue;
    if (!best || e.dest.prefix_len > best->dest.prefix_len ||
        (e.dest.prefix_len == best->dest.prefix_len && e.metric < best->metric))
      best = &e;
  }
  if (!best) return std::nullopt;
  return *best;
}

}  // namespace mz::l3
