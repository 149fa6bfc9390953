// The IPv4 routing table: longest-prefix match, then lowest metric.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/core/addr.hpp"

namespace mz::l3 {

enum class RouteOrigin { Connected, Static, Auto };
const char* route_origin_name(RouteOrigin o);

struct RouteEntry {
  Ipv4Cidr dest;                  // network() is what matters; prefix_len the specificity
  std::optional<Ipv4Addr> gateway;  // absent: on-link, the next hop is the destination itself
  uint32_t ifindex = 0;
  uint32_t metric = 0;
  RouteOrigin origin = RouteOrigin::Static;
  std::string describe(const std::vector<std::string>& ifnames) const;
};

class RoutingTable {
 public:
  void add(RouteEntry e);
  /// Removes every route of the given origin (e.g. before recomputing "auto" routes).
  void remove_origin(RouteOrigin o);
  /// Longest-prefix match; among equal prefixes the lowest metric, then the first added.
  std::optional<RouteEntry> lookup(Ipv4Addr dst) const;
  const std::vector<RouteEntry>& entries() const { return entries_; }

 private:
  std::vector<RouteEntry> entries_;
};

}  // namespace mz::l3
