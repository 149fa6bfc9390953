// The host's TCP layer: listeners, connection demultiplexing, resets for closed ports,
// and the glue between each l4::TcpConnection and IPv4.
#include <cstdio>

#include "megzawicol/stack/host.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mz::stack {

using trace::Field;
using trace::Layer;

uint16_t Host::mss_for(Ipv4Addr dst) const {
  auto r = routes_.lookup(dst);
  const uint32_t mtu = r ? ifaces_[r->ifindex].cfg.mtu : 576;
  return static_cast<uint16_t>(mtu > 40 ? mtu - 40 : 536);
}

uint16_t Host::tcp_ephemeral_port(Ipv4Addr dst, uint16_t dport) {
  if (next_tcp_ephemeral_ == 0) next_tcp_ephemeral_ = static_cast<uint16_t>(rng_.uniform_int(49152, 65535));
  const auto src = source_for(dst);
  for (int tries = 0; tries < 16384; ++tries) {
    const uint16_t p = next_tcp_ephemeral_;
    next_tcp_ephemeral_ = next_tcp_ephemeral_ == 65535 ? 49152 : static_cast<uint16_t>(next_tcp_ephemeral_ + 1);
    if (tcp_listeners_.count(p)) continue;
    if (tcp_by_key_.count(TcpKey{src.value_or(Ipv4Addr{}), p, dst, dport})) continue;
    return p;
  }
  return 0;
}

bool Host::tcp_listen(uint16_t port, TcpHandler* h, const l4::TcpConfig& cfg, size_t backlog) {
  if (port == 0 || tcp_listeners_.count(port)) return false;
  tcp_listeners_.emplace(port, TcpListener{h, cfg, backlog});
  return true;
}

std::optional<ConnId> Host::tcp_connect(Time now, Ipv4Addr dst, uint16_t dport, TcpHandler* h, l4::TcpConfig cfg) {
  const auto src = source_for(dst);
  if (!src) {
    ++ctr_.drop_no_route;
    trace(now, Layer::Transport, "no_route", "TCP connect to " + dst.to_string() + ": network unreachable");
    return std::nullopt;
  }
  const uint16_t sport = tcp_ephemeral_port(dst, dport);
  if (sport == 0) return std::nullopt;
  cfg.mss = std::min(cfg.mss, mss_for(dst));
  const ConnId id = next_conn_id_++;
  const TcpKey key{*src, sport, dst, dport};
  const auto isn = rng_.next_u32();
  auto conn = l4::TcpConnection::connect(now, {*src, sport}, {dst, dport}, cfg, isn);
  tcp_conns_.emplace(id, TcpEntry{id, key, std::move(conn), h, false});
  tcp_by_key_[key] = id;
  ++ctr_.tcp_conns_opened;
  trace(now, Layer::Transport, "connect",
        "opening a TCP connection " + src->to_string() + ":" + std::to_string(sport) + " -> " + dst.to_string() + ":" +
            std::to_string(dport) + " (MSS " + std::to_string(cfg.mss) + ")",
        {{"conn", uint64_t{id}}});
  tcp_service(now);
  return id;
}

l4::TcpConnection* Host::tcp(ConnId id) {
  auto it = tcp_conns_.find(id);
  return it == tcp_conns_.end() ? nullptr : &it->second.conn;
}
const l4::TcpConnection* Host::tcp(ConnId id) const {
  auto it = tcp_conns_.find(id);
  return it == tcp_conns_.end() ? nullptr : &it->second.conn;
}

size_t Host::tcp_send(Time now, ConnId id, ByteView data) {
  auto* c = tcp(id);
  if (!c) return 0;
  const size_t n = c->send(data);
  tcp_service(now);
  return n;
}

size_t Host::tcp_send(Time now, ConnId id, std::span<const ByteView> parts) {
  auto* c = tcp(id);
  if (!c) return 0;
  size_t n = 0;
  for (const ByteView part : parts) {
    const size_t took = c->send(part);
    n += took;
    if (took < part.size()) break;
  }
  tcp_service(now);
  return n;
}

size_t Host::tcp_recv(Time now, ConnId id, MutByteView out) {
  auto* c = tcp(id);
  if (!c) return 0;
  const size_t n = c->recv(out);
  if (n) tcp_service(now);  // a window update may be due
  return n;
}

void Host::tcp_close(Time now, ConnId id) {
  if (auto* c = tcp(id)) {
    c->close();
    tcp_service(now);
  }
}

void Host::tcp_abort(Time now, ConnId id) {
  if (auto* c = tcp(id)) {
    c->abort();
    tcp_service(now);
  }
}

