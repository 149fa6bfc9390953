// The ARP cache: resolution queue, retries, give-up, learning rules (RFC 826 merge), expiry.
#include <doctest/doctest.h>

#include "megzawicol/l2/arp_cache.hpp"

using namespace mz;
using l2::ArpCache;

namespace {

const Ipv4Addr kIp = Ipv4Addr::from_octets(10, 0, 0, 2);
const MacAddr kMac{{2, 0, 0, 0, 0, 2}};
Time at_s(int64_t s) { return Time::zero() + Duration::seconds(s); }
PacketBuf pkt(uint8_t tag) {
  const uint8_t b[1] = {tag};
  return PacketBuf::from(ByteView(b, 1));
}

}  // namespace

TEST_CASE("arp cache: the first packet asks for a request, later ones wait, the reply releases them in order") {
  ArpCache c;
  CHECK_FALSE(c.lookup(kIp, at_s(0)));
  CHECK(c.enqueue(kIp, pkt(1), at_s(0)) == ArpCache::Queued::SendRequest);
  CHECK(c.enqueue(kIp, pkt(2), at_s(0)) == ArpCache::Queued::Waiting);
  CHECK(c.poll_timeout() == at_s(1));
  auto released = c.learn(kIp, kMac, at_s(0) + Duration::millis(10), false);
  REQUIRE(released.size() == 2);
  CHECK(released[0].view()[0] == 1);
  CHECK(released[1].view()[0] == 2);
  CHECK(c.lookup(kIp, at_s(1)) == kMac);
  CHECK_FALSE(c.poll_timeout());  // nothing pending
}

TEST_CASE("arp cache: retries once per second and gives up after the third request") {
  ArpCache c;  // retry 1 s, 3 requests
  REQUIRE(c.enqueue(kIp, pkt(1), at_s(0)) == ArpCache::Queued::SendRequest);
  auto t1 = c.handle_timeout(at_s(1));
  CHECK(t1.resend == std::vector<Ipv4Addr>{kIp});
  CHECK(t1.failed.empty());
  auto t2 = c.handle_timeout(at_s(2));
  CHECK(t2.resend.size() == 1);
  CHECK(c.poll_timeout() == at_s(3));
  auto t3 = c.handle_timeout(at_s(3));
  CHECK(t3.resend.empty());
  REQUIRE(t3.failed.size() == 1);
  CHECK(t3.failed[0].addr == kIp);
  CHECK(t3.failed[0].packets.size() == 1);
  CHECK(c.pending_addresses() == 0);
  // A timeout call before the deadline does nothing.
  REQUIRE(c.enqueue(kIp, pkt(1), at_s(10)) == ArpCache::Queued::SendRequest);
  CHECK(c.handle_timeout(at_s(10) + Duration::millis(999)).resend.empty());
}

TEST_CASE("arp cache: the per-address queue is bounded") {
  ArpCache::Config cfg;
  cfg.max_pending_per_addr = 3;
  ArpCache c(cfg);
  CHECK(c.enqueue(kIp, pkt(1), at_s(0)) == ArpCache::Queued::SendRequest);
  CHECK(c.enqueue(kIp, pkt(2), at_s(0)) == ArpCache::Queued::Waiting);
  CHECK(c.enqueue(kIp, pkt(3), at_s(0)) == ArpCache::Queued::Waiting);
  CHECK(c.enqueue(kIp, pkt(4), at_s(0)) == ArpCache::Queued::Dropped);
}

TEST_CASE("arp cache: RFC 826 merge rules and expiry") {
  ArpCache c;
  // Not for us and unknown: not added.
  CHECK(c.learn(kIp, kMac, at_s(0), false).empty());
  CHECK_FALSE(c.lookup(kIp, at_s(0)));
  // For us: added; a later packet updates a known entry even if not for us.
  c.learn(kIp, kMac, at_s(0), true);
  const MacAddr other{{2, 0, 0, 0, 0, 9}};
  c.learn(kIp, other, at_s(10), false);
  CHECK(c.lookup(kIp, at_s(10)) == other);
  // Entries live 60 s from the last update.
  CHECK(c.lookup(kIp, at_s(69)) == other);
  CHECK_FALSE(c.lookup(kIp, at_s(70)));
}

TEST_CASE("arp cache: the table is bounded and evicts expired entries first") {
  ArpCache::Config cfg;
  cfg.max_entries = 4;
  ArpCache c(cfg);
  for (uint8_t i = 1; i <= 4; ++i) c.learn(Ipv4Addr::from_octets(10, 0, 0, i), kMac, at_s(i), true);
  CHECK(c.size() == 4);
  c.learn(Ipv4Addr::from_octets(10, 0, 0, 50), kMac, at_s(5), true);
  CHECK(c.size() == 4);
  CHECK_FALSE(c.lookup(Ipv4Addr::from_octets(10, 0, 0, 1), at_s(5)));  // the oldest went
  CHECK(c.lookup(Ipv4Addr::from_octets(10, 0, 0, 50), at_s(5)));
}
