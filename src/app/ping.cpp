#include "megzawicol/app/ping.hpp"

#include <cmath>
#include <cstdio>

#include "megzawicol/wire/ipv4.hpp"

namespace mz::app {

using trace::Layer;

namespace {

std::string ms(Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", d.to_millis());
  return b;
}

}  // namespace

void Ping::start(stack::Host& host, Time now) {
  started_ = true;
  next_send_ = std::max(now, cfg_.start);
  (void)host;
}

std::optional<Time> Ping::poll_timeout() const {
  if (done_) return std::nullopt;
  if (next_send_) return next_send_;
  return end_at_;
}

void Ping::handle_timeout(stack::Host& host, Time now) {
  if (done_) return;
  if (next_send_ && *next_send_ <= now) {
    send_next(host, now);
    return;
  }
  if (end_at_ && *end_at_ <= now) finish(host, now);
}

void Ping::send_next(stack::Host& host, Time now) {
  if (sent_ == 0) {
    first_send_ = now;
    const std::string head = "PING " + cfg_.target.to_string() + " " + std::to_string(cfg_.size) + "(" +
                             std::to_string(cfg_.size + 28) + ") bytes of data.";
    print(head);
    host.trace(now, Layer::Application, "ping_start", head);
  }
  const uint16_t seq = static_cast<uint16_t>(sent_ + 1);
  // Data: the send time (8 bytes, like ping's timestamp), then the classic 0x10.. pattern.
  Bytes data(cfg_.size);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i < 8 ? (now.ns >> (8 * (7 - i))) : (0x10 + i - 8));
  wire::IcmpRepr req;
  req.type = wire::icmptype::kEchoRequest;
  req.ident = cfg_.ident;
  req.seq = seq;
  req.data = data;
  PacketBuf p = wire::make_icmp(req);
  wire::Ipv4Repr h;
  h.ttl = 0;  // the host's default TTL
  h.protocol = wire::ipproto::kIcmp;
  h.dst = cfg_.target;
  h.dont_frag = cfg_.dont_fragment;
  ++sent_;
  outstanding_[seq] = now;
  host.trace(now, Layer::Application, "ping_send",
             "echo request icmp_seq=" + std::to_string(seq) + " to " + cfg_.target.to_string() + ", " +
                 std::to_string(cfg_.size) + " data bytes",
             {{"seq", uint64_t{seq}}, {"target", cfg_.target.to_string()}, {"size", uint64_t{cfg_.size}}});
  auto st = host.send_ip(now, h, std::move(p));
  if (st == stack::Host::SendStatus::NoRoute) {
    ++errors_;
    print("ping: sendmsg: Network is unreachable");
  } else if (st == stack::Host::SendStatus::TooBig) {
    ++errors_;
    print("ping: sendmsg: Message too long");
  }
  if (sent_ < cfg_.count) {
    next_send_ = now + cfg_.interval;
  } else {
    next_send_.reset();
    end_at_ = now + cfg_.timeout;
  }
}

