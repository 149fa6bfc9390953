// Two TcpConnections joined by a simulated pipe, driven by a small event loop on
// virtual time.
//
// The pipe has, per direction: a bandwidth (each segment is serialised after the previous
// one, its size counted with `overhead` bytes of IP + Ethernet framing), a propagation delay,
// a drop-tail queue limit (in bytes waiting), and seeded loss, duplication and reordering
// (a reordered segment is held back by an extra random delay). Every segment goes through
// the real codec: emit_tcp on the way in, parse_tcp (checksum included) on the way out.
//
// A is created with connect(); B with accept() when A's first SYN arrives. The built-in
// application sends `data` from A, closes A when all of it is queued, reads everything
// at B and closes B after the peer's FIN.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l4/tcp_connection.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mz::l4::test {

struct PipeConfig {
  Duration delay = Duration::millis(10);  // one way
  uint64_t bandwidth_bps = 10'000'000;
  double loss = 0, duplicate = 0, reorder = 0;
  Duration reorder_extra = Duration::millis(5);  // up to this much extra delay when reordered
  uint64_t queue_limit_bytes = 256 * 1024;       // per direction, waiting for serialisation
  uint32_t overhead = 20 + 18;                   // IPv4 + Ethernet header and FCS
  bool lossy_acks = true;                        // apply loss / dup / reorder to B -> A too
};

class Pair {
 public:
  static constexpr Endpoint kA{Ipv4Addr{0x0a000001}, 49152};
  static constexpr Endpoint kB{Ipv4Addr{0x0a000002}, 80};

  Pair(const TcpConfig& a_cfg, const TcpConfig& b_cfg, PipeConfig pipe, uint64_t seed)
      : b_cfg_(b_cfg), pipe_(pipe), rng_{Rng::stream(seed, "a>b"), Rng::stream(seed, "b>a")} {
    a.emplace(TcpConnection::connect(now, kA, kB, a_cfg, 1000000));
  }

  // ---- the connections ----
  Time now = Time::zero();
  std::optional<TcpConnection> a, b;

  // ---- the built-in application ----
  Bytes data;          // what A sends
  Bytes received;      // what B read
  size_t queued = 0;   // bytes of `data` accepted by A
  bool close_a_when_sent = true, close_b_on_fin = true;
  std::optional<Time> established_at, done_at;  // B connected; B has read all of `data`
  std::vector<TcpEvent> a_events, b_events;

  // ---- observation ----
  /// Called for every segment put on the pipe (0: from A, 1: from B), before loss.
  std::function<void(int, const TcpConnection::Segment&)> on_transmit;
  uint64_t dropped = 0, duplicated = 0, reordered = 0, queue_drops = 0, parse_errors = 0;
  uint64_t steps = 0;

  /// Runs until `done()` or until `limit`; returns false if it stopped for another reason
  /// (the limit, or nothing left to do).
  bool run(const std::function<bool(Pair&)>& done, Time limit, uint64_t max_steps = 50'000'000) {
    while (steps < max_steps) {
      app();
      flush();
      if (done(*this)) return true;
      std::optional<Time> t = next_time();
      if (!t || *t > limit) return false;
      now = std::max(now, *t);
      ++steps;
      if (!q_.empty() && q_.top().at <= now) {
        InFlight f = q_.top();
        q_.pop();
        deliver(f);
      } else {
        for (auto* c : {&a, &b})
          if (*c && (*c)->poll_timeout() && *(*c)->poll_timeout() <= now) (*c)->handle_timeout(now);
      }
    }
    return false;
  }

  /// Runs the bulk transfer of `data` to completion (both sides Closed) or `limit`.
  bool run_transfer(Time limit) {
    return run([](Pair& p) {
      return p.a && p.b && p.a->state() == TcpState::Closed && p.b->state() == TcpState::Closed;
    }, limit);
  }

  template <class E>
  static size_t count(const std::vector<TcpEvent>& ev) {
    return static_cast<size_t>(std::count_if(ev.begin(), ev.end(), [](const TcpEvent& e) {
      return std::holds_alternative<E>(e);
    }));
  }

