#include "megzawicol/inspect/summary.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "megzawicol/core/time.hpp"
#include "table.hpp"

namespace mz::inspect {

namespace {

using trace::Layer;

struct CauseDef {
  const char* cause;
  const char* description;
};

// Every drop cause, in the order they are shown: the medium first, then up the stack.
const CauseDef kCauses[] = {
    {"loss", "frame lost in transit (link loss probability)"},
    {"queue", "link queue full (drop-tail)"},
    {"link_down", "link down (offered, queued or in flight)"},
    {"line", "line signal not decodable by the receiving PHY"},
    {"no_carrier", "interface not connected"},
    {"rx_error", "PHY receive error (invalid code groups from bit errors)"},
    {"fcs", "bad FCS (bit errors)"},
    {"runt", "malformed or short frame"},
    {"port_down", "switch port down"},
    {"not_for_us", "frame for another MAC"},
    {"ethertype", "unknown EtherType"},
    {"arp_malformed", "malformed ARP"},
    {"arp_queue_full", "ARP queue full"},
    {"arp_unresolved", "no ARP reply (packets dropped)"},
    {"ip_checksum", "bad IPv4 header checksum"},
    {"ip_malformed", "malformed IPv4 packet"},
    {"ip_not_for_us", "IP packet not ours, not a router"},
    {"ttl", "TTL expired"},
    {"no_route", "no route"},
    {"df", "too big with DF set (fragmentation needed)"},
    {"unknown_protocol", "unknown IP protocol"},
    {"reassembly_timeout", "reassembly timed out (fragments)"},
    {"reassembly_evicted", "reassembly memory full (fragments)"},
    {"fragment_duplicate", "duplicate fragment"},
    {"fragment_dropped", "fragment refused"},
    {"reassembly", "all reassembly drops (fragments; summary.json)"},
    {"icmp_malformed", "malformed ICMP"},
    {"tcp_checksum", "bad TCP checksum"},
    {"tcp_malformed", "malformed TCP segment"},
    {"tcp_backlog", "SYN dropped: listen backlog full"},
    {"tcp_no_route", "TCP connect without a route"},
    {"udp_checksum", "bad UDP checksum"},
    {"udp_malformed", "malformed UDP datagram"},
    {"udp_port_unreachable", "UDP to a closed port"},
    {"udp_too_big", "UDP payload too big to send"},
};

// The drop cause of an event and how many packets it stands for; nullptr if none.
const char* drop_cause(const TraceRecord& r, uint64_t& count) {
  count = 1;
  const std::string& e = r.event;
  switch (r.layer) {
    case Layer::Link:
      if (e == "lost") return "loss";
      if (e == "queue_drop") return "queue";
      if (e == "link_down_drop") return "link_down";
      return nullptr;
    case Layer::Physical:
      if (e == "line_error") return "line";
      if (e == "no_carrier") return "no_carrier";
      return nullptr;
    case Layer::DataLink:
      if (e == "fcs_error") return "fcs";
      if (e == "rx_error") return "rx_error";
      if (e == "malformed_frame" || e == "runt") return "runt";
      if (e == "port_down") {  // a switch drop has a reason; the port state change has none
        return r.fields.contains("reason") ? "port_down" : nullptr;
      }
      if (e == "not_for_us") return "not_for_us";
      if (e == "unknown_ethertype") return "ethertype";
      if (e == "arp_malformed") return "arp_malformed";
      if (e == "arp_queue_full") return "arp_queue_full";
      if (e == "arp_failed") {
        count = r.uint_field("dropped").value_or(1);
        return "arp_unresolved";
      }
      return nullptr;
    case Layer::Network:
      if (e == "bad_checksum") return "ip_checksum";
      if (e == "malformed_packet") return "ip_malformed";
      if (e == "not_for_us") return "ip_not_for_us";
      if (e == "ttl_expired") return "ttl";
      if (e == "no_route") return "no_route";
      if (e == "frag_needed") return "df";
      if (e == "unknown_protocol") return "unknown_protocol";
      if (e == "reassembly_timeout" || e == "reassembly_evicted") {
        count = r.uint_field("fragments").value_or(1);
        return e == "reassembly_timeout" ? "reassembly_timeout" : "reassembly_evicted";
      }
      if (e == "fragment_duplicate") return "fragment_duplicate";
      if (e == "fragment_dropped") return "fragment_dropped";
      if (e == "icmp_malformed") return "icmp_malformed";
      return nullptr;
    case Layer::Transport:
      if (e == "bad_checksum") return "tcp_checksum";
      if (e == "malformed_segment") return "tcp_malformed";
      if (e == "backlog_full") return "tcp_backlog";
      if (e == "no_route") return "tcp_no_route";
      if (e == "udp_bad_checksum") return "udp_checksum";
      if (e == "udp_malformed") return "udp_malformed";
      if (e == "udp_port_unreachable") return "udp_port_unreachable";
      if (e == "udp_too_big") return "udp_too_big";
      return nullptr;
    default: return nullptr;
  }
}

// "received 1290 line bits on b:eth0, decoded a 102-byte frame" -> 102.
uint64_t decoded_frame_bytes(const std::string& msg) {
  const std::string key = "decoded a ";
  const size_t p = msg.find(key);
  if (p == std::string::npos) return 0;
  uint64_t v = 0;
  for (size_t i = p + key.size(); i < msg.size() && msg[i] >= '0' && msg[i] <= '9'; ++i) v = v * 10 + (msg[i] - '0');
  return v;
}

void count_layer(const TraceRecord& r, LayerCounts& c) {
  ++c.events;
  const std::string& e = r.event;
  auto sent = [&](uint64_t bytes) {
    ++c.sent;
    c.sent_bytes += bytes;
  };
  auto delivered = [&](uint64_t bytes) {
    ++c.delivered;
    c.delivered_bytes += bytes;
  };
  switch (r.layer) {
    case Layer::Physical:
      if (e == "tx_bits") sent(r.uint_field("frame_len").value_or(0));
      else if (e == "rx_bits") delivered(decoded_frame_bytes(r.msg));
      break;
    case Layer::DataLink:
      if (e == "tx_frame") sent(r.uint_field("len").value_or(0));
      else if (e == "rx_frame") delivered(r.uint_field("len").value_or(0));
      else if (e == "forward" || e == "flood") ++c.forwarded;
      break;
    case Layer::Network:
      if (e == "tx_packet") sent(r.uint_field("len").value_or(0));
      else if (e == "tx_fragment") sent(0);
      else if (e == "rx_packet") delivered(r.uint_field("len").value_or(0));
      else if (e == "forward" || e == "forward_fragment") ++c.forwarded;
      break;
    case Layer::Transport:
      if (e == "tx_segment" || e == "udp_out") sent(r.uint_field("len").value_or(0));
      else if (e == "rx_segment" || e == "udp_in") delivered(r.uint_field("len").value_or(0));
      break;
    case Layer::Application:
      if (e == "ping_send" || e == "udp_flow_send") sent(r.uint_field("size").value_or(0));
      else if (e == "ping_reply" || e == "udp_flow_recv") delivered(r.uint_field("size").value_or(0));
      break;
    default: break;
  }
}

// summary.json's drop counters, summed over links and nodes, by cause.
std::map<std::string, uint64_t> summary_drops(const nlohmann::json& j) {
  std::map<std::string, uint64_t> d;
  auto add = [&](const nlohmann::json& obj, const std::map<std::string, std::string>& names) {
    if (!obj.is_object()) return;
    for (const auto& [key, cause] : names) {
      auto it = obj.find(key);
      if (it != obj.end() && it->is_number_unsigned()) d[cause] += it->get<uint64_t>();
    }
  };
  if (auto links = j.find("links"); links != j.end() && links->is_array()) {
    for (const auto& l : *links)
      for (const char* dir : {"a_to_b", "b_to_a"})
        if (l.contains(dir) && l[dir].contains("dropped"))
          add(l[dir]["dropped"], {{"queue", "queue"}, {"loss", "loss"}, {"line", "line"}, {"down", "link_down"}});
  }
  if (auto nodes = j.find("nodes"); nodes != j.end() && nodes->is_array()) {
    for (const auto& n : *nodes) {
      if (n.value("kind", "") == "switch") {
        if (n.contains("dropped"))
          add(n["dropped"], {{"fcs", "fcs"}, {"rx_error", "rx_error"}, {"runt", "runt"}, {"port_down", "port_down"}});
        continue;
      }
      if (n.contains("l2") && n["l2"].contains("dropped"))
        add(n["l2"]["dropped"], {{"fcs", "fcs"},
                                 {"rx_error", "rx_error"},
                                 {"runt", "runt"},
                                 {"not_for_us", "not_for_us"},
                                 {"ethertype", "ethertype"},
                                 {"arp_malformed", "arp_malformed"},
                                 {"arp_queue_full", "arp_queue_full"},
                                 {"arp_unresolved", "arp_unresolved"}});
      if (n.contains("l3") && n["l3"].contains("dropped"))
        add(n["l3"]["dropped"], {{"malformed", "ip_malformed"},
                                 {"checksum", "ip_checksum"},
                                 {"ttl", "ttl"},
                                 {"no_route", "no_route"},
                                 {"not_for_us", "ip_not_for_us"},
                                 {"df", "df"},
                                 {"unknown_protocol", "unknown_protocol"},
                                 {"reassembly", "reassembly"},
                                 {"icmp_malformed", "icmp_malformed"}});
      if (n.contains("l4") && n["l4"].contains("dropped"))
        add(n["l4"]["dropped"], {{"udp_checksum", "udp_checksum"},
                                 {"udp_malformed", "udp_malformed"},
                                 {"udp_port_unreachable", "udp_port_unreachable"}});
    }
  }
  return d;
}

std::string u(uint64_t v) { return std::to_string(v); }

}  // namespace

Percentiles percentiles(std::vector<int64_t>& s) {
  Percentiles p;
  p.count = s.size();
  if (s.empty()) return p;
  std::sort(s.begin(), s.end());
  auto rank = [&](double q) {  // nearest rank: the smallest value with at least q of the samples at or below it
    size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(s.size())));
    if (k < 1) k = 1;
    return s[std::min(k, s.size()) - 1];
  };
  p.min = s.front();
  p.max = s.back();
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  long double sum = 0;
  for (int64_t v : s) sum += v;
  p.mean = static_cast<double>(sum / static_cast<long double>(s.size()));
  return p;
}

