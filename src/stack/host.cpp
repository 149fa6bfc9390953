#include "megzawicol/stack/host.hpp"

#include <algorithm>
#include <cstdio>

#include "megzawicol/l3/fragment.hpp"
#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/ethernet.hpp"

namespace mz::stack {

using trace::Field;
using trace::Layer;

namespace {

std::string hex32(uint32_t v) {
  char b[12];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

}  // namespace

Host::Host(HostConfig cfg, trace::Tracer* tracer, Rng rng) : cfg_(std::move(cfg)), tracer_(tracer), rng_(rng) {
  for (uint32_t i = 0; i < cfg_.interfaces.size(); ++i) {
    const auto& ic = cfg_.interfaces[i];
    ifaces_.push_back(Iface{ic, l2::ArpCache(cfg_.arp)});
    ifnames_.push_back(ic.name);
    l3::RouteEntry r;
    r.dest = Ipv4Cidr{ic.address.network(), ic.address.prefix_len};
    r.ifindex = i;
    r.origin = l3::RouteOrigin::Connected;
    routes_.add(r);
  }
  next_ident_ = static_cast<uint16_t>(rng_.uniform_int(1, 0xffff));
}

void Host::trace(Time now, Layer layer, std::string_view event, std::string_view msg,
                 const std::vector<Field>& fields) const {
  if (tracing()) tracer_->emit(now, cfg_.name, layer, event, msg, fields);
}

bool Host::has_address(Ipv4Addr a) const {
  return std::any_of(ifaces_.begin(), ifaces_.end(), [a](const Iface& i) { return i.cfg.address.addr == a; });
}

Ipv4Addr Host::primary_address() const { return ifaces_.empty() ? Ipv4Addr{} : ifaces_[0].cfg.address.addr; }

void Host::add_app(std::unique_ptr<App> app) { apps_.push_back(std::move(app)); }

void Host::start(Time now) {
  if (tracing()) {
    routes_.for_each([&](const l3::RouteEntry& r) { trace(now, Layer::Network, "route", "route " + r.describe(ifnames_)); });
  }
  for (auto& a : apps_) a->start(*this, now);
  tcp_service(now);
}

std::optional<Transmit> Host::poll_transmit() {
  if (tx_.empty()) return std::nullopt;
  Transmit t = std::move(tx_.front());
  tx_.pop_front();
  return t;
}

std::optional<Time> Host::poll_timeout() const {
  std::optional<Time> t;
  auto take = [&t](std::optional<Time> c) {
    if (c && (!t || *c < *t)) t = c;
  };
  for (const auto& i : ifaces_) take(i.arp.poll_timeout());
  for (const auto& a : apps_) take(a->poll_timeout());
  take(reasm_.poll_timeout());
  for (const auto& [id, e] : tcp_conns_) take(e.conn.poll_timeout());
  return t;
}

void Host::handle_timeout(Time now) {
  for (uint32_t i = 0; i < ifaces_.size(); ++i) {
    auto& arp = ifaces_[i].arp;
    if (auto t = arp.poll_timeout(); !t || *t > now) continue;
    auto out = arp.handle_timeout(now);
    for (auto addr : out.resend) arp_request(now, i, addr);
    for (auto& f : out.failed) arp_failed(now, f.addr, f.packets);
  }
  for (auto& a : apps_) {
    if (auto t = a->poll_timeout(); t && *t <= now) a->handle_timeout(*this, now);
  }
  if (auto t = reasm_.poll_timeout(); t && *t <= now) {
    for (const auto& e : reasm_.handle_timeout(now)) reassembly_failed(now, e, false);
  }
  bool tcp_due = false;
  for (auto& [id, e] : tcp_conns_) {
    if (auto t = e.conn.poll_timeout(); t && *t <= now) {
      e.conn.handle_timeout(now);
      tcp_due = true;
    }
  }
  if (tcp_due) tcp_service(now);
}

// ---------------------------------------------------------------- L2: Ethernet + ARP

void Host::handle_frame(Time now, uint32_t ifindex, const PacketBuf& frame, bool rx_error) {
  if (ifindex >= ifaces_.size()) return;
  ++ctr_.frames_in;
  if (rx_error) {
    ++ctr_.drop_rx_error;
    trace(now, Layer::DataLink, "rx_error",
          "frame of " + std::to_string(frame.size()) + " bytes dropped: the PHY signalled a receive error (invalid code groups)",
          {{"iface", ifaces_[ifindex].cfg.name}, {"len", uint64_t{frame.size()}}});
    return;
  }
  auto parsed = wire::parse_ethernet(frame.view());
  if (!parsed) {
    const bool fcs = parsed.error().message.find("FCS") != std::string::npos;
    if (fcs) ++ctr_.drop_fcs; else ++ctr_.drop_runt;
    trace(now, Layer::DataLink, fcs ? "fcs_error" : "malformed_frame",
          "frame of " + std::to_string(frame.size()) + " bytes dropped: " + parsed.error().message,
          {{"iface", ifaces_[ifindex].cfg.name}, {"len", uint64_t{frame.size()}}, {"reason", parsed.error().message}});
    return;
  }
  const auto& eth = parsed->repr;
  const auto& me = ifaces_[ifindex].cfg;
  if (eth.dst != me.mac && !eth.dst.is_broadcast()) {
    ++ctr_.drop_not_for_us;
    trace(now, Layer::DataLink, "not_for_us", "frame for " + eth.dst.to_string() + " ignored (not our MAC)");
    return;
  }
  if (tracing()) {
    trace(now, Layer::DataLink, "rx_frame",
          "received " + eth.describe() + ", " + std::to_string(frame.size()) + " bytes, FCS " + hex32(parsed->fcs) +
              " ok",
          {{"iface", me.name},
           {"src", eth.src.to_string()},
           {"dst", eth.dst.to_string()},
           {"ethertype", uint64_t{eth.ethertype}},
           {"len", uint64_t{frame.size()}},
           {"fcs", uint64_t{parsed->fcs}}});
  }
  switch (eth.ethertype) {
    case wire::ethertype::kArp: arp_input(now, ifindex, parsed->payload); break;
    case wire::ethertype::kIpv4: ip_input(now, ifindex, parsed->payload); break;
    default:
      ++ctr_.drop_ethertype;
      trace(now, Layer::DataLink, "unknown_ethertype", "EtherType " + wire::ethertype_name(eth.ethertype) + " not handled, dropped");
  }
}

void Host::l2_output(Time now, uint32_t ifindex, MacAddr dst, uint16_t ethertype, PacketBuf payload) {
  wire::EthernetRepr eth{dst, ifaces_[ifindex].cfg.mac, ethertype};
  wire::emit_ethernet(payload, eth);
  ++ctr_.frames_out;
  ++frame_seq_;
  if (tracing()) {
    const ByteView f = payload.view();
    const uint32_t fcs = load_le32(f.data() + f.size() - 4);
    trace(now, Layer::DataLink, "tx_frame",
          "frame #" + std::to_string(frame_seq_) + ": " + eth.describe() + ", " + std::to_string(f.size()) +
              " bytes with FCS " + hex32(fcs),
          {{"iface", ifaces_[ifindex].cfg.name},
           {"seq", frame_seq_},
           {"src", eth.src.to_string()},
           {"dst", dst.to_string()},
           {"ethertype", uint64_t{ethertype}},
           {"len", uint64_t{f.size()}},
           {"fcs", uint64_t{fcs}}});
  }
  tx_.push_back(Transmit{ifindex, std::move(payload)});
}

void Host::arp_request(Time now, uint32_t ifindex, Ipv4Addr target) {
  const auto& me = ifaces_[ifindex].cfg;
  wire::ArpRepr r{wire::arpop::kRequest, me.mac, me.address.addr, MacAddr::zero(), target};
  ++ctr_.arp_requests_out;
  trace(now, Layer::DataLink, "arp_request", "ARP " + r.describe(), {{"target", target.to_string()}});
  PacketBuf p = PacketBuf::with_reserve(PacketBuf::kDefaultHeadroom, 0, PacketBuf::kDefaultTailroom);
  wire::emit_arp(p, r);
  l2_output(now, ifindex, MacAddr::broadcast(), wire::ethertype::kArp, std::move(p));
}

void Host::arp_input(Time now, uint32_t ifindex, ByteView payload) {
  ++ctr_.arp_in;
  auto r = wire::parse_arp(payload);
  if (!r) {
    ++ctr_.drop_arp_malformed;
    trace(now, Layer::DataLink, "arp_malformed", "malformed ARP dropped: " + r.error().message);
    return;
  }
  auto& ifc = ifaces_[ifindex];
  const bool for_us = r->tpa == ifc.cfg.address.addr;
  trace(now, Layer::DataLink, "arp_in", "ARP " + r->describe());
  // RFC 826: merge the sender into the cache (add it only if the packet is for us).
  auto released = ifc.arp.learn(r->spa, r->sha, now, for_us);
  for (auto& pkt : released) {
    trace(now, Layer::DataLink, "arp_release",
          "address " + r->spa.to_string() + " resolved to " + r->sha.to_string() + ", sending a queued packet");
    l2_output(now, ifindex, r->sha, wire::ethertype::kIpv4, std::move(pkt));
  }
  if (for_us && r->op == wire::arpop::kRequest) {
    wire::ArpRepr reply{wire::arpop::kReply, ifc.cfg.mac, ifc.cfg.address.addr, r->sha, r->spa};
    ++ctr_.arp_replies_out;
    trace(now, Layer::DataLink, "arp_reply", "ARP " + reply.describe());
    PacketBuf p = PacketBuf::with_reserve(PacketBuf::kDefaultHeadroom, 0, PacketBuf::kDefaultTailroom);
    wire::emit_arp(p, reply);
    l2_output(now, ifindex, r->sha, wire::ethertype::kArp, std::move(p));
  }
}

void Host::arp_failed(Time now, Ipv4Addr addr, std::vector<PacketBuf>& packets) {
  ctr_.drop_arp_unresolved += packets.size();
  trace(now, Layer::DataLink, "arp_failed",
        "no ARP reply from " + addr.to_string() + ": " + std::to_string(packets.size()) +
            " queued packet(s) dropped, host unreachable",
        {{"target", addr.to_string()}, {"dropped", uint64_t{packets.size()}}});
  for (auto& p : packets) send_icmp_error(now, wire::icmptype::kDestUnreachable, wire::icmpcode::kHostUnreachable, p.view());
}

// ---------------------------------------------------------------- L3: IPv4 + ICMP

Host::SendStatus Host::send_ip(Time now, wire::Ipv4Repr h, PacketBuf payload, bool keep_ident) {
  auto route = routes_.lookup(h.dst);
  if (!route) {
    ++ctr_.drop_no_route;
    trace(now, Layer::Network, "no_route", "no route to " + h.dst.to_string() + ": network unreachable");
    return SendStatus::NoRoute;
  }
  const auto& ifc = ifaces_[route->ifindex].cfg;
  if (h.src.is_unspecified()) h.src = ifc.address.addr;
  if (h.ttl == 0) h.ttl = cfg_.default_ttl;
  if (!keep_ident) h.ident = next_ident_++;
  const Ipv4Addr next_hop = route->gateway ? *route->gateway : h.dst;
  const size_t total = h.header_len() + payload.size();
  if (total > ifc.mtu && h.dont_frag) {
    ++ctr_.drop_df;
    trace(now, Layer::Network, "too_big",
          "datagram of " + std::to_string(total) + " bytes exceeds MTU " + std::to_string(ifc.mtu) + " of " +
              ifc.name + " and DF is set: not sent");
    return SendStatus::TooBig;
  }
  ++ctr_.ip_out;
  if (total <= ifc.mtu) {
    wire::emit_ipv4(payload, h);
    if (tracing()) {
      wire::Ipv4Repr shown = h;
      shown.payload_len = static_cast<uint16_t>(payload.size() - h.header_len());
      trace(now, Layer::Network, "tx_packet",
            "sending " + shown.describe() + " via " + ifc.name + " (next hop " + next_hop.to_string() +
                "), header checksum " + hex32(load_be16(payload.data() + 10)).substr(6),
            {{"src", h.src.to_string()},
             {"dst", h.dst.to_string()},
             {"proto", uint64_t{h.protocol}},
             {"ttl", uint64_t{h.ttl}},
             {"id", uint64_t{h.ident}},
             {"len", uint64_t{payload.size()}}});
    }
    ip_to_link(now, route->ifindex, next_hop, std::move(payload));
    return SendStatus::Sent;
  }
  auto frags = l3::fragment_ipv4(h, payload.view(), ifc.mtu);
  ctr_.fragments_out += frags.size();
  trace(now, Layer::Network, "fragment",
        "datagram id " + std::to_string(h.ident) + " of " + std::to_string(total) + " bytes exceeds MTU " +
            std::to_string(ifc.mtu) + " of " + ifc.name + ": sending " + std::to_string(frags.size()) + " fragments",
        {{"id", uint64_t{h.ident}}, {"len", uint64_t{total}}, {"mtu", uint64_t{ifc.mtu}}, {"fragments", uint64_t{frags.size()}}});
  for (auto& f : frags) {
    if (tracing()) {
      auto p = wire::parse_ipv4(f.view());
      if (p) trace(now, Layer::Network, "tx_fragment", "sending fragment " + p->repr.describe());
    }
    ip_to_link(now, route->ifindex, next_hop, std::move(f));
  }
  return SendStatus::Sent;
}

void Host::ip_to_link(Time now, uint32_t ifindex, Ipv4Addr next_hop, PacketBuf packet) {
  auto& ifc = ifaces_[ifindex];
  if (next_hop.is_broadcast() || next_hop == ifc.cfg.address.directed_broadcast()) {
    l2_output(now, ifindex, MacAddr::broadcast(), wire::ethertype::kIpv4, std::move(packet));
    return;
  }
  if (auto mac = ifc.arp.lookup(next_hop, now)) {
    l2_output(now, ifindex, *mac, wire::ethertype::kIpv4, std::move(packet));
    return;
  }
  switch (ifc.arp.enqueue(next_hop, std::move(packet), now)) {
    case l2::ArpCache::Queued::SendRequest:
      trace(now, Layer::DataLink, "arp_miss",
            "no MAC address known for " + next_hop.to_string() + ": packet queued, resolving with ARP");
      arp_request(now, ifindex, next_hop);
      break;
    case l2::ArpCache::Queued::Waiting: break;
    case l2::ArpCache::Queued::Dropped:
      ++ctr_.drop_arp_queue_full;
      trace(now, Layer::DataLink, "arp_queue_full",
            "packet for " + next_hop.to_string() + " dropped: too many packets waiting for ARP");
      break;
  }
}

void Host::ip_input(Time now, uint32_t ifindex, ByteView packet) {
  ++ctr_.ip_in;
  auto parsed = wire::parse_ipv4(packet);
  if (!parsed) {
    const bool cks = parsed.error().message.find("checksum") != std::string::npos;
    if (cks) ++ctr_.drop_ip_checksum; else ++ctr_.drop_ip_malformed;
    trace(now, Layer::Network, cks ? "bad_checksum" : "malformed_packet", "IPv4 packet dropped: " + parsed.error().message,
          {{"reason", parsed.error().message}});
    return;
  }
  const auto& h = parsed->repr;
  const auto& me = ifaces_[ifindex].cfg;
  const bool local = has_address(h.dst) || h.dst.is_broadcast() || h.dst == me.address.directed_broadcast();
  if (local) {
    if (tracing()) {
      trace(now, Layer::Network, "rx_packet",
            "received " + h.describe() + ", header checksum ok, for us",
            {{"src", h.src.to_string()},
             {"dst", h.dst.to_string()},
             {"proto", uint64_t{h.protocol}},
             {"ttl", uint64_t{h.ttl}},
             {"id", uint64_t{h.ident}},
             {"len", uint64_t{h.header_len() + h.payload_len}}});
    }
    ip_deliver(now, ifindex, h, parsed->payload, packet.first(h.header_len() + h.payload_len));
    return;
  }
  if (!cfg_.forwarding) {
    ++ctr_.drop_not_for_us_ip;
    trace(now, Layer::Network, "not_for_us", "packet for " + h.dst.to_string() + " dropped: not ours and not a router");
    return;
  }
  ip_forward(now, ifindex, h, packet.first(h.header_len() + h.payload_len));
}

void Host::ip_forward(Time now, uint32_t /*ifindex*/, const wire::Ipv4Repr& h, ByteView packet) {
  if (h.ttl <= 1) {
    ++ctr_.drop_ttl;
    trace(now, Layer::Network, "ttl_expired",
          "TTL expired forwarding " + h.describe() + ": dropped, sending ICMP time exceeded",
          {{"src", h.src.to_string()}, {"dst", h.dst.to_string()}});
    send_icmp_error(now, wire::icmptype::kTimeExceeded, wire::icmpcode::kTtlExceeded, packet);
    return;
  }
  auto route = routes_.lookup(h.dst);
  if (!route) {
    ++ctr_.drop_no_route;
    trace(now, Layer::Network, "no_route", "no route to " + h.dst.to_string() + ": sending ICMP net unreachable");
    send_icmp_error(now, wire::icmptype::kDestUnreachable, wire::icmpcode::kNetUnreachable, packet);
    return;
  }
  const auto& out = ifaces_[route->ifindex].cfg;
  const Ipv4Addr next_hop = route->gateway ? *route->gateway : h.dst;
  if (packet.size() > out.mtu) {
    if (h.dont_frag) {
      ++ctr_.drop_df;
      trace(now, Layer::Network, "frag_needed",
            "packet of " + std::to_string(packet.size()) + " bytes exceeds MTU " + std::to_string(out.mtu) + " of " +
                out.name + " and DF is set: dropped, sending ICMP fragmentation needed",
            {{"mtu", uint64_t{out.mtu}}});
      send_icmp_error(now, wire::icmptype::kDestUnreachable, wire::icmpcode::kFragNeeded, packet,
                      static_cast<uint16_t>(out.mtu));
      return;
    }
    wire::Ipv4Repr fh = h;
    fh.ttl = static_cast<uint8_t>(h.ttl - 1);
    auto frags = l3::fragment_ipv4(fh, packet.subspan(h.header_len()), out.mtu);
    ++ctr_.ip_forwarded;
    ctr_.fragments_out += frags.size();
    trace(now, Layer::Network, "forward_fragment",
          "forwarding " + h.describe() + " to " + out.name + " in " + std::to_string(frags.size()) +
              " fragments (MTU " + std::to_string(out.mtu) + ")");
    for (auto& f : frags) ip_to_link(now, route->ifindex, next_hop, std::move(f));
    return;
  }
  PacketBuf p = PacketBuf::from(packet);
  wire::ipv4_decrement_ttl(p.data());
  ++ctr_.ip_forwarded;
  if (tracing()) {
    trace(now, Layer::Network, "forward",
          "forwarding " + h.describe() + " to " + out.name + " (next hop " + next_hop.to_string() + "), TTL " +
              std::to_string(h.ttl) + " -> " + std::to_string(h.ttl - 1),
          {{"src", h.src.to_string()}, {"dst", h.dst.to_string()}, {"ttl", uint64_t{h.ttl - 1u}}});
  }
  ip_to_link(now, route->ifindex, next_hop, std::move(p));
}

// Reassembly (RFC 791 3.2). drop_reassembly counts fragments: refused ones, duplicates,
// and those held by a datagram that is given up.
void Host::ip_reassemble(Time now, const wire::Ipv4Repr& h, ByteView payload) {
  using R = l3::Reassembler;
  ++ctr_.fragments_in;
  R::AddResult r = reasm_.add(now, h, payload);
  for (const auto& e : r.evicted) reassembly_failed(now, e, true);
  char id[8];
  std::snprintf(id, sizeof id, "0x%04x", static_cast<unsigned>(h.ident));
  const std::string frag = std::string("fragment id ") + id + " from " + h.src.to_string() + " offset " +
                           std::to_string(h.frag_offset) + " len " + std::to_string(payload.size()) +
                           (h.more_frags ? " MF" : "");
  const auto held = [&r] {
    return std::to_string(r.fragments) + " of " +
           (r.expected_fragments && *r.expected_fragments >= r.fragments ? std::to_string(*r.expected_fragments) : "?") +
           " fragments, " + std::to_string(r.bytes) + " of " + (r.total ? std::to_string(*r.total) : "?") + " bytes";
  };
  const std::vector<Field> fields{{"id", uint64_t{h.ident}},
                                  {"src", h.src.to_string()},
                                  {"offset", uint64_t{h.frag_offset}},
                                  {"len", uint64_t{payload.size()}},
                                  {"mf", h.more_frags}};
  std::string notes;
  if (r.truncated) notes += "; length cut to a multiple of 8";
  if (r.overlap) notes += "; overlaps data already held: the first-received bytes are kept";
  switch (r.status) {
    case R::Status::Incomplete:
      if (tracing()) trace(now, Layer::Network, "fragment_in", frag + ", holding " + held() + notes, fields);
      return;
    case R::Status::Duplicate:
      ++ctr_.drop_reassembly;
      trace(now, Layer::Network, "fragment_duplicate", "duplicate " + frag + " ignored: every byte already held", fields);
      return;
    case R::Status::Dropped:
      ctr_.drop_reassembly += 1 + (r.datagram_discarded ? r.fragments : 0);
      if (tracing()) {
        trace(now, Layer::Network, "fragment_dropped",
              frag + " dropped: " + R::reason_name(r.reason) +
                  (r.datagram_discarded ? "; datagram discarded with " + held() : std::string()),
              fields);
      }
      return;
    case R::Status::Complete: break;
  }
  ++ctr_.reassembled;
  if (tracing()) {
    trace(now, Layer::Network, "reassembled",
          frag + notes + ": datagram complete, " + std::to_string(r.fragments) + " fragments reassembled into " +
              std::to_string(r.header.header_len() + r.payload.size()) + " bytes (" +
              std::to_string(r.payload.size()) + " payload bytes)",
          fields);
  }
  // As if the datagram had arrived whole: its header in front of the payload.
  PacketBuf pkt = std::move(r.payload);
  wire::emit_ipv4(pkt, r.header);
  const ByteView whole = pkt.view();
  ip_deliver_datagram(now, r.header, whole.subspan(r.header.header_len()), whole);
}

void Host::reassembly_failed(Time now, const l3::Reassembler::Expired& e, bool evicted) {
  ctr_.drop_reassembly += e.fragments;
  const bool icmp = !evicted && !e.first_fragment.empty();
  if (tracing()) {
    char id[8];
    std::snprintf(id, sizeof id, "0x%04x", static_cast<unsigned>(e.key.ident));
    const std::string held =
        std::to_string(e.fragments) + " of " +
        (e.expected_fragments && *e.expected_fragments >= e.fragments ? std::to_string(*e.expected_fragments) : "?") +
        " fragments, " + std::to_string(e.bytes) + " of " + (e.total ? std::to_string(*e.total) : "?") + " bytes";
    std::string msg = std::string("reassembly of datagram id ") + id + " from " + e.key.src.to_string();
    if (evicted) {
      msg += " abandoned: reassembly memory full, oldest datagram evicted (" + held + ")";
    } else {
      msg += " timed out after " + format_duration(reasm_.config().timeout) + ": " + held +
             (icmp ? "; sending ICMP time exceeded (reassembly)"
                   : "; fragment zero never arrived, so no ICMP error is sent (RFC 792)");
    }
    trace(now, Layer::Network, evicted ? "reassembly_evicted" : "reassembly_timeout", msg,
          {{"id", uint64_t{e.key.ident}},
           {"src", e.key.src.to_string()},
           {"fragments", uint64_t{e.fragments}},
           {"bytes", uint64_t{e.bytes}}});
  }
  if (icmp) send_icmp_error(now, wire::icmptype::kTimeExceeded, wire::icmpcode::kReassemblyExceeded, e.first_fragment);
}

void Host::ip_deliver(Time now, uint32_t /*ifindex*/, const wire::Ipv4Repr& h, ByteView payload, ByteView whole) {
  if (h.more_frags || h.frag_offset != 0) {
    ip_reassemble(now, h, payload);
    return;
  }
  ip_deliver_datagram(now, h, payload, whole);
}

void Host::ip_deliver_datagram(Time now, const wire::Ipv4Repr& h, ByteView payload, ByteView whole) {
  ++ctr_.ip_delivered;
  switch (h.protocol) {
    case wire::ipproto::kIcmp: icmp_input(now, h, payload); break;
    case wire::ipproto::kUdp: udp_input(now, h, payload, whole); break;
    case wire::ipproto::kTcp: tcp_input(now, h, payload); break;
    default:
      ++ctr_.drop_unknown_proto;
      trace(now, Layer::Network, "unknown_protocol",
            "protocol " + wire::ipproto_name(h.protocol) + " not handled: sending ICMP protocol unreachable");
      send_icmp_error(now, wire::icmptype::kDestUnreachable, wire::icmpcode::kProtocolUnreachable, whole);
  }
}

void Host::icmp_input(Time now, const wire::Ipv4Repr& h, ByteView payload) {
  ++ctr_.icmp_in;
  auto m = wire::parse_icmp(payload);
  if (!m) {
    ++ctr_.drop_icmp_malformed;
    trace(now, Layer::Network, "icmp_malformed", "ICMP message dropped: " + m.error().message);
    return;
  }
  trace(now, Layer::Network, "icmp_in", "ICMP " + m->describe() + " from " + h.src.to_string(),
        {{"type", uint64_t{m->type}}, {"code", uint64_t{m->code}}, {"src", h.src.to_string()}});
  if (m->type == wire::icmptype::kEchoRequest && !h.dst.is_broadcast()) {
    wire::IcmpRepr reply = *m;
    reply.type = wire::icmptype::kEchoReply;
    PacketBuf p = wire::make_icmp(reply);
    wire::Ipv4Repr rh;
  rh.ttl = 0;  // the host's default TTL
    rh.ttl = 0;  // the host's default TTL
    rh.protocol = wire::ipproto::kIcmp;
    rh.src = h.dst;
    rh.dst = h.src;
    ++ctr_.icmp_out;
    trace(now, Layer::Network, "icmp_echo_reply",
          "answering echo request id " + std::to_string(m->ident) + " seq " + std::to_string(m->seq) + " from " +
              h.src.to_string() + " with an echo reply");
    send_ip(now, rh, std::move(p));
    return;
  }
  for (auto& a : apps_) a->on_icmp(*this, now, h, *m);
}

void Host::send_icmp_error(Time now, uint8_t type, uint8_t code, ByteView offending, uint16_t mtu) {
  auto orig = wire::parse_ipv4(offending);
  if (!orig) return;
  const auto& oh = orig->repr;
  // RFC 1122 3.2.2: never about an ICMP error, a non-first fragment, or a broadcast/multicast.
  if (oh.frag_offset != 0 || oh.dst.is_broadcast() || oh.dst.is_multicast() || oh.src.is_unspecified()) return;
  if (oh.protocol == wire::ipproto::kIcmp && orig->payload.size() >= 1) {
    const uint8_t t = orig->payload[0];
    if (t != wire::icmptype::kEchoRequest && t != wire::icmptype::kEchoReply) return;
  }
  const size_t quote = std::min(offending.size(), oh.header_len() + wire::kIcmpErrorQuoteExtra);
  wire::IcmpRepr e;
  e.type = type;
  e.code = code;
  e.next_hop_mtu = mtu;
  e.data = offending.first(quote);
  wire::Ipv4Repr rh;
  rh.ttl = 0;  // the host's default TTL
  rh.protocol = wire::ipproto::kIcmp;
  rh.dst = oh.src;
  if (has_address(oh.src)) {
    // An error about our own packet (e.g. ARP failed): deliver it locally, as Linux does.
    rh.src = oh.src;
    trace(now, Layer::Network, "icmp_local_error", "ICMP " + e.describe() + " reported to local applications");
    for (auto& a : apps_) a->on_icmp(*this, now, rh, e);
    return;
  }
  ++ctr_.icmp_out;
  trace(now, Layer::Network, "icmp_error", "sending ICMP " + e.describe() + " to " + oh.src.to_string());
  send_ip(now, rh, wire::make_icmp(e));
}

// ---------------------------------------------------------------- L4: UDP

std::optional<Ipv4Addr> Host::source_for(Ipv4Addr dst) const {
  auto route = routes_.lookup(dst);
  if (!route || route->ifindex >= ifaces_.size()) return std::nullopt;
  return ifaces_[route->ifindex].cfg.address.addr;
}

bool Host::udp_bind(uint16_t port, UdpHandler* h) {
  if (port == 0 || h == nullptr) return false;
  return udp_ports_.emplace(port, h).second;
}

void Host::udp_unbind(uint16_t port) { udp_ports_.erase(port); }

uint16_t Host::udp_ephemeral_port() {
  constexpr uint32_t kFirst = 49152, kCount = 65536 - kFirst;
  if (next_ephemeral_ == 0) next_ephemeral_ = static_cast<uint16_t>(rng_.uniform_int(kFirst, 65535));
  for (uint32_t i = 0; i < kCount; ++i) {
    const uint16_t p = next_ephemeral_;
    next_ephemeral_ = p == 65535 ? static_cast<uint16_t>(kFirst) : static_cast<uint16_t>(p + 1);
    if (!udp_bound(p)) return p;
  }
  return 0;
}

Host::SendStatus Host::udp_send(Time now, uint16_t sport, Ipv4Addr dst, uint16_t dport, PacketBuf payload,
                                uint8_t ttl) {
  const auto src = source_for(dst);
  if (!src) {
    ++ctr_.drop_no_route;
    trace(now, Layer::Network, "no_route", "no route to " + dst.to_string() + ": network unreachable");
    return SendStatus::NoRoute;
  }
  if (payload.size() > 65535 - wire::kIpv4MinHeaderLen - wire::kUdpHeaderLen) {
    trace(now, Layer::Transport, "udp_too_big",
          "UDP payload of " + std::to_string(payload.size()) + " bytes exceeds the 65507-byte maximum: not sent");
    return SendStatus::TooBig;
  }
  wire::emit_udp(payload, sport, dport, *src, dst);
  ++ctr_.udp_out;
  if (tracing()) {
    trace(now, Layer::Transport, "udp_out",
          "sending UDP " + src->to_string() + ":" + std::to_string(sport) + " > " + dst.to_string() + ":" +
              std::to_string(dport) + " len " + std::to_string(payload.size()) + ", checksum " +
              "0x" + hex32(load_be16(payload.data() + 6)).substr(6) + " (with the pseudo-header)",
          {{"sport", uint64_t{sport}}, {"dport", uint64_t{dport}}, {"dst", dst.to_string()}, {"len", uint64_t{payload.size()}}});
  }
  wire::Ipv4Repr h;
  h.protocol = wire::ipproto::kUdp;
  h.src = *src;
  h.dst = dst;
  h.ttl = ttl;
  return send_ip(now, h, std::move(payload));
}

void Host::udp_input(Time now, const wire::Ipv4Repr& h, ByteView payload, ByteView whole) {
  ++ctr_.udp_in;
  auto d = wire::parse_udp(payload, h.src, h.dst);
  if (!d) {
    const bool cks = d.error().message.find("checksum") != std::string::npos;
    if (cks) ++ctr_.drop_udp_checksum; else ++ctr_.drop_udp_malformed;
    trace(now, Layer::Transport, cks ? "udp_bad_checksum" : "udp_malformed",
          "UDP datagram from " + h.src.to_string() + " dropped: " + d.error().message,
          {{"src", h.src.to_string()}, {"reason", d.error().message}});
    return;
  }
  const auto& u = d->repr;
  const std::string peer = h.src.to_string() + ":" + std::to_string(u.src_port);
  auto it = udp_ports_.find(u.dst_port);
  if (it == udp_ports_.end()) {
    ++ctr_.udp_port_unreachable;
    const bool bcast = h.dst.is_broadcast() || h.dst.is_multicast() || !has_address(h.dst);
    trace(now, Layer::Transport, "udp_port_unreachable",
          "UDP datagram from " + peer + " to port " + std::to_string(u.dst_port) + " dropped: no socket bound" +
              (bcast ? " (broadcast: no ICMP)" : ", sending ICMP port unreachable"),
          {{"src", h.src.to_string()}, {"sport", uint64_t{u.src_port}}, {"dport", uint64_t{u.dst_port}}});
    send_icmp_error(now, wire::icmptype::kDestUnreachable, wire::icmpcode::kPortUnreachable, whole);
    return;
  }
  if (tracing()) {
    trace(now, Layer::Transport, "udp_in",
          "received " + u.describe() + " from " + peer + ", checksum " +
              (u.checksum ? "ok" : "absent") + ", to the socket on port " + std::to_string(u.dst_port),
          {{"src", h.src.to_string()},
           {"sport", uint64_t{u.src_port}},
           {"dport", uint64_t{u.dst_port}},
           {"len", uint64_t{u.length}}});
  }
  it->second->on_udp(*this, now, h, u, d->payload);
}

}  // namespace mz::stack
