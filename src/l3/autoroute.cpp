#include "megzawicol/l3/autoroute.hpp"

#include <algorithm>
#include <bit>
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
};

/// A path's rank from a source: smaller is better. `tie` packs the hop count (high 32
/// bits) and the index of the path's first edge in the source's adjacency list, which is
/// sorted in first-hop tie-break order (low 32 bits). Extending two paths by the same edge
/// keeps their order (costs and hops add, the first edge is unchanged), and every edge
/// strictly increases the rank: all Dijkstra needs to find the least rank.
struct Label {
  uint64_t cost = 0;
  uint64_t tie = 0;
  auto operator<=>(const Label&) const = default;
};

/// A path's rank towards a subnet (the tree of one destination): cost, then hops.
struct ToLabel {
  uint64_t cost = 0;
  uint32_t hops = 0;
  auto operator<=>(const ToLabel&) const = default;
};

struct Subnet {
  uint32_t network;
  uint8_t prefix_len;
  auto operator<=>(const Subnet&) const = default;
};

Subnet subnet_of(const Ipv4Cidr& c) { return {c.network().v, c.prefix_len}; }

uint32_t mask_of(unsigned len) { return len == 0 ? 0u : (0xffffffffu << (32 - len)); }

uint64_t prefix_key(uint32_t network, unsigned len) { return (uint64_t{network} << 6) | len; }

size_t slot_hash(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

std::string link_where(size_t i) { return "compute_auto_routes: links[" + std::to_string(i) + "]"; }

constexpr uint64_t kNone = ~uint64_t{0};   // no route (packed answer)
constexpr uint64_t kEmpty = ~uint64_t{0};  // unused hash slot

/// A packed answer: the index of the first edge in the node's adjacency list (high 32
/// bits) and the metric (low 32 bits); kNone for no route.
uint64_t pack(uint32_t edge, uint64_t cost) {
  return (uint64_t{edge} << 32) | std::min<uint64_t>(cost, std::numeric_limits<uint32_t>::max());
}

/// Open addressing with linear probing, uint64 keys (never kEmpty) to uint64 values.
class FlatMap {
 public:
  const uint64_t* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_hash(key, mask);; i = (i + 1) & mask) {
      if (slots_[i].key == key) return &slots_[i].value;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  /// Inserts or overwrites.
  void put(uint64_t key, uint64_t value) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_hash(key, mask);; i = (i + 1) & mask) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, value};
        ++used_;
        return;
      }
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
    }
  }
  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    used_ = 0;
  }
  size_t size() const { return used_; }
  size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t key;
    uint64_t value;
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(64, old.size() * 2), Slot{kEmpty, 0});
    used_ = 0;
    for (const Slot& s : old)
      if (s.key != kEmpty) put(s.key, s.value);
  }
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

}  // namespace

struct AutoRoutes::Impl {
  Limits limits;
  uint32_t n = 0;
  std::vector<uint8_t> forwards, wants;
  // Interfaces, node by node: [if_off[v], if_off[v + 1]); their address and subnet id.
  std::vector<uint32_t> if_off, if_addr, if_subnet;
  // Up links in both directions, node by node, each node's in first-hop tie-break order.
  std::vector<uint32_t> edge_off;
  std::vector<Edge> edges;
  // Distinct subnets in output order; the nodes holding each (ascending).
  std::vector<Subnet> subnets;
  std::vector<uint32_t> holder_off, holders;
  FlatMap subnet_index;     // prefix_key -> subnet id
  uint64_t subnet_lens = 0;  // bit n: some subnet has prefix length n

  // Scratch of one Dijkstra; a node's entry is valid when its stamp equals `run`.
  mutable uint32_t run = 0;
  mutable std::vector<uint32_t> reached, done, connected;  // `connected` is per subnet
  mutable std::vector<Label> best;
  mutable std::vector<uint32_t> bfs_queue;