std::string format_ns(int64_t ns) { return format_duration(Duration{ns}); }

std::string format_rate(double bps) {
  const char* unit = "bit/s";
  double v = bps;
  if (bps >= 1e9) { v = bps / 1e9; unit = "Gbit/s"; }
  else if (bps >= 1e6) { v = bps / 1e6; unit = "Mbit/s"; }
  else if (bps >= 1e3) { v = bps / 1e3; unit = "kbit/s"; }
  char buf[48];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, unit);
  return buf;
}

RunSummary summarize(const std::string& dir) {
  RunSummary s;
  s.dir = dir;
  TraceReader reader(dir);
  s.trace_file = reader.path();
  FlowTracker flows(false);
  std::map<std::string, DropCount> drops;
  std::vector<int64_t> ping_rtts, tcp_rtts;
  TraceRecord r;
  bool first = true;
  while (reader.next(r)) {
    ++s.events;
    if (first) s.first_ns = r.time_ns;
    first = false;
    s.last_ns = std::max(s.last_ns, r.time_ns);
    count_layer(r, s.layers[r.node][r.layer]);
    uint64_t n = 0;
    if (const char* cause = drop_cause(r, n)) {
      DropCount& d = drops[cause];
      d.trace = d.trace.value_or(0) + n;
      d.by_node[r.node] += n;
    }
    if (r.layer == Layer::Application && r.event == "ping_reply") {
      if (auto v = r.int_field("rtt_ns")) ping_rtts.push_back(*v);
    } else if (r.layer == Layer::Transport && r.event == "rtt") {
      if (auto v = r.int_field("rtt_ns")) tcp_rtts.push_back(*v);
    } else if (r.layer == Layer::Sim && r.event == "start" && s.scenario.empty()) {
      // scenario "NAME": ...
      const size_t a = r.msg.find('"'), b = a == std::string::npos ? a : r.msg.find('"', a + 1);
      if (b != std::string::npos) s.scenario = r.msg.substr(a + 1, b - a - 1);
    }
    flows.add(r);
  }
  s.flows = flows.flows();

  namespace fs = std::filesystem;
  const fs::path sj = fs::path(fs::is_directory(dir) ? dir : fs::path(dir).parent_path().string()) / "summary.json";
  if (fs::exists(sj)) {
    std::ifstream in(sj);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(sj.string() + ": not valid JSON: " + e.what());
    }
    s.have_summary_json = true;
    if (j.contains("scenario") && j["scenario"].is_string()) s.scenario = j["scenario"].get<std::string>();
    if (j.contains("seed")) s.seed = j["seed"].is_string() ? j["seed"].get<std::string>() : j["seed"].dump();
    for (const auto& [cause, n] : summary_drops(j)) drops[cause].summary = n;
  }
  for (const auto& c : kCauses) {
    auto it = drops.find(c.cause);
    if (it == drops.end()) continue;
    DropCount d = it->second;
    if (d.trace.value_or(0) == 0 && d.summary.value_or(0) == 0) continue;
    d.cause = c.cause;
    d.description = c.description;
    s.drops.push_back(std::move(d));
  }

  if (!ping_rtts.empty()) s.rtt.push_back({"ping", percentiles(ping_rtts)});
  if (!tcp_rtts.empty()) s.rtt.push_back({"tcp (all flows)", percentiles(tcp_rtts)});
  for (const auto& f : s.flows) {
    for (const TcpDirection* d : {&f.up, &f.down}) {
      if (d->rtt_samples.empty()) continue;
      std::vector<int64_t> v = d->rtt_samples;
      s.rtt.push_back({"tcp " + d->src + " > " + d->dst, percentiles(v)});
    }
  }
  return s;
}

