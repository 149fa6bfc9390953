#include "megzawicol/app/traceroute.hpp"

#include <algorithm>
#include <cstdio>

#include "megzawicol/wire/ipv4.hpp"

namespace mz::app {

using trace::Layer;

namespace {

std::string ms3(Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", d.to_millis());
  return b;
}

// Linux traceroute's annotation of a destination unreachable, "" for port unreachable.
std::string unreachable_mark(const TracerouteProbe& p) {
  if (p.icmp_type != wire::icmptype::kDestUnreachable) return {};
  switch (p.icmp_code) {
    case wire::icmpcode::kPortUnreachable: return {};
    case wire::icmpcode::kNetUnreachable: return " !N";
    case wire::icmpcode::kHostUnreachable: return " !H";
    case wire::icmpcode::kProtocolUnreachable: return " !P";
    case wire::icmpcode::kFragNeeded: return " !F";
    default: return " !<" + std::to_string(p.icmp_code) + ">";
  }
}

}  // namespace

std::optional<Ipv4Addr> TracerouteHop::address() const {
  for (const auto& p : probes)
    if (p.answered) return p.from;
  return std::nullopt;
}

void Traceroute::start(stack::Host& host, Time now) {
  sport_ = host.udp_ephemeral_port();
  if (sport_ == 0 || !host.udp_bind(sport_, this)) {
    print("traceroute: bind failed: no free ephemeral port");
    done_ = true;
    return;
  }
  next_send_ = std::max(now, cfg_.start);
}

std::optional<Time> Traceroute::poll_timeout() const {
  if (done_) return std::nullopt;
  if (next_send_) return next_send_;
  return deadline_;
}

void Traceroute::handle_timeout(stack::Host& host, Time now) {
  if (done_) return;
  if (next_send_ && *next_send_ <= now) {
    send_probe(host, now);
    return;
  }
  if (deadline_ && *deadline_ <= now) {
    deadline_.reset();
    const auto& p = hops_.back().probes.back();
    host.trace(now, Layer::Application, "traceroute_timeout",
               cfg_.name + ": no answer to the probe with TTL " + std::to_string(hops_.back().ttl) + " to port " +
                   std::to_string(p.dport) + " within " + format_duration(cfg_.timeout),
               {{"ttl", uint64_t{hops_.back().ttl}}, {"dport", uint64_t{p.dport}}});
    probe_done(host, now);
  }
}

void Traceroute::send_probe(stack::Host& host, Time now) {
  next_send_.reset();
  if (sent_ == 0) {
    const std::string head = "traceroute to " + cfg_.target.to_string() + " (" + cfg_.target.to_string() + "), " +
                             std::to_string(cfg_.max_ttl) + " hops max, " +
                             std::to_string(cfg_.size + wire::kUdpHeaderLen + wire::kIpv4MinHeaderLen) +
                             " byte packets";
    print(head);
    host.trace(now, Layer::Application, "traceroute_start", cfg_.name + ": " + head);
  }
  if (hops_.empty() || hops_.back().probes.size() >= cfg_.probes) {
    TracerouteHop h;
    h.ttl = static_cast<uint8_t>(hops_.size() + 1);
    hops_.push_back(h);
  }
  auto& hop = hops_.back();
  TracerouteProbe p;
  p.dport = static_cast<uint16_t>(cfg_.base_port + sent_);
  hop.probes.push_back(p);
  ++sent_;
  Bytes data(cfg_.size);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(0x40 + i);
  host.trace(now, Layer::Application, "traceroute_probe",
             cfg_.name + ": probe " + std::to_string(hop.probes.size()) + " of TTL " + std::to_string(hop.ttl) +
                 " to " + cfg_.target.to_string() + ":" + std::to_string(p.dport),
             {{"ttl", uint64_t{hop.ttl}}, {"dport", uint64_t{p.dport}}});
  const auto st = host.udp_send(now, sport_, cfg_.target, p.dport, PacketBuf::from(data), hop.ttl);
  if (st == stack::Host::SendStatus::NoRoute || st == stack::Host::SendStatus::TooBig) {
    print(st == stack::Host::SendStatus::NoRoute ? "traceroute: connect: Network is unreachable"
                                                 : "traceroute: send: Message too long");
    done_ = true;
    return;
  }
  sent_at_ = now;
  deadline_ = now + cfg_.timeout;
}

void Traceroute::on_icmp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& m) {
  if (done_ || !deadline_ || hops_.empty()) return;
  const bool ttl_exceeded = m.type == wire::icmptype::kTimeExceeded && m.code == wire::icmpcode::kTtlExceeded;
  if (!ttl_exceeded && m.type != wire::icmptype::kDestUnreachable) return;
  // The quote: our probe's IP header, then its UDP header (ports first).
  const ByteView q = m.data;
  if (q.size() < wire::kIpv4MinHeaderLen || (q[0] >> 4) != 4) return;
  const size_t hl = size_t{q[0] & 0x0fu} * 4;
  if (hl < wire::kIpv4MinHeaderLen || q.size() < hl + 4 || q[9] != wire::ipproto::kUdp) return;
  if (Ipv4Addr{load_be32(q.data() + 16)} != cfg_.target) return;
  auto& p = hops_.back().probes.back();
  if (load_be16(q.data() + hl) != sport_ || load_be16(q.data() + hl + 2) != p.dport) return;
  p.answered = true;
  p.from = ip.src;
  p.rtt = now - sent_at_;
  p.icmp_type = m.type;
  p.icmp_code = m.code;
  ++replies_;
  deadline_.reset();
  if (m.type == wire::icmptype::kDestUnreachable) {
    stop_after_hop_ = true;
    if (m.code == wire::icmpcode::kPortUnreachable) reached_ = true;
  }
  host.trace(now, Layer::Application, "traceroute_answer",
             cfg_.name + ": probe to port " + std::to_string(p.dport) + " with TTL " +
                 std::to_string(hops_.back().ttl) + " answered by " + ip.src.to_string() + " (" + m.describe() +
                 ") after " + ms3(p.rtt) + " ms",
             {{"ttl", uint64_t{hops_.back().ttl}},
              {"from", ip.src.to_string()},
              {"rtt_ns", p.rtt.ns},
              {"type", uint64_t{m.type}},
              {"code", uint64_t{m.code}}});
  probe_done(host, now);
}