  // Trees kept: per subnet the slot holding its tree, or -1. A tree holds every node's
  // least (cost, hops) towards the subnet, through routers only: kUnreached for the nodes
  // without one, hops 0 for the holders. When every up link has the same cost, the cost is
  // that cost times the hops and is not stored.
  struct Tree {
    uint32_t subnet = 0;
    uint64_t last_use = 0;
    std::vector<uint32_t> hops;  // per node
    std::vector<uint64_t> cost;  // per node; empty when the link costs are uniform
  };
  static constexpr uint32_t kUnreached = std::numeric_limits<uint32_t>::max();
  std::optional<uint32_t> uniform_cost;  // every up link has this cost (BFS suffices)
  mutable std::vector<int32_t> tree_of;
  mutable std::vector<Tree> trees;
  mutable uint64_t clock = 0;
  size_t max_trees = 1;
  mutable FlatMap memo;  // (node << 32 | subnet) -> packed answer
  mutable Stats stats;

  Impl(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links, const std::vector<bool>& wants_auto,
       Limits lim);
  uint32_t next_run() const;
  void listing(uint32_t src, const std::function<void(const RouteEntry&)>& f) const;
  const Tree& tree(uint32_t s) const;
  void build_tree(uint32_t s, Tree& t) const;
  uint64_t tree_answer(const Tree& t, uint32_t v) const;
  uint64_t answer(uint32_t node, uint32_t s) const;
  RouteEntry entry(uint32_t node, uint32_t s, uint64_t packed) const;
  bool holds(uint32_t node, uint32_t s) const;
  size_t bytes() const;
};

