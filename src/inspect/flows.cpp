#include "megzawicol/inspect/flows.hpp"

#include <algorithm>

namespace mz::inspect {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kAck = 0x10;

// Payload bytes covered by a cumulative ACK `rel_ack` (relative to the ISN): the SYN and
// a FIN the ACK covers take one sequence number each.
uint64_t acked_bytes(const TcpDirection& d, uint32_t rel_ack) {
  if (rel_ack <= 1) return 0;
  uint64_t b = rel_ack - 1;
  if (d.fin_sent && rel_ack > d.fin_rel) --b;
  return b;
}

}  // namespace

double TcpDirection::goodput_bps() const {
  if (delivered == 0 || first_data_ns < 0 || last_delivery_ns <= first_data_ns) return 0.0;
  return static_cast<double>(delivered) * 8e9 / static_cast<double>(last_delivery_ns - first_data_ns);
}

std::string TcpFlow::file_id() const {
  std::string s = client + "-" + server;
  for (char& c : s)
    if (c == ':') c = '_';
  return s;
}

std::optional<std::pair<std::string, std::string>> tcp_endpoints(const std::string& event, const std::string& msg) {
  std::string_view m = msg;
  std::string_view prefix = event == "tx_segment" ? "sending " : event == "rx_segment" ? "received " : "connection ";
  if (m.substr(0, prefix.size()) != prefix) return std::nullopt;
  m.remove_prefix(prefix.size());
  const size_t gt = m.find(" > ");
  if (gt == std::string_view::npos) return std::nullopt;
  std::string_view a = m.substr(0, gt);
  std::string_view rest = m.substr(gt + 3);
  size_t end = rest.find_first_of(" :");
  // "connection A > B: ..." ends B at ": "; the address itself holds one ':' before the port.
  if (end != std::string_view::npos && rest[end] == ':') {
    const size_t colon2 = rest.find(':', end + 1);
    const size_t sp = rest.find(' ', end + 1);
    end = std::min(colon2, sp);
  }
  std::string_view b = rest.substr(0, end);
  if (a.find(':') == std::string_view::npos || b.find(':') == std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(a), std::string(b));
}

TcpDirection& FlowTracker::dir(TcpFlow& f, const std::string& src) { return src == f.client ? f.up : f.down; }

TcpFlow& FlowTracker::flow_for(const std::string& a, const std::string& b, const std::string& client_hint, bool tx_syn,
                               uint32_t syn_seq) {
  auto key = a < b ? std::make_pair(a, b) : std::make_pair(b, a);
  auto it = index_.find(key);
  if (it != index_.end()) {
    TcpFlow& f = flows_[it->second];
    // A SYN with a new ISN on a known 4-tuple is a new connection (port reuse).
    const bool new_conn = tx_syn && !client_hint.empty() && f.syn_ns >= 0 && dir(f, client_hint).have_isn &&
                          dir(f, client_hint).isn != syn_seq;
    if (!new_conn) {
      if (!client_hint.empty() && f.client != client_hint && f.syn_ns < 0) {
        std::swap(f.client, f.server);
        std::swap(f.client_node, f.server_node);
        std::swap(f.up, f.down);
      }
      return f;
    }
  }
  TcpFlow f;
  f.client = client_hint.empty() ? a : client_hint;
  f.server = f.client == a ? b : a;
  f.up.src = f.client;
  f.up.dst = f.server;
  f.down.src = f.server;
  f.down.dst = f.client;
  flows_.push_back(std::move(f));
  index_[key] = flows_.size() - 1;
  return flows_.back();
}

