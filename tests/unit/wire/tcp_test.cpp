#include "megzawicol/wire/tcp.hpp"

#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;
using mz::wire::test::error_contains;
using mz::wire::test::hex;

namespace {

const Ipv4Addr kIp1 = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 2);

// Both segments were produced once with Python (struct + a hand-written RFC 1071 sum):
//   def csum(b): pad to even; s = sum of '!H' words; fold carries; return ~s & 0xffff
//   h  = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, (hl//4) << 4, flags, win, 0, urg) + opts
//   ph = src + dst + bytes([0, 6]) + struct.pack('!H', hl + len(payload))
//   checksum = csum(ph + h + payload), stored at offset 16.
//
// 10.0.0.1:49152 > 10.0.0.2:80 SYN seq 100 win 65535,
//   opts = struct.pack('!BBH', 2, 4, 1460) + bytes([1,1,4,2]) + bytes([1,3,3,7])
const char* kSynHex = "c0000050 00000064 00000000 8002 ffff 9a5a 0000 020405b4 01010402 01030307";
// 10.0.0.2:80 > 10.0.0.1:49152 PSH|ACK seq 1000 ack 101 win 1024, payload "hello",
//   opts = bytes([1,1,8,10]) + struct.pack('!II', 123456, 654321)
//        + bytes([1,1,5,18]) + struct.pack('!IIII', 2000, 3000, 4000, 5000)
const char* kDataHex =
    "0050c000 000003e8 00000065 d018 0400 eb29 0000 0101080a 0001e240 0009fbf1 01010512 000007d0 00000bb8 "
    "00000fa0 00001388 68656c6c6f";

TcpRepr syn_repr() {
  TcpRepr r;
  r.src_port = 49152;
  r.dst_port = 80;
  r.seq = 100;
  r.flags = tcpflag::SYN;
  r.window = 65535;
  r.mss = 1460;
  r.sack_permitted = true;
  r.window_scale = 7;
  return r;
}

TcpRepr data_repr() {
  TcpRepr r;
  r.src_port = 80;
  r.dst_port = 49152;
  r.seq = 1000;
  r.ack = 101;
  r.flags = tcpflag::PSH | tcpflag::ACK;
  r.window = 1024;
  r.timestamps = std::make_pair(123456u, 654321u);
  r.sack = {{2000, 3000}, {4000, 5000}};
  return r;
}

// Rewrites the checksum of a raw segment so that option-level errors are reached.
void fix_checksum(Bytes& d, Ipv4Addr src, Ipv4Addr dst) {
  store_be16(d.data() + 16, 0);
  store_be16(d.data() + 16,
             inet_fold(inet_sum(d, pseudo_header_sum(src, dst, ipproto::kTcp, static_cast<uint16_t>(d.size())))));
}

}  // namespace

TEST_CASE("tcp codec: parse the Python SYN") {
  const Bytes d = hex(kSynHex);
  auto r = parse_tcp(d, kIp1, kIp2);
  REQUIRE(r.ok());
  TcpRepr want = syn_repr();
  want.checksum = 0x9a5a;
  CHECK(r->repr == want);
  CHECK(r->payload.empty());
  CHECK(r->repr.header_len() == 32);
  CHECK(r->repr.describe() == "49152 > 80 [SYN] seq 100 win 65535 mss 1460 ws 7 sackOK len 0");
  CHECK(error_contains(parse_tcp(hex(kSynHex), kIp1, Ipv4Addr::from_octets(10, 0, 0, 3)), "bad TCP checksum 0x9a5a"));
}

TEST_CASE("tcp codec: parse the Python data segment with timestamps and SACK") {
  const Bytes d = hex(kDataHex);
  auto r = parse_tcp(d, kIp2, kIp1);
  REQUIRE(r.ok());
  TcpRepr want = data_repr();
  want.checksum = 0xeb29;
  CHECK(r->repr == want);
  CHECK(Bytes(r->payload.begin(), r->payload.end()) == hex("68656c6c6f"));
  CHECK(r->repr.describe(5) ==
        "80 > 49152 [PSH, ACK] seq 1000 ack 101 win 1024 ts 123456/654321 sack 2000-3000 4000-5000 len 5");
}