AutoRoutes::Impl::Impl(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
                       const std::vector<bool>& wants_auto, Limits lim)
    : limits(lim) {
  const size_t count = nodes.size();
  if (wants_auto.size() != count)
    throw std::invalid_argument("compute_auto_routes: wants_auto has " + std::to_string(wants_auto.size()) +
                                " entries for " + std::to_string(count) + " nodes");
  if (count >= std::numeric_limits<uint32_t>::max())
    throw std::invalid_argument("compute_auto_routes: too many nodes");
  n = static_cast<uint32_t>(count);

  forwards.resize(n);
  wants.resize(n);
  if_off.assign(n + 1, 0);
  for (uint32_t v = 0; v < n; ++v) {
    forwards[v] = nodes[v].forwards;
    wants[v] = wants_auto[v];
    if_off[v + 1] = if_off[v] + static_cast<uint32_t>(nodes[v].interfaces.size());
  }
  if_addr.reserve(if_off[n]);
  for (const auto& node : nodes)
    for (const auto& itf : node.interfaces) if_addr.push_back(itf.address.addr.v);

  // Adjacency of the up links, both directions.
  struct RawEdge {
    Edge e;
    uint32_t link;
  };
  std::vector<std::vector<RawEdge>> adj(n);
  for (size_t i = 0; i < links.size(); ++i) {
    const TopoLink& l = links[i];
    if (l.a_node >= n || l.b_node >= n) throw std::invalid_argument(link_where(i) + ": no such node");
    if (l.a_if >= nodes[l.a_node].interfaces.size() || l.b_if >= nodes[l.b_node].interfaces.size())
      throw std::invalid_argument(link_where(i) + ": no such interface");
    if (l.cost == 0) throw std::invalid_argument(link_where(i) + ": cost must be >= 1");
    if (!l.up || l.a_node == l.b_node) continue;
    const auto li = static_cast<uint32_t>(i);
    adj[l.a_node].push_back({{l.b_node, l.a_if, l.b_if, l.cost}, li});
    adj[l.b_node].push_back({{l.a_node, l.b_if, l.a_if, l.cost}, li});
  }
  // First-hop tie-break order: neighbour node, its ifindex, our ifindex, link index.
  edge_off.assign(n + 1, 0);
  for (uint32_t v = 0; v < n; ++v) {
    auto& list = adj[v];
    std::sort(list.begin(), list.end(), [](const RawEdge& x, const RawEdge& y) {
      return std::tie(x.e.to, x.e.nbr_if, x.e.own_if, x.link) < std::tie(y.e.to, y.e.nbr_if, y.e.own_if, y.link);
    });
    if (list.size() >= std::numeric_limits<uint32_t>::max())
      throw std::invalid_argument("compute_auto_routes: too many links on one node");
    edge_off[v + 1] = edge_off[v] + static_cast<uint32_t>(list.size());
  }
  edges.reserve(edge_off[n]);
  for (auto& list : adj) {
    for (const RawEdge& r : list) edges.push_back(r.e);
    std::vector<RawEdge>().swap(list);
  }

  // Distinct subnets, numbered in output order; the nodes holding each one; the subnet of
  // each interface.
  for (const auto& node : nodes)
    for (const auto& itf : node.interfaces) subnets.push_back(subnet_of(itf.address));
  std::sort(subnets.begin(), subnets.end());
  subnets.erase(std::unique(subnets.begin(), subnets.end()), subnets.end());
  subnets.shrink_to_fit();
  if (subnets.size() >= std::numeric_limits<uint32_t>::max())
    throw std::invalid_argument("compute_auto_routes: too many subnets");
  if_subnet.reserve(if_addr.size());
  std::vector<uint32_t> holder_count(subnets.size() + 1, 0);
  for (uint32_t v = 0; v < n; ++v) {
    for (const auto& itf : nodes[v].interfaces) {
      const auto s = static_cast<uint32_t>(std::lower_bound(subnets.begin(), subnets.end(), subnet_of(itf.address)) -
                                           subnets.begin());
      if_subnet.push_back(s);
    }
  }
  // Holders, each node once per subnet (a node's interfaces may share a subnet).
  std::vector<uint32_t> last(subnets.size(), std::numeric_limits<uint32_t>::max());
  for (uint32_t v = 0; v < n; ++v)
    for (uint32_t i = if_off[v]; i < if_off[v + 1]; ++i)
      if (last[if_subnet[i]] != v) {
        last[if_subnet[i]] = v;
        ++holder_count[if_subnet[i]];
      }
  holder_off.assign(subnets.size() + 1, 0);
  for (size_t s = 0; s < subnets.size(); ++s) holder_off[s + 1] = holder_off[s] + holder_count[s];
  holders.resize(holder_off[subnets.size()]);
  std::fill(last.begin(), last.end(), std::numeric_limits<uint32_t>::max());
  std::vector<uint32_t> fill(holder_off.begin(), holder_off.end() - 1);
  for (uint32_t v = 0; v < n; ++v)
    for (uint32_t i = if_off[v]; i < if_off[v + 1]; ++i)
      if (last[if_subnet[i]] != v) {
        last[if_subnet[i]] = v;
        holders[fill[if_subnet[i]]++] = v;
      }
  for (uint32_t s = 0; s < subnets.size(); ++s) {
    subnet_index.put(prefix_key(subnets[s].network, subnets[s].prefix_len), s);
    subnet_lens |= uint64_t{1} << std::min<unsigned>(subnets[s].prefix_len, 32);
  }

  reached.assign(n, 0);
  done.assign(n, 0);
  connected.assign(subnets.size(), 0);
  best.resize(n);
  tree_of.assign(subnets.size(), -1);
  for (const Edge& e : edges) {
    if (!uniform_cost) uniform_cost = e.cost;
    if (*uniform_cost != e.cost) {
      uniform_cost.reset();
      break;
    }
  }
  if (edges.empty()) uniform_cost = 1;
  const size_t per_tree = std::max<size_t>(1, size_t{n} * (uniform_cost ? 4 : 12));
  max_trees = std::max<size_t>(1, limits.tree_bytes / per_tree);
}

uint32_t AutoRoutes::Impl::next_run() const {
  if (++run == 0) {  // the stamps wrapped: start afresh
    std::fill(reached.begin(), reached.end(), 0);
    std::fill(done.begin(), done.end(), 0);
    std::fill(connected.begin(), connected.end(), 0);
    run = 1;
  }
  return run;
}