void Host::tcp_input(Time now, const wire::Ipv4Repr& h, ByteView payload) {
  ++ctr_.tcp_in;
  auto parsed = wire::parse_tcp(payload, h.src, h.dst);
  if (!parsed) {
    const bool cks = parsed.error().message.find("checksum") != std::string::npos;
    if (cks) ++ctr_.drop_tcp_checksum; else ++ctr_.drop_tcp_malformed;
    trace(now, Layer::Transport, cks ? "bad_checksum" : "malformed_segment", "TCP segment dropped: " + parsed.error().message);
    return;
  }
  const auto& seg = parsed->repr;
  if (tracing()) {
    trace(now, Layer::Transport, "rx_segment",
          "received " + h.src.to_string() + ":" + std::to_string(seg.src_port) + " > " + h.dst.to_string() + ":" +
              std::to_string(seg.dst_port) + " " + seg.describe(parsed->payload.size()) + ", checksum ok",
          {{"sport", uint64_t{seg.src_port}},
           {"dport", uint64_t{seg.dst_port}},
           {"seq", uint64_t{seg.seq}},
           {"ack", uint64_t{seg.ack}},
           {"flags", uint64_t{seg.flags}},
           {"win", uint64_t{seg.window}},
           {"len", uint64_t{parsed->payload.size()}}});
  }
  const TcpKey key{h.dst, seg.dst_port, h.src, seg.src_port};
  if (auto it = tcp_by_key_.find(key); it != tcp_by_key_.end()) {
    tcp_conns_.at(it->second).conn.handle_segment(now, seg, parsed->payload);
    tcp_service(now);
    return;
  }
  const bool syn_only = (seg.flags & (wire::tcpflag::SYN | wire::tcpflag::ACK | wire::tcpflag::RST)) == wire::tcpflag::SYN;
  if (auto l = tcp_listeners_.find(seg.dst_port); l != tcp_listeners_.end() && syn_only) {
    size_t half_open = 0;
    for (const auto& [id, e] : tcp_conns_)
      if (e.accepted && e.key.lport == seg.dst_port && e.conn.state() == l4::TcpState::SynReceived) ++half_open;
    if (half_open >= l->second.backlog) {
      ++ctr_.drop_tcp_backlog;
      trace(now, Layer::Transport, "backlog_full",
            "SYN to port " + std::to_string(seg.dst_port) + " dropped: " + std::to_string(half_open) +
                " half-open connections already (backlog)");
      return;
    }
    l4::TcpConfig cfg = l->second.cfg;
    cfg.mss = std::min(cfg.mss, mss_for(h.src));
    const ConnId id = next_conn_id_++;
    auto conn = l4::TcpConnection::accept(now, {h.dst, seg.dst_port}, {h.src, seg.src_port}, cfg, rng_.next_u32(), seg);
    tcp_conns_.emplace(id, TcpEntry{id, key, std::move(conn), l->second.handler, true});
    tcp_by_key_[key] = id;
    ++ctr_.tcp_conns_accepted;
    trace(now, Layer::Transport, "accept",
          "SYN from " + h.src.to_string() + ":" + std::to_string(seg.src_port) + " to listening port " +
              std::to_string(seg.dst_port) + ": answering with SYN-ACK",
          {{"conn", uint64_t{id}}});
    tcp_service(now);
    return;
  }
  if (seg.flags & wire::tcpflag::RST) return;  // never answer a reset
  // RFC 9293 3.10.7.1: no connection: send a reset.
  wire::TcpRepr rst;
  rst.src_port = seg.dst_port;
  rst.dst_port = seg.src_port;
  if (seg.flags & wire::tcpflag::ACK) {
    rst.seq = seg.ack;
    rst.flags = wire::tcpflag::RST;
  } else {
    uint32_t len = static_cast<uint32_t>(parsed->payload.size());
    if (seg.flags & wire::tcpflag::SYN) ++len;
    if (seg.flags & wire::tcpflag::FIN) ++len;
    rst.seq = 0;
    rst.ack = seg.seq + len;
    rst.flags = wire::tcpflag::RST | wire::tcpflag::ACK;
  }
  ++ctr_.tcp_rst_out;
  trace(now, Layer::Transport, "rst",
        "no connection for " + h.dst.to_string() + ":" + std::to_string(seg.dst_port) + ": answering " +
            h.src.to_string() + ":" + std::to_string(seg.src_port) + " with " + rst.describe());
  PacketBuf p = PacketBuf::with_reserve(PacketBuf::kDefaultHeadroom, 0, PacketBuf::kDefaultTailroom);
  wire::emit_tcp(p, rst, h.dst, h.src);
  wire::Ipv4Repr ih;
  ih.ttl = 0;
  ih.protocol = wire::ipproto::kTcp;
  ih.src = h.dst;
  ih.dst = h.src;
  ++ctr_.tcp_out;
  send_ip(now, ih, std::move(p));
}

