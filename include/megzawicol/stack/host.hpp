// A node's protocol stack (L2 + L3 and the applications above), as a sans-I/O machine.
//
// The Host never performs I/O and never reads a clock. Its driver (the simulator, or
// the socket backend) feeds it and drains it:
//
//   handle_frame(now, ifindex, frame)   a frame (FCS included) decoded by an interface's PHY
//   handle_timeout(now)                 when now >= poll_timeout()
//   start(now)                          once, to start the applications
//
// and after every call: drain poll_transmit() (frames to put on the wire, FCS
// included), then ask poll_timeout() for the next wake-up.
//
// Routers are Hosts with forwarding enabled.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/l2/arp_cache.hpp"
#include "megzawicol/l3/reassembly.hpp"
#include "megzawicol/l3/routing.hpp"
#include "megzawicol/l4/tcp_connection.hpp"
#include "megzawicol/trace/tracer.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/udp.hpp"

namespace mz::stack {

struct InterfaceConfig {
  std::string name;
  MacAddr mac;
  Ipv4Cidr address;
  uint32_t mtu = 1500;  // IP MTU
};

struct HostConfig {
  std::string name;
  bool forwarding = false;  // a router
  uint8_t default_ttl = 64;
  std::vector<InterfaceConfig> interfaces;
  l2::ArpCache::Config arp;
  l3::Reassembler::Config reassembly;
};

struct Transmit {
  uint32_t ifindex = 0;
  PacketBuf frame;  // a complete Ethernet frame, FCS included
};

/// Per-layer counters; every dropped packet is counted under exactly one cause.
struct HostCounters {
  // L2
  uint64_t frames_in = 0, frames_out = 0;
  uint64_t drop_fcs = 0, drop_rx_error = 0, drop_runt = 0, drop_not_for_us = 0, drop_ethertype = 0;
  uint64_t arp_requests_out = 0, arp_replies_out = 0, arp_in = 0, drop_arp_malformed = 0;
  uint64_t drop_arp_queue_full = 0, drop_arp_unresolved = 0;
  // L3
  uint64_t ip_in = 0, ip_out = 0, ip_delivered = 0, ip_forwarded = 0;
  uint64_t drop_ip_malformed = 0, drop_ip_checksum = 0, drop_ttl = 0, drop_no_route = 0;
  uint64_t drop_not_for_us_ip = 0, drop_df = 0, drop_unknown_proto = 0, drop_reassembly = 0;
  uint64_t fragments_out = 0, fragments_in = 0, reassembled = 0;
  uint64_t icmp_in = 0, icmp_out = 0, drop_icmp_malformed = 0;
  // L4: UDP (udp_in counts every datagram handed to UDP, dropped or not)
  uint64_t udp_in = 0, udp_out = 0, drop_udp_checksum = 0, drop_udp_malformed = 0;
  uint64_t udp_port_unreachable = 0;  // dropped: no socket bound to the destination port
  // L4: TCP (tcp_in counts every segment handed to TCP)
  uint64_t tcp_in = 0, tcp_out = 0, drop_tcp_checksum = 0, drop_tcp_malformed = 0;
  uint64_t tcp_rst_out = 0;          // resets for segments to no connection (closed port)
  uint64_t tcp_conns_opened = 0, tcp_conns_accepted = 0, drop_tcp_backlog = 0;
};

class Host;

/// A TCP connection handle, unique within a host for its lifetime.
using ConnId = uint32_t;

/// Receives the events of the TCP connections it opened or accepted (usually an App).
/// It may call the host's tcp_* functions from inside on_tcp.
class TcpHandler {
 public:
  virtual ~TcpHandler() = default;
  virtual void on_tcp(Host& host, Time now, ConnId id, const l4::TcpEvent& ev) = 0;
};

/// The receiving end of a bound UDP port (usually an App).
class UdpHandler {
 public:
  virtual ~UdpHandler() = default;
  /// A datagram for the bound port, checksum verified; `payload` is valid during the call only.
  virtual void on_udp(Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& udp, ByteView payload) = 0;
};

/// An application running on a host, driven by the host's clock and timers.
class App {
 public:
  virtual ~App() = default;
  virtual const std::string& name() const = 0;
  virtual void start(Host& host, Time now) = 0;
  virtual std::optional<Time> poll_timeout() const = 0;
  virtual void handle_timeout(Host& host, Time now) = 0;
  /// Every ICMP message addressed to this host is offered to every app.
  virtual void on_icmp(Host& /*host*/, Time /*now*/, const wire::Ipv4Repr& /*ip*/, const wire::IcmpRepr& /*icmp*/) {}
  /// Lines for the console (like the real tool would print); drained by the driver.
  std::vector<std::string> take_output() { return std::exchange(output_, {}); }
  /// Named figures for summary.json.
  virtual std::vector<trace::Field> summary() const = 0;
  virtual const char* kind() const = 0;