// All routes of `src`, in output order: Dijkstra from src over the whole graph.
void AutoRoutes::Impl::listing(uint32_t src, const std::function<void(const RouteEntry&)>& f) const {
  ++stats.listings;
  struct Item {
    Label lab;
    uint32_t v;
  };
  auto later = [](const Item& x, const Item& y) {  // a min-heap on the label
    return x.lab.cost != y.lab.cost ? x.lab.cost > y.lab.cost : x.lab.tie > y.lab.tie;
  };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> heap(later);

  // Only src itself and forwarding nodes are expanded. A host's label is final once all
  // the routers are settled, so hosts never enter the heap.
  const uint32_t r = next_run();
  reached[src] = r;
  best[src] = Label{};
  heap.push({Label{}, src});
  while (!heap.empty()) {
    auto [lab, v] = heap.top();
    heap.pop();
    if (done[v] == r || lab != best[v]) continue;
    done[v] = r;
    for (uint32_t k = edge_off[v]; k < edge_off[v + 1]; ++k) {
      const Edge& e = edges[k];
      if (done[e.to] == r) continue;
      Label next;
      next.cost = lab.cost + e.cost;
      next.tie = v == src ? (uint64_t{1} << 32) | (k - edge_off[v]) : lab.tie + (uint64_t{1} << 32);
      if (reached[e.to] != r || next < best[e.to]) {
        reached[e.to] = r;
        best[e.to] = next;
        if (forwards[e.to]) heap.push({next, e.to});
      }
    }
  }

  for (uint32_t i = if_off[src]; i < if_off[src + 1]; ++i) connected[if_subnet[i]] = r;
  for (uint32_t s = 0; s < subnets.size(); ++s) {
    if (connected[s] == r) continue;
    const Label* win = nullptr;
    for (uint32_t h = holder_off[s]; h < holder_off[s + 1]; ++h) {
      const uint32_t v = holders[h];
      if (reached[v] == r && (!win || best[v] < *win)) win = &best[v];
    }
    if (!win) continue;  // unreachable: no route
    f(entry(src, s, pack(static_cast<uint32_t>(win->tie & 0xffffffffu), win->cost)));
  }
}

// Subnet s's tree: the least (cost, hops) from every node to a holder of s, along the
// links reversed (costs are the same both ways); hosts are never transit, so only holders
// and routers get a label. With uniform link costs a breadth-first search from the
// holders gives it, else Dijkstra.
void AutoRoutes::Impl::build_tree(uint32_t s, Tree& t) const {
  ++stats.trees_built;
  t.hops.assign(n, kUnreached);
  if (uniform_cost) {
    t.cost.clear();
    std::vector<uint32_t>& queue = bfs_queue;
    queue.clear();
    for (uint32_t h = holder_off[s]; h < holder_off[s + 1]; ++h) {
      t.hops[holders[h]] = 0;
      queue.push_back(holders[h]);
    }
    for (size_t head = 0; head < queue.size(); ++head) {
      const uint32_t v = queue[head];
      const uint32_t next = t.hops[v] + 1;
      for (uint32_t k = edge_off[v]; k < edge_off[v + 1]; ++k) {
        const uint32_t w = edges[k].to;
        if (forwards[w] && t.hops[w] == kUnreached) {
          t.hops[w] = next;
          queue.push_back(w);
        }
      }
    }
    return;
  }
  t.cost.assign(n, 0);
  struct Item {
    ToLabel lab;
    uint32_t v;
  };
  auto later = [](const Item& x, const Item& y) { return y.lab < x.lab; };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> heap(later);
  const uint32_t r = next_run();
  for (uint32_t h = holder_off[s]; h < holder_off[s + 1]; ++h) {
    const uint32_t v = holders[h];
    t.hops[v] = 0;
    heap.push({ToLabel{}, v});
  }
  while (!heap.empty()) {
    auto [lab, v] = heap.top();
    heap.pop();
    if (done[v] == r || lab != ToLabel{t.cost[v], t.hops[v]}) continue;
    done[v] = r;
    for (uint32_t k = edge_off[v]; k < edge_off[v + 1]; ++k) {
      const Edge& e = edges[k];
      const uint32_t w = e.to;
      if (!forwards[w] || done[w] == r) continue;
      const ToLabel next{lab.cost + e.cost, lab.hops + 1};
      if (t.hops[w] == kUnreached || next < ToLabel{t.cost[w], t.hops[w]}) {
        t.cost[w] = next.cost;
        t.hops[w] = next.hops;
        heap.push({next, w});
      }
    }
  }
}

