// udp: a constant-rate UDP flow between two hosts, measured at the receiver, like
// `iperf -u`.
//
// The sender (UdpFlowSender) sends `count` datagrams of `size` bytes to target:port, one
// every `interval`, from an ephemeral port. Each payload starts with
//
//   | sequence number (4, from 0) | virtual send time in ns (8) | pattern ... |
//
// where pattern byte i (i >= 12, counted from the payload start) is (i + seq) & 0xff.
// The receiver (UdpFlowReceiver), bound to `port` on the target, counts what arrives:
// received (distinct sequence numbers), lost (count - received), reordered (arrived
// after a higher sequence number), duplicated, and the one-way delay (arrival time -
// the send time carried in the datagram; both ends share the simulator's clock).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "megzawicol/stack/host.hpp"

namespace mz::app {

struct UdpFlowConfig {
  std::string name = "udp";
  Ipv4Addr target;
  uint16_t port = 9000;
  uint32_t size = 512;  // UDP payload bytes, in [12, 65507]
  uint32_t count = 100;
  Duration interval = Duration::millis(10);  // between two datagrams (> 0)
  uint64_t rate_bps = 0;  // informational: the rate `interval` was derived from, 0 if none
  Time start = Time::zero();
  /// The receiver prints its report this long after the last datagram was due to be
  /// sent (or as soon as all have arrived).
  Duration linger = Duration::seconds(1);
};

/// Header bytes at the start of every payload: sequence number + send time.
inline constexpr size_t kUdpFlowHeaderLen = 12;

/// Fills a payload of cfg.size bytes for datagram `seq` sent at `now`.
Bytes udp_flow_payload(uint32_t size, uint32_t seq, Time now);

class UdpFlowSender : public stack::App, public stack::UdpHandler {
 public:
  explicit UdpFlowSender(UdpFlowConfig cfg) : cfg_(std::move(cfg)) {}

  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "udp"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override { return next_send_; }
  void handle_timeout(stack::Host& host, Time now) override;
  void on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& icmp) override;
  void on_udp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& udp, ByteView payload) override;
  std::vector<trace::Field> summary() const override;

  uint32_t sent() const { return sent_; }
  uint32_t send_errors() const { return send_errors_; }
  uint32_t icmp_errors() const { return icmp_errors_; }
  uint32_t port_unreachable() const { return port_unreachable_; }
  uint16_t local_port() const { return sport_; }
  bool finished() const { return done_; }

 private:
  void send_next(stack::Host& host, Time now);
  void finish(stack::Host& host, Time now);

  UdpFlowConfig cfg_;
  uint16_t sport_ = 0;
  uint32_t sent_ = 0;
  uint64_t bytes_sent_ = 0;
  uint32_t send_errors_ = 0;
  uint32_t icmp_errors_ = 0;
  uint32_t port_unreachable_ = 0;
  std::optional<Time> next_send_;
  Time first_send_{};
  bool done_ = false;
};

class UdpFlowReceiver : public stack::App, public stack::UdpHandler {
 public:
  explicit UdpFlowReceiver(UdpFlowConfig cfg);

  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "udp_receiver"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override { return report_at_; }
  void handle_timeout(stack::Host& host, Time now) override;
  void on_udp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& udp, ByteView payload) override;
  std::vector<trace::Field> summary() const override;

  uint32_t expected() const { return cfg_.count; }
  uint32_t received() const { return received_; }
  uint32_t lost() const { return cfg_.count - received_; }
  uint32_t reordered() const { return reordered_; }
  uint32_t duplicated() const { return duplicated_; }
  uint32_t malformed() const { return malformed_; }
  uint64_t bytes_received() const { return bytes_; }
  /// One-way delay over the distinct datagrams received; nullopt if none arrived.
  std::optional<Duration> delay_min() const;
  std::optional<Duration> delay_avg() const;
  std::optional<Duration> delay_max() const;
  bool reported() const { return reported_; }

 private:
  void report(stack::Host& host, Time now);

  UdpFlowConfig cfg_;
  std::vector<bool> seen_;
  uint32_t received_ = 0;
  uint32_t reordered_ = 0;
  uint32_t duplicated_ = 0;
  uint32_t malformed_ = 0;  // too short, or a sequence number >= count
  uint64_t bytes_ = 0;
  int64_t highest_ = -1;
  int64_t delay_min_ = INT64_MAX, delay_max_ = INT64_MIN;
  int64_t delay_sum_ = 0;
  Time first_rx_{}, last_rx_{};
  std::optional<Ipv4Addr> peer_;
  uint16_t peer_port_ = 0;
  std::optional<Time> report_at_;
  bool reported_ = false;
};

}  // namespace mz::app