 protected:
  void print(std::string line) { output_.push_back(std::move(line)); }

 private:
  std::vector<std::string> output_;
};

class Host {
 public:
  Host(HostConfig cfg, trace::Tracer* tracer, Rng rng);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // ---- driver side ----
  void start(Time now);
  /// `rx_error`: the PHY saw invalid code groups while receiving (802.3 RX_ER); the MAC
  /// then discards the frame whatever its FCS says.
  void handle_frame(Time now, uint32_t ifindex, const PacketBuf& frame, bool rx_error = false);
  std::optional<Transmit> poll_transmit();
  std::optional<Time> poll_timeout() const;
  void handle_timeout(Time now);

  // ---- upper-layer side ----
  enum class SendStatus { Sent, Queued, NoRoute, TooBig, ArpQueueFull };
  /// Sends one IPv4 datagram. `h.src` unspecified: the outgoing interface's address is
  /// used; `h.ttl` 0: the host's default TTL; `h.ident` 0 with !`keep_ident`: the next
  /// identification. Fragments to the outgoing MTU unless DF.
  SendStatus send_ip(Time now, wire::Ipv4Repr h, PacketBuf payload, bool keep_ident = false);
  /// Sends an ICMP error about `offending` (its IP header + 8 bytes are quoted), unless
  /// the rules of RFC 1122 3.2.2 forbid it (about an ICMP error, a fragment, a broadcast).
  void send_icmp_error(Time now, uint8_t type, uint8_t code, ByteView offending, uint16_t mtu = 0);
  /// The source address a packet to `dst` gets: the address of the interface the route
  /// to `dst` leaves by; nullopt without a route.
  std::optional<Ipv4Addr> source_for(Ipv4Addr dst) const;

  // ---- UDP (RFC 768) ----
  /// Binds `port` (1..65535) to `h`; false if the port is 0 or already bound.
  bool udp_bind(uint16_t port, UdpHandler* h);
  void udp_unbind(uint16_t port);
  bool udp_bound(uint16_t port) const { return udp_ports_.count(port) != 0; }
  /// A free port in 49152..65535, not bound yet (the caller binds it). The first call
  /// draws the starting point from the host's Rng; later calls go upward, wrapping.
  /// 0 if every ephemeral port is bound.
  uint16_t udp_ephemeral_port();
  /// Sends one datagram from the host's address towards `dst` (chosen by the route),
  /// with the pseudo-header checksum; `ttl` 0: the default TTL.
  SendStatus udp_send(Time now, uint16_t sport, Ipv4Addr dst, uint16_t dport, PacketBuf payload, uint8_t ttl = 0);

  // ---- TCP (RFC 9293) ----
  /// Accepts connections on `port` with `cfg` (its MSS is set from the interface MTU);
  /// false if the port is 0 or already listening. `backlog` bounds half-open connections.
  bool tcp_listen(uint16_t port, TcpHandler* h, const l4::TcpConfig& cfg, size_t backlog = 128);
  /// Opens a connection to dst:dport from an ephemeral port; nullopt without a route.
  std::optional<ConnId> tcp_connect(Time now, Ipv4Addr dst, uint16_t dport, TcpHandler* h, l4::TcpConfig cfg);
  /// The connection, or null once it has closed and been forgotten.
  l4::TcpConnection* tcp(ConnId id);
  const l4::TcpConnection* tcp(ConnId id) const;
  /// Application calls on a connection; each then lets TCP transmit and report events.
  size_t tcp_send(Time now, ConnId id, ByteView data);
  /// The same for the concatenation of `parts` (as one call: TCP sees the bytes at once).
  size_t tcp_send(Time now, ConnId id, std::span<const ByteView> parts);
  size_t tcp_recv(Time now, ConnId id, MutByteView out);
  void tcp_close(Time now, ConnId id);
  void tcp_abort(Time now, ConnId id);
  size_t tcp_connections() const { return tcp_conns_.size(); }

  void add_app(std::unique_ptr<App> app);
  const std::vector<std::unique_ptr<App>>& apps() const { return apps_; }