void Traceroute::on_udp(stack::Host&, Time, const wire::Ipv4Repr&, const wire::UdpRepr&, ByteView) {
  // Answers come as ICMP; the port is bound only so that no one else uses it.
}

void Traceroute::probe_done(stack::Host& host, Time now) {
  const auto& hop = hops_.back();
  if (hop.probes.size() < cfg_.probes) {
    next_send_ = now;
    return;
  }
  print_hop(host, now, hop);
  if (stop_after_hop_ || hop.ttl >= cfg_.max_ttl) {
    done_ = true;
    host.trace(now, Layer::Application, "traceroute_done",
               cfg_.name + ": " + (reached_ ? "reached " + cfg_.target.to_string() + " in " + std::to_string(hop.ttl) + " hops"
                                            : std::string("stopped at TTL ") + std::to_string(hop.ttl) +
                                                  (stop_after_hop_ ? " (unreachable)" : " (max_ttl)")),
               {{"hops", uint64_t{hop.ttl}}, {"reached", reached_}});
    return;
  }
  next_send_ = now;
}

void Traceroute::print_hop(stack::Host& host, Time now, const TracerouteHop& hop) {
  char b[8];
  std::snprintf(b, sizeof b, "%2u ", static_cast<unsigned>(hop.ttl));
  std::string line = b;
  std::optional<Ipv4Addr> last;
  for (const auto& p : hop.probes) {
    if (!p.answered) {
      line += " *";
      continue;
    }
    if (!last || *last != p.from) {
      line += " " + p.from.to_string();
      last = p.from;
    }
    line += "  " + ms3(p.rtt) + " ms" + unreachable_mark(p);
  }
  print(line);
  host.trace(now, Layer::Application, "traceroute_hop", cfg_.name + ": " + line, {{"ttl", uint64_t{hop.ttl}}});
}

std::vector<trace::Field> Traceroute::summary() const {
  std::string path;
  for (const auto& h : hops_) {
    if (!path.empty()) path += " ";
    const auto a = h.address();
    path += a ? a->to_string() : "*";
  }
  std::vector<trace::Field> f{{"target", cfg_.target.to_string()},
                              {"reached", reached_},
                              {"hops", uint64_t{hops_.size()}},
                              {"probes_sent", uint64_t{sent_}},
                              {"replies", uint64_t{replies_}},
                              {"path", path}};
  // The smallest RTT of each hop, in order ("rtt_min_ns_hop1", ...).
  for (const auto& h : hops_) {
    std::optional<int64_t> mn;
    for (const auto& p : h.probes)
      if (p.answered && (!mn || p.rtt.ns < *mn)) mn = p.rtt.ns;
    if (mn) f.push_back({"rtt_min_ns_hop" + std::to_string(h.ttl), *mn});
  }
  return f;
}

}  // namespace mz::app
