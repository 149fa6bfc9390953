#include "megzawicol/sim/simulation.hpp"

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
#include <deque>
#include <filesystem>
#include <iostream>
#include <algorithm>
#include <functional>
#include <map>
#include <unordered_map>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "megzawicol/app/bulk.hpp"
#include "megzawicol/app/http_app.hpp"
#include "megzawicol/app/ping.hpp"
#include "megzawicol/app/traceroute.hpp"
#include "megzawicol/app/udp_flow.hpp"
#include "megzawicol/engine/scheduler.hpp"
#include "megzawicol/l1/bit_errors.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/trace/pcap.hpp"
#include "megzawicol/trace/tracer.hpp"
#include "megzawicol/l3/autoroute.hpp"
#include "megzawicol/stack/switch.hpp"

namespace mz::sim {

using trace::Field;
using trace::Layer;

namespace {

l4::TcpConfig tcp_config(const scenario::TransportOptions& t) {
  l4::TcpConfig c;
  c.window_segments = t.window_segments;
  c.sack = t.sack;
  c.window_scale = t.window_scale;
  c.timestamps = t.timestamps;
  c.delayed_ack = t.delayed_ack;
  c.ack_delay = t.ack_delay;
  c.nagle = t.nagle;
  c.min_rto = t.min_rto;
  c.initial_rto = t.initial_rto;
  c.time_wait = t.time_wait;
  c.rcv_buf = t.rcv_buf;
  c.snd_buf = t.snd_buf;
  c.max_retries = static_cast<int>(t.max_retries);
  c.initial_window_segments = t.initial_window;
  return c;
}

constexpr uint64_t kPreambleBits = 64;  // 7 bytes of preamble + the SFD
constexpr uint64_t kInterFrameGapBits = 96;

Duration bit_time(uint64_t bits, uint64_t bps) {
  // ceil(bits * 1e9 / bps) without overflow for any realistic frame.
  __extension__ using u128 = unsigned __int128;
  const u128 num = static_cast<u128>(bits) * 1000000000u + bps - 1;
  return Duration{static_cast<int64_t>(num / bps)};
}

std::string rate_text(uint64_t bps) {
  char b[32];
  if (bps % 1000000000 == 0) std::snprintf(b, sizeof b, "%llu Gbit/s", static_cast<unsigned long long>(bps / 1000000000));
  else if (bps % 1000000 == 0) std::snprintf(b, sizeof b, "%llu Mbit/s", static_cast<unsigned long long>(bps / 1000000));
  else if (bps % 1000 == 0) std::snprintf(b, sizeof b, "%llu kbit/s", static_cast<unsigned long long>(bps / 1000));
  else std::snprintf(b, sizeof b, "%llu bit/s", static_cast<unsigned long long>(bps));
  return b;
}

std::string bits_text(const l1::LineBits& lb, size_t max_bits) {
  std::string s;
  const size_t n = std::min(lb.nbits, max_bits);
  for (size_t i = 0; i < n; ++i) {
    if (i && i % 5 == 0) s.push_back(' ');
    s.push_back(((lb.bits[i / 8] >> (7 - i % 8)) & 1) ? '1' : '0');
  }
  if (lb.nbits > n) s += " ...";
  return s;
}

}  // namespace

struct Port;
class SummaryWriter;

struct Channel {
  std::string name;  // "a:eth0 -> b:eth0"
  scenario::LinkDirection cfg;
  Port* from = nullptr;
  Port* to = nullptr;
  Rng loss_rng;
  Rng jitter_rng;
  Rng dup_rng;
  l1::BitErrorInjector ber;
  std::deque<PacketBuf> queue;
  bool busy = false;
  bool up = true;
  uint64_t generation = 0;  // bumped when the link goes down: frames in flight are lost
  ChannelCounters ctr;

  Channel(std::string n, const scenario::LinkDirection& c, uint64_t seed)
      : name(std::move(n)),
        cfg(c),
        loss_rng(Rng::stream(seed, "loss:" + name)),
        jitter_rng(Rng::stream(seed, "jitter:" + name)),
        dup_rng(Rng::stream(seed, "duplicate:" + name)),
        ber(c.ber, Rng::stream(seed, "ber:" + name)) {}
};

struct Port {
  size_t node = 0;
  uint32_t ifindex = 0;
  std::string label;  // "a:eth0"
  Channel* out = nullptr;
  std::unique_ptr<trace::PcapWriter> pcap;
};

// A node is a Host (hosts and routers) or a Switch; both follow the same sans-I/O contract.
struct NodeSlot {
  std::unique_ptr<stack::Host> host;
  std::unique_ptr<stack::Switch> sw;
  std::vector<Port*> ports;  // by ifindex; null if the interface is not connected
  engine::EventId wake;
  std::optional<Time> wake_at;

  void handle_frame(Time now, uint32_t ifindex, PacketBuf frame, bool rx_error) {
    if (host) host->handle_frame(now, ifindex, frame, rx_error);
    else sw->handle_frame(now, ifindex, std::move(frame), rx_error);
  }
  std::optional<stack::Transmit> poll_transmit() { return host ? host->poll_transmit() : sw->poll_transmit(); }
  std::optional<Time> poll_timeout() const { return host ? host->poll_timeout() : sw->poll_timeout(); }
  void handle_timeout(Time now) {
    if (host) host->handle_timeout(now);
    else sw->handle_timeout(now);
  }
};

struct Simulation::Impl {
  const scenario::Scenario sc;
  RunOptions opts;
  engine::Scheduler sched;
  trace::Tracer tracer;
  std::vector<NodeSlot> nodes;
  std::map<std::string, size_t> node_index;
  std::vector<std::unique_ptr<Port>> ports;
  std::vector<std::unique_ptr<Channel>> channels;  // 2 per link: a->b then b->a
  bool has_files = false;
  engine::EventId reroute;

