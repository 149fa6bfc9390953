// Per-layer throughput on 1,460-byte payloads (one full-size TCP segment's data).
//
// Every figure is payload MB/s: (1460 bytes x operations) per second, so the rows compare
// directly even though each operation reads a different number of bytes (the "input" column:
// CRC-32 covers the whole 1514-byte frame, L1 codes the 1518-byte frame with its FCS, ...).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/record.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/tcp.hpp"

namespace mzb {
namespace {

constexpr size_t kPayload = 1460;
volatile uint64_t g_sink = 0;  // keeps results alive

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "megzawicol-bench: %s\n", what);
  std::exit(1);
}

/// Runs `op` (one payload per call) in batches of at least `min_batch_s` seconds and
/// returns the payload MB/s of each batch, by wall time and by CPU time.
std::pair<std::vector<double>, std::vector<double>> measure(const Options& o, const std::function<uint64_t()>& op) {
  const double min_batch_s = o.quick ? 0.03 : 0.2;
  // Calibrate: double the count until a batch is long enough.
  uint64_t n = 64;
  for (;;) {
    const auto t0 = Clock::now();
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; ++i) s += op();
    g_sink = g_sink + s;
    if (seconds_between(t0, Clock::now()) >= min_batch_s / 4) break;
    n *= 2;
  }
  n *= 4;
  std::vector<double> wall, cpu;
  for (int rep = 0; rep < o.reps; ++rep) {
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; ++i) s += op();
    const double dt = seconds_between(t0, Clock::now());
    const double dc = cpu_seconds() - c0;
    g_sink = g_sink + s;
    wall.push_back(static_cast<double>(n * kPayload) / dt / 1e6);
    cpu.push_back(static_cast<double>(n * kPayload) / dc / 1e6);
  }
  return {wall, cpu};
}

struct Segment {
  mz::Bytes payload;
  mz::Ipv4Addr src = mz::Ipv4Addr::from_octets(10, 0, 0, 1);
  mz::Ipv4Addr dst = mz::Ipv4Addr::from_octets(10, 0, 0, 2);
  mz::wire::TcpRepr tcp;
  mz::wire::Ipv4Repr ip;
  mz::wire::EthernetRepr eth;

  Segment() : payload(kPayload) {
    mz::Rng rng(7);
    rng.fill(payload.data(), payload.size());
    tcp.src_port = 49152;
    tcp.dst_port = 5001;
    tcp.seq = 123456789;
    tcp.ack = 987654321;
    tcp.flags = mz::wire::tcpflag::ACK | mz::wire::tcpflag::PSH;
    tcp.window = 65535;
    ip.ttl = 64;
    ip.protocol = mz::wire::ipproto::kTcp;
    ip.src = src;
    ip.dst = dst;
    ip.dont_frag = true;
    eth.src = mz::MacAddr{{2, 0, 0, 0, 0, 1}};
    eth.dst = mz::MacAddr{{2, 0, 0, 0, 0, 2}};
    eth.ethertype = mz::wire::ethertype::kIpv4;
  }

  /// TCP header + IPv4 header + Ethernet header and FCS around the payload.
  mz::PacketBuf encapsulate() const {
    mz::PacketBuf p = mz::PacketBuf::from(payload);
    mz::wire::emit_tcp(p, tcp, src, dst);
    mz::wire::emit_ipv4(p, ip);
    mz::wire::emit_ethernet(p, eth);
    return p;
  }
  /// parse_ethernet (FCS) + parse_ipv4 (header checksum) + parse_tcp (checksum); payload size.
  size_t decapsulate(mz::ByteView frame) const {
    auto e = mz::wire::parse_ethernet(frame);
    if (!e) die("parse_ethernet failed");
    auto i = mz::wire::parse_ipv4(e->payload);
    if (!i) die("parse_ipv4 failed");
    auto t = mz::wire::parse_tcp(i->payload, i->repr.src, i->repr.dst);
    if (!t) die("parse_tcp failed");
    return t->payload.size();
  }
};

