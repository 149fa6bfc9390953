// The learning switch on its own (frames in, transmits out, timers by hand), then three
// real Hosts on one switch.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/stack/host.hpp"
#include "megzawicol/stack/switch.hpp"
#include "megzawicol/trace/tracer.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"

using namespace mz;
using namespace mz::stack;

namespace {

constexpr uint16_t kTestEthertype = 0x88b5;  // IEEE local experimental

MacAddr mac(uint8_t last) { return MacAddr{{0x02, 0, 0, 0, 0, last}}; }
const MacAddr kA = mac(0xa);
const MacAddr kB = mac(0xb);
const MacAddr kC = mac(0xc);
const MacAddr kD = mac(0xd);

Time at(int64_t s) { return Time::zero() + Duration::seconds(s); }

PacketBuf frame(MacAddr dst, MacAddr src, size_t payload_len = 46, uint64_t seed = 1) {
  Bytes payload(payload_len);
  Rng(seed).fill(payload.data(), payload.size());
  PacketBuf p = PacketBuf::from(payload);
  wire::emit_ethernet(p, wire::EthernetRepr{dst, src, kTestEthertype});
  return p;
}

std::vector<Transmit> drain(Switch& sw) {
  std::vector<Transmit> out;
  while (auto t = sw.poll_transmit()) out.push_back(std::move(*t));
  return out;
}

std::vector<uint32_t> ports_of(const std::vector<Transmit>& tx) {
  std::vector<uint32_t> p;
  for (const auto& t : tx) p.push_back(t.ifindex);
  std::sort(p.begin(), p.end());
  return p;
}

SwitchConfig config(uint32_t ports, Duration aging = Duration::seconds(300), size_t max_entries = 8192) {
  return SwitchConfig{"sw", ports, aging, max_entries};
}

// Every frame received ends in exactly one outcome.
void check_accounting(const Switch& sw) {
  const auto& c = sw.counters();
  CHECK(c.frames_in == c.forwarded + c.flooded + c.filtered + c.drop_fcs + c.drop_rx_error + c.drop_runt +
                           c.drop_port_down);
}

struct Recorded {
  std::string node;
  trace::Layer layer;
  std::string name;
  std::string message;
};

class RecordingSink : public trace::Sink {
 public:
  explicit RecordingSink(std::vector<Recorded>* out) : out_(out) {}
  void record(const trace::Event& e) override {
    out_->push_back({std::string(e.node), e.layer, std::string(e.name), std::string(e.message)});
  }

 private:
  std::vector<Recorded>* out_;
};

}  // namespace

TEST_CASE("switch: unknown unicast and broadcast are flooded to every other port, bytes unchanged") {
  Switch sw(config(4), nullptr);
  CHECK_FALSE(sw.poll_timeout());  // an idle switch needs no wake-up

  PacketBuf f = frame(kB, kA, 1500, 7);  // B is unknown
  const Bytes sent = f.to_bytes();
  sw.handle_frame(at(0), 1, std::move(f));
  auto tx = drain(sw);
  CHECK(ports_of(tx) == std::vector<uint32_t>{0, 2, 3});
  for (const auto& t : tx) CHECK(t.frame.to_bytes() == sent);
  CHECK(sw.counters().flooded == 1);
  CHECK(sw.counters().frames_out == 3);

  PacketBuf b = frame(MacAddr::broadcast(), kC);
  const Bytes bsent = b.to_bytes();
  sw.handle_frame(at(0), 0, std::move(b));
  tx = drain(sw);
  CHECK(ports_of(tx) == std::vector<uint32_t>{1, 2, 3});
  for (const auto& t : tx) CHECK(t.frame.to_bytes() == bsent);

  // Multicast is flooded too, and a group source address is never learned.
  const MacAddr group{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  sw.handle_frame(at(0), 2, frame(group, kD));
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{0, 1, 3});
  sw.handle_frame(at(0), 3, frame(kA, group));
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{1});  // A is known on port 1
  CHECK_FALSE(sw.lookup(group));

  CHECK(sw.counters().flooded == 3);
  CHECK(sw.counters().forwarded == 1);
  CHECK(sw.counters().learned == 3);  // A, C, D
  CHECK(sw.table_size() == 3);
  check_accounting(sw);
}