  Impl(const scenario::Scenario& s, RunOptions o) : sc(s), opts(std::move(o)) {}

  void trace(Time t, std::string_view node, Layer l, std::string_view ev, const std::string& msg,
             const std::vector<Field>& f = {}) {
    if (tracer.enabled()) tracer.emit(t, node, l, ev, msg, f);
  }

  void build();
  void drain(size_t n);
  void channel_send(Channel& ch, PacketBuf frame);
  void channel_start(Channel& ch);
  void deliver(Channel& ch, const l1::LineBits& bits, uint64_t generation);
  void set_link_state(size_t link_index, bool up);
  void schedule_reroute();
  void compute_routes();
  const std::string& node_name(size_t n) const { return sc.nodes[n].name; }
  void flush_console(size_t n);
  void add_http(const scenario::App& a, NodeSlot& client);
  void add_bulk(const scenario::App& a, NodeSlot& sender);
  /// The Ed25519 private seed of the TLS server on `server_node` (nodes.size(): no node owns
  /// `target`): `given` if set, else derived from the seed and the node's name.
  std::array<uint8_t, 32> tls_server_key(size_t server_node, Ipv4Addr target,
                                         const std::optional<std::array<uint8_t, 32>>& given) const;
  app::KeylogSink keylog_sink();
  /// summary.json, streamed (see SummaryWriter).
  void write_summary(SummaryWriter& w, Time end_time) const;
  void write_summary(std::FILE* f, Time end_time) const;

