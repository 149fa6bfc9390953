// UDP in the Host: the checksum of a hand-computed datagram, then the receive path
// (demultiplexing, checksum and length errors, closed ports) driven frame by frame.
#include <doctest/doctest.h>

#include <string>

#include "megzawicol/stack/host.hpp"
#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/udp.hpp"

using namespace mz;

namespace {

const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);
const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x02}};

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

stack::HostConfig host_b() {
  stack::HostConfig c;
  c.name = "b";
  c.interfaces.push_back(stack::InterfaceConfig{"eth0", kMacB, Ipv4Cidr{kB, 24}, 1500});
  return c;
}

// An Ethernet frame from A to B carrying `udp` (the complete UDP datagram) in IPv4.
PacketBuf frame_with(ByteView udp) {
  PacketBuf p = PacketBuf::from(udp);
  wire::Ipv4Repr ip;
  ip.protocol = wire::ipproto::kUdp;
  ip.src = kA;
  ip.dst = kB;
  ip.ident = 7;
  wire::emit_ipv4(p, ip);
  wire::emit_ethernet(p, wire::EthernetRepr{kMacB, kMacA, wire::ethertype::kIpv4});
  return p;
}

Bytes datagram(uint16_t sport, uint16_t dport, const std::string& text) {
  PacketBuf p = PacketBuf::from(bytes_of(text));
  wire::emit_udp(p, sport, dport, kA, kB);
  return p.to_bytes();
}

struct Recorder : stack::UdpHandler {
  int calls = 0;
  std::string text;
  wire::UdpRepr last;
  Ipv4Addr from;
  void on_udp(stack::Host&, Time, const wire::Ipv4Repr& ip, const wire::UdpRepr& u, ByteView payload) override {
    ++calls;
    text.assign(payload.begin(), payload.end());
    last = u;
    from = ip.src;
  }
};

}  // namespace

TEST_CASE("UDP checksum of a hand-computed datagram (RFC 768 pseudo-header)") {
  // 10.0.0.1:49152 -> 10.0.0.2:9000, payload "hello" (odd length: padded with a zero
  // byte for the sum only). Computed independently with
  //   python3 -c "import struct; src=bytes([10,0,0,1]); dst=bytes([10,0,0,2]); p=b'hello'; L=8+len(p);
  //     d=src+dst+struct.pack('!BBH',0,17,L)+struct.pack('!HHHH',49152,9000,L,0)+p+b'\0';
  //     s=sum(struct.unpack('!%dH'%(len(d)//2),d));
  //     [s:=(s&0xffff)+(s>>16) for _ in range(3)]; print(hex(~s&0xffff))"
  // i.e. the one's-complement sum of the 16-bit words of pseudo-header (src, dst, 0, 17,
  // length 13), header with a zero checksum, and the padded payload is 0x3b29, so the
  // checksum is ~0x3b29 = 0xc4d6.
  Bytes expected;
  REQUIRE(from_hex("c000 2328 000d c4d6 68656c6c6f", expected));
  CHECK(to_hex(datagram(49152, 9000, "hello")) == to_hex(expected));

  auto parsed = wire::parse_udp(expected, kA, kB);
  REQUIRE(parsed.ok());
  CHECK(parsed->repr.src_port == 49152);
  CHECK(parsed->repr.dst_port == 9000);
  CHECK(parsed->repr.length == 13);
  CHECK(parsed->repr.checksum == 0xc4d6);
  CHECK(std::string(parsed->payload.begin(), parsed->payload.end()) == "hello");
  // Verification: the sum over pseudo-header + datagram (checksum included) folds to 0.
  CHECK(wire::inet_fold(wire::inet_sum(expected, wire::pseudo_header_sum(kA, kB, wire::ipproto::kUdp, 13))) == 0);
  // The pseudo-header matters: the same bytes "from" another address fail.
  CHECK_FALSE(wire::parse_udp(expected, Ipv4Addr::from_octets(10, 0, 0, 3), kB).ok());
}

TEST_CASE("Host delivers a UDP datagram to the handler bound to its destination port") {
  stack::Host b(host_b(), nullptr, Rng(1));
  Recorder r;
  REQUIRE(b.udp_bind(9000, &r));
  CHECK_FALSE(b.udp_bind(9000, &r));  // already bound
  CHECK_FALSE(b.udp_bind(0, &r));
  b.handle_frame(Time::zero(), 0, frame_with(datagram(49152, 9000, "hello")));
  CHECK(r.calls == 1);
  CHECK(r.text == "hello");
  CHECK(r.last.src_port == 49152);
  CHECK(r.from == kA);
  CHECK(b.counters().udp_in == 1);
  CHECK(b.counters().udp_port_unreachable == 0);
  CHECK_FALSE(b.poll_transmit().has_value());  // nothing to answer

  b.udp_unbind(9000);
  CHECK_FALSE(b.udp_bound(9000));
  b.handle_frame(Time::zero(), 0, frame_with(datagram(49152, 9000, "again")));
  CHECK(r.calls == 1);
  CHECK(b.counters().udp_port_unreachable == 1);
}