TEST_CASE("switch: after learning, unicast goes to exactly one port with the same bytes") {
  Switch sw(config(4), nullptr);
  sw.handle_frame(at(0), 0, frame(kB, kA));  // A on 0; B unknown: flooded
  CHECK(drain(sw).size() == 3);
  CHECK(sw.lookup(kA) == 0u);
  CHECK_FALSE(sw.lookup(kB));

  PacketBuf reply = frame(kA, kB, 200, 3);
  const Bytes sent = reply.to_bytes();
  sw.handle_frame(at(0), 2, std::move(reply));  // B on 2; A known: forwarded to 0 only
  auto tx = drain(sw);
  REQUIRE(tx.size() == 1);
  CHECK(tx[0].ifindex == 0);
  CHECK(tx[0].frame.to_bytes() == sent);
  CHECK(sw.lookup(kB) == 2u);

  sw.handle_frame(at(0), 0, frame(kB, kA));
  tx = drain(sw);
  REQUIRE(tx.size() == 1);
  CHECK(tx[0].ifindex == 2);
  CHECK(sw.counters().forwarded == 2);
  CHECK(sw.counters().flooded == 1);
  CHECK(sw.counters().learned == 2);
  CHECK(sw.table_size() == 2);
  check_accounting(sw);
}

TEST_CASE("switch: a frame whose destination is on the ingress port is filtered") {
  // A and B behind the same port (a hub, or a switch upstream).
  Switch sw(config(3), nullptr);
  sw.handle_frame(at(0), 1, frame(MacAddr::broadcast(), kA));
  sw.handle_frame(at(0), 1, frame(MacAddr::broadcast(), kB));
  drain(sw);
  sw.handle_frame(at(0), 1, frame(kB, kA));
  CHECK(drain(sw).empty());
  CHECK(sw.counters().filtered == 1);
  CHECK(sw.counters().forwarded == 0);
  check_accounting(sw);
}

TEST_CASE("switch: a station seen on another port moves") {
  Switch sw(config(3), nullptr);
  sw.handle_frame(at(0), 0, frame(MacAddr::broadcast(), kA));
  sw.handle_frame(at(0), 1, frame(MacAddr::broadcast(), kB));
  drain(sw);
  CHECK(sw.lookup(kA) == 0u);

  sw.handle_frame(at(1), 2, frame(kB, kA));  // A now on port 2
  CHECK(sw.lookup(kA) == 2u);
  CHECK(sw.counters().moved == 1);
  CHECK(sw.counters().learned == 2);
  CHECK(sw.table_size() == 2);
  drain(sw);

  sw.handle_frame(at(1), 1, frame(kA, kB));
  auto tx = drain(sw);
  REQUIRE(tx.size() == 1);
  CHECK(tx[0].ifindex == 2);

  sw.handle_frame(at(1), 2, frame(kB, kA));  // same port again: not a move
  CHECK(sw.counters().moved == 1);
  check_accounting(sw);
}

TEST_CASE("switch: entries age out at exactly last seen + aging") {
  Switch sw(config(3, Duration::seconds(10)), nullptr);
  sw.handle_frame(at(1), 0, frame(MacAddr::broadcast(), kA));
  CHECK(sw.poll_timeout() == at(11));
  sw.handle_frame(at(5), 1, frame(MacAddr::broadcast(), kB));
  CHECK(sw.poll_timeout() == at(11));
  sw.handle_frame(at(7), 0, frame(MacAddr::broadcast(), kA));  // refreshes A: B expires first now
  CHECK(sw.poll_timeout() == at(15));
  drain(sw);

  sw.handle_timeout(at(15) - Duration::nanos(1));
  CHECK(sw.table_size() == 2);
  sw.handle_timeout(at(15));
  CHECK(sw.table_size() == 1);
  CHECK_FALSE(sw.lookup(kB));
  CHECK(sw.lookup(kA) == 0u);
  CHECK(sw.counters().aged == 1);
  CHECK(sw.poll_timeout() == at(17));

  // A frame after the expiry finds the entry gone even if no timeout was handled.
  sw.handle_frame(at(20), 2, frame(kA, kC));
  CHECK(sw.counters().aged == 2);
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{0, 1});  // A unknown again: flooded
  CHECK(sw.poll_timeout() == at(30));

  sw.handle_timeout(at(30));
  CHECK(sw.table_size() == 0);
  CHECK(sw.counters().aged == 3);
  CHECK_FALSE(sw.poll_timeout());
  check_accounting(sw);
}