void Host::tcp_emit(Time now, const l4::TcpConnection& c, l4::TcpConnection::Segment seg) {
  const size_t len = seg.payload.size();
  if (tracing()) {
    trace(now, Layer::Transport, "tx_segment",
          "sending " + c.local().to_string() + " > " + c.remote().to_string() + " " + seg.repr.describe(len),
          {{"sport", uint64_t{seg.repr.src_port}},
           {"dport", uint64_t{seg.repr.dst_port}},
           {"seq", uint64_t{seg.repr.seq}},
           {"ack", uint64_t{seg.repr.ack}},
           {"flags", uint64_t{seg.repr.flags}},
           {"win", uint64_t{seg.repr.window}},
           {"len", uint64_t{len}}});
  }
  wire::emit_tcp(seg.payload, seg.repr, c.local().addr, c.remote().addr);
  wire::Ipv4Repr ih;
  ih.ttl = 0;
  ih.protocol = wire::ipproto::kTcp;
  ih.src = c.local().addr;
  ih.dst = c.remote().addr;
  // DF stays clear: the MSS fits the first hop, and a router before a smaller link
  // fragments the segment (which the receiver reassembles), so fragmentation is visible.
  // (Path MTU discovery, where DF is set and the MSS shrinks on "fragmentation needed",
  // is not implemented.)
  ih.dont_frag = false;
  ++ctr_.tcp_out;
  send_ip(now, ih, std::move(seg.payload));
}

void Host::tcp_trace_event(Time now, const l4::TcpConnection& c, const l4::TcpEvent& ev) {
  if (!tracing()) return;
  const std::string who = c.local().to_string() + " > " + c.remote().to_string();
  if (auto* s = std::get_if<l4::tcp_event::StateChanged>(&ev)) {
    trace(now, Layer::Transport, "state",
          "connection " + who + ": " + l4::tcp_state_name(s->from) + " -> " + l4::tcp_state_name(s->to),
          {{"from", std::string(l4::tcp_state_name(s->from))}, {"to", std::string(l4::tcp_state_name(s->to))}});
  } else if (auto* w = std::get_if<l4::tcp_event::CwndChanged>(&ev)) {
    trace(now, Layer::Transport, "cwnd",
          "connection " + who + ": cwnd " + std::to_string(w->cwnd) + " bytes, ssthresh " + std::to_string(w->ssthresh),
          {{"cwnd", uint64_t{w->cwnd}}, {"ssthresh", uint64_t{w->ssthresh}}});
  } else if (auto* r = std::get_if<l4::tcp_event::RttSample>(&ev)) {
    trace(now, Layer::Transport, "rtt",
          "connection " + who + ": RTT sample " + format_duration(r->rtt) + ", SRTT " + format_duration(r->srtt) +
              ", RTTVAR " + format_duration(r->rttvar) + ", RTO " + format_duration(r->rto),
          {{"rtt_ns", r->rtt.ns}, {"srtt_ns", r->srtt.ns}, {"rttvar_ns", r->rttvar.ns}, {"rto_ns", r->rto.ns}});
  } else if (auto* x = std::get_if<l4::tcp_event::Retransmit>(&ev)) {
    trace(now, Layer::Transport, "retransmit",
          "connection " + who + ": retransmitting seq " + std::to_string(x->seq.raw()) + " (" + std::to_string(x->len) +
              " bytes, " + l4::retransmit_reason_name(x->reason) + ")",
          {{"seq", uint64_t{x->seq.raw()}}, {"len", uint64_t{x->len}}, {"reason", std::string(l4::retransmit_reason_name(x->reason))}});
  } else if (auto* t = std::get_if<l4::tcp_event::TimedOut>(&ev)) {
    trace(now, Layer::Transport, "timed_out", "connection " + who + " failed: " + t->message);
  } else {
    trace(now, Layer::Transport, "event", "connection " + who + ": " + l4::describe(ev));
  }
}

void Host::tcp_service(Time now) {
  if (in_tcp_service_) return;  // a handler called back into the host: the outer loop continues
  in_tcp_service_ = true;
  for (int round = 0; round < 64; ++round) {
    bool progress = false;
    for (auto it = tcp_conns_.begin(); it != tcp_conns_.end();) {
      TcpEntry& e = it->second;
      while (auto ev = e.conn.poll_event()) {
        progress = true;
        tcp_trace_event(now, e.conn, *ev);
        const bool internal = std::holds_alternative<l4::tcp_event::StateChanged>(*ev) ||
                              std::holds_alternative<l4::tcp_event::CwndChanged>(*ev) ||
                              std::holds_alternative<l4::tcp_event::RttSample>(*ev) ||
                              std::holds_alternative<l4::tcp_event::Retransmit>(*ev);
        // A connection accepted by a listener that dies before it is established is never
        // shown to the application.
        if (e.accepted && e.conn.state() != l4::TcpState::Closed && !internal &&
            std::holds_alternative<l4::tcp_event::Connected>(*ev))
          e.accepted = false;
        if (!internal && e.handler && !e.accepted) e.handler->on_tcp(*this, now, e.id, *ev);
      }
      while (auto seg = e.conn.poll_transmit(now)) {
        progress = true;
        tcp_emit(now, e.conn, std::move(*seg));
      }
      if (e.conn.state() == l4::TcpState::Closed) {
        tcp_by_key_.erase(e.key);
        it = tcp_conns_.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
    if (!progress) break;
  }
  in_tcp_service_ = false;
}

}  // namespace mz::stack