  std::map<std::pair<size_t, uint16_t>, app::HttpServerApp*> http_servers;  // (node, port)
  /// An interface address -> the first and the last host (by node index) that has it.
  struct AddrOwners { size_t first, last; };
  std::unordered_map<uint32_t, AddrOwners> addr_owners;
  /// The host owning `a`: the first one, or the last (nodes.size(): none).
  size_t address_owner(Ipv4Addr a, bool last) const {
    auto it = addr_owners.find(a.v);
    if (it == addr_owners.end()) return nodes.size();
    return last ? it->second.last : it->second.first;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> keylog{nullptr, &std::fclose};
};

app::KeylogSink Simulation::Impl::keylog_sink() {
  if (!has_files || !sc.trace.keylog) return {};
  if (!keylog) {
    const std::string path = (std::filesystem::path(opts.out_dir) / "keylog.txt").string();
    // Secrets: owner-only from the start (no window where the file is world-readable).
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error(path + ": cannot create file");
    keylog.reset(::fdopen(fd, "wb"));
  }
  return [this](const std::string& lines) {
    std::fwrite(lines.data(), 1, lines.size(), keylog.get());
    std::fflush(keylog.get());
  };
}

std::array<uint8_t, 32> Simulation::Impl::tls_server_key(size_t server_node, Ipv4Addr target,
                                                         const std::optional<std::array<uint8_t, 32>>& given) const {
  if (given) return *given;
  std::array<uint8_t, 32> key{};
  Rng kr = Rng::stream(sc.seed, "tls-server-key:" + (server_node < nodes.size() ? node_name(server_node) : target.to_string()));
  kr.fill(key.data(), key.size());
  return key;
}

void Simulation::Impl::add_http(const scenario::App& a, NodeSlot& client) {
  // The server runs on the node that owns the target address; one per (node, port).
  size_t server_node = address_owner(a.target, true);
  const std::array<uint8_t, 32> server_key = tls_server_key(server_node, a.target, a.server_key);
  if (server_node < nodes.size()) {
    auto key = std::make_pair(server_node, a.port);
    if (!http_servers.count(key)) {
      app::HttpServerConfig scfg;
      scfg.name = a.name + "-server";
      scfg.port = a.port;
      scfg.server_key = server_key;
      scfg.rng_seed = Rng::stream(sc.seed, "http-server:" + node_name(server_node)).next_u64();
      scfg.tcp = tcp_config(a.transport);
      scfg.keylog = keylog_sink();
      auto srv = std::make_unique<app::HttpServerApp>(scfg);
      http_servers[key] = srv.get();
      nodes[server_node].host->add_app(std::move(srv));
    }
  }
  app::HttpClientConfig ccfg;
  ccfg.name = a.name;
  ccfg.target = a.target;
  ccfg.host_header = server_node < nodes.size() ? node_name(server_node) : a.target.to_string();
  ccfg.port = a.port;
  ccfg.message = a.message;
  ccfg.requests = a.requests;
  ccfg.connections = a.connections;
  ccfg.keep_alive = a.keep_alive;
  ccfg.start = a.start;
  ccfg.timeout = a.timeout;
  ccfg.pinned_server_key = a.pinned_key ? *a.pinned_key : l6::ed25519_public(server_key);
  ccfg.rng_seed = Rng::stream(sc.seed, "http:" + a.name).next_u64();
  ccfg.tcp = tcp_config(a.transport);
  ccfg.keylog = keylog_sink();
  client.host->add_app(std::make_unique<app::HttpClientApp>(ccfg));
}

void Simulation::Impl::build() {
  namespace fs = std::filesystem;
  // The IP MTU of an interface is its link's MTU (the last link naming it, as the loader
  // allows one link per interface): "node:iface" -> MTU, one pass over the links.
  std::unordered_map<std::string, uint32_t> link_mtu;
  link_mtu.reserve(2 * sc.links.size());
  for (const auto& l : sc.links) {
    link_mtu[l.a_node + ":" + l.a_iface] = l.mtu;
    link_mtu[l.b_node + ":" + l.b_iface] = l.mtu;
  }
  for (size_t i = 0; i < sc.nodes.size(); ++i) {
    const auto& n = sc.nodes[i];
    stack::HostConfig hc;
    hc.name = n.name;
    hc.forwarding = n.kind == scenario::NodeKind::Router;
    hc.default_ttl = n.default_ttl;
    for (const auto& ifc : n.interfaces) {
      uint32_t mtu = 1500;
      if (auto it = link_mtu.find(n.name + ":" + ifc.name); it != link_mtu.end()) mtu = it->second;
      hc.interfaces.push_back(stack::InterfaceConfig{ifc.name, ifc.mac, ifc.address, mtu});
    }
    NodeSlot slot;
    slot.ports.assign(n.interfaces.size(), nullptr);
    node_index[n.name] = i;
    if (n.kind == scenario::NodeKind::Switch) {
      stack::SwitchConfig swc;
      swc.name = n.name;
      swc.ports = static_cast<uint32_t>(n.interfaces.size());
      slot.sw = std::make_unique<stack::Switch>(swc, &tracer);
      nodes.push_back(std::move(slot));
      continue;
    }
    slot.host = std::make_unique<stack::Host>(hc, &tracer, Rng::stream(sc.seed, "node:" + n.name));
    for (const auto& r : n.routes) {
      l3::RouteEntry e;
      e.dest = r.dest;
      e.gateway = r.via;
      e.origin = l3::RouteOrigin::Static;
      bool found = false;
      for (uint32_t k = 0; k < n.interfaces.size(); ++k) {
        const auto& ifc = n.interfaces[k];
        if ((!r.iface.empty() && ifc.name == r.iface) || (r.iface.empty() && r.via && ifc.address.contains(*r.via))) {
          e.ifindex = k;
          found = true;
          break;
        }
      }
      if (!found)
        throw scenario::ScenarioError(sc.source + ": nodes[" + std::to_string(i) + "].routes: gateway " +
                                      (r.via ? r.via->to_string() : std::string("?")) +
                                      " is not on any interface's subnet of node \"" + n.name + "\"");
      slot.host->routes().add(e);
    }
    nodes.push_back(std::move(slot));
  }

  if (!opts.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(opts.out_dir, ec);
    if (ec) throw std::runtime_error(opts.out_dir + ": cannot create directory: " + ec.message());
    auto open = [&](const char* name) {
      const std::string p = (fs::path(opts.out_dir) / name).string();
      std::FILE* f = std::fopen(p.c_str(), "wb");
      if (!f) throw std::runtime_error(p + ": cannot create file");
      return f;
    };
    if (sc.trace.log) tracer.add_sink(std::make_unique<trace::LogSink>(open("trace.log")));
    if (sc.trace.jsonl) tracer.add_sink(std::make_unique<trace::JsonlSink>(open("trace.jsonl")));
    has_files = true;
  }
  if (opts.echo_trace) tracer.add_sink(std::make_unique<trace::LogSink>(stdout, false));

  auto iface_index = [&](size_t node, const std::string& ifname) -> uint32_t {
    const auto& ifs = sc.nodes[node].interfaces;
    for (uint32_t k = 0; k < ifs.size(); ++k)
      if (ifs[k].name == ifname) return k;
    throw scenario::ScenarioError(sc.source + ": unknown interface " + sc.nodes[node].name + ":" + ifname);
  };
  for (const auto& l : sc.links) {
    auto mk_port = [&](const std::string& node, const std::string& ifname) {
      auto p = std::make_unique<Port>();
      p->node = node_index.at(node);
      p->ifindex = iface_index(p->node, ifname);
      p->label = node + ":" + ifname;
      if (has_files && sc.trace.pcap) {
        const std::string path = (std::filesystem::path(opts.out_dir) / (node + "-" + ifname + ".pcap")).string();
        p->pcap = std::make_unique<trace::PcapWriter>(path);
        if (!p->pcap->ok()) throw std::runtime_error(p->pcap->error());
      }
      nodes[p->node].ports[p->ifindex] = p.get();
      ports.push_back(std::move(p));
      return ports.back().get();
    };
    Port* pa = mk_port(l.a_node, l.a_iface);
    Port* pb = mk_port(l.b_node, l.b_iface);
    auto mk_chan = [&](Port* from, Port* to, const scenario::LinkDirection& cfg) {
      const std::string n = from->label + " -> " + to->label;
      auto ch = std::make_unique<Channel>(n, cfg, sc.seed);
      ch->from = from;
      ch->to = to;
      from->out = ch.get();
      channels.push_back(std::move(ch));
    };
    mk_chan(pa, pb, l.a_to_b);
    mk_chan(pb, pa, l.b_to_a);
  }

  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].host) continue;
    for (const auto& ifc : sc.nodes[i].interfaces) {
      auto [it, fresh] = addr_owners.try_emplace(ifc.address.addr.v, AddrOwners{i, i});
      if (!fresh) it->second.last = i;
    }
  }
  for (const auto& a : sc.apps) {
    auto& slot = nodes[node_index.at(a.node)];
    if (a.kind == scenario::AppKind::Ping) {
      app::PingConfig pc;
      pc.name = a.name;
      pc.target = a.target;
      pc.count = a.count;
      pc.interval = a.interval;
      pc.size = a.size;
      pc.timeout = a.timeout;
      pc.dont_fragment = a.dont_fragment;
      pc.start = a.start;
      pc.ident = static_cast<uint16_t>(0x1000 + slot.host->apps().size());
      slot.host->add_app(std::make_unique<app::Ping>(pc));
    } else if (a.kind == scenario::AppKind::Udp) {
      app::UdpFlowConfig uc;
      uc.name = a.name;
      uc.target = a.target;
      uc.port = a.port;
      uc.size = a.size;
      uc.count = a.count;
      uc.interval = a.interval;
      uc.rate_bps = a.rate_bps;
      uc.start = a.start;
      uc.linger = a.timeout;
      slot.host->add_app(std::make_unique<app::UdpFlowSender>(uc));
      // The receiver runs on the node that owns the target address, if any.
      if (const size_t r = address_owner(a.target, false); a.receiver && r < nodes.size()) {
        auto& rx_node = nodes[r];
        auto rx = std::make_unique<app::UdpFlowReceiver>(uc);
        if (!rx_node.host->udp_bind(a.port, rx.get()))
          throw scenario::ScenarioError(sc.source + ": app \"" + a.name + "\": UDP port " + std::to_string(a.port) +
                                        " on node \"" + rx_node.host->name() + "\" is already in use");
        rx_node.host->add_app(std::move(rx));
      }
    } else if (a.kind == scenario::AppKind::Traceroute) {
      app::TracerouteConfig tc;
      tc.name = a.name;
      tc.target = a.target;
      tc.max_ttl = a.max_ttl;
      tc.probes = a.probes;
      tc.timeout = a.timeout;
      tc.start = a.start;
      slot.host->add_app(std::make_unique<app::Traceroute>(tc));
    } else if (a.kind == scenario::AppKind::Http) {
      add_http(a, slot);
    } else if (a.kind == scenario::AppKind::Bulk) {
      add_bulk(a, slot);
    }
  }
}