TEST_CASE("switch: aging zero or Duration::max() keeps entries and asks for no wake-up") {
  for (Duration aging : {Duration::zero(), Duration::max()}) {
    Switch sw(config(2, aging), nullptr);
    sw.handle_frame(at(1), 0, frame(MacAddr::broadcast(), kA));
    CHECK(sw.table_size() == 1);
    CHECK_FALSE(sw.poll_timeout());
    sw.handle_timeout(Time::max());
    CHECK(sw.table_size() == 1);
  }
}

TEST_CASE("switch: a port going down flushes its entries and takes no part in flooding") {
  Switch sw(config(4, Duration::seconds(10)), nullptr);
  sw.handle_frame(at(1), 1, frame(MacAddr::broadcast(), kA));
  sw.handle_frame(at(2), 1, frame(MacAddr::broadcast(), kC));
  sw.handle_frame(at(3), 2, frame(MacAddr::broadcast(), kB));
  drain(sw);
  CHECK(sw.table_size() == 3);

  sw.set_port_up(1, false);
  CHECK_FALSE(sw.port_up(1));
  CHECK(sw.table_size() == 1);
  CHECK_FALSE(sw.lookup(kA));
  CHECK_FALSE(sw.lookup(kC));
  CHECK(sw.counters().flushed == 2);
  CHECK(sw.poll_timeout() == at(13));  // B's; the flushed entries left no timer behind

  sw.handle_frame(at(4), 0, frame(MacAddr::broadcast(), kD));
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{2, 3});
  sw.handle_frame(at(4), 2, frame(kA, kB));  // A forgotten: flooded, not to port 1
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{0, 3});

  sw.handle_frame(at(4), 1, frame(MacAddr::broadcast(), kA));  // on a down port
  CHECK(drain(sw).empty());
  CHECK(sw.counters().drop_port_down == 1);
  CHECK_FALSE(sw.lookup(kA));

  sw.set_port_up(1, true);
  sw.handle_frame(at(5), 0, frame(MacAddr::broadcast(), kD));
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{1, 2, 3});
  check_accounting(sw);
}

TEST_CASE("switch: bad FCS, PHY errors and runts are dropped, counted, never learned or relayed") {
  Switch sw(config(3), nullptr);

  PacketBuf bad = frame(MacAddr::broadcast(), kA);
  bad.data()[20] ^= 0x01;  // one bit flipped in the payload
  sw.handle_frame(at(0), 0, std::move(bad));

  sw.handle_frame(at(0), 0, frame(MacAddr::broadcast(), kB), /*rx_error=*/true);  // FCS fine, PHY error

  // 60 bytes with a valid FCS: too short all the same.
  Bytes runt(56, 0);
  const MacAddr bcast = MacAddr::broadcast();
  std::copy(bcast.b.begin(), bcast.b.end(), runt.begin());
  std::copy(kC.b.begin(), kC.b.end(), runt.begin() + 6);
  store_be16(runt.data() + 12, kTestEthertype);
  runt.resize(60);
  store_le32(runt.data() + 56, wire::crc32(ByteView(runt.data(), 56)));
  REQUIRE(wire::fcs_ok(runt));
  sw.handle_frame(at(0), 0, PacketBuf::from(runt));

  PacketBuf truncated = frame(MacAddr::broadcast(), kD);
  truncated.truncate(63);
  sw.handle_frame(at(0), 0, std::move(truncated));

  CHECK(drain(sw).empty());
  CHECK(sw.table_size() == 0);
  const auto& c = sw.counters();
  CHECK(c.frames_in == 4);
  CHECK(c.drop_fcs == 1);
  CHECK(c.drop_rx_error == 1);
  CHECK(c.drop_runt == 2);
  CHECK(c.learned == 0);
  CHECK(c.flooded == 0);
  CHECK(c.frames_out == 0);
  CHECK_FALSE(sw.poll_timeout());
  check_accounting(sw);

  // A frame beyond the last port is ignored.
  sw.handle_frame(at(0), 3, frame(MacAddr::broadcast(), kA));
  CHECK(sw.counters().frames_in == 4);
  CHECK(drain(sw).empty());
}