void FlowTracker::add(const TraceRecord& r) {
  if (r.layer != trace::Layer::Transport) return;
  const std::string& ev = r.event;
  if (ev != "tx_segment" && ev != "rx_segment" && ev != "state" && ev != "cwnd" && ev != "rtt" && ev != "retransmit")
    return;
  auto ends = tcp_endpoints(ev, r.msg);
  if (!ends) return;
  const int64_t t = r.time_ns;

  if (ev == "tx_segment" || ev == "rx_segment") {
    const uint32_t seq = static_cast<uint32_t>(r.uint_field("seq").value_or(0));
    const uint32_t ack = static_cast<uint32_t>(r.uint_field("ack").value_or(0));
    const uint8_t flags = static_cast<uint8_t>(r.uint_field("flags").value_or(0));
    const uint32_t len = static_cast<uint32_t>(r.uint_field("len").value_or(0));
    const bool syn = flags & kSyn, fin = flags & kFin, ackf = flags & kAck;
    // Sender and receiver of this segment.
    const std::string& from = ends->first;
    const std::string& to = ends->second;
    TcpFlow& f = flow_for(from, to, syn && !ackf ? from : std::string(), syn && !ackf, seq);
    if (f.first_ns < 0) f.first_ns = t;
    f.last_ns = t;
    TcpDirection& d = dir(f, from);
    TcpDirection& back = dir(f, to);
    if (syn && !d.have_isn) {
      d.have_isn = true;
      d.isn = seq;
    }
    if (ev == "rx_segment") {
      // At the receiving node: the ACK it carries acknowledges `to`'s data.
      if (f.client == to) f.client_node = r.node; else f.server_node = r.node;
      back.node = r.node;
      back.last_rx_ns = t;
      if (ackf && back.have_isn && keep_series_) back.acks.push_back({t, ack - back.isn});
      return;
    }
    if (f.client == from) f.client_node = r.node; else f.server_node = r.node;
    d.node = r.node;
    if (syn && !ackf && f.syn_ns < 0) f.syn_ns = t;
    if (!d.have_isn) {  // joined mid-connection: take this segment as the first byte
      d.have_isn = true;
      d.isn = seq - 1;
    }
    const uint32_t rel = seq - d.isn;
    const uint32_t seg_len = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const bool rtx = seg_len > 0 && rel < d.snd_max_rel;
    d.snd_max_rel = std::max(d.snd_max_rel, rel + seg_len);
    ++d.segments;
    if (len > 0) {
      ++d.data_segments;
      d.bytes_sent += len;
      if (d.first_data_ns < 0) d.first_data_ns = t;
    }
    if (fin && !d.fin_sent) {
      d.fin_sent = true;
      d.fin_rel = rel + len;
    }
    if (keep_series_) d.seq.push_back({t, rel, len, flags, rtx});
    // The ACK this segment carries: how much of the other direction the sender has received.
    if (ackf && back.have_isn) {
      const uint32_t rel_ack = ack - back.isn;
      if (!back.any_ack || rel_ack > back.ack_max_rel) {
        const uint64_t before = back.any_ack ? acked_bytes(back, back.ack_max_rel) : 0;
        back.any_ack = true;
        back.ack_max_rel = rel_ack;
        const uint64_t now_acked = acked_bytes(back, rel_ack);
        if (now_acked > before) {
          back.delivered = now_acked;
          back.last_delivery_ns = t;
          if (keep_series_) back.deliveries.push_back({t, now_acked - before});
        }
      }
    }
    return;
  }

  // "connection LOCAL > REMOTE: ..." at the node that owns LOCAL.
  const std::string& local = ends->first;
  const std::string& remote = ends->second;
  std::string hint;
  if (ev == "state" && r.string_field("from") == "CLOSED" && r.string_field("to") == "SYN-SENT") hint = local;
  TcpFlow& f = flow_for(local, remote, hint, false, 0);
  if (f.first_ns < 0) f.first_ns = t;
  f.last_ns = t;
  TcpDirection& d = dir(f, local);
  if (d.node.empty()) d.node = r.node;
  if (ev == "state") {
    const std::string to = r.string_field("to").value_or("");
    if (local == f.client) {
      f.client_node = r.node;
      f.final_state = to;
      if (to == "ESTABLISHED" && f.established_ns < 0) f.established_ns = t;
    } else {
      f.server_node = r.node;
    }
  } else if (ev == "cwnd") {
    const uint64_t cw = r.uint_field("cwnd").value_or(0), ss = r.uint_field("ssthresh").value_or(0);
    d.max_cwnd = std::max(d.max_cwnd, cw);
    if (keep_series_) d.cwnd.push_back({t, cw, ss});
  } else if (ev == "rtt") {
    const int64_t rtt = r.int_field("rtt_ns").value_or(0);
    d.rtt_samples.push_back(rtt);
    if (keep_series_)
      d.rtt.push_back({t, rtt, r.int_field("srtt_ns").value_or(0), r.int_field("rttvar_ns").value_or(0),
                       r.int_field("rto_ns").value_or(0)});
  } else if (ev == "retransmit") {
    ++d.retransmits;
    d.retransmitted_bytes += r.uint_field("len").value_or(0);
    const std::string reason = r.string_field("reason").value_or("");
    if (reason == "timeout") {
      ++d.rtx_timeout;
      if (d.last_rx_ns != t) ++d.timeouts;
    } else if (reason == "fast") {
      ++d.rtx_fast;
    } else if (reason == "sack") {
      ++d.rtx_sack;
    }
  }
}

}  // namespace mz::inspect