TEST_CASE("Host drops a UDP datagram with a bad checksum or a bad length, counted once each") {
  stack::Host b(host_b(), nullptr, Rng(1));
  Recorder r;
  REQUIRE(b.udp_bind(9000, &r));

  Bytes bad = datagram(49152, 9000, "hello");
  bad[9] ^= 0x01;  // one payload bit flipped
  b.handle_frame(Time::zero(), 0, frame_with(bad));
  CHECK(b.counters().drop_udp_checksum == 1);

  Bytes longer = datagram(49152, 9000, "hello");
  store_be16(longer.data() + 4, 200);  // length field beyond the datagram
  b.handle_frame(Time::zero(), 0, frame_with(longer));
  CHECK(b.counters().drop_udp_malformed == 1);

  Bytes none = datagram(49152, 9000, "hello");
  store_be16(none.data() + 6, 0);  // no checksum: accepted
  b.handle_frame(Time::zero(), 0, frame_with(none));

  CHECK(r.calls == 1);
  CHECK(b.counters().udp_in == 3);
  CHECK(b.counters().udp_port_unreachable == 0);
  CHECK_FALSE(b.poll_transmit().has_value());  // no ICMP about damaged datagrams
}

TEST_CASE("Host answers a datagram for a closed port with ICMP port unreachable quoting it") {
  stack::Host b(host_b(), nullptr, Rng(1));
  const Bytes dg = datagram(49152, 7, "x");
  b.handle_frame(Time::zero(), 0, frame_with(dg));
  CHECK(b.counters().udp_port_unreachable == 1);
  CHECK(b.counters().icmp_out == 1);
  // B does not know A's MAC yet: an ARP request goes out, the ICMP waits for the reply.
  auto arp = b.poll_transmit();
  REQUIRE(arp.has_value());
  auto eth = wire::parse_ethernet(arp->frame.view());
  REQUIRE(eth.ok());
  CHECK(eth->repr.ethertype == wire::ethertype::kArp);
  PacketBuf reply = PacketBuf::from(Bytes{});
  wire::emit_arp(reply, wire::ArpRepr{wire::arpop::kReply, kMacA, kA, kMacB, kB});
  wire::emit_ethernet(reply, wire::EthernetRepr{kMacB, kMacA, wire::ethertype::kArp});
  b.handle_frame(Time::from_ns(1000), 0, std::move(reply));
  auto icmp_frame = b.poll_transmit();
  REQUIRE(icmp_frame.has_value());
  auto e2 = wire::parse_ethernet(icmp_frame->frame.view());
  REQUIRE(e2.ok());
  auto ip = wire::parse_ipv4(e2->payload);
  REQUIRE(ip.ok());
  CHECK(ip->repr.protocol == wire::ipproto::kIcmp);
  CHECK(ip->repr.dst == kA);
  auto m = wire::parse_icmp(ip->payload);
  REQUIRE(m.ok());
  CHECK(m->type == wire::icmptype::kDestUnreachable);
  CHECK(m->code == wire::icmpcode::kPortUnreachable);
  // The quote: our IP header (20 bytes) and the first 8 bytes of the datagram.
  REQUIRE(m->data.size() == 28);
  CHECK(load_be16(m->data.data() + 20) == 49152);
  CHECK(load_be16(m->data.data() + 22) == 7);
}

TEST_CASE("Host::udp_send picks the route's source address and ephemeral ports are free ports >= 49152") {
  stack::HostConfig c;
  c.name = "a";
  c.interfaces.push_back(stack::InterfaceConfig{"eth0", kMacA, Ipv4Cidr{kA, 24}, 1500});
  c.interfaces.push_back(stack::InterfaceConfig{"eth1", MacAddr{{0x02, 0, 0, 0, 1, 1}},
                                                Ipv4Cidr{Ipv4Addr::from_octets(10, 1, 0, 1), 24}, 1500});
  stack::Host a(c, nullptr, Rng(5));
  CHECK(a.source_for(kB) == kA);
  CHECK(a.source_for(Ipv4Addr::from_octets(10, 1, 0, 9)) == Ipv4Addr::from_octets(10, 1, 0, 1));
  CHECK_FALSE(a.source_for(Ipv4Addr::from_octets(192, 168, 0, 1)).has_value());
  CHECK(a.udp_send(Time::zero(), 5000, Ipv4Addr::from_octets(192, 168, 0, 1), 53, PacketBuf::from(Bytes{1})) ==
        stack::Host::SendStatus::NoRoute);

  Recorder r;
  const uint16_t p1 = a.udp_ephemeral_port();
  CHECK(p1 >= 49152);
  REQUIRE(a.udp_bind(p1, &r));
  const uint16_t p2 = a.udp_ephemeral_port();
  CHECK(p2 >= 49152);
  CHECK(p2 != p1);

  CHECK(a.udp_send(Time::zero(), p1, Ipv4Addr::from_octets(10, 1, 0, 9), 9000, PacketBuf::from(bytes_of("hi"))) ==
        stack::Host::SendStatus::Sent);  // queued behind ARP, on eth1
  CHECK(a.counters().udp_out == 1);
  auto t = a.poll_transmit();
  REQUIRE(t.has_value());
  CHECK(t->ifindex == 1);
}