TEST_CASE("switch: a full table learns no new station and floods towards it") {
  Switch sw(config(4, Duration::seconds(300), 2), nullptr);
  sw.handle_frame(at(0), 0, frame(MacAddr::broadcast(), kA));
  sw.handle_frame(at(0), 1, frame(MacAddr::broadcast(), kB));
  sw.handle_frame(at(0), 2, frame(MacAddr::broadcast(), kC));  // no room for C
  drain(sw);
  CHECK(sw.table_size() == 2);
  CHECK_FALSE(sw.lookup(kC));
  CHECK(sw.counters().table_full == 1);
  CHECK(sw.counters().learned == 2);

  sw.handle_frame(at(0), 0, frame(kC, kA));
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{1, 2, 3});
  sw.handle_frame(at(0), 2, frame(kA, kC));  // towards a known station: forwarded
  CHECK(ports_of(drain(sw)) == std::vector<uint32_t>{0});
  CHECK(sw.counters().table_full == 2);

  sw.handle_frame(at(0), 3, frame(kB, kA));  // a known station may still move
  CHECK(sw.lookup(kA) == 3u);
  CHECK(sw.counters().moved == 1);
  CHECK(sw.table_size() == 2);

  Switch none(config(2, Duration::seconds(300), 0), nullptr);
  none.handle_frame(at(0), 0, frame(kB, kA));
  CHECK(none.table_size() == 0);
  CHECK(ports_of(drain(none)) == std::vector<uint32_t>{1});
  check_accounting(sw);
}

TEST_CASE("switch: trace events at the data link layer under the switch's name") {
  std::vector<Recorded> ev;
  trace::Tracer tracer;
  tracer.add_sink(std::make_unique<RecordingSink>(&ev));
  Switch sw(config(4, Duration::seconds(10)), &tracer);

  sw.handle_frame(at(0), 0, frame(MacAddr::broadcast(), kA));
  sw.handle_frame(at(0), 1, frame(kA, kB));
  sw.handle_frame(at(0), 0, frame(kC, kA));
  sw.handle_frame(at(0), 1, frame(kB, kC));  // C learned on 1, B on 1: filtered
  PacketBuf bad = frame(kA, kB);
  bad.data()[30] ^= 0x80;
  sw.handle_frame(at(0), 1, std::move(bad));
  sw.handle_frame(at(0), 1, frame(kA, kB), true);
  sw.set_port_up(at(1), 3, false);
  sw.handle_timeout(at(10));

  std::vector<std::string> msgs;
  for (const auto& e : ev) {
    CHECK(e.node == "sw");
    CHECK(e.layer == trace::Layer::DataLink);
    msgs.push_back(e.message);
  }
  const auto has = [&msgs](const std::string& m) { return std::find(msgs.begin(), msgs.end(), m) != msgs.end(); };
  CHECK(has("learned 02:00:00:00:00:0a on port 0"));
  CHECK(has("flooding broadcast from port 0 to ports 1, 2, 3"));
  CHECK(has("learned 02:00:00:00:00:0b on port 1"));
  CHECK(has("forwarding frame 02:00:00:00:00:0b>02:00:00:00:00:0a from port 1 to port 0"));
  CHECK(has("flooding unknown unicast 02:00:00:00:00:0a>02:00:00:00:00:0c from port 0 to ports 1, 2, 3"));
  CHECK(has("frame 02:00:00:00:00:0c>02:00:00:00:00:0b filtered (destination on the ingress port 1)"));
  CHECK(has("frame of 64 bytes on port 1 dropped: bad FCS"));
  CHECK(has("frame of 64 bytes on port 1 dropped: the PHY signalled a receive error (invalid code groups)"));
  CHECK(has("port 3 down, 0 entries flushed"));
  CHECK(has("aged out 02:00:00:00:00:0a on port 0 (not seen for 10s)"));
  CHECK(sw.table_size() == 0);
  CHECK(ev.size() == msgs.size());
}

// ---------------------------------------------------------------- three hosts on a LAN

namespace {

class EchoRecorder : public App {
 public:
  const std::string& name() const override { return name_; }
  const char* kind() const override { return "recorder"; }
  void start(Host&, Time) override {}
  std::optional<Time> poll_timeout() const override { return std::nullopt; }
  void handle_timeout(Host&, Time) override {}
  void on_icmp(Host&, Time, const wire::Ipv4Repr& ip, const wire::IcmpRepr& m) override {
    seen.push_back({ip.src, m.type, m.seq});
  }
  std::vector<trace::Field> summary() const override { return {}; }

  struct Seen {
    Ipv4Addr src;
    uint8_t type;
    uint16_t seq;
  };
  std::vector<Seen> seen;

