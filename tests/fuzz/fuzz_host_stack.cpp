// A whole host stack (L2 to L4): arbitrary frames into a Host with one interface, then its
// timers. The host is "b" of scenarios/ping.json and bulk.json (10.0.0.2/24, derived MAC
// 02:00:00:01:00:00), so frames captured there (the seed corpus) reach deep; it listens on
// TCP 80 and 5001 (echoing what it reads) and binds UDP 9000.
// Input: records [flags u8][length u16][frame bytes]:
//   flags bit 0: fix up the IPv4 header checksum and the TCP/UDP/ICMP checksum, and append
//                the FCS (otherwise the bytes are the frame as received, FCS included)
//   flags bit 1: the PHY reported a receive error
//   flags bits 2-7: time step before the frame, in 10 ms units
// After the frames, the host's timers run for a few rounds (retransmissions, ARP, reassembly).
// Invariants: no crash; every queued frame is a well-formed Ethernet frame; bounded work.
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/stack/host.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "megzawicol/wire/ethernet.hpp"

using namespace mz;

namespace {

struct Echo : stack::TcpHandler, stack::UdpHandler {
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override {
    if (std::holds_alternative<l4::tcp_event::Readable>(ev)) {
      uint8_t buf[2048];
      size_t n = host.tcp_recv(now, id, buf);
      if (n) (void)host.tcp_send(now, id, ByteView(buf, n));
    } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
      host.tcp_close(now, id);
    }
  }
  void on_udp(stack::Host& host, Time now, const wire::Ipv4Repr& ip, const wire::UdpRepr& u,
              ByteView payload) override {
    (void)host.udp_send(now, u.dst_port, ip.src, u.src_port, PacketBuf::from(payload));
  }
};

void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void fix_checksums(Bytes& f) {
  if (f.size() < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) return;
  uint8_t* ip = f.data() + 14;
  size_t avail = f.size() - 14;
  size_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20 || ihl > avail) return;
  store16(ip + 10, 0);
  store16(ip + 10, wire::inet_checksum(ByteView(ip, ihl)));
  size_t total = std::min<size_t>(avail, size_t{ip[2]} << 8 | ip[3]);
  bool fragment = (ip[6] & 0x3f) != 0 || ip[7] != 0;
  if (total < ihl || fragment) return;
  uint8_t* l4 = ip + ihl;
  size_t len = total - ihl;
  Ipv4Addr src{uint32_t{ip[12]} << 24 | uint32_t{ip[13]} << 16 | uint32_t{ip[14]} << 8 | ip[15]};
  Ipv4Addr dst{uint32_t{ip[16]} << 24 | uint32_t{ip[17]} << 16 | uint32_t{ip[18]} << 8 | ip[19]};
  size_t at;
  uint32_t acc = 0;
  switch (ip[9]) {
    case wire::ipproto::kIcmp: at = 2; break;
    case wire::ipproto::kTcp: at = 16; acc = wire::pseudo_header_sum(src, dst, ip[9], static_cast<uint16_t>(len)); break;
    case wire::ipproto::kUdp: at = 6; acc = wire::pseudo_header_sum(src, dst, ip[9], static_cast<uint16_t>(len)); break;
    default: return;
  }
  if (len < at + 2) return;
  store16(l4 + at, 0);
  store16(l4 + at, wire::inet_fold(wire::inet_sum(ByteView(l4, len), acc)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  stack::HostConfig cfg;
  cfg.name = "b";
  cfg.interfaces.push_back(stack::InterfaceConfig{
      "eth0", MacAddr{{0x02, 0, 0, 0x01, 0, 0}}, Ipv4Cidr{Ipv4Addr::from_octets(10, 0, 0, 2), 24}, 1500});
  cfg.reassembly.max_bytes = 256 * 1024;
  stack::Host host(cfg, nullptr, Rng(1));
  Echo echo;
  l4::TcpConfig tcp;
  tcp.rcv_buf = tcp.snd_buf = 16 * 1024;
  host.tcp_listen(80, &echo, tcp, 8);
  host.tcp_listen(5001, &echo, tcp, 8);
  host.udp_bind(9000, &echo);

  Time now = Time::zero();
  host.start(now);
  size_t out_frames = 0;
  auto drain = [&] {
    while (auto t = host.poll_transmit()) {
      MZ_FUZZ_CHECK(t->ifindex == 0);
      MZ_FUZZ_CHECK(wire::parse_ethernet(t->frame.view()).ok());
      ++out_frames;
    }
  };
  drain();

  Bytes frame;
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    uint8_t flags = in.u8();
    ByteView b = in.bytes(in.u16() & 0x0fff);
    frame.assign(b.begin(), b.end());
    if (flags & 1) {
      fix_checksums(frame);
      uint32_t fcs = wire::crc32(frame);
      for (int k = 0; k < 4; ++k) frame.push_back(static_cast<uint8_t>(fcs >> (8 * k)));
    }
    now = now + Duration::millis(10 * (flags >> 2));
    if (auto t = host.poll_timeout(); t && *t <= now) host.handle_timeout(now);
    drain();
    host.handle_frame(now, 0, PacketBuf::from(frame), (flags & 2) != 0);
    drain();
  }
  for (int round = 0; round < 40; ++round) {
    auto t = host.poll_timeout();
    if (!t || *t > now + Duration::seconds(300)) break;
    now = std::max(now, *t);
    host.handle_timeout(now);
    drain();
  }
  MZ_FUZZ_CHECK(out_frames < 100000);
  return 0;
}
