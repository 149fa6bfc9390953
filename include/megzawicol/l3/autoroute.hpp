// "auto" routes: least-cost paths from every node to every subnet of a topology.
//
// The input is a plain graph model, independent of the scenario types, so that the
// simulator can rebuild it (and recompute) whenever a link goes down or comes back up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
/// scan of all interfaces per such node; the result holds every route of every node
/// (O(N x subnets) entries). AutoRoutes gives the same routes without storing them all.
///
/// Throws std::invalid_argument if wants_auto.size() != nodes.size(), if a link names
/// a node or an interface that does not exist, or if a link's cost is 0.
std::vector<std::vector<RouteEntry>> compute_auto_routes(const std::vector<TopoNode>& nodes,
                                                         const std::vector<TopoLink>& links,
                                                         const std::vector<bool>& wants_auto);

/// The same "auto" routes as compute_auto_routes() (the same input, the same checks, the
/// same routes), answered on demand from one structure shared by every node, so that the
/// memory does not grow as nodes x subnets:
///
///  * routes_of(n) / for_each(n) list node n's routes, in the order above, with one
///    Dijkstra from n; nothing is kept (for the trace's route listings).
///  * lookup(n, dst) answers a forwarding decision: the subnets containing dst are tried
///    from the longest prefix down (a hash probe per prefix length present in the
///    topology); the route of n to a subnet S comes from S's shortest-path tree, one
///    search from the holders of S towards every node (Dijkstra; a breadth-first search
///    when every up link has the same cost), which gives every node's route to S at once:
///    the least path from n is the best, in the path order above, over n's links of the
///    link followed by the least path from its far end.
///
/// Memory: the topology in compact arrays (O(nodes + interfaces + links + subnets)), plus
/// two bounded caches: the last trees built (4 bytes per node each with uniform link
/// costs, else 12; at most Limits::tree_bytes in all) and the answers already given,
/// (node, subnet) -> route (16-byte hash slots, at most Limits::memo_entries answers;
/// when full it is emptied). When a tree answers node n, the nodes along n's path to S get
/// their answers too, since the packet is about to ask them. Caches change only the time
/// taken, never an answer.
///
/// Not safe for concurrent use (the const methods fill the caches).
class AutoRoutes final : public RouteSource {
 public:
  struct Limits {
    size_t tree_bytes = size_t{16} << 20;  // the trees kept, all together (at least one)
    size_t memo_entries = size_t{1} << 20;  // the answers kept
  };
  struct Stats {
    uint64_t lookups = 0;      // lookup() calls
    uint64_t memo_hits = 0;    // (node, subnet) answers found in the cache
    uint64_t trees_built = 0;  // searches from a subnet's holders
    uint64_t tree_hits = 0;    // answers taken from a kept tree
    uint64_t listings = 0;     // Dijkstras from a node, for routes_of() / for_each()
    size_t bytes = 0;          // memory held now (topology, caches, scratch), approximately
  };

  /// Throws as compute_auto_routes() does.
  AutoRoutes(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
             const std::vector<bool>& wants_auto);
  AutoRoutes(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
             const std::vector<bool>& wants_auto, Limits limits);
  ~AutoRoutes() override;
  AutoRoutes(const AutoRoutes&) = delete;
  AutoRoutes& operator=(const AutoRoutes&) = delete;

  /// Node `node`'s route with the longest prefix containing dst, prefix length at least
  /// min_prefix_len; nullopt if none, or if the node does not want auto routes.
  std::optional<RouteEntry> lookup(uint32_t node, Ipv4Addr dst, uint8_t min_prefix_len) const override;
  /// Node `node`'s route to exactly the subnet `subnet` (network and prefix length).
  std::optional<RouteEntry> route_to(uint32_t node, Ipv4Cidr subnet) const;
  void for_each(uint32_t node, const std::function<void(const RouteEntry&)>& f) const override;
  /// What compute_auto_routes() gives for `node`.
  std::vector<RouteEntry> routes_of(uint32_t node) const;
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mz::l3