void Simulation::Impl::add_bulk(const scenario::App& a, NodeSlot& sender) {
  // The receiver runs on the (first) node that owns the target address, if any.
  const size_t rx_node = address_owner(a.target, false);
  app::BulkConfig bc;
  bc.name = a.name;
  bc.target = a.target;
  bc.port = a.port;
  bc.bytes = a.send_for.ns > 0 ? 0 : a.bytes;
  bc.send_for = a.send_for;
  bc.start = a.start;
  bc.stream_seed = Rng::stream(sc.seed, "bulk:" + a.name).next_u64();
  bc.tcp = tcp_config(a.transport);
  app::BulkReceiverConfig rc;
  rc.name = a.name;
  rc.port = a.port;
  rc.stream_seed = bc.stream_seed;
  rc.tcp = bc.tcp;
  rc.expected_bytes = bc.bytes;
  if (a.tls) {
    // The receiver's key is its node's TLS key, the one an http server there would use, and
    // the sender pins its public half.
    const std::array<uint8_t, 32> key = tls_server_key(rx_node, a.target, a.server_key);
    bc.tls = rc.tls = true;
    bc.pinned_server_key = a.pinned_key ? *a.pinned_key : l6::ed25519_public(key);
    bc.tls_seed = Rng::stream(sc.seed, "bulk-tls:" + a.name).next_u64();
    bc.server_name = rx_node < nodes.size() ? node_name(rx_node) : a.target.to_string();
    bc.keylog = keylog_sink();
    rc.server_key = key;
    rc.tls_seed = Rng::stream(sc.seed, "bulk-tls-server:" + a.name).next_u64();
  }
  sender.host->add_app(std::make_unique<app::BulkSender>(bc));
  if (rx_node < nodes.size()) nodes[rx_node].host->add_app(std::make_unique<app::BulkReceiver>(rc));
}

void Simulation::Impl::flush_console(size_t n) {
  if (!nodes[n].host) return;
  auto& host = *nodes[n].host;
  for (auto& a : host.apps()) {
    for (auto& line : a->take_output()) {
      if (opts.console) *opts.console << "[" << host.name() << "] " << line << "\n";
    }
  }
}

void Simulation::Impl::drain(size_t n) {
  NodeSlot& slot = nodes[n];
  const Time now = sched.now();
  while (auto t = slot.poll_transmit()) {
    Port* p = t->ifindex < slot.ports.size() ? slot.ports[t->ifindex] : nullptr;
    if (!p || !p->out) {
      trace(now, node_name(n), Layer::Physical, "no_carrier",
            "interface " + sc.nodes[n].interfaces.at(t->ifindex).name + " is not connected: frame discarded");
      continue;
    }
    channel_send(*p->out, std::move(t->frame));
  }
  flush_console(n);
  const auto next = slot.poll_timeout();
  if (next == slot.wake_at && sched.is_pending(slot.wake)) return;
  sched.cancel(slot.wake);
  slot.wake_at = next;
  if (next) {
    slot.wake = sched.schedule_at(*next, [this, n] {
      nodes[n].wake_at.reset();
      nodes[n].handle_timeout(sched.now());
      drain(n);
    });
  }
}

void Simulation::Impl::channel_send(Channel& ch, PacketBuf frame) {
  ++ch.ctr.offered;
  if (!ch.up) {
    ++ch.ctr.drop_down;
    trace(sched.now(), node_name(ch.from->node), Layer::Link, "link_down_drop",
          "link " + ch.name + " is down: frame of " + std::to_string(frame.size()) + " bytes dropped",
          {{"link", ch.name}, {"cause", std::string("down")}});
    return;
  }
  if (!ch.busy) {
    ch.queue.push_back(std::move(frame));
    channel_start(ch);
    return;
  }
  if (ch.queue.size() >= ch.cfg.queue_frames) {
    ++ch.ctr.drop_queue;
    trace(sched.now(), node_name(ch.from->node), Layer::Link, "queue_drop",
          "queue of " + ch.name + " full (" + std::to_string(ch.cfg.queue_frames) + " frames): frame of " +
              std::to_string(frame.size()) + " bytes dropped (drop-tail)",
          {{"link", ch.name}, {"cause", std::string("queue")}});
    return;
  }
  ch.queue.push_back(std::move(frame));
}

