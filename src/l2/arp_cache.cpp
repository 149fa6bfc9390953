#include "megzawicol/l2/arp_cache.hpp"

namespace mz::l2 {

std::optional<MacAddr> ArpCache::lookup(Ipv4Addr ip, Time now) const {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.mac;
}

ArpCache::Queued ArpCache::enqueue(Ipv4Addr ip, PacketBuf pkt, Time now) {
  auto it = pending_.find(ip);
  if (it == pending_.end()) {
    Pending p;
    p.next_retry = now + cfg_.retry;
    p.packets.push_back(std::move(pkt));
    pending_.emplace(ip, std::move(p));
    return Queued::SendRequest;
  }
  if (it->second.packets.size() >= cfg_.max_pending_per_addr) return Queued::Dropped;
  it->second.packets.push_back(std::move(pkt));
  return Queued::Waiting;
}

std::vector<PacketBuf> ArpCache::learn(Ipv4Addr ip, MacAddr mac, Time now, bool create) {
  auto it = entries_.find(ip);
  const bool waiting = pending_.count(ip) != 0;
  if (it != entries_.end()) {
    it->second = Entry{mac, now + cfg_.entry_lifetime};
  } else if (create || waiting) {
    if (entries_.size() >= cfg_.max_entries) {
      // Evict expired entries first; if none, the oldest-expiring one.
      for (auto e = entries_.begin(); e != entries_.end();) {
        e = e->second.expires <= now ? entries_.erase(e) : std::next(e);
      }
      if (entries_.size() >= cfg_.max_entries) {
        auto oldest = entries_.begin();
        for (auto e = entries_.begin(); e != entries_.end(); ++e)
          if (e->second.expires < oldest->second.expires) oldest = e;
        entries_.erase(oldest);
      }
    }
    entries_.emplace(ip, Entry{mac, now + cfg_.entry_lifetime});
  }
  std::vector<PacketBuf> released;
  if (waiting) {
    auto p = pending_.find(ip);
    released = std::move(p->second.packets);
    pending_.erase(p);
  }
  return released;
}

std::optional<Time> ArpCache::poll_timeout() const {
  std::optional<Time> t;
  for (const auto& [ip, p] : pending_)
    if (!t || p.next_retry < *t) t = p.next_retry;
  return t;
}

ArpCache::TimeoutOutput ArpCache::handle_timeout(Time now) {
  TimeoutOutput out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.next_retry > now) {
      ++it;
      continue;
    }
    if (p.requests_sent >= cfg_.max_requests) {
      out.failed.push_back(Failed{it->first, std::move(p.packets)});
      it = pending_.erase(it);
      continue;
    }
    ++p.requests_sent;
    p.next_retry = now + cfg_.retry;
    out.resend.push_back(it->first);
    ++it;
  }
  return out;
}

}  // namespace mz::l2