std::string format_summary_text(const RunSummary& s) {
  using detail::Table;
  std::string out = "Run " + s.dir + ":";
  if (!s.scenario.empty()) out += " scenario \"" + s.scenario + "\",";
  if (s.seed) out += " seed " + *s.seed + ",";
  out += " " + u(s.events) + " events from " + format_time_ns(s.first_ns) + " to " + format_time_ns(s.last_ns) + " s\n";

  out += "\nEvents per node and layer (sent/delivered: frames at L1-L2, packets at L3, segments and datagrams at L4, messages at L7)\n";
  Table lt({"node", "layer", "events", "sent", "sent bytes", "delivered", "delivered bytes", "forwarded"},
           {false, false, true, true, true, true, true, true});
  for (const auto& [node, layers] : s.layers)
    for (const auto& [layer, c] : layers)
      lt.add({node, trace::layer_tag(layer), u(c.events), u(c.sent), u(c.sent_bytes), u(c.delivered), u(c.delivered_bytes),
              u(c.forwarded)});
  out += lt.render();

  out += "\nDrops by cause";
  out += s.have_summary_json ? " (trace events, and summary.json's counters)\n" : " (trace events; no summary.json)\n";
  if (s.drops.empty()) {
    out += "  none\n";
  } else {
    Table dt({"cause", "trace", "summary.json", "where (trace)", "what"}, {false, true, true, false, false});
    for (const auto& d : s.drops) {
      std::string where;
      for (const auto& [node, n] : d.by_node) where += (where.empty() ? "" : " ") + node + ":" + u(n);
      dt.add({d.cause, d.trace ? u(*d.trace) : "-", d.summary ? u(*d.summary) : "-", where, d.description});
    }
    out += dt.render();
  }

  out += "\nTCP flows\n";
  if (s.flows.empty()) {
    out += "  none\n";
  } else {
    Table ft({"flow (client > server)", "dir", "nodes", "segs", "bytes sent", "delivered", "rtx", "rtx t/f/s",
              "timeouts", "handshake", "goodput", "client state"},
             {false, false, false, true, true, true, true, true, true, true, true, false});
    for (const auto& f : s.flows) {
      bool first_row = true;
      for (const TcpDirection* d : {&f.up, &f.down}) {
        const bool up = d == &f.up;
        ft.add({first_row ? f.label() : "", up ? "c>s" : "s>c",
                (d->node.empty() ? "?" : d->node) + ">" + ((up ? f.server_node : f.client_node).empty() ? "?" : (up ? f.server_node : f.client_node)),
                u(d->segments), u(d->bytes_sent), u(d->delivered), u(d->retransmits),
                u(d->rtx_timeout) + "/" + u(d->rtx_fast) + "/" + u(d->rtx_sack), u(d->timeouts),
                first_row && f.handshake_ns() ? format_ns(*f.handshake_ns()) : "",
                d->delivered ? format_rate(d->goodput_bps()) : "-", first_row ? f.final_state : ""});
        first_row = false;
      }
    }
    out += ft.render();
    out += "  (delivered: payload bytes cumulatively acknowledged; rtx t/f/s: retransmissions for timeout/fast/SACK;\n"
           "   goodput: delivered bytes over first data sent .. last byte acknowledged)\n";
  }

  out += "\nRTT (nearest-rank percentiles)\n";
  if (s.rtt.empty()) {
    out += "  no samples\n";
  } else {
    Table rt({"source", "samples", "min", "p50", "p90", "p99", "max"}, {false, true, true, true, true, true, true});
    for (const auto& r : s.rtt)
      rt.add({r.source, u(r.p.count), format_ns(r.p.min), format_ns(r.p.p50), format_ns(r.p.p90), format_ns(r.p.p99),
              format_ns(r.p.max)});
    out += rt.render();
  }
  return out;
}