 private:
  std::string name_ = "recorder";
};

Ipv4Addr host_ip(uint8_t i) { return Ipv4Addr::from_octets(10, 0, 0, static_cast<uint8_t>(i + 1)); }
MacAddr host_mac(uint8_t i) { return mac(static_cast<uint8_t>(i + 1)); }

HostConfig host_config(uint8_t i) {
  HostConfig c;
  c.name = "h" + std::to_string(i);
  InterfaceConfig ifc;
  ifc.name = "eth0";
  ifc.mac = host_mac(i);
  ifc.address = Ipv4Cidr{host_ip(i), 24};
  c.interfaces.push_back(ifc);
  return c;
}

// Host i on switch port i; frames move instantly, timers fire when due.
struct Lan {
  Switch sw{SwitchConfig{"sw", 3}, nullptr};
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<EchoRecorder*> rec;
  Time now = Time::zero();

  Lan() {
    for (uint8_t i = 0; i < 3; ++i) {
      hosts.push_back(std::make_unique<Host>(host_config(i), nullptr, Rng(i + 1)));
      auto r = std::make_unique<EchoRecorder>();
      rec.push_back(r.get());
      hosts.back()->add_app(std::move(r));
      hosts.back()->start(now);
    }
  }

  void run(Time until) {
    for (;;) {
      bool moved = false;
      for (uint32_t i = 0; i < hosts.size(); ++i) {
        while (auto t = hosts[i]->poll_transmit()) {
          sw.handle_frame(now, i, std::move(t->frame));
          moved = true;
        }
      }
      while (auto t = sw.poll_transmit()) {
        REQUIRE(t->ifindex < hosts.size());
        hosts[t->ifindex]->handle_frame(now, 0, std::move(t->frame));
        moved = true;
      }
      if (moved) continue;
      std::optional<Time> next = sw.poll_timeout();
      for (const auto& h : hosts) {
        if (auto t = h->poll_timeout(); t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > until) break;
      now = std::max(now, *next);
      sw.handle_timeout(now);
      for (auto& h : hosts) h->handle_timeout(now);
    }
    now = std::max(now, until);
  }
};

}  // namespace

TEST_CASE("switch: three hosts on a LAN, host 0 pings host 2; host 1 sees only the ARP broadcast") {
  Lan lan;
  wire::IcmpRepr req;
  req.type = wire::icmptype::kEchoRequest;
  req.ident = 0x4d5a;
  req.seq = 1;
  const Bytes data(56, 0xab);
  req.data = data;
  wire::Ipv4Repr h;
  h.protocol = wire::ipproto::kIcmp;
  h.dst = host_ip(2);
  // The address is not resolved yet: the datagram waits for ARP inside the host.
  CHECK(lan.hosts[0]->send_ip(lan.now, h, wire::make_icmp(req)) == Host::SendStatus::Sent);
  lan.run(at(1));

  REQUIRE(lan.rec[0]->seen.size() == 1);
  CHECK(lan.rec[0]->seen[0].type == wire::icmptype::kEchoReply);
  CHECK(lan.rec[0]->seen[0].src == host_ip(2));
  CHECK(lan.rec[0]->seen[0].seq == 1);

  const auto& c = lan.sw.counters();
  CHECK(c.flooded == 1);    // the ARP request
  CHECK(c.forwarded == 3);  // ARP reply, echo request, echo reply
  CHECK(c.frames_in == 4);
  CHECK(c.frames_out == 5);
  CHECK(c.drop_fcs + c.drop_runt + c.drop_rx_error + c.filtered == 0);
  CHECK(lan.sw.lookup(host_mac(0)) == 0u);
  CHECK(lan.sw.lookup(host_mac(2)) == 2u);
  CHECK_FALSE(lan.sw.lookup(host_mac(1)));  // host 1 never sent anything

  CHECK(lan.hosts[1]->counters().frames_in == 1);  // the broadcast only
  CHECK(lan.hosts[1]->counters().arp_in == 1);
  CHECK(lan.hosts[1]->counters().frames_out == 0);
  CHECK(lan.hosts[1]->counters().drop_not_for_us == 0);  // no unicast leaked to it
  CHECK(lan.hosts[2]->counters().frames_in == 2);  // ARP request, echo request
  CHECK(lan.hosts[0]->counters().frames_in == 2);  // ARP reply, echo reply
  CHECK(lan.hosts[2]->counters().arp_replies_out == 1);
  CHECK(lan.rec[1]->seen.empty());
  check_accounting(lan.sw);
}
