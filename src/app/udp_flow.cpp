#include "megzawicol/app/udp_flow.hpp"

#include <algorithm>
#include <cstdio>

#include "megzawicol/wire/ipv4.hpp"

namespace mz::app {

using trace::Layer;

namespace {

// iperf's units: transfer in binary multiples of bytes, bandwidth in decimal bits/s.
std::string transfer_text(uint64_t bytes) {
  char b[32];
  if (bytes >= 1024ull * 1024 * 1024) std::snprintf(b, sizeof b, "%.2f GBytes", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024ull * 1024) std::snprintf(b, sizeof b, "%.2f MBytes", bytes / (1024.0 * 1024));
  else if (bytes >= 1024) std::snprintf(b, sizeof b, "%.1f KBytes", bytes / 1024.0);
  else std::snprintf(b, sizeof b, "%llu Bytes", static_cast<unsigned long long>(bytes));
  return b;
}

std::string bandwidth_text(uint64_t bytes, Duration d) {
  char b[32];
  if (d.ns <= 0) return "0.00 bits/sec";
  const double bps = static_cast<double>(bytes) * 8 / d.to_seconds();
  if (bps >= 1e9) std::snprintf(b, sizeof b, "%.2f Gbits/sec", bps / 1e9);
  else if (bps >= 1e6) std::snprintf(b, sizeof b, "%.2f Mbits/sec", bps / 1e6);
  else if (bps >= 1e3) std::snprintf(b, sizeof b, "%.2f Kbits/sec", bps / 1e3);
  else std::snprintf(b, sizeof b, "%.2f bits/sec", bps);
  return b;
}

std::string interval_text(Time from, Time to) {
  char b[48];
  std::snprintf(b, sizeof b, "%.4f-%.4f sec", from.to_seconds(), to.to_seconds());
  return b;
}

std::string ms3(int64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", static_cast<double>(ns) / 1e6);
  return b;
}

}  // namespace

Bytes udp_flow_payload(uint32_t size, uint32_t seq, Time now) {
  Bytes d(std::max<size_t>(size, kUdpFlowHeaderLen));  // the header always fits
  store_be32(d.data(), seq);
  store_be32(d.data() + 4, static_cast<uint32_t>(static_cast<uint64_t>(now.ns) >> 32));
  store_be32(d.data() + 8, static_cast<uint32_t>(static_cast<uint64_t>(now.ns)));
  for (size_t i = kUdpFlowHeaderLen; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i + seq);
  return d;
}

// ---------------------------------------------------------------- sender

void UdpFlowSender::start(stack::Host& host, Time now) {
  sport_ = host.udp_ephemeral_port();
  if (sport_ == 0 || !host.udp_bind(sport_, this)) {
    print("udp: bind failed: no free ephemeral port");
    done_ = true;
    return;
  }
  next_send_ = std::max(now, cfg_.start);
}

void UdpFlowSender::handle_timeout(stack::Host& host, Time now) {
  if (done_ || !next_send_ || *next_send_ > now) return;
  send_next(host, now);
}

void UdpFlowSender::send_next(stack::Host& host, Time now) {
  if (sent_ == 0) {
    first_send_ = now;
    char ipg[64];
    std::snprintf(ipg, sizeof ipg, "%.2f us", static_cast<double>(cfg_.interval.ns) / 1e3);
    print("------------------------------------------------------------");
    print("Client connecting to " + cfg_.target.to_string() + ", UDP port " + std::to_string(cfg_.port));
    print("Sending " + std::to_string(cfg_.size) + " byte datagrams, IPG target: " + ipg +
          (cfg_.rate_bps ? " (rate " + bandwidth_text(cfg_.rate_bps / 8, Duration::seconds(1)) + ")" : std::string()));
    print("------------------------------------------------------------");
    const auto src = host.source_for(cfg_.target);
    const std::string line = "[  1] local " + (src ? src->to_string() : std::string("0.0.0.0")) + " port " +
                             std::to_string(sport_) + " connected with " + cfg_.target.to_string() + " port " +
                             std::to_string(cfg_.port);
    print(line);
    host.trace(now, Layer::Application, "udp_flow_start", cfg_.name + ": " + line,
               {{"sport", uint64_t{sport_}}, {"dport", uint64_t{cfg_.port}}, {"target", cfg_.target.to_string()}});
  }
  const uint32_t seq = sent_;
  const Bytes data = udp_flow_payload(cfg_.size, seq, now);
  ++sent_;
  bytes_sent_ += data.size();
  host.trace(now, Layer::Application, "udp_flow_send",
             cfg_.name + ": datagram seq " + std::to_string(seq) + ", " + std::to_string(data.size()) + " bytes to " +
                 cfg_.target.to_string() + ":" + std::to_string(cfg_.port),
             {{"seq", uint64_t{seq}}, {"size", uint64_t{data.size()}}});
  const auto st = host.udp_send(now, sport_, cfg_.target, cfg_.port, PacketBuf::from(data));
  if (st == stack::Host::SendStatus::NoRoute) {
    if (send_errors_++ == 0) print("write failed: Network is unreachable");
  } else if (st == stack::Host::SendStatus::TooBig) {
    if (send_errors_++ == 0) print("write failed: Message too long");
  }
  if (sent_ < cfg_.count) {
    next_send_ = now + cfg_.interval;
  } else {
    next_send_.reset();
    finish(host, now);
  }
}

void UdpFlowSender::finish(stack::Host& host, Time now) {
  if (done_) return;
  done_ = true;
  // The sending period: count intervals (the last datagram "occupies" one interval).
  const Time end = first_send_ + cfg_.interval * static_cast<int64_t>(sent_);
  print("[ ID] Interval            Transfer     Bandwidth");
  const std::string line = "[  1] " + interval_text(first_send_, end) + "  " + transfer_text(bytes_sent_) + "  " +
                           bandwidth_text(bytes_sent_, end - first_send_);
  print(line);
  print("[  1] Sent " + std::to_string(sent_) + " datagrams" +
        (send_errors_ ? ", " + std::to_string(send_errors_) + " not sent (errors)" : std::string()));
  host.trace(now, Layer::Application, "udp_flow_done", cfg_.name + ": " + line,
             {{"sent", uint64_t{sent_}}, {"bytes", bytes_sent_}});
}

void UdpFlowSender::on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& m) {
  if (sport_ == 0) return;
  if (m.type != wire::icmptype::kDestUnreachable && m.type != wire::icmptype::kTimeExceeded) return;
  // The quote: the IP header of one of our datagrams, then (at least) its UDP ports.
  const ByteView q = m.data;
  if (q.size() < wire::kIpv4MinHeaderLen || (q[0] >> 4) != 4) return;
  const size_t hl = size_t{q[0] & 0x0fu} * 4;
  if (hl < wire::kIpv4MinHeaderLen || q.size() < hl + 4 || q[9] != wire::ipproto::kUdp) return;
  if (Ipv4Addr{load_be32(q.data() + 16)} != cfg_.target) return;
  if (load_be16(q.data() + hl) != sport_ || load_be16(q.data() + hl + 2) != cfg_.port) return;
  ++icmp_errors_;
  std::string what;
  if (m.type == wire::icmptype::kDestUnreachable && m.code == wire::icmpcode::kPortUnreachable) {
    ++port_unreachable_;
    what = "Connection refused";
  } else if (m.type == wire::icmptype::kTimeExceeded) {
    what = "Time to live exceeded";
  } else if (m.code == wire::icmpcode::kHostUnreachable) {
    what = "No route to host";
  } else if (m.code == wire::icmpcode::kNetUnreachable) {
    what = "Network is unreachable";
  } else if (m.code == wire::icmpcode::kFragNeeded) {
    what = "Message too long";
  } else {
    what = "Destination unreachable (code " + std::to_string(m.code) + ")";
  }
  host.trace(now, Layer::Application, "udp_flow_icmp",
             cfg_.name + ": ICMP " + m.describe() + " from " + ip.src.to_string() + ": " + what,
             {{"type", uint64_t{m.type}}, {"code", uint64_t{m.code}}, {"from", ip.src.to_string()}});
  if (icmp_errors_ == 1) print("read failed: " + what + " (ICMP from " + ip.src.to_string() + ")");
}