nlohmann::ordered_json summary_to_json(const RunSummary& s) {
  using J = nlohmann::ordered_json;
  J j;
  j["dir"] = s.dir;
  j["scenario"] = s.scenario;
  j["seed"] = s.seed ? J(*s.seed) : J(nullptr);
  j["events"] = s.events;
  j["first_ns"] = s.first_ns;
  j["last_ns"] = s.last_ns;
  j["have_summary_json"] = s.have_summary_json;
  J nodes = J::array();
  for (const auto& [node, layers] : s.layers) {
    J nl = J::object();
    for (const auto& [layer, c] : layers)
      nl[trace::layer_tag(layer)] = {{"events", c.events},       {"sent", c.sent},
                                     {"sent_bytes", c.sent_bytes}, {"delivered", c.delivered},
                                     {"delivered_bytes", c.delivered_bytes}, {"forwarded", c.forwarded}};
    nodes.push_back({{"node", node}, {"layers", nl}});
  }
  j["nodes"] = nodes;
  J drops = J::array();
  for (const auto& d : s.drops) {
    drops.push_back({{"cause", d.cause},
                     {"description", d.description},
                     {"trace", d.trace ? J(*d.trace) : J(nullptr)},
                     {"summary", d.summary ? J(*d.summary) : J(nullptr)},
                     {"by_node", d.by_node}});
  }
  j["drops"] = drops;
  J flows = J::array();
  auto dir_json = [](const TcpDirection& d) {
    return J{{"src", d.src},
             {"dst", d.dst},
             {"node", d.node},
             {"segments", d.segments},
             {"data_segments", d.data_segments},
             {"bytes_sent", d.bytes_sent},
             {"delivered", d.delivered},
             {"retransmits", d.retransmits},
             {"retransmitted_bytes", d.retransmitted_bytes},
             {"retransmits_timeout", d.rtx_timeout},
             {"retransmits_fast", d.rtx_fast},
             {"retransmits_sack", d.rtx_sack},
             {"timeouts", d.timeouts},
             {"first_data_ns", d.first_data_ns},
             {"last_delivery_ns", d.last_delivery_ns},
             {"goodput_bps", d.goodput_bps()},
             {"max_cwnd", d.max_cwnd},
             {"rtt_samples", d.rtt_samples.size()}};
  };
  for (const auto& f : s.flows) {
    flows.push_back({{"flow", f.label()},
                     {"client", f.client},
                     {"server", f.server},
                     {"client_node", f.client_node},
                     {"server_node", f.server_node},
                     {"syn_ns", f.syn_ns},
                     {"established_ns", f.established_ns},
                     {"handshake_ns", f.handshake_ns() ? J(*f.handshake_ns()) : J(nullptr)},
                     {"client_state", f.final_state},
                     {"client_to_server", dir_json(f.up)},
                     {"server_to_client", dir_json(f.down)}});
  }
  j["tcp_flows"] = flows;
  J rtt = J::array();
  for (const auto& r : s.rtt)
    rtt.push_back({{"source", r.source},
                   {"samples", r.p.count},
                   {"min_ns", r.p.min},
                   {"p50_ns", r.p.p50},
                   {"p90_ns", r.p.p90},
                   {"p99_ns", r.p.p99},
                   {"max_ns", r.p.max},
                   {"mean_ns", r.p.mean}});
  j["rtt"] = rtt;
  return j;
}

}  // namespace mz::inspect
