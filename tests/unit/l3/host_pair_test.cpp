// Two Hosts wired back to back without the simulator: every frame one host transmits is
// handed to the other (possibly reordered, duplicated or lost on the way), and timers
// fire when due. Exercises fragmentation at the sender and reassembly at the receiver.
#include <doctest/doctest.h>

#include <functional>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/stack/host.hpp"
#include "megzawicol/wire/ethernet.hpp"

using namespace mz;
using namespace mz::stack;

namespace {

const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);

struct IcmpSeen {
  Time at;
  wire::Ipv4Repr ip;
  uint8_t type = 0, code = 0;
  uint16_t ident = 0, seq = 0;
  Bytes data;
};

class Recorder : public App {
 public:
  const std::string& name() const override { return name_; }
  const char* kind() const override { return "recorder"; }
  void start(Host&, Time) override {}
  std::optional<Time> poll_timeout() const override { return std::nullopt; }
  void handle_timeout(Host&, Time) override {}
  void on_icmp(Host&, Time now, const wire::Ipv4Repr& ip, const wire::IcmpRepr& m) override {
    seen.push_back({now, ip, m.type, m.code, m.ident, m.seq, Bytes(m.data.begin(), m.data.end())});
  }
  std::vector<trace::Field> summary() const override { return {}; }

  std::vector<IcmpSeen> seen;

 private:
  std::string name_ = "recorder";
};

HostConfig host_config(const char* name, uint8_t last_octet) {
  HostConfig c;
  c.name = name;
  InterfaceConfig i;
  i.name = "eth0";
  i.mac = MacAddr{{0x02, 0, 0, 0, 0, last_octet}};
  i.address = Ipv4Cidr{Ipv4Addr::from_octets(10, 0, 0, last_octet), 24};
  i.mtu = 576;
  c.interfaces.push_back(i);
  return c;
}

// The IPv4 header of a frame, if it carries IPv4.
std::optional<wire::Ipv4Repr> ip_of(const PacketBuf& frame) {
  auto e = wire::parse_ethernet(frame.view());
  if (!e || e->repr.ethertype != wire::ethertype::kIpv4) return std::nullopt;
  auto p = wire::parse_ipv4(e->payload);
  if (!p) return std::nullopt;
  return p->repr;
}

struct Pair {
  // Sees each batch of frames one host sent (`from_a`), before delivery; may reorder,
  // duplicate or remove frames.
  using Mangle = std::function<void(std::vector<PacketBuf>& batch, bool from_a)>;

  Host a{host_config("a", 1), nullptr, Rng(1)};
  Host b{host_config("b", 2), nullptr, Rng(2)};
  Recorder* rec_a = nullptr;
  Recorder* rec_b = nullptr;
  Time now = Time::zero();
  Mangle mangle;
  uint64_t frames = 0;

  Pair() {
    auto ra = std::make_unique<Recorder>();
    auto rb = std::make_unique<Recorder>();
    rec_a = ra.get();
    rec_b = rb.get();
    a.add_app(std::move(ra));
    b.add_app(std::move(rb));
    a.start(now);
    b.start(now);
  }

  static std::vector<PacketBuf> drain(Host& h) {
    std::vector<PacketBuf> out;
    while (auto t = h.poll_transmit()) out.push_back(std::move(t->frame));
    return out;
  }

  // Moves frames until both hosts are quiet, firing timers up to `until`.
  void run(Time until) {
    for (;;) {
      auto fa = drain(a);
      auto fb = drain(b);
      if (!fa.empty() || !fb.empty()) {
        if (mangle) {
          mangle(fa, true);
          mangle(fb, false);
        }
        frames += fa.size() + fb.size();
        for (auto& f : fa) b.handle_frame(now, 0, std::move(f));
        for (auto& f : fb) a.handle_frame(now, 0, std::move(f));
        continue;
      }
      std::optional<Time> t;
      for (Host* h : {&a, &b}) {
        if (auto ht = h->poll_timeout(); ht && (!t || *ht < *t)) t = ht;
      }
      if (!t || *t > until) break;
      now = std::max(now, *t);
      a.handle_timeout(now);
      b.handle_timeout(now);
    }
    now = std::max(now, until);
  }

  void send_echo(ByteView data, uint16_t ident = 0x4d5a, uint16_t seq = 1) {
    wire::IcmpRepr req;
    req.type = wire::icmptype::kEchoRequest;
    req.ident = ident;
    req.seq = seq;
    req.data = data;
    wire::Ipv4Repr h;
    h.protocol = wire::ipproto::kIcmp;
    h.dst = kB;
    REQUIRE(a.send_ip(now, h, wire::make_icmp(req)) == Host::SendStatus::Sent);
  }
};

Bytes data_of(size_t n, uint64_t seed) {
  Rng rng(seed);
  Bytes b(n);
  rng.fill(b.data(), n);
  return b;
}

void check_echo_reply(const Pair& p, const Bytes& data) {
  REQUIRE(p.rec_a->seen.size() == 1);
  const auto& r = p.rec_a->seen[0];
  CHECK(r.type == wire::icmptype::kEchoReply);
  CHECK(r.ident == 0x4d5a);
  CHECK(r.seq == 1);
  CHECK(r.ip.src == kB);
  CHECK(r.ip.dst == kA);
  CHECK_FALSE(r.ip.more_frags);
  CHECK(r.ip.frag_offset == 0);
  CHECK(r.ip.payload_len == 8 + data.size());
  CHECK(r.data == data);
}

}  // namespace