mz::l6::TrafficKeys test_keys() {
  mz::l6::TrafficKeys k;
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<uint8_t>(0x10 + i);
  for (size_t i = 0; i < k.iv.size(); ++i) k.iv[i] = static_cast<uint8_t>(0xa0 + i);
  return k;
}

}  // namespace

void bench_layers(const Options& o, Rows& rows) {
  const Segment seg;
  const mz::PacketBuf frame_buf = seg.encapsulate();
  const mz::Bytes frame = frame_buf.to_bytes();  // 1518 bytes: 14 + 20 + 20 + 1460 + 4
  if (frame.size() != 14 + 20 + 20 + kPayload + 4) die("unexpected frame size");
  mz::l1::LineBits bits;
  mz::l1::encode_frame(frame, bits);
  const mz::ByteView ip_packet = mz::ByteView(frame).subspan(14, 20 + 20 + kPayload);
  const mz::ByteView tcp_segment = ip_packet.subspan(20);

  struct Case {
    std::string name;
    size_t input;  // bytes each operation reads
    std::function<uint64_t()> op;
  };
  std::vector<Case> cases;

  // L1: 4B/5B line coding of the whole frame (FCS included).
  mz::l1::LineBits enc;
  cases.push_back({"L1 4B/5B encode_frame", frame.size(), [&] {
                     mz::l1::encode_frame(frame, enc);
                     return uint64_t{enc.bits[enc.bits.size() / 2]};
                   }});
  cases.push_back({"L1 4B/5B decode_frame", bits.bits.size(), [&] {
                     auto d = mz::l1::decode_frame(bits);
                     if (!d) die("decode_frame failed");
                     return uint64_t{d->frame.size()};
                   }});
  // L2: the FCS over header + payload.
  const mz::ByteView fcs_input = mz::ByteView(frame).first(frame.size() - 4);
  cases.push_back({"L2 CRC-32 (frame FCS)", fcs_input.size(), [&] { return uint64_t{mz::wire::crc32(fcs_input)}; }});
  // L3+L4: the IPv4 header checksum and the TCP checksum (pseudo-header + header + payload).
  cases.push_back({"L3+L4 IPv4+TCP checksums (inet_sum)", 20 + tcp_segment.size(), [&] {
                     uint16_t a = mz::wire::inet_checksum(ip_packet.first(20));
                     uint32_t acc = mz::wire::pseudo_header_sum(seg.src, seg.dst, mz::wire::ipproto::kTcp,
                                                                static_cast<uint16_t>(tcp_segment.size()));
                     uint16_t b = mz::wire::inet_fold(mz::wire::inet_sum(tcp_segment, acc));
                     return uint64_t{a} + b;
                   }});
  // L6: one 1460-byte TLS record sealed / opened (RecordProtection: nonce, AAD, AEAD, framing).
  mz::l6::RecordProtection seal_rp(test_keys());
  mz::Bytes record;
  cases.push_back({"L6 TLS record seal (RecordProtection)", kPayload, [&] {
                     record.clear();
                     seal_rp.seal(mz::l6::ContentType::application_data, seg.payload, record);
                     return uint64_t{record.back()};
                   }});
  // Opening needs records sealed at consecutive sequence numbers: seal a batch in advance and
  // start a fresh receiver whenever the batch is used up.
  const size_t kBatch = 1024;  // 1.5 MB of records: stays in the last-level cache
  std::vector<mz::Bytes> sealed;
  {
    mz::l6::RecordProtection rp(test_keys());
    for (size_t i = 0; i < kBatch; ++i) {
      mz::Bytes r;
      rp.seal(mz::l6::ContentType::application_data, seg.payload, r);
      sealed.push_back(std::move(r));
    }
  }
  auto open_rp = std::make_unique<mz::l6::RecordProtection>(test_keys());
  size_t next_open = 0;
  mz::Bytes content;
  cases.push_back({"L6 TLS record open (RecordProtection)", kPayload + 17 + 5, [&] {
                     if (next_open == kBatch) {
                       open_rp = std::make_unique<mz::l6::RecordProtection>(test_keys());
                       next_open = 0;
                     }
                     const mz::Bytes& r = sealed[next_open++];
                     mz::l6::ContentType type{};
                     content.clear();
                     auto err = open_rp->open(mz::ByteView(r).first(5), mz::ByteView(r).subspan(5), type, content);
                     if (err) die("record open failed");
                     return uint64_t{content.size()};
                   }});
  // The whole of L1-L4 for one segment, down and up again.
  mz::l1::LineBits line;
  cases.push_back({"L1-L4 encap+decap of one segment", kPayload, [&] {
                     mz::PacketBuf p = seg.encapsulate();
                     mz::l1::encode_frame(p.view(), line);
                     auto d = mz::l1::decode_frame(line);
                     if (!d) die("decode_frame failed");
                     return uint64_t{seg.decapsulate(d->frame)};
                   }});
  cases.push_back({"L2-L4 encap+decap (no L1)", kPayload, [&] {
                     mz::PacketBuf p = seg.encapsulate();
                     return uint64_t{seg.decapsulate(p.view())};
                   }});
  // The reference: the AEAD alone, no record framing.
  mz::l6::Aes128Gcm gcm(test_keys().key);
  const std::array<uint8_t, 12> nonce = test_keys().iv;
  const uint8_t aad[5] = {23, 3, 3, 0x05, 0xc5};
  mz::Bytes ct(kPayload + 16);
  cases.push_back({"AES-128-GCM seal alone (reference)", kPayload, [&] {
                     gcm.seal(nonce, aad, seg.payload, ct.data());
                     return uint64_t{ct[kPayload]};
                   }});
  mz::Bytes sealed_once(kPayload + 16), plain(kPayload);
  gcm.seal(nonce, aad, seg.payload, sealed_once.data());
  cases.push_back({"AES-128-GCM open alone (reference)", kPayload, [&] {
                     if (!gcm.open(nonce, aad, sealed_once, plain.data())) die("gcm open failed");
                     return uint64_t{plain[0]};
                   }});

  const size_t first = rows.size();
  for (const Case& c : cases) {
    std::fprintf(stderr, "  layers: %s ...\n", c.name.c_str());
    Row r;
    r.group = "layers";
    r.name = c.name;
    r.unit = "MB/s";
    auto [wall, cpu] = measure(o, c.op);
    r.runs = wall;
    r.value = median(wall);
    r.cpu_value = median(cpu);
    r.extra["cpu_runs"] = cpu;
    r.note = "input " + std::to_string(c.input) + " B/op";
    r.extra["input_bytes_per_op"] = c.input;
    r.extra["payload_bytes_per_op"] = kPayload;
    r.extra["ns_per_op"] = 1e3 * kPayload / r.value;  // bytes / (MB/s) is in us
    rows.push_back(std::move(r));
  }
  // Ratios against AES-GCM alone: the target is encap+decap >= 1/3 of it.
  double gcm_mbs = 0;
  double gcm_cpu = 0;
  for (size_t i = first; i < rows.size(); ++i)
    if (rows[i].name.rfind("AES-128-GCM seal", 0) == 0) {
      gcm_mbs = rows[i].value;
      gcm_cpu = *rows[i].cpu_value;
    }
  for (size_t i = first; i < rows.size(); ++i) {
    if (rows[i].name.rfind("AES-128-GCM seal", 0) == 0) continue;
    rows[i].reference = gcm_mbs;
    rows[i].reference_label = "AES-GCM seal";
    // The CPU-time ratio compares with AES-GCM's CPU-time figure, not its wall figure.
    if (gcm_cpu > 0) rows[i].cpu_reference = gcm_cpu;
  }
  for (size_t i = first; i < rows.size(); ++i)
    if (rows[i].name.rfind("L1-L4 encap+decap", 0) == 0)
      rows[i].note += rows[i].cpu_ratio().value_or(0) >= 1.0 / 3 ? "; target >= 0.33x AES-GCM (CPU time): met"
                                                                 : "; target >= 0.33x AES-GCM (CPU time): NOT met";
}

}  // namespace mzb