void Ping::on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& m) {
  if (done_ || !started_) return;
  if (m.type == wire::icmptype::kEchoReply) {
    if (m.ident != cfg_.ident) return;
    auto it = outstanding_.find(m.seq);
    if (it == outstanding_.end()) {
      if (answered_.count(m.seq)) {
        ++duplicates_;
        print(std::to_string(m.data.size() + 8) + " bytes from " + ip.src.to_string() + ": icmp_seq=" +
              std::to_string(m.seq) + " ttl=" + std::to_string(ip.ttl) + " (DUP!)");
      }
      return;
    }
    const Duration rtt = now - it->second;
    if (rtt > cfg_.timeout) {
      ++late_;
      host.trace(now, Layer::Application, "ping_late",
                 "echo reply icmp_seq=" + std::to_string(m.seq) + " came after the timeout (" + ms(rtt) + " ms), counted as lost");
      answered_[m.seq] = it->second;
      outstanding_.erase(it);
      return;
    }
    answered_[m.seq] = it->second;
    outstanding_.erase(it);
    replies_.push_back(PingReply{m.seq, rtt, ip.ttl});
    const std::string line = std::to_string(m.data.size() + 8) + " bytes from " + ip.src.to_string() +
                             ": icmp_seq=" + std::to_string(m.seq) + " ttl=" + std::to_string(ip.ttl) +
                             " time=" + ms(rtt) + " ms";
    print(line);
    host.trace(now, Layer::Application, "ping_reply", line,
               {{"seq", uint64_t{m.seq}}, {"rtt_ns", rtt.ns}, {"ttl", uint64_t{ip.ttl}}});
    if (outstanding_.empty() && !next_send_) finish(host, now);
    return;
  }
  // An ICMP error quoting one of our echo requests.
  if (m.type == wire::icmptype::kDestUnreachable || m.type == wire::icmptype::kTimeExceeded) {
    auto q = wire::parse_ipv4(m.data);
    if (!q.ok() && m.data.size() < 28) return;
    ByteView inner = m.data.size() >= 20 ? m.data.subspan((m.data[0] & 0x0f) * 4u) : ByteView{};
    if (inner.size() < 8 || inner[0] != wire::icmptype::kEchoRequest) return;
    const uint16_t ident = load_be16(inner.data() + 4);
    const uint16_t seq = load_be16(inner.data() + 6);
    if (ident != cfg_.ident) return;
    ++errors_;
    std::string what;
    if (m.type == wire::icmptype::kTimeExceeded) what = "Time to live exceeded";
    else if (m.code == wire::icmpcode::kHostUnreachable) what = "Destination Host Unreachable";
    else if (m.code == wire::icmpcode::kNetUnreachable) what = "Destination Net Unreachable";
    else if (m.code == wire::icmpcode::kFragNeeded) what = "Frag needed and DF set (mtu = " + std::to_string(m.next_hop_mtu) + ")";
    else what = "Destination Unreachable (code " + std::to_string(m.code) + ")";
    const std::string line = "From " + ip.src.to_string() + " icmp_seq=" + std::to_string(seq) + " " + what;
    print(line);
    host.trace(now, Layer::Application, "ping_error", line, {{"seq", uint64_t{seq}}});
    outstanding_.erase(seq);
    if (outstanding_.empty() && !next_send_) finish(host, now);
  }
}

void Ping::finish(stack::Host& host, Time now) {
  if (done_) return;
  done_ = true;
  end_at_.reset();
  const uint32_t recv = received();
  const double loss = sent_ ? 100.0 * (sent_ - recv) / sent_ : 0.0;
  char buf[256];
  print("");
  print("--- " + cfg_.target.to_string() + " ping statistics ---");
  std::snprintf(buf, sizeof buf, "%u packets transmitted, %u received,%s%s %g%% packet loss, time %lldms", sent_, recv,
                duplicates_ ? (" +" + std::to_string(duplicates_) + " duplicates,").c_str() : "",
                errors_ ? (" +" + std::to_string(errors_) + " errors,").c_str() : "", loss,
                static_cast<long long>((now - first_send_).ns / 1000000));
  print(buf);
  host.trace(now, Layer::Application, "ping_done", buf,
             {{"transmitted", uint64_t{sent_}}, {"received", uint64_t{recv}}, {"loss_percent", loss}});
  if (recv) {
    double mn = 1e300, mx = 0, sum = 0, sum2 = 0;
    for (const auto& r : replies_) {
      const double v = r.rtt.to_millis();
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      sum += v;
      sum2 += v * v;
    }
    const double avg = sum / recv;
    const double mdev = std::sqrt(std::max(0.0, sum2 / recv - avg * avg));
    std::snprintf(buf, sizeof buf, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", mn, avg, mx, mdev);
    print(buf);
  }
}

std::vector<trace::Field> Ping::summary() const {
  std::vector<trace::Field> f{{"target", cfg_.target.to_string()},
                              {"transmitted", uint64_t{sent_}},
                              {"received", uint64_t{received()}},
                              {"errors", uint64_t{errors_}},
                              {"duplicates", uint64_t{duplicates_}},
                              {"late", uint64_t{late_}},
                              {"loss_percent", sent_ ? 100.0 * (sent_ - received()) / sent_ : 0.0}};
  if (!replies_.empty()) {
    int64_t mn = INT64_MAX, mx = 0, sum = 0;
    for (const auto& r : replies_) {
      mn = std::min(mn, r.rtt.ns);
      mx = std::max(mx, r.rtt.ns);
      sum += r.rtt.ns;
    }
    f.push_back({"rtt_min_ns", mn});
    f.push_back({"rtt_avg_ns", sum / static_cast<int64_t>(replies_.size())});
    f.push_back({"rtt_max_ns", mx});
  }
  return f;
}

}  // namespace mz::app
