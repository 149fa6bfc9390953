// ping: ICMP echo requests at an interval, reporting each reply's round-trip time and,
// at the end, the statistics block of the real ping (transmitted, received, loss,
// rtt min/avg/max/mdev).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/stack/host.hpp"

namespace mz::app {

struct PingConfig {
  std::string name = "ping";
  Ipv4Addr target;
  uint32_t count = 4;
  Duration interval = Duration::seconds(1);
  uint32_t size = 56;  // ICMP data bytes
  Duration timeout = Duration::seconds(1);
  Time start = Time::zero();
  uint16_t ident = 1;
  bool dont_fragment = false;  // DF on every request (ping -M do)
};

struct PingReply {
  uint16_t seq;
  Duration rtt;
  uint8_t ttl;
};

class Ping : public stack::App {
 public:
  explicit Ping(PingConfig cfg) : cfg_(std::move(cfg)) {}

  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "ping"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override;
  void handle_timeout(stack::Host& host, Time now) override;
  void on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& icmp) override;
  std::vector<trace::Field> summary() const override;

  uint32_t transmitted() const { return sent_; }
  uint32_t received() const { return static_cast<uint32_t>(replies_.size()); }
  uint32_t errors() const { return errors_; }
  const std::vector<PingReply>& replies() const { return replies_; }
  bool finished() const { return done_; }

 private:
  void send_next(stack::Host& host, Time now);
  void finish(stack::Host& host, Time now);

  PingConfig cfg_;
  uint32_t sent_ = 0;
  uint32_t errors_ = 0;
  uint32_t duplicates_ = 0;
  uint32_t late_ = 0;
  std::map<uint16_t, Time> outstanding_;  // seq -> send time
  std::map<uint16_t, Time> answered_;     // seq -> send time (for duplicates)
  std::vector<PingReply> replies_;
  std::optional<Time> next_send_;
  std::optional<Time> end_at_;
  Time first_send_{};
  bool started_ = false;
  bool done_ = false;
};

}  // namespace mz::app