  const std::string& name() const { return cfg_.name; }
  const HostConfig& config() const { return cfg_; }
  l3::RoutingTable& routes() { return routes_; }
  const l3::RoutingTable& routes() const { return routes_; }
  const HostCounters& counters() const { return ctr_; }
  const l3::Reassembler& reassembler() const { return reasm_; }
  bool has_address(Ipv4Addr a) const;
  /// The first interface address (what "target": "<node>" means).
  Ipv4Addr primary_address() const;
  Rng& rng() { return rng_; }
  trace::Tracer* tracer() const { return tracer_; }
  bool tracing() const { return tracer_ && tracer_->enabled(); }
  void trace(Time now, trace::Layer layer, std::string_view event, std::string_view msg,
             const std::vector<trace::Field>& fields = {}) const;

 private:
  struct Iface {
    InterfaceConfig cfg;
    l2::ArpCache arp;
  };

  // L2
  void l2_output(Time now, uint32_t ifindex, MacAddr dst, uint16_t ethertype, PacketBuf payload);
  void arp_input(Time now, uint32_t ifindex, ByteView payload);
  void arp_request(Time now, uint32_t ifindex, Ipv4Addr target);
  // L3
  void ip_input(Time now, uint32_t ifindex, ByteView packet);
  void ip_deliver(Time now, uint32_t ifindex, const wire::Ipv4Repr& h, ByteView payload, ByteView whole);
  /// A fragment for us: into the reassembler; a completed datagram goes on to ip_deliver_datagram.
  void ip_reassemble(Time now, const wire::Ipv4Repr& h, ByteView payload);
  /// A whole datagram for us (`whole`: its header and payload) to the protocol above.
  void ip_deliver_datagram(Time now, const wire::Ipv4Repr& h, ByteView payload, ByteView whole);
  /// A datagram the reassembler gave up (timer, or evicted by its memory bound).
  void reassembly_failed(Time now, const l3::Reassembler::Expired& e, bool evicted);
  void ip_forward(Time now, uint32_t ifindex, const wire::Ipv4Repr& h, ByteView packet);
  /// Puts a complete IPv4 packet (header emitted) on interface `ifindex` towards `next_hop`.
  void ip_to_link(Time now, uint32_t ifindex, Ipv4Addr next_hop, PacketBuf packet);
  void icmp_input(Time now, const wire::Ipv4Repr& h, ByteView payload);
  void udp_input(Time now, const wire::Ipv4Repr& h, ByteView payload, ByteView whole);
  void tcp_input(Time now, const wire::Ipv4Repr& h, ByteView payload);
  /// Drains every connection: events to handlers, segments to IP; forgets closed ones.
  void tcp_service(Time now);
  void tcp_emit(Time now, const l4::TcpConnection& c, l4::TcpConnection::Segment seg);
  void tcp_trace_event(Time now, const l4::TcpConnection& c, const l4::TcpEvent& ev);
  uint16_t tcp_ephemeral_port(Ipv4Addr dst, uint16_t dport);
  uint16_t mss_for(Ipv4Addr dst) const;
  void arp_failed(Time now, Ipv4Addr addr, std::vector<PacketBuf>& packets);

  HostConfig cfg_;
  trace::Tracer* tracer_;
  Rng rng_;
  std::vector<Iface> ifaces_;
  std::vector<std::string> ifnames_;
  l3::RoutingTable routes_;
  std::deque<Transmit> tx_;
  std::vector<std::unique_ptr<App>> apps_;
  HostCounters ctr_;
  l3::Reassembler reasm_{cfg_.reassembly};
  uint16_t next_ident_ = 1;
  uint64_t frame_seq_ = 0;
  std::map<uint16_t, UdpHandler*> udp_ports_;
  struct TcpListener {
    TcpHandler* handler;
    l4::TcpConfig cfg;
    size_t backlog;
  };
  struct TcpKey {
    Ipv4Addr local;
    uint16_t lport;
    Ipv4Addr remote;
    uint16_t rport;
    auto operator<=>(const TcpKey&) const = default;
  };
  struct TcpEntry {
    ConnId id;
    TcpKey key;
    l4::TcpConnection conn;
    TcpHandler* handler;
    bool accepted;  // from a listener (not yet reported to the handler until Connected)
  };
  std::map<uint16_t, TcpListener> tcp_listeners_;
  std::map<ConnId, TcpEntry> tcp_conns_;
  std::map<TcpKey, ConnId> tcp_by_key_;
  ConnId next_conn_id_ = 1;
  uint16_t next_tcp_ephemeral_ = 0;
  bool in_tcp_service_ = false;
  uint16_t next_ephemeral_ = 0;  // 0: not drawn yet
};

}  // namespace mz::stack
