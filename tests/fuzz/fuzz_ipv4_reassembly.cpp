// IPv4 reassembly: a sequence of fragments built from the input.
// Input: byte 0 = config (bit 0: overlap policy DiscardDatagram; bits 1-2: memory bound),
// then records of 6 bytes + data:
//   [0] bits 0-1: datagram (ident), bit 2: MF, bit 3: payload from the input (else a
//       pattern), bits 4-7: time step (x 1 s; 15: handle_timeout at the deadline)
//   [1..2] offset / 8 (13 bits)   [3..4] length (up to 4095)   [5] header options words (0..3)
// Invariants: memory() <= max_bytes and datagrams() <= max_datagrams after every call; a
// completed datagram has the announced length and a 65535-byte bound; expiry happens only
// after the timeout.
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/l3/reassembly.hpp"

using mz::l3::Reassembler;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  uint8_t c = in.u8();
  Reassembler::Config cfg;
  cfg.timeout = mz::Duration::seconds(30);
  cfg.overlap = (c & 1) ? Reassembler::OverlapPolicy::DiscardDatagram : Reassembler::OverlapPolicy::KeepFirst;
  static constexpr size_t kMem[] = {4u << 20, 64u << 10, 8u << 10, 1024};
  cfg.max_bytes = kMem[(c >> 1) & 3];
  cfg.max_datagrams = 3;
  Reassembler r(cfg);

  mz::Time now = mz::Time::zero();
  std::vector<uint8_t> buf;
  for (int i = 0; i < 256 && !in.empty(); ++i) {
    uint8_t f = in.u8();
    uint16_t off = in.u16() & 0x1fff;
    uint16_t len = in.u16() & 0x0fff;
    uint8_t opts = in.u8() & 3;
    unsigned step = f >> 4;
    if (step == 15) {
      if (auto t = r.poll_timeout()) {
        MZ_FUZZ_CHECK(*t >= now);
        now = *t;
      }
    } else {
      now = now + mz::Duration::seconds(step);
    }
    for (const auto& e : r.handle_timeout(now)) {
      MZ_FUZZ_CHECK(e.created + cfg.timeout <= now);
      MZ_FUZZ_CHECK(!e.total || e.bytes <= *e.total);
    }

    mz::wire::Ipv4Repr h;
    h.src = mz::Ipv4Addr::from_octets(10, 0, 0, 1);
    h.dst = mz::Ipv4Addr::from_octets(10, 0, 0, 2);
    h.protocol = mz::wire::ipproto::kUdp;
    h.ident = f & 3;
    h.more_frags = (f & 4) != 0;
    h.frag_offset = static_cast<uint16_t>(off * 8);
    h.options.assign(opts * 4u, 1);  // NOPs
    h.payload_len = len;
    if (f & 8) {
      mz::ByteView p = in.bytes(len);
      buf.assign(p.begin(), p.end());
    } else {
      buf.resize(len);
      for (size_t k = 0; k < len; ++k) buf[k] = static_cast<uint8_t>(off * 8 + k);
    }
    h.payload_len = static_cast<uint16_t>(buf.size());

    auto res = r.add(now, h, buf);
    MZ_FUZZ_CHECK(r.memory() <= cfg.max_bytes);
    MZ_FUZZ_CHECK(r.datagrams() <= cfg.max_datagrams);
    if (res.status == Reassembler::Status::Complete) {
      MZ_FUZZ_CHECK(res.payload.size() == res.header.payload_len);
      MZ_FUZZ_CHECK(res.header.header_len() + res.payload.size() <= 65535);
      MZ_FUZZ_CHECK(!res.header.more_frags && res.header.frag_offset == 0);
      MZ_FUZZ_CHECK(res.total && *res.total == res.payload.size());
    }
    if (res.status == Reassembler::Status::Dropped) MZ_FUZZ_CHECK(res.reason != Reassembler::DropReason::None);
    for (const auto& e : res.evicted) MZ_FUZZ_CHECK(!e.total || e.bytes <= *e.total);
  }
  const auto& k = r.counters();
  MZ_FUZZ_CHECK(k.accepted + k.duplicates + k.dropped() <= k.fragments);
  // Everything left expires once the timeout has passed.
  now = now + cfg.timeout;
  (void)r.handle_timeout(now);
  MZ_FUZZ_CHECK(r.datagrams() == 0 && r.memory() == 0);
  return 0;
}