void Simulation::Impl::channel_start(Channel& ch) {
  if (ch.queue.empty()) return;
  PacketBuf frame = std::move(ch.queue.front());
  ch.queue.pop_front();
  ch.busy = true;
  const Time now = sched.now();
  const std::string& from_node = node_name(ch.from->node);
  const size_t len = frame.size();
  const Duration tx = bit_time(kPreambleBits + 8 * len, ch.cfg.bandwidth_bps);
  const Duration gap = bit_time(kInterFrameGapBits, ch.cfg.bandwidth_bps);
  ++ch.ctr.sent;
  ch.ctr.bytes_sent += len;
  if (ch.from->pcap) ch.from->pcap->write(now, frame.view());

  l1::LineBits bits;
  l1::encode_frame(frame.view(), bits);
  if (tracer.enabled()) {
    std::vector<Field> f{{"iface", ch.from->label}, {"frame_len", uint64_t{len}}, {"line_bits", uint64_t{bits.nbits}},
                         {"tx_ns", tx.ns}};
    std::string msg = "transmitting " + std::to_string(len) + "-byte frame as " + std::to_string(bits.nbits) +
                      " line bits (4B/5B) at " + rate_text(ch.cfg.bandwidth_bps) + ": " + format_duration(tx) +
                      " on the wire, arrives after " + format_duration(ch.cfg.delay) + " of propagation";
    if (sc.trace.l1_bits) {
      const std::string b = bits_text(bits, 80);
      msg += ", bits " + b;
      f.push_back({"bits", b});
    }
    trace(now, from_node, Layer::Physical, "tx_bits", msg, f);
  }
  sched.schedule_in(tx + gap, [this, &ch] {
    ch.busy = false;
    channel_start(ch);
  });
  if (ch.loss_rng.bernoulli(ch.cfg.loss)) {
    ++ch.ctr.drop_loss;
    trace(now, from_node, Layer::Link, "lost",
          "frame of " + std::to_string(len) + " bytes on " + ch.name + " lost in transit (loss probability " +
              std::to_string(ch.cfg.loss) + ")",
          {{"link", ch.name}, {"cause", std::string("loss")}});
    return;
  }
  std::vector<uint32_t> positions;
  const uint32_t flips = ch.ber.apply(bits.bits.data(), bits.nbits, tracer.enabled() ? &positions : nullptr);
  if (flips) {
    ch.ctr.bit_errors += flips;
    ++ch.ctr.damaged;
    if (tracer.enabled()) {
      std::string where;
      for (size_t i = 0; i < positions.size() && i < 8; ++i) where += (i ? ", " : "") + std::to_string(positions[i]);
      if (positions.size() > 8) where += ", ...";
      trace(now, from_node, Layer::Link, "bit_errors",
            std::to_string(flips) + " bit error(s) hit the frame on " + ch.name + " at line bit(s) " + where,
            {{"link", ch.name}, {"flips", uint64_t{flips}}});
    }
  }
  auto jitter = [&ch]() {
    return ch.cfg.jitter.ns > 0 ? Duration{static_cast<int64_t>(ch.jitter_rng.uniform_int(0, static_cast<uint64_t>(ch.cfg.jitter.ns)))}
                                : Duration::zero();
  };
  const Duration extra = jitter();
  const uint64_t gen = ch.generation;
  if (ch.cfg.duplicate > 0 && ch.dup_rng.bernoulli(ch.cfg.duplicate)) {
    ++ch.ctr.duplicated;
    const Duration extra2 = jitter();
    trace(now, from_node, Layer::Link, "duplicated",
          "frame of " + std::to_string(len) + " bytes on " + ch.name + " duplicated: a second copy arrives " +
              format_duration(extra2 - extra) + " after the first",
          {{"link", ch.name}});
    sched.schedule_in(tx + ch.cfg.delay + extra2, [this, &ch, b = bits, gen] { deliver(ch, b, gen); });
  }
  if (extra.ns > 0) {
    trace(now, from_node, Layer::Link, "jitter", "frame on " + ch.name + " delayed by " + format_duration(extra) + " of jitter",
          {{"link", ch.name}, {"jitter_ns", extra.ns}});
  }
  sched.schedule_in(tx + ch.cfg.delay + extra, [this, &ch, b = std::move(bits), gen] {
    deliver(ch, b, gen);
  });
}

void Simulation::Impl::set_link_state(size_t link_index, bool up) {
  const Time now = sched.now();
  const auto& l = sc.links[link_index];
  for (int d = 0; d < 2; ++d) {
    Channel& ch = *channels[2 * link_index + d];
    if (ch.up == up) continue;
    ch.up = up;
    if (!up) {
      ++ch.generation;
      ch.ctr.drop_down += ch.queue.size();
      ch.queue.clear();
    }
  }
  trace(now, "-", Layer::Link, up ? "link_up" : "link_down",
        "link " + l.name + (up ? " comes up" : " goes down: queued frames and frames in flight are lost"),
        {{"link", l.name}});
  for (int d = 0; d < 2; ++d) {
    Port* p = d == 0 ? channels[2 * link_index]->from : channels[2 * link_index]->to;
    if (nodes[p->node].sw) {
      nodes[p->node].sw->set_port_up(p->ifindex, up);
      drain(p->node);
    }
  }
  if (sc.routing.recompute) schedule_reroute();
}