// Node v's route from subnet t's tree: none if v does not want auto routes or holds the
// subnet; else the best of v's links: the link's cost plus the far end's cost, then one
// hop more than the far end, then the first link in tie-break order.
uint64_t AutoRoutes::Impl::tree_answer(const Tree& t, uint32_t v) const {
  if (!wants[v] || t.hops[v] == 0) return kNone;
  bool found = false;
  ToLabel win;
  uint32_t win_k = 0;
  for (uint32_t k = edge_off[v]; k < edge_off[v + 1]; ++k) {
    const Edge& e = edges[k];
    const uint32_t hops = t.hops[e.to];
    if (hops == kUnreached) continue;
    const uint64_t far = uniform_cost ? uint64_t{*uniform_cost} * hops : t.cost[e.to];
    const ToLabel cand{far + e.cost, hops + 1};
    if (!found || cand < win) {
      found = true;
      win = cand;
      win_k = k - edge_off[v];
    }
  }
  return found ? pack(win_k, win.cost) : kNone;
}

const AutoRoutes::Impl::Tree& AutoRoutes::Impl::tree(uint32_t s) const {
  if (tree_of[s] >= 0) {
    Tree& t = trees[static_cast<size_t>(tree_of[s])];
    t.last_use = ++clock;
    ++stats.tree_hits;
    return t;
  }
  size_t slot = trees.size();
  if (trees.size() < max_trees) {
    trees.emplace_back();
  } else {  // evict the least recently used
    slot = 0;
    for (size_t i = 1; i < trees.size(); ++i)
      if (trees[i].last_use < trees[slot].last_use) slot = i;
    tree_of[trees[slot].subnet] = -1;
  }
  Tree& t = trees[slot];
  t.subnet = s;
  t.last_use = ++clock;
  tree_of[s] = static_cast<int32_t>(slot);
  build_tree(s, t);
  return t;
}

bool AutoRoutes::Impl::holds(uint32_t node, uint32_t s) const {
  for (uint32_t i = if_off[node]; i < if_off[node + 1]; ++i)
    if (if_subnet[i] == s) return true;
  return false;
}

uint64_t AutoRoutes::Impl::answer(uint32_t node, uint32_t s) const {
  const uint64_t key = (uint64_t{node} << 32) | s;
  if (const uint64_t* hit = memo.find(key)) {
    ++stats.memo_hits;
    return *hit;
  }
  auto remember = [&](uint64_t k, uint64_t v) {
    if (memo.size() >= limits.memo_entries) memo.clear();
    memo.put(k, v);
  };
  if (holds(node, s)) {
    remember(key, kNone);
    return kNone;
  }
  const Tree& t = tree(s);
  const uint64_t a = tree_answer(t, node);
  // The nodes along the path answer too: the packet is on its way to them.
  uint32_t v = node;
  for (uint32_t step = 0; step < n; ++step) {
    const uint64_t here = v == node ? a : tree_answer(t, v);
    remember((uint64_t{v} << 32) | s, here);
    if (here == kNone) break;
    const uint32_t next = edges[edge_off[v] + static_cast<uint32_t>(here >> 32)].to;
    if (!wants[next] || !forwards[next]) break;
    v = next;
  }
  return a;
}

RouteEntry AutoRoutes::Impl::entry(uint32_t node, uint32_t s, uint64_t packed) const {
  const Edge& first = edges[edge_off[node] + static_cast<uint32_t>(packed >> 32)];
  RouteEntry r;
  r.dest = Ipv4Cidr{Ipv4Addr{subnets[s].network}, subnets[s].prefix_len};
  r.gateway = Ipv4Addr{if_addr[if_off[first.to] + first.nbr_if]};
  r.ifindex = first.own_if;
  r.metric = static_cast<uint32_t>(packed & 0xffffffffu);
  r.origin = RouteOrigin::Auto;
  return r;
}

