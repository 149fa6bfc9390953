#include "megzawicol/report/ladder.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <unordered_map>

#include "megzawicol/inspect/reader.hpp"
#include "megzawicol/report/pcap_reader.hpp"
#include "megzawicol/wire/ethernet.hpp"

namespace mz::report {

int Ladder::port_index(const std::string& label) const {
  for (size_t i = 0; i < ports.size(); ++i)
    if (ports[i].label == label) return static_cast<int>(i);
  return -1;
}

namespace {

namespace fs = std::filesystem;
using trace::Layer;

struct PortState {
  PcapFile pcap;
  size_t cursor = 0;
  bool usable = false;
  int last_tx = -1;  // frame index of the last tx_bits on this port
};

enum class ArrivalKind { Rx, LineError, Down };

struct Op {
  bool tx = false;
  int frame = -1;  // tx
  ArrivalKind kind = ArrivalKind::Rx;
  int64_t t = 0;
  int port = -1;  // the receiving port
  int from = -1;  // the sending port when the event names it (Down)
  uint64_t symbol_errors = 0;
  Bytes bytes;
  bool has_bytes = false;
};

size_t hash_bytes(const Bytes& b) { return std::hash<std::string_view>{}({reinterpret_cast<const char*>(b.data()), b.size()}); }

struct Builder {
  Ladder& L;
  std::vector<PortState> st;
  std::map<std::string, int> lane_of;

  int lane(const std::string& node) {
    auto it = lane_of.find(node);
    if (it != lane_of.end()) return it->second;
    const int i = static_cast<int>(L.lanes.size());
    L.lanes.push_back(node);
    lane_of[node] = i;
    return i;
  }

  int port(const std::string& label) {
    const int i = L.port_index(label);
    if (i >= 0) return i;
    LadderPort p;
    p.label = label;
    const size_t colon = label.rfind(':');
    p.node = colon == std::string::npos ? label : label.substr(0, colon);
    p.lane = lane(p.node);
    PortState s;
    std::string file = label;
    std::replace(file.begin(), file.end(), ':', '-');
    const fs::path path = fs::path(L.dir) / (file + ".pcap");
    if (fs::exists(path)) {
      s.pcap = read_pcap(path.string());
      s.usable = true;
      p.have_pcap = true;
      p.pcap_records = s.pcap.records.size();
    }
    L.ports.push_back(p);
    st.push_back(std::move(s));
    return static_cast<int>(L.ports.size() - 1);
  }

  // The next capture record of `p`, which should be `len` bytes long (0: any).
  const PcapRecord* next_record(int p, uint64_t len) {
    auto& s = st[p];
    if (!s.usable) return nullptr;
    if (s.cursor >= s.pcap.records.size()) {
      L.warnings.push_back(L.ports[p].label + ": the capture has fewer frames than the trace");
      s.usable = false;
      return nullptr;
    }
    const PcapRecord& r = s.pcap.records[s.cursor++];
    if (len && r.orig_len != len) {
      L.warnings.push_back(L.ports[p].label + ": capture record " + std::to_string(s.cursor) + " is " +
                           std::to_string(r.orig_len) + " bytes, the trace says " + std::to_string(len) +
                           ": capture not used from there on");
      s.usable = false;
      return nullptr;
    }
    return &r;
  }

  void set_peer(int a, int b) {
    if (a < 0 || b < 0) return;
    L.ports[a].peer = b;
    L.ports[b].peer = a;
  }

