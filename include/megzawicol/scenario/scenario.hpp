// The scenario model: what a JSON file in scenarios/ describes, after validation.
//
// `load_scenario` turns a JSON document into this typed form or throws ScenarioError
// whose message names the file, the JSON path and the problem, e.g.
//   scenarios/x.json: links[1].loss: must be in [0,1], got 1.5
// Everything below is fully resolved: units are converted, defaults are filled in,
// names are cross-checked. The simulator never looks at JSON.
#pragma once

#include <cstdint>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/time.hpp"

namespace mz::scenario {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class NodeKind { Host, Router, Switch };

struct Route {
  Ipv4Cidr dest;                 // "10.0.0.0/8", "0.0.0.0/0" or "default"
  std::optional<Ipv4Addr> via;   // next hop; absent = directly connected on `iface`
  std::string iface;             // outgoing interface name; empty = found from `via`
};

struct Interface {
  std::string name;              // "eth0"
  Ipv4Cidr address;              // "10.0.0.1/24"; unset (0.0.0.0/32) on a switch port
  MacAddr mac;                   // given, or derived: 02:00:<node index 2 bytes>:<iface index 2 bytes>
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Host;
  std::vector<Interface> interfaces;
  std::vector<Route> routes;     // static routes (connected routes are implied)
  bool routes_auto = false;      // "routes": "auto"
  uint8_t default_ttl = 64;      // "ttl"

  /// The interface called `name`, or nullptr.
  const Interface* find_interface(const std::string& name) const;
};

/// Impairments and capacity of one direction of a link.
struct LinkDirection {
  uint64_t bandwidth_bps = 10'000'000;  // "10Mbps", "1Gbps", "56kbps", or a number (bit/s)
  Duration delay = Duration::millis(1); // propagation delay: "5ms", "20us", or a number (seconds)
  double loss = 0.0;                    // whole-frame loss probability in [0,1]
  double ber = 0.0;                     // bit error rate on the line bits, in [0,1)
  uint32_t queue_frames = 100;          // drop-tail queue capacity in frames (>= 1)
  double duplicate = 0.0;               // probability that a frame is delivered twice, in [0,1]
  Duration jitter = Duration::zero();   // extra delay per frame, uniform in [0, jitter]; reorders frames
};

struct Link {
  std::string name;              // given, or "<nodeA>:<ifA>-<nodeB>:<ifB>"
  std::string a_node, a_iface;   // "ends": ["a:eth0", "b:eth0"]
  std::string b_node, b_iface;
  uint32_t mtu = 1500;           // IP MTU of the link, in [68, 9000]
  uint32_t cost = 1;             // routing cost for "routes": "auto" (>= 1)
  LinkDirection a_to_b;          // link-level settings, overridden by "a_to_b": {...}
  LinkDirection b_to_a;          // ... and "b_to_a": {...}
};

enum class AppKind { Ping, Udp, Traceroute, Bulk, Http };

/// TCP settings: "transport" at the top level (for every TCP app), overridden per app.
struct TransportOptions {
  uint32_t window_segments = 0;   // cap on segments in flight; 0 = none; 1 = stop-and-wait ("mode": "stop-and-wait")
  bool sack = true;               // SACK-permitted / SACK (RFC 2018)
  bool window_scale = true;       // RFC 7323
  bool timestamps = false;        // RFC 7323
  bool delayed_ack = true;
  Duration ack_delay = Duration::millis(40);
  bool nagle = true;
  Duration min_rto = Duration::millis(200);
  Duration initial_rto = Duration::seconds(1);
  Duration time_wait = Duration::seconds(60);
  uint32_t rcv_buf = 256 * 1024;
  uint32_t snd_buf = 256 * 1024;
  uint32_t max_retries = 8;       // consecutive timeouts without progress before giving up
  uint32_t initial_window = 10;   // segments (RFC 6928)
};

struct App {
  AppKind kind = AppKind::Ping;
  std::string name;              // given, or "<kind><index>"
  std::string node;              // where it runs
  Time start = Time::zero();     // "start": "1s"
  // ping
  Ipv4Addr target;               // "target": "10.0.0.2" or a node name (its first address)
  uint32_t count = 4;            // >= 1
  Duration interval = Duration::seconds(1);
  uint32_t size = 56;            // ICMP data bytes, like ping -s; in [0, 65507]
  Duration timeout = Duration::seconds(1);  // a reply later than this counts as lost
  bool dont_fragment = false;    // ping "df": set DF, like ping -M do (routers answer "fragmentation needed")
  // udp: count datagrams of `size` bytes (default 100 x 512) every `interval` (default
  // 10ms, or size*8/rate); `timeout` is how long after the last datagram was due the
  // receiver prints its report
  uint16_t port = 9000;          // destination port, 1..65535
  uint64_t rate_bps = 0;         // "rate" given: `interval` was derived from it; 0 otherwise
  bool receiver = true;          // start a receiver on the node owning `target`
  // traceroute (also `timeout`: per probe)
  uint32_t max_ttl = 30;         // 1..255
  uint32_t probes = 3;           // per TTL, 1..10
  // bulk: a TCP transfer of `bytes` (or for `send_for`) to `port` on `target`
  uint64_t bytes = 1'000'000;    // "bytes": "10MB"
  Duration send_for = Duration::zero();  // "duration": send for this long instead of a byte count
  bool tls = false;              // "tls": true: the stream goes over TLS 1.3 and the session layer
  TransportOptions transport;    // the scenario's "transport", then the app's own "transport"
  // http: the seed's story (HTTP POST over TLS 1.3 over the session layer over TCP)
  std::string message = "Hello, server!";   // "message", or the contents of "file"
  uint32_t requests = 1;                    // per connection
  uint32_t connections = 1;                 // > 1: reconnect and resume the session
  bool keep_alive = true;
  std::optional<std::array<uint8_t, 32>> server_key;   // "tls": {"server_key": hex}: Ed25519 seed
  std::optional<std::array<uint8_t, 32>> pinned_key;   // "tls": {"pinned_key": hex}: what the client expects
};

/// "events": [{"at": "5s", "link": "r1:eth1-r2:eth0", "action": "down"}]
struct LinkEvent {
  Time at;
  std::string link;              // a link name
  bool up = false;               // "action": "up" | "down"
};

/// "routing": {"recompute": true, "delay": "0s"}
struct RoutingOptions {
  bool recompute = true;         // "auto" routes follow link state changes
  Duration delay = Duration::zero();  // after a change, when the new routes take effect
};

struct TraceOptions {
  bool log = true;               // trace.log
  bool jsonl = true;             // trace.jsonl
  bool pcap = true;              // <node>-<iface>.pcap
  bool summary = true;           // summary.json
  bool l1_bits = false;          // trace the first line bits of each frame at L1
  bool keylog = false;           // keylog.txt (TLS secrets, NSS format, owner-only), for Wireshark
};

struct Scenario {
  std::string source;            // the file name it came from (for messages)
  std::string name;              // "name", default: the file's stem
  std::string description;
  uint64_t seed = 1;
  Duration duration = Duration::seconds(60);  // the run stops at this virtual time
  std::vector<Node> nodes;
  std::vector<Link> links;
  std::vector<App> apps;
  std::vector<LinkEvent> events;
  RoutingOptions routing;
  TransportOptions transport;
  TraceOptions trace;