void Simulation::Impl::deliver(Channel& ch, const l1::LineBits& bits, uint64_t gen) {
  const Time now = sched.now();
  if (gen != ch.generation) {
    ++ch.ctr.drop_down;
    trace(now, node_name(ch.to->node), Layer::Link, "link_down_drop",
          "frame in flight on " + ch.name + " lost: the link went down", {{"link", ch.name}, {"cause", std::string("down")}});
    return;
  }
  const size_t n = ch.to->node;
  const std::string& host_name = node_name(n);
  auto dec = l1::decode_frame(bits);
  if (!dec) {
    ++ch.ctr.drop_line;
    trace(now, host_name, Layer::Physical, "line_error",
          "signal on " + ch.to->label + " could not be decoded (" + dec.error().message + "): frame lost",
          {{"iface", ch.to->label}, {"reason", dec.error().message}});
    return;
  }
  ++ch.ctr.delivered;
  if (tracer.enabled()) {
    std::string msg = "received " + std::to_string(bits.nbits) + " line bits on " + ch.to->label + ", decoded a " +
                      std::to_string(dec->frame.size()) + "-byte frame";
    if (dec->symbol_errors) msg += " with " + std::to_string(dec->symbol_errors) + " invalid code group(s)";
    trace(now, host_name, Layer::Physical, "rx_bits", msg,
          {{"iface", ch.to->label}, {"line_bits", uint64_t{bits.nbits}}, {"symbol_errors", uint64_t{dec->symbol_errors}}});
  }
  if (ch.to->pcap) ch.to->pcap->write(now, dec->frame);
  nodes[n].handle_frame(now, ch.to->ifindex, PacketBuf::from(dec->frame), dec->symbol_errors > 0);
  drain(n);
}

// "auto" routes: shortest paths over the links that are up. An Ethernet segment (links
// joined by switches) connects every pair of IP interfaces on it directly, with the cost
// of the cheapest switched path between them.
void Simulation::Impl::compute_routes() {
  std::vector<bool> wants(sc.nodes.size(), false);
  bool any = false;
  for (size_t i = 0; i < sc.nodes.size(); ++i) any |= (wants[i] = sc.nodes[i].routes_auto);
  if (!any) return;
  std::vector<l3::TopoNode> topo(sc.nodes.size());
  for (size_t i = 0; i < sc.nodes.size(); ++i) {
    topo[i].name = sc.nodes[i].name;
    topo[i].forwards = sc.nodes[i].kind == scenario::NodeKind::Router;
    for (const auto& ifc : sc.nodes[i].interfaces) topo[i].interfaces.push_back({ifc.address});
  }
  std::vector<l3::TopoLink> links;
  // Adjacency through switches: from each IP interface attached to a switch, a
  // least-cost search across switches finds the IP interfaces it reaches.
  struct End { uint32_t node, ifc; };
  std::vector<std::vector<std::pair<size_t, bool>>> by_node(sc.nodes.size());  // (link, this node is a)
  for (size_t li = 0; li < sc.links.size(); ++li) {
    by_node[ports[2 * li]->node].push_back({li, true});
    by_node[ports[2 * li + 1]->node].push_back({li, false});
  }
  auto is_switch = [&](size_t n) { return sc.nodes[n].kind == scenario::NodeKind::Switch; };
  for (size_t li = 0; li < sc.links.size(); ++li) {
    if (!channels[2 * li]->up) continue;
    const Port* a = ports[2 * li].get();
    const Port* b = ports[2 * li + 1].get();
    if (!is_switch(a->node) && !is_switch(b->node)) {
      links.push_back({static_cast<uint32_t>(a->node), a->ifindex, static_cast<uint32_t>(b->node), b->ifindex,
                       sc.links[li].cost, true});
    }
  }
  for (size_t src = 0; src < sc.nodes.size(); ++src) {
    if (is_switch(src)) continue;
    for (auto [li, src_is_a] : by_node[src]) {
      if (!channels[2 * li]->up) continue;
      const Port* mine = src_is_a ? ports[2 * li].get() : ports[2 * li + 1].get();
      const Port* other = src_is_a ? ports[2 * li + 1].get() : ports[2 * li].get();
      if (!is_switch(other->node)) continue;
      // Dijkstra over switches from `other->node`, starting at cost of this link.
      std::map<size_t, uint64_t> dist{{other->node, sc.links[li].cost}};
      std::vector<std::pair<uint64_t, size_t>> frontier{{sc.links[li].cost, other->node}};
      std::set<size_t> done;
      while (!frontier.empty()) {
        std::pop_heap(frontier.begin(), frontier.end(), std::greater<>());
        auto [d, sw] = frontier.back();
        frontier.pop_back();
        if (!done.insert(sw).second) continue;
        for (auto [lj, sw_is_a] : by_node[sw]) {
          if (lj == li || !channels[2 * lj]->up) continue;
          const Port* far = sw_is_a ? ports[2 * lj + 1].get() : ports[2 * lj].get();
          const uint64_t nd = d + sc.links[lj].cost;
          if (is_switch(far->node)) {
            auto it = dist.find(far->node);
            if (it == dist.end() || nd < it->second) {
              dist[far->node] = nd;
              frontier.push_back({nd, far->node});
              std::push_heap(frontier.begin(), frontier.end(), std::greater<>());
            }
          } else if (far->node > src || (far->node == src && far->ifindex != mine->ifindex)) {
            // Each unordered pair once (from the lower node index).
            links.push_back({static_cast<uint32_t>(src), mine->ifindex, static_cast<uint32_t>(far->node), far->ifindex,
                             static_cast<uint32_t>(std::min<uint64_t>(nd, UINT32_MAX)), true});
          }
        }
      }
    }
  }
  // One shared structure answers every node's auto routes (nothing is copied per node);
  // listing a node's routes for the trace runs one Dijkstra from it.
  auto routes = std::make_shared<const l3::AutoRoutes>(topo, links, wants);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!wants[i] || !nodes[i].host) continue;
    auto& table = nodes[i].host->routes();
    table.remove_origin(l3::RouteOrigin::Auto);
    if (tracer.enabled()) {
      std::vector<std::string> ifnames;
      for (const auto& ifc : sc.nodes[i].interfaces) ifnames.push_back(ifc.name);
      routes->for_each(static_cast<uint32_t>(i), [&](const l3::RouteEntry& r) {
        trace(sched.now(), node_name(i), Layer::Network, "route", "route " + r.describe(ifnames), {});
      });
    }
    table.attach(routes, static_cast<uint32_t>(i), l3::RouteOrigin::Auto);
  }
}