  // "a:eth0 -> b:eth0" -> (port a:eth0, port b:eth0)
  std::pair<int, int> link_ports(const std::string& link) {
    const size_t arrow = link.find(" -> ");
    if (arrow == std::string::npos) return {-1, -1};
    const int a = port(link.substr(0, arrow)), b = port(link.substr(arrow + 4));
    set_peer(a, b);
    return {a, b};
  }
};

}  // namespace

Ladder build_ladder(const std::string& dir) {
  Ladder L;
  L.dir = dir;
  Builder B{L, {}, {}};
  std::vector<Op> ops;

  inspect::TraceReader reader(dir);
  inspect::TraceRecord r;
  while (reader.next(r)) {
    L.end_ns = std::max(L.end_ns, r.time_ns);
    if (r.node != "-") B.lane(r.node);
    if (r.layer == Layer::Sim && r.event == "start" && L.scenario.empty()) {
      const size_t q1 = r.msg.find('"'), q2 = q1 == std::string::npos ? q1 : r.msg.find('"', q1 + 1);
      if (q2 != std::string::npos) L.scenario = r.msg.substr(q1 + 1, q2 - q1 - 1);
    } else if (r.layer == Layer::Physical && r.event == "tx_bits") {
      const auto iface = r.string_field("iface");
      if (!iface) continue;
      const int p = B.port(*iface);
      LadderFrame f;
      f.send_ns = r.time_ns;
      f.from_port = p;
      f.len = static_cast<uint32_t>(r.uint_field("frame_len").value_or(0));
      f.tx_ns = r.int_field("tx_ns").value_or(0);
      if (const PcapRecord* rec = B.next_record(p, f.len)) f.sent = rec->data;
      const int idx = static_cast<int>(L.frames.size());
      L.frames.push_back(std::move(f));
      B.st[p].last_tx = idx;
      Op op;
      op.tx = true;
      op.frame = idx;
      ops.push_back(std::move(op));
    } else if (r.layer == Layer::Physical && (r.event == "rx_bits" || r.event == "line_error")) {
      const auto iface = r.string_field("iface");
      if (!iface) continue;
      Op op;
      op.t = r.time_ns;
      op.port = B.port(*iface);
      if (r.event == "rx_bits") {
        ++L.receptions;
        op.kind = ArrivalKind::Rx;
        op.symbol_errors = r.uint_field("symbol_errors").value_or(0);
        if (const PcapRecord* rec = B.next_record(op.port, 0)) {
          op.bytes = rec->data;
          op.has_bytes = true;
        }
      } else {
        op.kind = ArrivalKind::LineError;
      }
      ops.push_back(std::move(op));
    } else if (r.layer == Layer::Link) {
      const auto link = r.string_field("link");
      if (!link) continue;
      if (r.event == "lost" || r.event == "bit_errors" || r.event == "duplicated") {
        const auto [a, b] = B.link_ports(*link);
        if (a < 0 || B.st[a].last_tx < 0) continue;
        LadderFrame& f = L.frames[B.st[a].last_tx];
        if (r.event == "lost") f.flags |= frame_flag::kLost;
        else if (r.event == "bit_errors") f.flags |= frame_flag::kBitErrors;
        else f.flags |= frame_flag::kDuplicated;
      } else if (r.event == "link_down_drop" && r.msg.rfind("frame in flight", 0) == 0) {
        const auto [a, b] = B.link_ports(*link);
        if (b < 0) continue;
        Op op;
        op.kind = ArrivalKind::Down;
        op.t = r.time_ns;
        op.port = b;
        op.from = a;
        ops.push_back(std::move(op));
      } else if (r.event == "queue_drop" || r.event == "link_down_drop") {
        B.link_ports(*link);  // learn the peers; the frame never reached the line
      }
    }
  }
  for (size_t p = 0; p < L.ports.size(); ++p)
    if (B.st[p].usable && B.st[p].cursor != B.st[p].pcap.records.size())
      L.warnings.push_back(L.ports[p].label + ": the capture has " + std::to_string(B.st[p].pcap.records.size()) +
                           " frames, the trace " + std::to_string(B.st[p].cursor));

  // Peers the link events did not name: the port whose sent bytes this port received.
  {
    std::unordered_multimap<size_t, int> sent_by;
    for (const auto& f : L.frames)
      if (!f.sent.empty()) sent_by.emplace(hash_bytes(f.sent), f.from_port);
    std::vector<std::map<int, int>> votes(L.ports.size());
    for (const auto& op : ops) {
      if (op.tx || !op.has_bytes || L.ports[op.port].peer >= 0) continue;
      auto [lo, hi] = sent_by.equal_range(hash_bytes(op.bytes));
      for (auto it = lo; it != hi; ++it)
        if (it->second != op.port) ++votes[op.port][it->second];
    }
    for (size_t q = 0; q < L.ports.size(); ++q) {
      if (L.ports[q].peer >= 0 || votes[q].empty()) continue;
      auto best = std::max_element(votes[q].begin(), votes[q].end(),
                                   [](const auto& x, const auto& y) { return x.second < y.second; });
      if (L.ports[best->first].peer < 0) B.set_peer(static_cast<int>(q), best->first);
      else L.ports[q].peer = best->first;
    }
  }

  // Lanes along the topology: a walk from a node with one neighbour (a chain reads left
  // to right), neighbours in order of first appearance; unconnected nodes last.
  {
    const size_t n = L.lanes.size();
    std::vector<std::vector<int>> adj(n);
    for (const auto& p : L.ports)
      if (p.peer >= 0) adj[p.lane].push_back(L.ports[p.peer].lane);
    for (auto& a : adj) {
      std::sort(a.begin(), a.end());
      a.erase(std::unique(a.begin(), a.end()), a.end());
    }
    std::vector<int> order;
    std::vector<bool> placed(n, false);
    std::function<void(int)> walk = [&](int v) {
      placed[v] = true;
      order.push_back(v);
      for (int w : adj[v])
        if (!placed[w]) walk(w);
    };
    for (int pass = 0; pass < 2; ++pass)
      for (size_t v = 0; v < n; ++v)
        if (!placed[v] && !adj[v].empty() && (pass == 1 || adj[v].size() == 1)) walk(static_cast<int>(v));
    for (size_t v = 0; v < n; ++v)
      if (!placed[v]) order.push_back(static_cast<int>(v));
    std::vector<int> new_index(n);
    std::vector<std::string> lanes(n);
    for (size_t k = 0; k < n; ++k) {
      new_index[order[k]] = static_cast<int>(k);
      lanes[k] = L.lanes[order[k]];
    }
    L.lanes = std::move(lanes);
    for (auto& p : L.ports) p.lane = new_index[p.lane];
  }

  // Pair receptions with sent frames, per link direction, in arrival order.
  std::vector<std::deque<int>> outstanding(L.ports.size());
  std::vector<int> copies(L.frames.size(), 0);
  for (auto& op : ops) {
    if (op.tx) {
      LadderFrame& f = L.frames[op.frame];
      f.to_port = L.ports[f.from_port].peer;
      if (f.flags & frame_flag::kLost) continue;
      copies[op.frame] = (f.flags & frame_flag::kDuplicated) ? 2 : 1;
      outstanding[f.from_port].push_back(op.frame);
      continue;
    }
    const int from = op.from >= 0 ? op.from : L.ports[op.port].peer;
    if (from < 0) {
      if (op.kind == ArrivalKind::Rx) ++L.unmatched_receptions;
      continue;
    }
    auto& q = outstanding[from];
    auto pick = q.end();
    if (op.has_bytes) {
      size_t scanned = 0;
      for (auto it = q.begin(); it != q.end() && scanned < 256; ++it, ++scanned) {
        const LadderFrame& f = L.frames[*it];
        if (f.send_ns > op.t) break;
        if (f.sent == op.bytes) {
          pick = it;
          break;
        }
      }
    }
    if (pick == q.end() && !q.empty() && L.frames[q.front()].send_ns <= op.t) pick = q.begin();
    if (pick == q.end()) {
      if (op.kind == ArrivalKind::Rx) ++L.unmatched_receptions;
      continue;
    }
    const int idx = *pick;
    LadderFrame& f = L.frames[idx];
    if (--copies[idx] == 0) q.erase(pick);
    if (f.recv_ns >= 0) {  // the duplicate
      f.recv2_ns = op.t;
      continue;
    }
    f.recv_ns = op.t;
    f.to_port = op.port;
    if (op.kind == ArrivalKind::LineError) {
      f.flags |= frame_flag::kLineError;
    } else if (op.kind == ArrivalKind::Down) {
      f.flags |= frame_flag::kLinkDown | frame_flag::kNotReceived;
    } else {
      f.has_received = true;
      if (op.symbol_errors) f.flags |= frame_flag::kRxError;
      if (op.has_bytes) {
        if (op.bytes != f.sent) f.received = op.bytes;
        const Bytes& got = op.bytes;
        // FCS over the received bytes (LSB first), as the receiving MAC checks it.
        if (!wire::fcs_ok(got)) f.flags |= frame_flag::kBadFcs;
      }
    }
  }
  for (auto& f : L.frames)
    if (f.recv_ns < 0 && !(f.flags & (frame_flag::kLost | frame_flag::kLineError))) f.flags |= frame_flag::kNotReceived;
  return L;
}

}  // namespace mz::report