TEST_CASE("tcp codec: emit reproduces the Python bytes") {
  PacketBuf syn;
  emit_tcp(syn, syn_repr(), kIp1, kIp2);
  CHECK(syn.to_bytes() == hex(kSynHex));
  PacketBuf data = PacketBuf::from(hex("68656c6c6f"));
  emit_tcp(data, data_repr(), kIp2, kIp1);
  CHECK(data.to_bytes() == hex(kDataHex));
}

TEST_CASE("tcp codec: round trips of option combinations and payload sizes") {
  Rng rng(9293);
  for (int i = 0; i < 200; ++i) {
    TcpRepr r;
    r.src_port = static_cast<uint16_t>(rng.next_u32());
    r.dst_port = static_cast<uint16_t>(rng.next_u32());
    r.seq = rng.next_u32();
    r.ack = rng.next_u32();
    r.flags = static_cast<uint8_t>(rng.next_u32());
    r.window = static_cast<uint16_t>(rng.next_u32());
    r.urgent = static_cast<uint16_t>(rng.next_u32());
    if (rng.bernoulli(0.5)) r.mss = static_cast<uint16_t>(rng.next_u32());
    if (rng.bernoulli(0.5)) r.window_scale = static_cast<uint8_t>(rng.uniform_int(0, 14));
    r.sack_permitted = rng.bernoulli(0.5);
    if (rng.bernoulli(0.5)) r.timestamps = std::make_pair(rng.next_u32(), rng.next_u32());
    const size_t blocks = rng.uniform_int(0, 5);
    for (size_t k = 0; k < blocks; ++k) r.sack.push_back({rng.next_u32(), rng.next_u32()});
    Bytes payload(rng.uniform_int(0, 1500));
    rng.fill(payload.data(), payload.size());

    PacketBuf pkt = PacketBuf::from(payload);
    emit_tcp(pkt, r, kIp1, kIp2);
    REQUIRE(pkt.size() == r.header_len() + payload.size());
    CHECK(r.header_len() % 4 == 0);
    CHECK(r.header_len() <= kTcpMaxHeaderLen);
    auto p = parse_tcp(pkt.view(), kIp1, kIp2);
    REQUIRE(p.ok());
    TcpRepr want = r;
    want.sack.resize(r.sack_blocks_emitted());
    want.checksum = p->repr.checksum;
    CHECK(p->repr == want);
    CHECK(Bytes(p->payload.begin(), p->payload.end()) == payload);
  }
  // Room for SACK blocks: 4 alone, 3 next to timestamps (RFC 2018 section 3).
  TcpRepr r;
  r.sack.assign(6, SackBlock{1, 2});
  CHECK(r.sack_blocks_emitted() == 4);
  CHECK(r.header_len() == 20 + 36);
  r.timestamps = std::make_pair(1u, 2u);
  CHECK(r.sack_blocks_emitted() == 3);
  CHECK(r.header_len() == 60);
}

TEST_CASE("tcp codec: header errors") {
  CHECK(error_contains(parse_tcp(Bytes(19), kIp1, kIp2), "too short"));
  Bytes d = hex(kSynHex);
  d[12] = 0x40;  // data offset 4
  fix_checksum(d, kIp1, kIp2);
  CHECK(error_contains(parse_tcp(d, kIp1, kIp2), "bad TCP data offset 4"));
  d = hex(kSynHex);
  d[12] = 0x90;  // 36 bytes of header in a 32-byte segment
  fix_checksum(d, kIp1, kIp2);
  CHECK(error_contains(parse_tcp(d, kIp1, kIp2), "truncated: TCP header length 36 > 32"));
}

