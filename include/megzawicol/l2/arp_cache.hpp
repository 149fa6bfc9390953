// The ARP cache (RFC 826) of one interface, as a sans-I/O state machine.
//
// The cache maps IPv4 addresses to MAC addresses. A packet for an address that is
// not resolved yet waits in a bounded per-address queue while requests are sent
// (one at first, then one per `retry` up to `max_requests`); when the reply comes the
// queue is released, and when the last request goes unanswered the packets are handed
// back as failed (the host then reports "host unreachable", as Linux does).
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/time.hpp"

namespace mz::l2 {

class ArpCache {
 public:
  struct Config {
    Duration entry_lifetime = Duration::seconds(60);
    Duration retry = Duration::seconds(1);
    int max_requests = 3;
    size_t max_pending_per_addr = 16;
    size_t max_entries = 4096;
  };

  enum class Queued { SendRequest, Waiting, Dropped };

  struct Failed {
    Ipv4Addr addr;
    std::vector<PacketBuf> packets;
  };
  struct TimeoutOutput {
    std::vector<Ipv4Addr> resend;  // send one more request for each
    std::vector<Failed> failed;    // gave up: these packets are dropped
  };

  ArpCache() = default;
  explicit ArpCache(Config c) : cfg_(c) {}

  /// The MAC for `ip` if known and not expired.
  std::optional<MacAddr> lookup(Ipv4Addr ip, Time now) const;
  /// Parks `pkt` until `ip` is resolved. SendRequest: the first packet for `ip`, send a
  /// request now. Waiting: a request is already out. Dropped: the queue is full.
  Queued enqueue(Ipv4Addr ip, PacketBuf pkt, Time now);
  /// Records ip -> mac (RFC 826 merge: always updates a known entry; adds a new one only
  /// when `create`). Returns the packets that were waiting for `ip`.
  std::vector<PacketBuf> learn(Ipv4Addr ip, MacAddr mac, Time now, bool create);
  std::optional<Time> poll_timeout() const;
  TimeoutOutput handle_timeout(Time now);

  size_t size() const { return entries_.size(); }
  size_t pending_addresses() const { return pending_.size(); }

 private:
  struct Entry {
    MacAddr mac;
    Time expires;
  };
  struct Pending {
    std::vector<PacketBuf> packets;
    int requests_sent = 1;
    Time next_retry;
  };
  Config cfg_;
  std::map<Ipv4Addr, Entry> entries_;
  std::map<Ipv4Addr, Pending> pending_;
};

}  // namespace mz::l2