 private:
  struct InFlight {
    Time at;
    uint64_t order;
    int to;  // 0: A, 1: B
    Bytes bytes;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void app() {
    if (a && (a->state() == TcpState::Established || a->state() == TcpState::SynSent ||
              a->state() == TcpState::CloseWait)) {
      while (queued < data.size()) {
        const size_t n = a->send(ByteView(data).subspan(queued));
        if (n == 0) break;
        queued += n;
      }
      if (queued == data.size() && close_a_when_sent && a->state() == TcpState::Established) a->close();
    }
    if (b) {
      uint8_t buf[16384];
      while (size_t n = b->recv(buf)) received.insert(received.end(), buf, buf + n);
      if (!done_at && received.size() >= data.size() && !data.empty()) done_at = now;
    }
  }

  void drain_events(TcpConnection& c, std::vector<TcpEvent>& log, bool is_b) {
    while (auto e = c.poll_event()) {
      if (is_b && std::holds_alternative<tcp_event::Connected>(*e)) established_at = now;
      if (is_b && close_b_on_fin && std::holds_alternative<tcp_event::PeerFin>(*e)) pending_b_close_ = true;
      log.push_back(std::move(*e));
    }
  }

  void flush() {
    for (int round = 0; round < 4; ++round) {
      for (int side = 0; side < 2; ++side) {
        auto& c = side == 0 ? a : b;
        if (!c) continue;
        while (auto s = c->poll_transmit(now)) put(side, std::move(*s));
        drain_events(*c, side == 0 ? a_events : b_events, side == 1);
      }
      if (pending_b_close_ && b) {
        app();  // read what is left first
        pending_b_close_ = false;
        b->close();
        continue;
      }
      break;
    }
  }

  void put(int from, TcpConnection::Segment s) {
    if (on_transmit) on_transmit(from, s);
    const Endpoint& src = from == 0 ? kA : kB;
    const Endpoint& dst = from == 0 ? kB : kA;
    wire::emit_tcp(s.payload, s.repr, src.addr, dst.addr);
    const uint64_t size = s.payload.size() + pipe_.overhead;
    Rng& rng = rng_[from];
    const bool lossy = from == 0 || pipe_.lossy_acks;
    if (lossy && rng.bernoulli(pipe_.loss)) {
      ++dropped;
      return;
    }
    const int copies = lossy && rng.bernoulli(pipe_.duplicate) ? 2 : 1;
    duplicated += static_cast<uint64_t>(copies - 1);
    for (int k = 0; k < copies; ++k) {
      Time& free_at = link_free_[from];
      if (free_at < now) free_at = now;
      const uint64_t backlog_bytes =
          static_cast<uint64_t>((free_at - now).ns) * pipe_.bandwidth_bps / 8'000'000'000ull;
      if (backlog_bytes + size > pipe_.queue_limit_bytes) {
        ++queue_drops;
        continue;
      }
      free_at += Duration::nanos(static_cast<int64_t>(size * 8'000'000'000ull / pipe_.bandwidth_bps));
      Time at = free_at + pipe_.delay;
      if (lossy && rng.bernoulli(pipe_.reorder)) {
        ++reordered;
        at += Duration::nanos(static_cast<int64_t>(rng.uniform_int(0, static_cast<uint64_t>(pipe_.reorder_extra.ns))));
      }
      q_.push(InFlight{at, order_++, 1 - from, s.payload.to_bytes()});
    }
  }

  void deliver(const InFlight& f) {
    const Endpoint& src = f.to == 1 ? kA : kB;
    const Endpoint& dst = f.to == 1 ? kB : kA;
    auto p = wire::parse_tcp(f.bytes, src.addr, dst.addr);
    if (!p.ok()) {
      ++parse_errors;
      return;
    }
    if (f.to == 1 && !b) {
      if (p->repr.flags != wire::tcpflag::SYN) return;
      b.emplace(TcpConnection::accept(now, kB, kA, b_cfg_, 7000000, p->repr));
      return;
    }
    auto& c = f.to == 0 ? a : b;
    c->handle_segment(now, p->repr, p->payload);
  }

  std::optional<Time> next_time() const {
    std::optional<Time> t;
    if (!q_.empty()) t = q_.top().at;
    for (const auto* c : {&a, &b})
      if (*c)
        if (auto x = (*c)->poll_timeout(); x && (!t || *x < *t)) t = x;
    return t;
  }

  TcpConfig b_cfg_;
  PipeConfig pipe_;
  Rng rng_[2];
  Time link_free_[2] = {Time::zero(), Time::zero()};
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> q_;
  uint64_t order_ = 0;
  bool pending_b_close_ = false;
};

}  // namespace mz::l4::test