void UdpFlowSender::on_udp(stack::Host&, Time, const wire::Ipv4Repr&, const wire::UdpRepr&, ByteView) {
  // Nothing is expected back; the port is bound so that the flow owns it.
}

std::vector<trace::Field> UdpFlowSender::summary() const {
  return {{"target", cfg_.target.to_string()},
          {"port", uint64_t{cfg_.port}},
          {"local_port", uint64_t{sport_}},
          {"size", uint64_t{cfg_.size}},
          {"interval_ns", cfg_.interval.ns},
          {"sent", uint64_t{sent_}},
          {"bytes_sent", bytes_sent_},
          {"send_errors", uint64_t{send_errors_}},
          {"icmp_errors", uint64_t{icmp_errors_}},
          {"port_unreachable", uint64_t{port_unreachable_}}};
}

// ---------------------------------------------------------------- receiver

UdpFlowReceiver::UdpFlowReceiver(UdpFlowConfig cfg) : cfg_(std::move(cfg)), seen_(cfg_.count, false) {}

void UdpFlowReceiver::start(stack::Host& host, Time now) {
  const int64_t span = cfg_.count ? static_cast<int64_t>(cfg_.count - 1) : 0;
  report_at_ = std::max(now, cfg_.start) + cfg_.interval * span + cfg_.linger;
  const std::string line = "Server listening on UDP port " + std::to_string(cfg_.port);
  print("------------------------------------------------------------");
  print(line);
  print("------------------------------------------------------------");
  host.trace(now, Layer::Application, "udp_flow_listen", cfg_.name + ": " + line, {{"port", uint64_t{cfg_.port}}});
}

void UdpFlowReceiver::handle_timeout(stack::Host& host, Time now) {
  if (report_at_ && *report_at_ <= now) report(host, now);
}