  const Node* find_node(const std::string& name) const;
  /// The link called `name` (given or derived), or nullptr.
  const Link* find_link(const std::string& name) const;
};

/// The MAC an interface gets when "mac" is not given: 02:00:NN:NN:II:II, where NNNN is the
/// node's index in "nodes" and IIII the interface's index in its "interfaces", both
/// 0-based and big-endian (nodes[1].interfaces[2] -> 02:00:00:01:00:02).
MacAddr derived_mac(uint16_t node_index, uint16_t iface_index);

/// Parses a unit string into the value: "10Mbps" -> 10e6 (bit/s). Throws std::invalid_argument
/// with a short reason ("unknown unit 'Mbs'", "not a number") for the caller to wrap.
uint64_t parse_bandwidth(const std::string& s);
Duration parse_duration(const std::string& s);   // "5ms", "1.5s", "20us", "100ns", "2m"
uint64_t parse_size(const std::string& s);       // "1500", "64KB" (1000), "64KiB" (1024), "1MB", "1MiB"

/// Loads and validates `text` (the file contents); `source` names the file in messages.
/// `overrides` are "--set PATH=VALUE" strings applied to the JSON before validation.
Scenario load_scenario_text(const std::string& text, const std::string& source,
                            const std::vector<std::string>& overrides = {});
/// Reads the file and calls load_scenario_text. A missing file is a ScenarioError.
Scenario load_scenario_file(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace mz::scenario