void Simulation::Impl::schedule_reroute() {
  bool any = false;
  for (const auto& n : sc.nodes) any |= n.routes_auto;
  if (!any) return;
  sched.cancel(reroute);
  reroute = sched.schedule_in(sc.routing.delay, [this] {
    trace(sched.now(), "-", Layer::Network, "reroute", "link state changed: recomputing \"auto\" routes");
    compute_routes();
    for (size_t i = 0; i < nodes.size(); ++i) drain(i);
  });
}

Simulation::Simulation(const scenario::Scenario& sc, RunOptions opts) : impl_(std::make_unique<Impl>(sc, std::move(opts))) {
  impl_->build();
}

Simulation::~Simulation() = default;

void Simulation::run() {
  Impl& m = *impl_;
  const Time end = m.opts.until ? *m.opts.until : Time::zero() + m.sc.duration;
  m.trace(Time::zero(), "-", Layer::Sim, "start",
          "scenario \"" + m.sc.name + "\": " + std::to_string(m.sc.nodes.size()) + " nodes, " +
              std::to_string(m.sc.links.size()) + " links, seed " + std::to_string(m.sc.seed) + ", until " +
              format_time(end) + " s");
  m.compute_routes();
  for (const auto& ev : m.sc.events) {
    size_t li = 0;
    while (m.sc.links[li].name != ev.link) ++li;
    m.sched.schedule_at(ev.at, [&m, li, up = ev.up] { m.set_link_state(li, up); });
  }
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    if (m.nodes[i].host) m.nodes[i].host->start(Time::zero());
    m.drain(i);
  }
  m.sched.set_event_limit(m.opts.max_events);
  m.sched.run_until(end);
  if (m.sched.event_limit_reached())
    m.trace(m.sched.now(), "-", Layer::Sim, "watchdog",
            "watchdog: stopped after " + std::to_string(m.sched.executed()) + " events (limit reached)");
  const Time stop = m.sched.pending() ? end : m.sched.last_event_time();
  m.trace(stop, "-", Layer::Sim, "end",
          "simulation ended at " + format_time(stop) + " s after " + std::to_string(m.sched.executed()) + " events" +
              (m.sched.pending() ? " (duration reached)" : " (nothing left to do)"));
  for (size_t i = 0; i < m.nodes.size(); ++i) m.flush_console(i);
  m.tracer.flush();
  for (auto& p : m.ports)
    if (p->pcap) p->pcap->flush();
  if (m.has_files && m.sc.trace.summary) {
    const std::string path = (std::filesystem::path(m.opts.out_dir) / "summary.json").string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error(path + ": cannot create file");
    m.write_summary(f, now());
    std::fclose(f);
  }
}

Time Simulation::now() const {
  return impl_->sched.pending() ? impl_->sched.now() : impl_->sched.last_event_time();
}
uint64_t Simulation::events_executed() const { return impl_->sched.executed(); }
bool Simulation::watchdog_fired() const { return impl_->sched.event_limit_reached(); }

stack::Host& Simulation::host(const std::string& name) {
  auto it = impl_->node_index.find(name);
  if (it == impl_->node_index.end() || !impl_->nodes[it->second].host) throw std::out_of_range("no host " + name);
  return *impl_->nodes[it->second].host;
}

const stack::Switch& Simulation::switch_node(const std::string& name) const {
  auto it = impl_->node_index.find(name);
  if (it == impl_->node_index.end() || !impl_->nodes[it->second].sw) throw std::out_of_range("no switch " + name);
  return *impl_->nodes[it->second].sw;
}
const stack::Host& Simulation::host(const std::string& name) const {
  return const_cast<Simulation*>(this)->host(name);
}

const ChannelCounters& Simulation::channel(size_t link_index, bool forward) const {
  return impl_->channels.at(link_index * 2 + (forward ? 0 : 1))->ctr;
}

namespace {

nlohmann::ordered_json to_json(const std::vector<Field>& fields) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& f : fields) std::visit([&](const auto& v) { j[f.key] = v; }, f.value);
  return j;
}

nlohmann::ordered_json to_json(const ChannelCounters& c) {
  return {{"offered", c.offered},   {"sent", c.sent},          {"bytes_sent", c.bytes_sent},
          {"delivered", c.delivered}, {"dropped", {{"queue", c.drop_queue}, {"loss", c.drop_loss}, {"line", c.drop_line}, {"down", c.drop_down}}},
          {"duplicated", c.duplicated},
          {"bit_errors", c.bit_errors}, {"damaged_frames", c.damaged}};
}

