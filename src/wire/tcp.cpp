#include "megzawicol/wire/tcp.hpp"

#include <algorithm>
#include <cassert>

#include "fmt.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/ipv4.hpp"

namespace mz::wire {
namespace {

namespace opt {
constexpr uint8_t kEol = 0;
constexpr uint8_t kNop = 1;
constexpr uint8_t kMss = 2;
constexpr uint8_t kWs = 3;
constexpr uint8_t kSackOk = 4;
constexpr uint8_t kSack = 5;
constexpr uint8_t kTs = 8;
}  // namespace opt

// Option bytes before the SACK blocks (each part is already a multiple of 4).
size_t fixed_options_len(const TcpRepr& r) {
  size_t n = 0;
  if (r.mss) n += 4;
  if (r.timestamps) n += 12;           // [SACKOK | NOP NOP] TS
  else if (r.sack_permitted) n += 4;   // NOP NOP SACKOK
  if (r.window_scale) n += 4;          // NOP WS
  return n;
}

std::string option_error(const char* what, size_t off, size_t len) {
  return std::string("bad TCP option: ") + what + " at option offset " + std::to_string(off) + " (length " +
         std::to_string(len) + ")";
}

// Parses the option bytes `o` into `r`. Every read is bounds-checked against o.size().
Result<bool> parse_options(ByteView o, TcpRepr& r) {
  size_t i = 0;
  while (i < o.size()) {
    const uint8_t kind = o[i];
    if (kind == opt::kEol) break;
    if (kind == opt::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= o.size())
      return make_error("bad TCP option: kind " + std::to_string(kind) + " without a length byte");
    const size_t len = o[i + 1];
    if (len < 2) return make_error(option_error(("kind " + std::to_string(kind) + " length < 2").c_str(), i, len));
    if (i + len > o.size())
      return make_error(option_error(("kind " + std::to_string(kind) + " runs past the header").c_str(), i, len));
    const uint8_t* p = o.data() + i;
    switch (kind) {
      case opt::kMss:
        if (len != 4) return make_error(option_error("MSS length != 4", i, len));
        r.mss = load_be16(p + 2);
        break;
      case opt::kWs:
        if (len != 3) return make_error(option_error("window scale length != 3", i, len));
        r.window_scale = p[2];
        break;
      case opt::kSackOk:
        if (len != 2) return make_error(option_error("SACK-permitted length != 2", i, len));
        r.sack_permitted = true;
        break;
      case opt::kSack:
        if (len < 10 || (len - 2) % 8 != 0) return make_error(option_error("SACK length not 2 + 8n", i, len));
        for (size_t k = 2; k + 8 <= len; k += 8) r.sack.push_back({load_be32(p + k), load_be32(p + k + 4)});
        break;
      case opt::kTs:
        if (len != 10) return make_error(option_error("timestamps length != 10", i, len));
        r.timestamps = std::make_pair(load_be32(p + 2), load_be32(p + 6));
        break;
      default:
        break;  // unknown: skipped by its length
    }
    i += len;
  }
  return true;
}

}  // namespace

size_t TcpRepr::sack_blocks_emitted() const {
  if (sack.empty()) return 0;
  const size_t room = kTcpMaxOptionsLen - fixed_options_len(*this);
  if (room < 12) return 0;
  return std::min<size_t>({sack.size(), (room - 4) / 8, 4});
}

size_t TcpRepr::header_len() const {
  const size_t n = sack_blocks_emitted();
  return kTcpMinHeaderLen + fixed_options_len(*this) + (n ? 4 + 8 * n : 0);
}

std::string tcp_flags_string(uint8_t flags) {
  static const char* const kNames[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
  std::string s;
  for (int b = 0; b < 8; ++b) {
    if (flags & (1u << b)) {
      if (!s.empty()) s += ", ";
      s += kNames[b];
    }
  }
  return s.empty() ? "none" : s;
}

std::string TcpRepr::describe(size_t payload_len) const {
  std::string s = std::to_string(src_port) + " > " + std::to_string(dst_port) + " [" + tcp_flags_string(flags) +
                  "] seq " + std::to_string(seq);
  if (has(tcpflag::ACK)) s += " ack " + std::to_string(ack);
  s += " win " + std::to_string(window);
  if (has(tcpflag::URG)) s += " urg " + std::to_string(urgent);
  if (mss) s += " mss " + std::to_string(*mss);
  if (window_scale) s += " ws " + std::to_string(*window_scale);
  if (sack_permitted) s += " sackOK";
  if (timestamps) s += " ts " + std::to_string(timestamps->first) + "/" + std::to_string(timestamps->second);
  if (!sack.empty()) {
    s += " sack";
    for (const SackBlock& b : sack) s += " " + std::to_string(b.left) + "-" + std::to_string(b.right);
  }
  s += " len " + std::to_string(payload_len);
  return s;
}

Result<TcpParsed> parse_tcp(ByteView d, Ipv4Addr src, Ipv4Addr dst) {
  if (d.size() < kTcpMinHeaderLen)
    return make_error("TCP segment too short: " + std::to_string(d.size()) + " bytes, minimum 20");
  if (d.size() > 65535) return make_error("TCP segment of " + std::to_string(d.size()) + " bytes: maximum 65535");
  const uint8_t* p = d.data();
  const size_t hlen = static_cast<size_t>(p[12] >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return make_error("bad TCP data offset " + std::to_string(hlen / 4) + ": minimum 5");
  if (hlen > d.size())
    return make_error("truncated: TCP header length " + std::to_string(hlen) + " > " + std::to_string(d.size()) +
                      " bytes received");
  const uint32_t ph = pseudo_header_sum(src, dst, ipproto::kTcp, static_cast<uint16_t>(d.size()));
  if (inet_fold(inet_sum(d, ph)) != 0) {
    const uint16_t expected = inet_fold(inet_sum(d.subspan(18), inet_sum(d.first(16), ph)));
    return make_error("bad TCP checksum " + detail::hex16(load_be16(p + 16)) + ", expected " +
                      detail::hex16(expected));
  }
  TcpParsed out;
  TcpRepr& r = out.repr;
  r.src_port = load_be16(p);
  r.dst_port = load_be16(p + 2);
  r.seq = load_be32(p + 4);
  r.ack = load_be32(p + 8);
  r.flags = p[13];
  r.window = load_be16(p + 14);
  r.checksum = load_be16(p + 16);
  r.urgent = load_be16(p + 18);
  if (auto o = parse_options(d.subspan(kTcpMinHeaderLen, hlen - kTcpMinHeaderLen), r); !o.ok()) return o.error();
  out.payload = d.subspan(hlen);
  return out;
}

void emit_tcp(PacketBuf& pkt, const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst) {
  const size_t hlen = r.header_len();
  const size_t len = hlen + pkt.size();
  assert(len <= 65535);
  uint8_t* p = pkt.push_front(hlen).data();
  store_be16(p, r.src_port);
  store_be16(p + 2, r.dst_port);
  store_be32(p + 4, r.seq);
  store_be32(p + 8, r.ack);
  p[12] = static_cast<uint8_t>((hlen / 4) << 4);
  p[13] = r.flags;
  store_be16(p + 14, r.window);
  store_be16(p + 16, 0);
  store_be16(p + 18, r.urgent);
  uint8_t* o = p + kTcpMinHeaderLen;
  if (r.mss) {
    o[0] = opt::kMss;
    o[1] = 4;
    store_be16(o + 2, *r.mss);
    o += 4;
  }
  if (r.timestamps) {
    if (r.sack_permitted) {
      o[0] = opt::kSackOk;
      o[1] = 2;
    } else {
      o[0] = o[1] = opt::kNop;
    }
    o[2] = opt::kTs;
    o[3] = 10;
    store_be32(o + 4, r.timestamps->first);
    store_be32(o + 8, r.timestamps->second);
    o += 12;
  } else if (r.sack_permitted) {
    o[0] = o[1] = opt::kNop;
    o[2] = opt::kSackOk;
    o[3] = 2;
    o += 4;
  }
  if (r.window_scale) {
    o[0] = opt::kNop;
    o[1] = opt::kWs;
    o[2] = 3;
    o[3] = *r.window_scale;
    o += 4;
  }
  if (const size_t n = r.sack_blocks_emitted(); n > 0) {
    o[0] = o[1] = opt::kNop;
    o[2] = opt::kSack;
    o[3] = static_cast<uint8_t>(2 + 8 * n);
    o += 4;
    for (size_t k = 0; k < n; ++k, o += 8) {
      store_be32(o, r.sack[k].left);
      store_be32(o + 4, r.sack[k].right);
    }
  }
  assert(o == p + hlen);
  const uint16_t c =
      inet_fold(inet_sum(pkt.view(), pseudo_header_sum(src, dst, ipproto::kTcp, static_cast<uint16_t>(len))));
  store_be16(p + 16, c);
}

}  // namespace mz::wire
