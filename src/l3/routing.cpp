#include "megzawicol/l3/routing.hpp"

#include <algorithm>
#include <bit>

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

namespace {

uint32_t mask_of(unsigned len) { return len == 0 ? 0u : (0xffffffffu << (32 - len)); }

uint64_t prefix_key(uint32_t network, unsigned len) { return (uint64_t{network} << 6) | len; }

size_t slot_hash(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

}  // namespace

const RoutingTable::Slot* RoutingTable::find(uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot_hash(key, mask);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == key) return &s;
    if (s.key == kEmpty) return nullptr;
  }
}

// Makes entries_[i] the winner of its prefix if it beats the current one: a strictly lower
// metric (at equal metrics the entry added first keeps the prefix). Small tables are not
// indexed: a scan of a few entries is as fast as hashing, and a host's table stays small.
void RoutingTable::index_entry(uint32_t i) {
  if (slots_.empty() && entries_.size() <= kScanMax) return;
  if ((used_ + 1) * 2 > slots_.size()) {
    // Grow (load factor <= 1/2) and re-insert every entry in order.
    slots_.assign(std::max<size_t>(16, slots_.size() * 2), Slot{kEmpty, 0});
    used_ = 0;
    for (uint32_t k = 0; k < i; ++k) index_entry(k);
  }
  const RouteEntry& e = entries_[i];
  const unsigned len = std::min<unsigned>(e.dest.prefix_len, 32);
  const uint64_t key = prefix_key(e.dest.addr.v & mask_of(len), len);
  const size_t mask = slots_.size() - 1;
  for (size_t k = slot_hash(key, mask);; k = (k + 1) & mask) {
    Slot& s = slots_[k];
    if (s.key == kEmpty) {
      s = Slot{key, i};
      ++used_;
      lengths_ |= uint64_t{1} << len;
      return;
    }
    if (s.key == key) {
      if (e.metric < entries_[s.index].metric) s.index = i;
      return;
    }
  }
}

void RoutingTable::rebuild_index() {
  slots_.clear();
  slots_.shrink_to_fit();
  used_ = 0;
  lengths_ = 0;
  for (uint32_t i = 0; i < entries_.size(); ++i) index_entry(i);
}

void RoutingTable::add(RouteEntry e) {
  entries_.push_back(e);
  index_entry(static_cast<uint32_t>(entries_.size() - 1));
}

void RoutingTable::remove_origin(RouteOrigin o) {
  size_t before_block = 0;
  for (size_t i = 0; i < source_pos_; ++i) before_block += entries_[i].origin == o;
  source_pos_ -= before_block;
  std::erase_if(entries_, [o](const RouteEntry& e) { return e.origin == o; });
  if (source_ && source_origin_ == o) source_.reset();
  rebuild_index();
}

void RoutingTable::attach(std::shared_ptr<const RouteSource> source, uint32_t node, RouteOrigin origin) {
  source_ = std::move(source);
  source_node_ = node;
  source_origin_ = origin;
  source_pos_ = entries_.size();
}

std::optional<RouteEntry> RoutingTable::lookup(Ipv4Addr dst) const {
  const RouteEntry* best = nullptr;
  uint32_t best_index = 0;
  if (slots_.empty()) {
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      const RouteEntry& e = entries_[i];
      if (!e.dest.contains(dst)) continue;
      if (!best || e.dest.prefix_len > best->dest.prefix_len ||
          (e.dest.prefix_len == best->dest.prefix_len && e.metric < best->metric)) {
        best = &e;
        best_index = i;
      }
    }
  }
  for (uint64_t lens = lengths_; lens != 0;) {
    const unsigned len = 63u - static_cast<unsigned>(std::countl_zero(lens));
    lens &= ~(uint64_t{1} << len);
    if (const Slot* s = find(prefix_key(dst.v & mask_of(len), len))) {
      best = &entries_[s->index];
      best_index = s->index;
      break;
    }
  }
  if (source_) {
    const uint8_t min_len = best ? best->dest.prefix_len : 0;
    if (auto r = source_->lookup(source_node_, dst, min_len)) {
      // The block's route against the table's own best: the longer prefix, then the lower
      // metric, then the one added first.
      bool wins = true;
      if (best) {
        if (r->dest.prefix_len != best->dest.prefix_len)
          wins = r->dest.prefix_len > best->dest.prefix_len;
        else if (r->metric != best->metric)
          wins = r->metric < best->metric;
        else
          wins = best_index >= source_pos_;
      }
      if (wins) {
        r->origin = source_origin_;
        return r;
      }
    }
  }
  if (!best) return std::nullopt;
  return *best;
}

void RoutingTable::for_each(const std::function<void(const RouteEntry&)>& f) const {
  const size_t pos = source_ ? source_pos_ : entries_.size();
  for (size_t i = 0; i < pos; ++i) f(entries_[i]);
  if (source_) {
    source_->for_each(source_node_, [&](const RouteEntry& r) {
      if (r.origin == source_origin_) {
        f(r);
      } else {
        RouteEntry copy = r;
        copy.origin = source_origin_;
        f(copy);
      }
    });
  }
  for (size_t i = pos; i < entries_.size(); ++i) f(entries_[i]);
}

}  // namespace mz::l3