nlohmann::ordered_json to_json(const stack::HostCounters& c) {
  return {{"l2",
           {{"frames_in", c.frames_in},
            {"frames_out", c.frames_out},
            {"arp_requests_out", c.arp_requests_out},
            {"arp_replies_out", c.arp_replies_out},
            {"dropped",
             {{"fcs", c.drop_fcs},
              {"rx_error", c.drop_rx_error},
              {"runt", c.drop_runt},
              {"not_for_us", c.drop_not_for_us},
              {"ethertype", c.drop_ethertype},
              {"arp_malformed", c.drop_arp_malformed},
              {"arp_queue_full", c.drop_arp_queue_full},
              {"arp_unresolved", c.drop_arp_unresolved}}}}},
          {"l3",
           {{"packets_in", c.ip_in},
            {"packets_out", c.ip_out},
            {"delivered", c.ip_delivered},
            {"forwarded", c.ip_forwarded},
            {"fragments_out", c.fragments_out},
            {"fragments_in", c.fragments_in},
            {"reassembled", c.reassembled},
            {"icmp_in", c.icmp_in},
            {"icmp_out", c.icmp_out},
            {"dropped",
             {{"malformed", c.drop_ip_malformed},
              {"checksum", c.drop_ip_checksum},
              {"ttl", c.drop_ttl},
              {"no_route", c.drop_no_route},
              {"not_for_us", c.drop_not_for_us_ip},
              {"df", c.drop_df},
              {"unknown_protocol", c.drop_unknown_proto},
              {"reassembly", c.drop_reassembly},
              {"icmp_malformed", c.drop_icmp_malformed}}}}},
          {"l4",
           {{"udp_in", c.udp_in},
            {"udp_out", c.udp_out},
            {"tcp_in", c.tcp_in},
            {"tcp_out", c.tcp_out},
            {"tcp_rst_out", c.tcp_rst_out},
            {"tcp_connections_opened", c.tcp_conns_opened},
            {"tcp_connections_accepted", c.tcp_conns_accepted},
            {"dropped",
             {{"udp_checksum", c.drop_udp_checksum},
              {"udp_malformed", c.drop_udp_malformed},
              {"udp_port_unreachable", c.udp_port_unreachable},
              {"tcp_checksum", c.drop_tcp_checksum},
              {"tcp_malformed", c.drop_tcp_malformed},
              {"tcp_backlog", c.drop_tcp_backlog}}}}}};
}

}  // namespace

/// Writes summary.json as `ordered_json::dump(2)` of the whole document would, one top-level
/// value or array element at a time, so that the whole tree is never held at once.
class SummaryWriter {
 public:
  explicit SummaryWriter(std::FILE* f) : file_(f) {}
  explicit SummaryWriter(std::string& s) : out_(&s) {}
  ~SummaryWriter() { flush(); }

  void put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= (1u << 16)) flush();
  }
  /// `v.dump(2)`, its lines after the first indented by `depth` more levels.
  void value(const nlohmann::ordered_json& v, int depth) {
    const std::string d = v.dump(2);
    size_t start = 0;
    for (size_t nl; (nl = d.find('\n', start)) != std::string::npos; start = nl + 1) {
      put(std::string_view(d).substr(start, nl + 1 - start));
      buf_.append(2 * static_cast<size_t>(depth), ' ');
    }
    put(std::string_view(d).substr(start));
  }
  /// A top-level key (after the first: preceded by ",").
  void key(const char* k) {
    put(first_key_ ? "{\n  " : ",\n  ");
    first_key_ = false;
    put(nlohmann::ordered_json(k).dump());
    put(": ");
  }
  void begin_array() { first_element_ = true; }
  void element(const nlohmann::ordered_json& v) {
    put(first_element_ ? "[\n    " : ",\n    ");
    first_element_ = false;
    value(v, 2);
  }
  void end_array() { put(first_element_ ? "[]" : "\n  ]"); }
  void end() { put(first_key_ ? "{}\n" : "\n}\n"); }

  void flush() {
    if (out_) out_->append(buf_);
    else std::fwrite(buf_.data(), 1, buf_.size(), file_);
    buf_.clear();
  }

 private:
  std::FILE* file_ = nullptr;
  std::string* out_ = nullptr;
  std::string buf_;
  bool first_key_ = true;
  bool first_element_ = true;
};

void Simulation::Impl::write_summary(SummaryWriter& w, Time end_time) const {
  w.key("scenario");
  w.value(sc.name, 1);
  w.key("seed");
  w.value(sc.seed, 1);
  w.key("end_time_ns");
  w.value(end_time.ns, 1);
  w.key("events");
  w.value(sched.executed(), 1);
  w.key("apps");
  w.begin_array();
  for (const auto& n : nodes) {
    if (!n.host) continue;
    for (const auto& a : n.host->apps()) {
      nlohmann::ordered_json aj = to_json(a->summary());
      aj["name"] = a->name();
      aj["kind"] = a->kind();
      aj["node"] = n.host->name();
      w.element(aj);
    }
  }
  w.end_array();
  w.key("links");
  w.begin_array();
  for (size_t i = 0; i < sc.links.size(); ++i) {
    w.element({{"name", sc.links[i].name},
               {"a_to_b", to_json(channels[2 * i]->ctr)},
               {"b_to_a", to_json(channels[2 * i + 1]->ctr)}});
  }
  w.end_array();
  w.key("nodes");
  w.begin_array();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (n.host) {
      nlohmann::ordered_json nj = to_json(n.host->counters());
      nj["name"] = n.host->name();
      w.element(nj);
    } else {
      const auto& c = n.sw->counters();
      w.element({{"name", node_name(i)},
                 {"kind", "switch"},
                 {"frames_in", c.frames_in},
                 {"frames_out", c.frames_out},
                 {"forwarded", c.forwarded},
                 {"flooded", c.flooded},
                 {"filtered", c.filtered},
                 {"learned", c.learned},
                 {"dropped",
                  {{"fcs", c.drop_fcs},
                   {"rx_error", c.drop_rx_error},
                   {"runt", c.drop_runt},
                   {"port_down", c.drop_port_down}}}});
    }
  }
  w.end_array();
  w.end();
}

void Simulation::Impl::write_summary(std::FILE* f, Time end_time) const {
  SummaryWriter w(f);
  write_summary(w, end_time);
}

std::string Simulation::summary_json() const {
  std::string s;
  {
    SummaryWriter w(s);
    impl_->write_summary(w, now());
  }
  return s;
}

}  // namespace mz::sim
