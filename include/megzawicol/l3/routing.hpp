// The IPv4 routing table: longest-prefix match, then lowest metric.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

/// Routes kept outside the tables that use them, shared by many nodes: the "auto" routes
/// of a whole topology (l3::AutoRoutes) answer each node's lookups from one shared
/// structure instead of a copy of every route in every node's table.
///
/// A source's routes for one node have pairwise distinct prefixes (network, prefix_len).
/// Its methods are const but may fill caches: a source is not safe to use from several
/// threads at once.
class RouteSource {
 public:
  virtual ~RouteSource() = default;
  /// The node's route with the longest prefix that contains `dst`, among those whose
  /// prefix length is at least `min_prefix_len`; nullopt if none.
  virtual std::optional<RouteEntry> lookup(uint32_t node, Ipv4Addr dst, uint8_t min_prefix_len) const = 0;
  /// Calls `f` on each of the node's routes, in the source's listing order.
  virtual void for_each(uint32_t node, const std::function<void(const RouteEntry&)>& f) const = 0;
};

/// Longest-prefix match in O(number of distinct prefix lengths): the routes are indexed by
/// (prefix length, network) in a hash table holding, per prefix, the entry that wins it
/// (lowest metric, then first added), and a lookup probes the prefix lengths present from
/// the longest down. The entries themselves stay in a vector, in the order they were added.
/// A table of at most 8 entries (a host's) has no index and is scanned.
///
/// A table may also hold one shared block of routes (attach()): a RouteSource's routes for
/// one node, which behave exactly as if they had been add()ed, in the source's order, at
/// the moment of attach() (for the "first added" tie-break and the listing order of
/// for_each()), but are not copied into the table.
class RoutingTable {
 public:
  void add(RouteEntry e);
  /// Removes every route of the given origin (e.g. before recomputing "auto" routes),
  /// including an attached block of that origin.
  void remove_origin(RouteOrigin o);
  /// Longest-prefix match; among equal prefixes the lowest metric, then the first added.
  std::optional<RouteEntry> lookup(Ipv4Addr dst) const;
  /// The routes add()ed, in the order they were added (not those of an attached block).
  const std::vector<RouteEntry>& entries() const { return entries_; }
  /// Every route, in the order added, the attached block's routes at their position.
  void for_each(const std::function<void(const RouteEntry&)>& f) const;
  /// Attaches `node`'s routes of `source`, all of origin `origin`, after the routes present
  /// now; replaces a block attached before. A null source detaches.
  void attach(std::shared_ptr<const RouteSource> source, uint32_t node, RouteOrigin origin);
  const RouteSource* attached() const { return source_.get(); }

 private:
  struct Slot {
    uint64_t key;    // (network << 6) | prefix_len; kEmpty if unused
    uint32_t index;  // into entries_: the entry winning this prefix
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kScanMax = 8;  // up to this many entries: no index, a linear scan
  const Slot* find(uint64_t key) const;
  void index_entry(uint32_t i);
  void rebuild_index();

  std::vector<RouteEntry> entries_;
  std::vector<Slot> slots_;  // open addressing, linear probing; size a power of two or 0
  size_t used_ = 0;          // occupied slots
  uint64_t lengths_ = 0;     // bit n: some entry has prefix length n
  std::shared_ptr<const RouteSource> source_;
  uint32_t source_node_ = 0;
  RouteOrigin source_origin_ = RouteOrigin::Auto;
  size_t source_pos_ = 0;    // entries_[0, source_pos_) were added before the block
};

}  // namespace mz::l3
