// "auto" routes: least-cost paths from every node to every subnet of a topology.
//
// The input is a plain graph model, independent of the scenario types, so that the
// simulator can rebuild it (and recompute) whenever a link goes down or comes back up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/l3/routing.hpp"

namespace mz::l3 {

/// One interface of a node; its position in TopoNode::interfaces is its ifindex.
struct TopoInterface {
  Ipv4Cidr address;  // e.g. 10.0.1.1/24; the subnet is {address.network(), prefix_len}
};

struct TopoNode {
  std::string name;                       // for diagnostics only
  bool forwards = false;                  // a router: may carry others' traffic
  std::vector<TopoInterface> interfaces;  // index = ifindex
};

/// A point-to-point link between interface a_if of node a_node and b_if of b_node.
struct TopoLink {
  uint32_t a_node = 0, a_if = 0, b_node = 0, b_if = 0;
  uint32_t cost = 1;  // >= 1, the same in both directions
  bool up = true;     // a down link is ignored
};

/// Computes the RouteOrigin::Auto routes of every node i with wants_auto[i]; the
/// result has nodes.size() entries, and is empty for nodes that do not want auto
/// routes (they keep their static routes, this function does not touch them).
///
/// Graph. Nodes are vertices; every `up` link is an edge in both directions with its
/// cost. A node with `forwards == false` (a host) is never a transit vertex: a path
/// may start at a host (the source) and end at a host, but never pass through one,
/// whatever its number of interfaces. Links joining a node to itself are ignored.
///
/// Destinations. Every distinct subnet S = {network(), prefix_len} of every interface
/// of every node, linked or not (a router's stub LAN is a destination too). For a
/// source N wanting auto routes and every subnet S that N is not directly connected to
/// (no interface of N has exactly that network and prefix length), the route goes to
/// the best path from N to any node other than N having an interface in S. Because
/// hosts do not forward, a host is reachable as the holder of its own subnets only:
/// the subnets behind a host get no route unless a path through routers exists.
///
/// Path order (a total order; the smallest path wins; Dijkstra with a binary heap):
///   1. lowest total cost (sum of link costs);
///   2. then fewest hops (links);
///   3. then the first link of the path, compared by, in order: the lowest neighbour
///      node index (the node at the far end of that first link), the lowest neighbour
///      ifindex on that link (together: the lowest (node index, interface index) of
///      the next-hop interface), the lowest ifindex of N on that link, the lowest link
///      index in `links`.
/// This order is preserved when a path is extended, so the best path to a subnet is the
/// best over all of its holders, and the result does not depend on the order in which
/// paths are explored.
///
/// Output. For each reachable subnet one RouteEntry{dest = {S.network(), prefix_len},
/// gateway = address of the neighbour's interface on the first link, ifindex = N's
/// interface on that link, metric = total cost (saturated at UINT32_MAX),
/// origin = RouteOrigin::Auto}. Unreachable subnets get no route; connected subnets are
/// never emitted (the host adds connected routes itself); no default route is emitted.
/// Each node's routes are sorted by destination network address, then prefix length;
/// the same input always gives the same output.
///
/// Cost: one Dijkstra per node wanting auto routes, O(N (E log V)) overall, plus one
/// scan of all interfaces per such node.
///
/// Throws std::invalid_argument if wants_auto.size() != nodes.size(), if a link names
/// a node or an interface that does not exist, or if a link's cost is 0.
std::vector<std::vector<RouteEntry>> compute_auto_routes(const std::vector<TopoNode>& nodes,
                                                         const std::vector<TopoLink>& links,
                                                         const std::vector<bool>& wants_auto);

}  // namespace mz::l3