size_t AutoRoutes::Impl::bytes() const {
  size_t b = sizeof(*this);
  auto vec = [&b](const auto& v) { b += v.capacity() * sizeof(v[0]); };
  vec(forwards);
  vec(wants);
  vec(if_off);
  vec(if_addr);
  vec(if_subnet);
  vec(edge_off);
  vec(edges);
  vec(subnets);
  vec(holder_off);
  vec(holders);
  vec(reached);
  vec(done);
  vec(connected);
  vec(best);
  vec(tree_of);
  vec(trees);
  vec(bfs_queue);
  for (const Tree& t : trees) {
    vec(t.hops);
    vec(t.cost);
  }
  b += subnet_index.bytes() + memo.bytes();
  return b;
}

AutoRoutes::AutoRoutes(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
                       const std::vector<bool>& wants_auto)
    : AutoRoutes(nodes, links, wants_auto, Limits{}) {}

AutoRoutes::AutoRoutes(const std::vector<TopoNode>& nodes, const std::vector<TopoLink>& links,
                       const std::vector<bool>& wants_auto, Limits limits)
    : impl_(std::make_unique<Impl>(nodes, links, wants_auto, limits)) {}

AutoRoutes::~AutoRoutes() = default;

std::optional<RouteEntry> AutoRoutes::lookup(uint32_t node, Ipv4Addr dst, uint8_t min_prefix_len) const {
  const Impl& m = *impl_;
  ++m.stats.lookups;
  if (node >= m.n || !m.wants[node]) return std::nullopt;
  for (uint64_t lens = m.subnet_lens; lens != 0;) {
    const unsigned len = 63u - static_cast<unsigned>(std::countl_zero(lens));
    if (len < min_prefix_len) break;
    lens &= ~(uint64_t{1} << len);
    const uint64_t* s = m.subnet_index.find(prefix_key(dst.v & mask_of(len), len));
    if (!s) continue;
    const auto subnet = static_cast<uint32_t>(*s);
    const uint64_t a = m.answer(node, subnet);
    if (a != kNone) return m.entry(node, subnet, a);
  }
  return std::nullopt;
}

std::optional<RouteEntry> AutoRoutes::route_to(uint32_t node, Ipv4Cidr subnet) const {
  const Impl& m = *impl_;
  if (node >= m.n || !m.wants[node] || subnet.prefix_len > 32) return std::nullopt;
  const uint64_t* s = m.subnet_index.find(prefix_key(subnet.network().v, subnet.prefix_len));
  if (!s) return std::nullopt;
  const uint64_t a = m.answer(node, static_cast<uint32_t>(*s));
  if (a == kNone) return std::nullopt;
  return m.entry(node, static_cast<uint32_t>(*s), a);
}

void AutoRoutes::for_each(uint32_t node, const std::function<void(const RouteEntry&)>& f) const {
  if (node >= impl_->n || !impl_->wants[node]) return;
  impl_->listing(node, f);
}

std::vector<RouteEntry> AutoRoutes::routes_of(uint32_t node) const {
  std::vector<RouteEntry> out;
  for_each(node, [&out](const RouteEntry& r) { out.push_back(r); });
  return out;
}

AutoRoutes::Stats AutoRoutes::stats() const {
  Stats s = impl_->stats;
  s.bytes = impl_->bytes();
  return s;
}

std::vector<std::vector<RouteEntry>> compute_auto_routes(const std::vector<TopoNode>& nodes,
                                                         const std::vector<TopoLink>& links,
                                                         const std::vector<bool>& wants_auto) {
  const AutoRoutes routes(nodes, links, wants_auto, AutoRoutes::Limits{0, 0});
  std::vector<std::vector<RouteEntry>> out(nodes.size());
  for (uint32_t v = 0; v < out.size(); ++v)
    if (wants_auto[v]) out[v] = routes.routes_of(v);
  return out;
}

}  // namespace mz::l3