void UdpFlowReceiver::on_udp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& u,
                             ByteView payload) {
  if (payload.size() < kUdpFlowHeaderLen) {
    ++malformed_;
    host.trace(now, Layer::Application, "udp_flow_malformed",
               cfg_.name + ": datagram of " + std::to_string(payload.size()) + " bytes is too short for a sequence number and a timestamp");
    return;
  }
  const uint32_t seq = load_be32(payload.data());
  const int64_t sent_ns =
      static_cast<int64_t>((static_cast<uint64_t>(load_be32(payload.data() + 4)) << 32) | load_be32(payload.data() + 8));
  if (seq >= cfg_.count) {
    ++malformed_;
    host.trace(now, Layer::Application, "udp_flow_malformed",
               cfg_.name + ": sequence number " + std::to_string(seq) + " is outside the flow (count " +
                   std::to_string(cfg_.count) + ")");
    return;
  }
  if (!peer_) {
    peer_ = ip.src;
    peer_port_ = u.src_port;
    first_rx_ = now;
    print("[  1] local " + ip.dst.to_string() + " port " + std::to_string(cfg_.port) + " connected with " +
          ip.src.to_string() + " port " + std::to_string(u.src_port));
  }
  const int64_t delay = now.ns - sent_ns;
  std::string what;
  if (seen_[seq]) {
    ++duplicated_;
    what = "duplicate";
  } else {
    seen_[seq] = true;
    ++received_;
    bytes_ += payload.size();
    last_rx_ = now;
    delay_min_ = std::min(delay_min_, delay);
    delay_max_ = std::max(delay_max_, delay);
    delay_sum_ += delay;
    if (static_cast<int64_t>(seq) < highest_) {
      ++reordered_;
      what = "out of order (highest so far " + std::to_string(highest_) + ")";
    } else {
      highest_ = seq;
      what = "in order";
    }
  }
  if (host.tracing()) {
    host.trace(now, Layer::Application, "udp_flow_recv",
               cfg_.name + ": datagram seq " + std::to_string(seq) + ", " + std::to_string(payload.size()) +
                   " bytes, one-way delay " + format_duration(Duration{delay}) + ", " + what,
               {{"seq", uint64_t{seq}}, {"delay_ns", delay}, {"size", uint64_t{payload.size()}}});
  }
  if (received_ == cfg_.count && !reported_) report(host, now);
}

std::optional<Duration> UdpFlowReceiver::delay_min() const {
  if (!received_) return std::nullopt;
  return Duration{delay_min_};
}
std::optional<Duration> UdpFlowReceiver::delay_max() const {
  if (!received_) return std::nullopt;
  return Duration{delay_max_};
}
std::optional<Duration> UdpFlowReceiver::delay_avg() const {
  if (!received_) return std::nullopt;
  return Duration{delay_sum_ / static_cast<int64_t>(received_)};
}

void UdpFlowReceiver::report(stack::Host& host, Time now) {
  if (reported_) return;
  reported_ = true;
  report_at_.reset();
  char loss[64];
  std::snprintf(loss, sizeof loss, "%u/%u (%.2g%%)", lost(), cfg_.count,
                cfg_.count ? 100.0 * lost() / cfg_.count : 0.0);
  print("[ ID] Interval            Transfer     Bandwidth        Lost/Total Datagrams  Delay min/avg/max");
  std::string line = "[  1] " + interval_text(first_rx_, last_rx_) + "  " + transfer_text(bytes_) + "  " +
                     bandwidth_text(bytes_, last_rx_ - first_rx_) + "  " + loss + "  ";
  if (received_) line += ms3(delay_min_) + "/" + ms3(delay_avg()->ns) + "/" + ms3(delay_max_) + " ms";
  else line += "-/-/- ms";
  print(line);
  if (reordered_) print("[  1] " + std::to_string(reordered_) + " datagrams received out-of-order");
  if (duplicated_) print("[  1] " + std::to_string(duplicated_) + " duplicate datagrams");
  host.trace(now, Layer::Application, "udp_flow_report", cfg_.name + ": " + line,
             {{"received", uint64_t{received_}},
              {"lost", uint64_t{lost()}},
              {"reordered", uint64_t{reordered_}},
              {"duplicated", uint64_t{duplicated_}}});
}

std::vector<trace::Field> UdpFlowReceiver::summary() const {
  std::vector<trace::Field> f{{"port", uint64_t{cfg_.port}},
                              {"expected", uint64_t{cfg_.count}},
                              {"received", uint64_t{received_}},
                              {"lost", uint64_t{lost()}},
                              {"loss_percent", cfg_.count ? 100.0 * lost() / cfg_.count : 0.0},
                              {"reordered", uint64_t{reordered_}},
                              {"duplicated", uint64_t{duplicated_}},
                              {"malformed", uint64_t{malformed_}},
                              {"bytes_received", bytes_}};
  if (peer_) f.push_back({"peer", peer_->to_string() + ":" + std::to_string(peer_port_)});
  if (received_) {
    f.push_back({"delay_min_ns", delay_min_});
    f.push_back({"delay_avg_ns", delay_avg()->ns});
    f.push_back({"delay_max_ns", delay_max_});
  }
  return f;
}

}  // namespace mz::app
