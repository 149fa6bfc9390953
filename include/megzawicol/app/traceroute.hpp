// traceroute: the classic UDP traceroute (Van Jacobson's), one probe at a time.
//
// For TTL 1, 2, ... max_ttl it sends `probes` UDP datagrams with that TTL to
// target:33434+n (n counts every probe sent, so each probe has its own port) from an
// ephemeral port, waiting up to `timeout` for each. A router that drops a probe because
// its TTL ran out answers ICMP time exceeded; the destination answers ICMP port
// unreachable (nothing listens on those ports). The answer is matched to its probe by
// the UDP ports in the quoted datagram. Each TTL gives one line:
//
//    1  10.0.1.1  1.234 ms  1.201 ms  1.199 ms
//    3  * * *
//
// and the run stops after the TTL at which the destination (or any destination
// unreachable: " !H", " !N", " !P", " !F") answered, or after max_ttl.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "megzawicol/stack/host.hpp"

namespace mz::app {

struct TracerouteConfig {
  std::string name = "traceroute";
  Ipv4Addr target;
  uint32_t max_ttl = 30;   // 1..255
  uint32_t probes = 3;     // per TTL, 1..10
  Duration timeout = Duration::seconds(1);
  Time start = Time::zero();
  uint16_t base_port = 33434;
  uint32_t size = 32;      // UDP payload bytes of a probe: 60-byte packets, like Linux
};

struct TracerouteProbe {
  uint16_t dport = 0;
  bool answered = false;
  Ipv4Addr from;           // who answered
  Duration rtt;
  uint8_t icmp_type = 0, icmp_code = 0;
};

struct TracerouteHop {
  uint8_t ttl = 0;
  std::vector<TracerouteProbe> probes;
  /// The first address that answered at this TTL, nullopt if none did.
  std::optional<Ipv4Addr> address() const;
};

class Traceroute : public stack::App, public stack::UdpHandler {
 public:
  explicit Traceroute(TracerouteConfig cfg) : cfg_(std::move(cfg)) {}

  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "traceroute"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override;
  void handle_timeout(stack::Host& host, Time now) override;
  void on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& icmp) override;
  void on_udp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& udp, ByteView payload) override;
  std::vector<trace::Field> summary() const override;

  const std::vector<TracerouteHop>& hops() const { return hops_; }
  bool reached() const { return reached_; }
  bool finished() const { return done_; }
  uint32_t probes_sent() const { return sent_; }

 private:
  void send_probe(stack::Host& host, Time now);
  void probe_done(stack::Host& host, Time now);
  void print_hop(stack::Host& host, Time now, const TracerouteHop& hop);

  TracerouteConfig cfg_;
  uint16_t sport_ = 0;
  std::vector<TracerouteHop> hops_;
  uint32_t sent_ = 0;
  uint32_t replies_ = 0;
  std::optional<Time> next_send_;
  std::optional<Time> deadline_;  // of the outstanding probe
  Time sent_at_{};
  bool stop_after_hop_ = false;   // a destination unreachable came at this TTL
  bool reached_ = false;
  bool done_ = false;
};

}  // namespace mz::app
