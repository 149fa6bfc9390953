// An Ethernet learning switch (IEEE 802.1D transparent bridge, without spanning tree),
// as a sans-I/O node with the same driver contract as a Host:
//
//   handle_frame(now, port, frame, rx_error)   a frame (FCS included) received on `port`
//   handle_timeout(now)                        when now >= poll_timeout()
//
// and after every call: drain poll_transmit() (Transmit::ifindex is the egress port),
// then ask poll_timeout() for the next wake-up. `now` never goes backwards.
//
// Store-and-forward: a frame is checked whole before it is relayed. A PHY receive
// error, a frame shorter than 64 bytes or a bad FCS drops it (counted by cause, never
// learned from, never forwarded). A good frame teaches the switch where its source
// station is (src MAC -> ingress port; group addresses are never learned), then
//   - broadcast, multicast or an unknown unicast destination: flooded to every other
//     port that is up;
//   - a known unicast destination: forwarded to that one port, or filtered (discarded)
//     when that port is the ingress port.
// Relayed frames are the received bytes, FCS included, unchanged.
//
// Entries not refreshed for `aging` are removed, at the latest when handle_timeout is
// called at their expiry, and before any frame received at or after it is switched.
// An empty table needs no wake-up. The table holds at most `max_entries`: when it is
// full, new stations are not learned (their frames are flooded back to them), counted
// in `table_full`. A port that goes down loses its entries; frames received on a down
// port are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/stack/host.hpp"  // Transmit
#include "megzawicol/trace/tracer.hpp"

namespace mz::stack {

struct SwitchConfig {
  std::string name;
  uint32_t ports = 0;
  /// How long an entry lives without being refreshed (802.1D default: 300 s).
  /// Zero, negative or Duration::max(): entries never age.
  Duration aging = Duration::seconds(300);
  size_t max_entries = 8192;
};

/// Every frame received (frames_in) ends in exactly one of: forwarded, flooded,
/// filtered, or one drop_* cause.
struct SwitchCounters {
  uint64_t frames_in = 0;       // every frame handed to handle_frame on a valid port
  uint64_t frames_out = 0;      // copies queued for transmission (a flood makes several)
  uint64_t forwarded = 0;       // known unicast, sent to its one port
  uint64_t flooded = 0;         // broadcast, multicast or unknown unicast
  uint64_t filtered = 0;        // destination on the ingress port
  uint64_t drop_fcs = 0;        // FCS mismatch
  uint64_t drop_rx_error = 0;   // the PHY signalled a receive error
  uint64_t drop_runt = 0;       // shorter than 64 bytes
  uint64_t drop_port_down = 0;  // received on a port that is down
  uint64_t learned = 0;         // new entries
  uint64_t moved = 0;           // a known station seen on another port
  uint64_t aged = 0;            // entries removed by aging
  uint64_t flushed = 0;         // entries removed because their port went down
  uint64_t table_full = 0;      // a new station not learned: the table was full
};

class Switch {
 public:
  Switch(SwitchConfig cfg, trace::Tracer* tracer);
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  // ---- driver side ----
  /// A frame on `port` (ignored if port >= ports). `rx_error`: 802.3 RX_ER, see Host.
  void handle_frame(Time now, uint32_t port, PacketBuf frame, bool rx_error = false);
  std::optional<Transmit> poll_transmit();
  /// The earliest expiry (last refresh + aging) in the table; nullopt if none.
  std::optional<Time> poll_timeout() const;
  /// Removes the entries whose expiry is <= now.
  void handle_timeout(Time now);

  // ---- management ----
  /// Ports start up. Taking a port down flushes the entries learned on it. Traced at
  /// `now`, or without it at the latest time the switch was given.
  void set_port_up(Time now, uint32_t port, bool up);
  void set_port_up(uint32_t port, bool up) { set_port_up(now_, port, up); }
  bool port_up(uint32_t port) const { return port < up_.size() && up_[port]; }

  const std::string& name() const { return cfg_.name; }
  const SwitchConfig& config() const { return cfg_; }
  const SwitchCounters& counters() const { return ctr_; }
  size_t table_size() const { return table_.size(); }
  /// The port `mac` was learned on (an entry past its expiry counts until it is aged out).
  std::optional<uint32_t> lookup(MacAddr mac) const;

  bool tracing() const { return tracer_ && tracer_->enabled(); }

 private:
  struct Entry {
    uint32_t port = 0;
    Time expires;
  };

  bool ages() const;
  Time expiry_from(Time now) const;
  void age(Time now);
  void learn(Time now, MacAddr src, uint32_t port);
  void drop(Time now, uint32_t port, size_t len, uint64_t& counter, std::string_view event, std::string_view cause);
  void emit(Time now, std::string_view event, std::string_view msg, const std::vector<trace::Field>& fields = {});

  SwitchConfig cfg_;
  trace::Tracer* tracer_;
  std::vector<bool> up_;
  std::map<MacAddr, Entry> table_;
  std::set<std::pair<Time, MacAddr>> by_expiry_;  // mirrors table_ when entries age
  std::deque<Transmit> tx_;
  SwitchCounters ctr_;
  Time now_;  // the latest time seen
};

}  // namespace mz::stack