TEST_CASE("tcp codec: option edge cases") {
  // A 20-byte header followed by 20 option bytes; each case fills the options.
  auto with_options = [](Bytes opts) {
    REQUIRE(opts.size() <= 40);
    opts.resize((opts.size() + 3) / 4 * 4, 0);
    Bytes d(20 + opts.size() + 1, 0);
    store_be16(d.data(), 1);
    store_be16(d.data() + 2, 2);
    d[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
    for (size_t i = 0; i < opts.size(); ++i) d[20 + i] = opts[i];
    d.back() = 0xAB;  // one byte of payload
    fix_checksum(d, kIp1, kIp2);
    return d;
  };
  {  // EOL ends the list: what follows is not parsed
    auto r = parse_tcp(with_options({0, 2, 4, 5, 0xb4}), kIp1, kIp2);
    REQUIRE(r.ok());
    CHECK_FALSE(r->repr.mss);
    CHECK(r->payload.size() == 1);
  }
  {  // unknown kinds are skipped by length (kind 30 MPTCP, kind 34 TFO)
    auto r = parse_tcp(with_options({30, 6, 9, 9, 9, 9, 34, 2, 3, 3, 5}), kIp1, kIp2);
    REQUIRE(r.ok());
    CHECK(r->repr.window_scale == 5);
  }
  CHECK(error_contains(parse_tcp(with_options({2, 3, 5, 0xb4}), kIp1, kIp2), "MSS length != 4"));
  CHECK(error_contains(parse_tcp(with_options({3, 4, 5, 0}), kIp1, kIp2), "window scale length != 3"));
  CHECK(error_contains(parse_tcp(with_options({4, 3, 0, 0}), kIp1, kIp2), "SACK-permitted length != 2"));
  CHECK(error_contains(parse_tcp(with_options({5, 9, 0, 0, 0, 0, 0, 0, 0, 0}), kIp1, kIp2), "SACK length"));
  CHECK(error_contains(parse_tcp(with_options({5, 2, 0, 0}), kIp1, kIp2), "SACK length"));
  CHECK(error_contains(parse_tcp(with_options({8, 8, 0, 0, 0, 0, 0, 0}), kIp1, kIp2), "timestamps length != 10"));
  CHECK(error_contains(parse_tcp(with_options({99, 1, 0, 0}), kIp1, kIp2), "length < 2"));
  CHECK(error_contains(parse_tcp(with_options({1, 1, 1, 99}), kIp1, kIp2), "without a length byte"));
  CHECK(error_contains(parse_tcp(with_options({99, 9, 0, 0}), kIp1, kIp2), "runs past the header"));
}

TEST_CASE("tcp codec: flags and describe") {
  CHECK(tcp_flags_string(0) == "none");
  CHECK(tcp_flags_string(0xff) == "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR");
  TcpRepr r;
  r.flags = tcpflag::URG | tcpflag::ACK;
  r.urgent = 7;
  CHECK(r.describe() == "0 > 0 [ACK, URG] seq 0 ack 0 win 0 urg 7 len 0");
}

TEST_CASE("tcp codec: every truncation and corruption is rejected or parsed safely") {
  for (const char* h : {kSynHex, kDataHex}) {
    const Bytes whole = hex(h);
    const Ipv4Addr src = h == kSynHex ? kIp1 : kIp2;
    const Ipv4Addr dst = h == kSynHex ? kIp2 : kIp1;
    for (size_t n = 0; n < whole.size(); ++n) {
      Bytes prefix(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n));  // exact size for ASan
      auto r = parse_tcp(prefix, src, dst);
      CHECK_FALSE(r.ok());  // the checksum (or the length) no longer matches
      // With a repaired checksum, the parser must still stay inside the buffer.
      if (n >= 20) {
        fix_checksum(prefix, src, dst);
        auto f = parse_tcp(prefix, src, dst);
        if (f.ok()) {
          CHECK(f->payload.data() + f->payload.size() <= prefix.data() + prefix.size());
          CHECK_FALSE(f->repr.describe(f->payload.size()).empty());
        } else {
          CHECK_FALSE(f.error().message.empty());
        }
      }
    }
    for (size_t bit = 0; bit < whole.size() * 8; ++bit) {
      Bytes d = whole;
      d[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      CHECK_FALSE(parse_tcp(d, src, dst).ok());  // any single bit flip breaks the checksum
    }
  }
}

TEST_CASE("tcp codec: random buffers never crash") {
  Rng rng(1982);
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes d(rng.uniform_int(0, 80));
    rng.fill(d.data(), d.size());
    if (d.size() >= 20) {
      if (rng.bernoulli(0.7)) d[12] = static_cast<uint8_t>((rng.uniform_int(5, 15)) << 4);
      fix_checksum(d, kIp1, kIp2);
    }
    auto r = parse_tcp(d, kIp1, kIp2);
    if (r.ok()) {
      ++ok;
      CHECK(r->payload.data() + r->payload.size() == d.data() + d.size());
      CHECK(r->repr.describe().size() > 0);
    }
  }
  CHECK(ok > 0);
}