TEST_CASE("host pair: a 3000-byte echo over MTU 576 is fragmented, reassembled and answered") {
  Pair p;
  const Bytes data = data_of(3000, 11);
  p.send_echo(data);
  p.run(Time::zero() + Duration::seconds(1));
  check_echo_reply(p, data);
  // 3008 ICMP bytes in 552-byte pieces: 5 * 552 + 248 = 6 fragments each way.
  CHECK(p.a.counters().fragments_out == 6);
  CHECK(p.b.counters().fragments_in == 6);
  CHECK(p.b.counters().reassembled == 1);
  CHECK(p.b.counters().fragments_out == 6);
  CHECK(p.a.counters().fragments_in == 6);
  CHECK(p.a.counters().reassembled == 1);
  CHECK(p.a.counters().drop_reassembly == 0);
  CHECK(p.b.counters().drop_reassembly == 0);
  CHECK(p.a.reassembler().datagrams() == 0);
  CHECK(p.b.reassembler().datagrams() == 0);
  CHECK(p.rec_b->seen.empty());  // the request was answered by the stack, not offered to apps
}

TEST_CASE("host pair: fragments reversed, shuffled and duplicated in flight still make one reply") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    Pair p;
    Rng rng(seed);
    p.mangle = [&rng, seed](std::vector<PacketBuf>& batch, bool) {
      if (seed == 1) {
        std::reverse(batch.begin(), batch.end());
        return;
      }
      const size_t n = batch.size();
      for (size_t i = 0; i < n; ++i) {
        if (rng.bernoulli(0.3)) batch.push_back(PacketBuf::from(batch[i].view()));
      }
      for (size_t i = batch.size(); i > 1; --i) std::swap(batch[i - 1], batch[rng.uniform_int(0, i - 1)]);
    };
    const Bytes data = data_of(3000, seed);
    p.send_echo(data);
    p.run(Time::zero() + Duration::seconds(1));
    check_echo_reply(p, data);
    CHECK(p.b.counters().reassembled == 1);
    // A duplicate arriving after completion starts a datagram that can only time out,
    // with an ICMP time exceeded if it held fragment zero (Linux behaves the same).
    p.run(Time::zero() + Duration::seconds(60));
    for (size_t i = 1; i < p.rec_a->seen.size(); ++i) {
      CHECK(p.rec_a->seen[i].type == wire::icmptype::kTimeExceeded);
      CHECK(p.rec_a->seen[i].code == wire::icmpcode::kReassemblyExceeded);
    }
    CHECK(p.b.reassembler().datagrams() == 0);
    CHECK(p.a.reassembler().datagrams() == 0);
    CHECK(p.b.counters().fragments_in == p.b.reassembler().counters().fragments);
  }
}

TEST_CASE("host pair: a lost fragment gives ICMP time exceeded (reassembly) after 30 s") {
  Pair p;
  bool dropped = false;
  // Loses the second fragment of the echo request (offset 552) once.
  p.mangle = [&dropped](std::vector<PacketBuf>& batch, bool from_a) {
    if (!from_a) return;
    std::erase_if(batch, [&dropped](const PacketBuf& f) {
      auto ip = ip_of(f);
      if (dropped || !ip || ip->frag_offset != 552) return false;
      dropped = true;
      return true;
    });
  };
  const Bytes data = data_of(3000, 5);
  p.send_echo(data);
  p.run(Time::zero() + Duration::seconds(29));
  CHECK(dropped);
  CHECK(p.rec_a->seen.empty());
  CHECK(p.b.reassembler().datagrams() == 1);
  CHECK(p.b.poll_timeout() == Time::zero() + Duration::seconds(30));  // the request left at t = 0

  p.run(Time::zero() + Duration::seconds(31));
  REQUIRE(p.rec_a->seen.size() == 1);
  const auto& e = p.rec_a->seen[0];
  CHECK(e.type == wire::icmptype::kTimeExceeded);
  CHECK(e.code == wire::icmpcode::kReassemblyExceeded);
  CHECK(e.at == Time::zero() + Duration::seconds(30));
  CHECK(e.ip.src == kB);
  // The quote: the first fragment's header and the first 8 bytes of its payload, which
  // are the echo request's ICMP header.
  REQUIRE(e.data.size() == 20 + 8);
  CHECK(e.data[0] == 0x45);
  CHECK(load_be16(e.data.data() + 6) == 0x2000);  // MF, offset 0
  CHECK(load_be32(e.data.data() + 12) == kA.v);
  CHECK(load_be32(e.data.data() + 16) == kB.v);
  CHECK(e.data[20] == wire::icmptype::kEchoRequest);
  CHECK(load_be16(e.data.data() + 24) == 0x4d5a);
  CHECK(p.b.counters().drop_reassembly == 5);  // the 5 fragments held
  CHECK(p.b.counters().reassembled == 0);
  CHECK(p.b.counters().icmp_out == 1);
  CHECK(p.b.reassembler().counters().timed_out == 1);
}

TEST_CASE("host pair: without fragment zero, the timeout sends no ICMP (RFC 792)") {
  Pair p;
  p.mangle = [](std::vector<PacketBuf>& batch, bool from_a) {
    if (!from_a) return;
    std::erase_if(batch, [](const PacketBuf& f) {
      auto ip = ip_of(f);
      return ip && ip->more_frags && ip->frag_offset == 0;
    });
  };
  p.send_echo(data_of(3000, 6));
  p.run(Time::zero() + Duration::seconds(40));
  CHECK(p.rec_a->seen.empty());
  CHECK(p.b.counters().drop_reassembly == 5);
  CHECK(p.b.counters().icmp_out == 0);
  CHECK(p.b.reassembler().datagrams() == 0);
}
