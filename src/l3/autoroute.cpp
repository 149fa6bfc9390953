#include "megzawicol/l3/autoroute.hpp"

#include <algorithm>
#include <limits>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace mz::l3 {

namespace {

struct Edge {
  uint32_t to;
  uint32_t own_if;  // the interface of the edge's tail node
  uint32_t nbr_if;  // the interface of `to`
  uint32_t cost;
  uint32_t link;    // index in `links`
};

/// A path's rank: smaller is better. `tie` packs the hop count (high 32 bits) and the
/// index of the path's first edge in the source's adjacency list, which is sorted in
/// first-hop tie-break order (low 32 bits). Extending two paths by the same edge keeps
/// their order (costs and hops add, the first edge is unchanged), and every edge
/// strictly increases the rank: all Dijkstra needs to find the least rank.
struct Label {
  uint64_t cost = 0;
  uint64_t tie = 0;
  auto operator<=>(const Label&) const = default;
};

struct Subnet {
  uint32_t network;
  uint8_t prefix_len;
  auto operator<=>(const Subnet&) const = default;
};

Subnet subnet_of(const Ipv4Cidr& c) { return {c.network().v, c.prefix_len}; }

std::string link_where(size_t i) { return "compute_auto_routes: links[" + std::to_string(i) + "]"; }

}  // namespace

std::vector<std::vector<RouteEntry>> compute_auto_routes(const std::vector<TopoNode>& nodes,
                                                         const std::vector<TopoLink>& links,
                                                         const std::vector<bool>& wants_auto) {
  const size_t n = nodes.size();
  if (wants_auto.size() != n)
    throw std::invalid_argument("compute_auto_routes: wants_auto has " +
                                std::to_string(wants_auto.size()) + " entries for " +
                                std::to_string(n) + " nodes");
  if (n > std::numeric_limits<uint32_t>::max())
    throw std::invalid_argument("compute_auto_routes: too many nodes");

  // Adjacency of the up links, both directions.
  std::vector<std::vector<Edge>> adj(n);
  for (size_t i = 0; i < links.size(); ++i) {
    const TopoLink& l = links[i];
    if (l.a_node >= n || l.b_node >= n)
      throw std::invalid_argument(link_where(i) + ": no such node");
    if (l.a_if >= nodes[l.a_node].interfaces.size() || l.b_if >= nodes[l.b_node].interfaces.size())
      throw std::invalid_argument(link_where(i) + ": no such interface");
    if (l.cost == 0) throw std::invalid_argument(link_where(i) + ": cost must be >= 1");
    if (!l.up || l.a_node == l.b_node) continue;
    const auto li = static_cast<uint32_t>(i);
    adj[l.a_node].push_back({l.b_node, l.a_if, l.b_if, l.cost, li});
    adj[l.b_node].push_back({l.a_node, l.b_if, l.a_if, l.cost, li});
  }
  // First-hop tie-break order: neighbour node, its ifindex, our ifindex, link index.
  for (auto& edges : adj) {
    std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
      return std::tie(x.to, x.nbr_if, x.own_if, x.link) < std::tie(y.to, y.nbr_if, y.own_if, y.link);
    });
    if (edges.size() > std::numeric_limits<uint32_t>::max())
      throw std::invalid_argument("compute_auto_routes: too many links on one node");
  }

  // Distinct subnets, numbered in output order; the nodes holding each one; the subnet
  // of each interface.
  std::vector<Subnet> subnets;
  for (const auto& node : nodes)
    for (const auto& itf : node.interfaces) subnets.push_back(subnet_of(itf.address));
  std::sort(subnets.begin(), subnets.end());
  subnets.erase(std::unique(subnets.begin(), subnets.end()), subnets.end());
  auto subnet_id = [&](const Ipv4Cidr& c) {
    return static_cast<size_t>(
        std::lower_bound(subnets.begin(), subnets.end(), subnet_of(c)) - subnets.begin());
  };
  std::vector<std::vector<uint32_t>> holders(subnets.size());
  std::vector<std::vector<size_t>> node_subnets(n);
  for (size_t v = 0; v < n; ++v)
    for (const auto& itf : nodes[v].interfaces) {
      size_t s = subnet_id(itf.address);
      if (holders[s].empty() || holders[s].back() != v) holders[s].push_back(static_cast<uint32_t>(v));
      node_subnets[v].push_back(s);
    }

  std::vector<std::vector<RouteEntry>> out(n);
  std::vector<Label> best(n);
  // reached[v] / done[v] == src + 1: v has a label / its least label, in the current run.
  std::vector<size_t> reached(n, 0), done(n, 0);
  std::vector<size_t> connected_stamp(subnets.size(), 0);  // == src + 1: connected to src
  std::vector<std::pair<size_t, const Label*>> wins;  // scratch: (subnet, best label)
  struct Item {
    Label lab;
    uint32_t v;
  };
  auto later = [](const Item& x, const Item& y) {  // a min-heap on the label
    return x.lab.cost != y.lab.cost ? x.lab.cost > y.lab.cost : x.lab.tie > y.lab.tie;
  };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> heap(later);

  for (size_t src = 0; src < n; ++src) {
    if (!wants_auto[src]) continue;

    // Dijkstra from src; only src itself and forwarding nodes are expanded. A host's
    // label is final once all the routers are settled, so hosts never enter the heap.
    const size_t run = src + 1;
    reached[src] = run;
    best[src] = Label{};
    heap.push({Label{}, static_cast<uint32_t>(src)});
    while (!heap.empty()) {
      auto [lab, v] = heap.top();
      heap.pop();
      if (done[v] == run || lab != best[v]) continue;
      done[v] = run;
      const auto& edges = adj[v];
      for (size_t k = 0; k < edges.size(); ++k) {
        const Edge& e = edges[k];
        if (done[e.to] == run) continue;
        Label next;
        next.cost = lab.cost + e.cost;
        next.tie = v == src ? (uint64_t{1} << 32) | k : lab.tie + (uint64_t{1} << 32);
        if (reached[e.to] != run || next < best[e.to]) {
          reached[e.to] = run;
          best[e.to] = next;
          if (nodes[e.to].forwards) heap.push({next, e.to});
        }
      }
    }

    for (size_t s : node_subnets[src]) connected_stamp[s] = run;
    wins.clear();
    for (size_t s = 0; s < subnets.size(); ++s) {
      if (connected_stamp[s] == run) continue;
      const Label* win = nullptr;
      for (uint32_t h : holders[s])
        if (reached[h] == run && (!win || best[h] < *win)) win = &best[h];
      if (win) wins.emplace_back(s, win);  // else unreachable: no route
    }
    auto& routes = out[src];
    routes.reserve(wins.size());
    for (const auto& [s, win] : wins) {
      const Edge& first = adj[src][win->tie & 0xffffffffu];
      RouteEntry& r = routes.emplace_back();
      r.dest = Ipv4Cidr{Ipv4Addr{subnets[s].network}, subnets[s].prefix_len};
      r.gateway = nodes[first.to].interfaces[first.nbr_if].address.addr;
      r.ifindex = first.own_if;
      r.metric = static_cast<uint32_t>(
          std::min<uint64_t>(win->cost, std::numeric_limits<uint32_t>::max()));
      r.origin = RouteOrigin::Auto;
    }
  }
  return out;
}

}  // namespace mz::l3
