#include "megzawicol/report/decode.hpp"

#include <cstdio>
#include <string_view>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/l5/session_wire.hpp"
#include "megzawicol/l6/record.hpp"
#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/checksum.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/tcp.hpp"
#include "megzawicol/wire/udp.hpp"

namespace mz::report {

const char* proto_name(Proto p) {
  switch (p) {
    case Proto::Arp: return "ARP";
    case Proto::Icmp: return "ICMP";
    case Proto::Udp: return "UDP";
    case Proto::Tcp: return "TCP";
    case Proto::Session: return "session";
    case Proto::Tls: return "TLS";
    case Proto::Http: return "HTTP";
    default: return "other";
  }
}

std::string field_text(const DecodedField& f) {
  if (const auto* s = std::get_if<std::string>(&f.value)) return *s;
  const uint64_t v = std::get<uint64_t>(f.value);
  if (f.hex_digits == 0) return std::to_string(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", static_cast<int>(f.hex_digits), static_cast<unsigned long long>(v));
  return buf;
}

std::string DecodedLayer::get(const std::string& key) const {
  for (const auto& f : fields)
    if (f.key == key) return field_text(f);
  return "";
}

const DecodedLayer* DecodedFrame::layer(const std::string& name) const {
  for (const auto& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

namespace {

struct LayerBuilder {
  DecodedLayer& l;
  LayerBuilder& num(std::string k, uint64_t v) {
    l.fields.push_back({std::move(k), v, 0});
    return *this;
  }
  LayerBuilder& hex(std::string k, uint64_t v, uint8_t digits) {
    l.fields.push_back({std::move(k), v, digits});
    return *this;
  }
  LayerBuilder& str(std::string k, std::string v) {
    l.fields.push_back({std::move(k), std::move(v), 0});
    return *this;
  }
};

LayerBuilder add_layer(DecodedFrame& d, std::string name) {
  d.layers.push_back({std::move(name), {}});
  return LayerBuilder{d.layers.back()};
}

MacAddr mac_at(const uint8_t* p) {
  MacAddr m;
  for (int i = 0; i < 6; ++i) m.b[i] = p[i];
  return m;
}
Ipv4Addr ip_at(const uint8_t* p) { return Ipv4Addr{load_be32(p)}; }

void raise(DecodedFrame& d, Proto p, std::string summary) {
  if (static_cast<uint8_t>(p) >= static_cast<uint8_t>(d.proto)) {
    d.proto = p;
    d.summary = std::move(summary);
  }
}

std::string_view as_text(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// An HTTP/1.x start line and headers at the start of `b`, if that is what it holds.
void decode_http(DecodedFrame& d, ByteView b) {
  static constexpr std::string_view kStarts[] = {"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "HTTP/1."};
  const std::string_view t = as_text(b);
  bool http = false;
  for (auto s : kStarts) http |= t.substr(0, s.size()) == s;
  if (!http) return;
  auto L = add_layer(d, "HTTP");
  size_t pos = 0;
  std::string start;
  int n = 0;
  while (pos < t.size() && n < 40) {
    size_t e = t.find("\r\n", pos);
    const bool complete = e != std::string_view::npos;
    if (!complete) e = t.size();
    std::string line(t.substr(pos, e - pos));
    for (char& c : line)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '.';
    if (n == 0) {
      start = line;
      L.str("start line", line);
    } else if (line.empty()) {
      L.num("body bytes here", t.size() - (e + 2));
      break;
    } else {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) L.str("header", line);
      else L.str(line.substr(0, colon), line.substr(colon + 1 + (colon + 1 < line.size() && line[colon + 1] == ' ')));
    }
    if (!complete) {
      if (n > 0) L.str("(continues)", "in the next segment");
      break;
    }
    pos = e + 2;
    ++n;
  }
  raise(d, Proto::Http, "HTTP " + start);
}

const char* handshake_name(uint8_t t) {
  switch (t) {
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 13: return "CertificateRequest";
    case 15: return "CertificateVerify";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    default: return nullptr;
  }
}

// TLS record headers at the start of a session DATA payload (as much as is here).
void decode_tls(DecodedFrame& d, ByteView b) {
  size_t pos = 0;
  int count = 0;
  std::string first;
  while (pos + l6::kRecordHeaderLen <= b.size() && count < 16) {
    const uint8_t type = b[pos];
    const uint16_t version = load_be16(&b[pos + 1]);
    const uint16_t len = load_be16(&b[pos + 3]);
    if (type < 20 || type > 23 || (version != 0x0303 && version != 0x0301)) break;
    auto L = add_layer(d, "TLS");
    const std::string tname = l6::content_type_name(static_cast<l6::ContentType>(type));
    L.str("content type", tname + " (" + std::to_string(type) + ")").hex("version", version, 4).num("length", len);
    std::string what = tname;
    if (type == 22 && pos + 6 <= b.size()) {
      const char* hs = handshake_name(b[pos + 5]);
      const std::string hn = hs ? hs : "type " + std::to_string(b[pos + 5]);
      L.str("handshake", hn + " (in clear)");
      what += " " + hn;
    } else if (type == 23) {
      L.str("content", "encrypted");
    }
    const size_t avail = b.size() - pos - l6::kRecordHeaderLen;
    if (avail < len) L.str("record", "continues past this segment (" + std::to_string(avail) + " of " + std::to_string(len) + " bytes here)");
    if (count == 0) first = what;
    ++count;
    pos += l6::kRecordHeaderLen + len;
  }
  if (count) raise(d, Proto::Tls, "TLS " + first + (count > 1 ? " +" + std::to_string(count - 1) + " record(s)" : ""));
}

// Session frames in a TCP payload that starts with the magic.
void decode_session(DecodedFrame& d, ByteView b) {
  size_t pos = 0;
  int count = 0;
  while (pos + 2 <= b.size() && b[pos] == l5::kSessionMagic0 && b[pos + 1] == l5::kSessionMagic1 && count < 16) {
    const ByteView rest = b.subspan(pos);
    auto L = add_layer(d, "Session");
    if (rest.size() < l5::kSessionHeaderLen) {
      L.str("header", "continues past this segment (" + std::to_string(rest.size()) + " of 33 bytes here)");
      break;
    }
    const uint8_t type = rest[3];
    const uint32_t len = load_be32(&rest[5]);
    l5::Uuid id;
    for (int i = 0; i < 16; ++i) id.b[i] = rest[9 + i];
    const uint64_t ts = (uint64_t{load_be32(&rest[25])} << 32) | load_be32(&rest[29]);
    const std::string tname = l5::to_string(static_cast<l5::SessionType>(type));
    L.str("magic", "MZ").num("version", rest[2]).str("type", tname + " (" + std::to_string(type) + ")");
    L.hex("flags", rest[4], 2).num("payload length", len).str("session id", id.to_string());
    char tsb[40];
    std::snprintf(tsb, sizeof tsb, "%llu.%09llu s", static_cast<unsigned long long>(ts / 1'000'000'000),
                  static_cast<unsigned long long>(ts % 1'000'000'000));
    L.str("timestamp", tsb);
    const auto err = l5::check_session_header_prefix(rest.subspan(0, l5::kSessionHeaderLen));
    L.str("header check", err ? "bad: " + err->message : "ok");
    const ByteView payload = rest.subspan(l5::kSessionHeaderLen, std::min<size_t>(len, rest.size() - l5::kSessionHeaderLen));
    if (payload.size() < len) L.str("payload", "continues past this segment (" + std::to_string(payload.size()) + " of " + std::to_string(len) + " bytes here)");
    if (type == 3 && len >= 1 && !payload.empty())
      L.str("state", l5::to_string(static_cast<l5::SessionState>(payload[0])));
    raise(d, Proto::Session, "SESSION " + tname + " " + id.to_string().substr(0, 8) + " len " + std::to_string(len));
    if (type == 5 && !payload.empty()) {
      decode_tls(d, payload);
      decode_http(d, payload);
    }
    ++count;
    pos += l5::kSessionHeaderLen + len;
  }
}

void decode_tcp(DecodedFrame& d, ByteView seg, Ipv4Addr src, Ipv4Addr dst, bool complete) {
  auto L = add_layer(d, "TCP");
  if (seg.size() < wire::kTcpMinHeaderLen) {
    L.str("error", "truncated header (" + std::to_string(seg.size()) + " bytes)");
    return;
  }
  const uint8_t flags = seg[13];
  const size_t off = (seg[12] >> 4) * 4u;
  L.num("source port", load_be16(&seg[0])).num("destination port", load_be16(&seg[2]));
  L.num("sequence number", load_be32(&seg[4])).num("acknowledgment number", load_be32(&seg[8]));
  L.num("header length", off).str("flags", "[" + wire::tcp_flags_string(flags) + "]").num("window", load_be16(&seg[14]));
  L.hex("checksum", load_be16(&seg[16]), 4).num("urgent pointer", load_be16(&seg[18]));
  const size_t payload_len = off <= seg.size() ? seg.size() - off : 0;
  std::string summary;
  if (complete) {
    auto p = wire::parse_tcp(seg, src, dst);
    if (p) {
      L.str("checksum status", "good");
      const auto& r = p->repr;
      std::string opts;
      auto add = [&](const std::string& s) { opts += (opts.empty() ? "" : ", ") + s; };
      if (r.mss) add("MSS " + std::to_string(*r.mss));
      if (r.window_scale) add("window scale " + std::to_string(*r.window_scale));
      if (r.sack_permitted) add("SACK permitted");
      if (r.timestamps) add("timestamps " + std::to_string(r.timestamps->first) + "/" + std::to_string(r.timestamps->second));
      for (const auto& s : r.sack) add("SACK " + std::to_string(s.left) + "-" + std::to_string(s.right));
      L.str("options", opts.empty() ? "none" : opts);
      summary = "TCP " + r.describe(p->payload.size());
    } else {
      L.str("checksum status", "bad or malformed: " + p.error().message);
    }
  } else {
    L.str("checksum status", "not checked (capture truncated or IP fragment)");
  }
  if (summary.empty())
    summary = "TCP " + std::to_string(load_be16(&seg[0])) + " > " + std::to_string(load_be16(&seg[2])) + " [" +
              wire::tcp_flags_string(flags) + "]";
  L.num("payload bytes", payload_len);
  raise(d, Proto::Tcp, summary);
  if (off >= wire::kTcpMinHeaderLen && off < seg.size()) {
    const ByteView payload = seg.subspan(off);
    if (payload.size() >= 2 && payload[0] == l5::kSessionMagic0 && payload[1] == l5::kSessionMagic1) decode_session(d, payload);
    else decode_http(d, payload);
  }
}

void decode_udp(DecodedFrame& d, ByteView dg, Ipv4Addr src, Ipv4Addr dst, bool complete) {
  auto L = add_layer(d, "UDP");
  if (dg.size() < wire::kUdpHeaderLen) {
    L.str("error", "truncated header");
    return;
  }
  L.num("source port", load_be16(&dg[0])).num("destination port", load_be16(&dg[2]));
  L.num("length", load_be16(&dg[4])).hex("checksum", load_be16(&dg[6]), 4);
  std::string summary;
  if (complete) {
    auto p = wire::parse_udp(dg, src, dst);
    if (p) {
      L.str("checksum status", p->repr.checksum == 0 ? "none (0)" : "good");
      summary = p->repr.describe();
    } else {
      L.str("checksum status", "bad or malformed: " + p.error().message);
    }
  } else {
    L.str("checksum status", "not checked (capture truncated or IP fragment)");
  }
  L.num("payload bytes", load_be16(&dg[4]) >= 8 ? load_be16(&dg[4]) - 8u : 0u);
  if (summary.empty()) summary = "UDP " + std::to_string(load_be16(&dg[0])) + " > " + std::to_string(load_be16(&dg[2]));
  raise(d, Proto::Udp, summary);
}

void decode_icmp(DecodedFrame& d, ByteView msg, bool complete) {
  auto L = add_layer(d, "ICMP");
  if (msg.size() < wire::kIcmpHeaderLen) {
    L.str("error", "truncated header");
    return;
  }
  L.num("type", msg[0]).num("code", msg[1]).hex("checksum", load_be16(&msg[2]), 4);
  std::string summary = "ICMP type " + std::to_string(msg[0]);
  if (msg[0] == wire::icmptype::kEchoRequest || msg[0] == wire::icmptype::kEchoReply)
    L.hex("identifier", load_be16(&msg[4]), 4).num("sequence", load_be16(&msg[6]));
  if (msg[0] == wire::icmptype::kDestUnreachable && msg[1] == wire::icmpcode::kFragNeeded)
    L.num("next-hop MTU", load_be16(&msg[6]));
  if (complete) {
    auto p = wire::parse_icmp(msg);
    if (p) {
      L.str("checksum status", "good").str("message", p->describe());
      summary = "ICMP " + p->describe();
    } else {
      L.str("checksum status", "bad or malformed: " + p.error().message);
    }
  } else {
    L.str("checksum status", "not checked (capture truncated or IP fragment)");
  }
  L.num("data bytes", msg.size() - wire::kIcmpHeaderLen);
  raise(d, Proto::Icmp, summary);
}

void decode_ipv4(DecodedFrame& d, ByteView pkt, bool complete) {
  auto L = add_layer(d, "IPv4");
  if (pkt.size() < wire::kIpv4MinHeaderLen) {
    L.str("error", "truncated header (" + std::to_string(pkt.size()) + " bytes)");
    return;
  }
  const size_t ihl = (pkt[0] & 0x0f) * 4u;
  const uint16_t total = load_be16(&pkt[2]);
  const uint16_t ff = load_be16(&pkt[6]);
  const bool df = ff & 0x4000, mf = ff & 0x2000;
  const uint32_t frag_off = (ff & 0x1fffu) * 8u;
  const uint8_t proto = pkt[9];
  const Ipv4Addr src = ip_at(&pkt[12]), dst = ip_at(&pkt[16]);
  L.num("version", pkt[0] >> 4).num("header length", ihl).hex("DSCP/ECN", pkt[1], 2).num("total length", total);
  L.hex("identification", load_be16(&pkt[4]), 4);
  std::string fl = std::string(ff & 0x8000 ? "reserved " : "") + (df ? "DF " : "") + (mf ? "MF" : "");
  while (!fl.empty() && fl.back() == ' ') fl.pop_back();
  L.str("flags", fl.empty() ? "none" : fl).num("fragment offset", frag_off);
  L.str("fragment", mf || frag_off ? std::string("yes: bytes ") + std::to_string(frag_off) + ".." +
                                         std::to_string(frag_off + (total > ihl ? total - ihl : 0)) + (mf ? ", more follow" : ", the last")
                                   : std::string("no (whole datagram)"));
  L.num("TTL", pkt[8]).str("protocol", wire::ipproto_name(proto) + " (" + std::to_string(proto) + ")");
  L.hex("header checksum", load_be16(&pkt[10]), 4);
  const bool hdr_in = ihl >= 20 && ihl <= pkt.size();
  if (hdr_in) L.str("checksum status", wire::inet_checksum(pkt.subspan(0, ihl)) == 0 ? "good" : "bad");
  L.str("source", src.to_string()).str("destination", dst.to_string());
  if (ihl > 20) L.num("options bytes", ihl - 20);
  std::string summary = "IPv4 " + src.to_string() + " > " + dst.to_string() + " " + wire::ipproto_name(proto);
  bool parsed = false;
  if (complete) {
    auto p = wire::parse_ipv4(pkt);
    if (p) {
      parsed = true;
      summary = "IPv4 " + p->repr.describe();
    } else {
      L.str("validation", "bad: " + p.error().message);
    }
  }
  raise(d, Proto::Other, summary);
  if (!hdr_in || total < ihl) return;
  const size_t end = std::min<size_t>(total, pkt.size());
  const ByteView payload = pkt.subspan(ihl, end - ihl);
  if (frag_off != 0) {
    add_layer(d, wire::ipproto_name(proto)).str("fragment", "continuation at offset " + std::to_string(frag_off) + ": no header here");
    const Proto cls = proto == wire::ipproto::kTcp ? Proto::Tcp : proto == wire::ipproto::kUdp ? Proto::Udp
                      : proto == wire::ipproto::kIcmp ? Proto::Icmp : Proto::Other;
    raise(d, cls, summary + " fragment off " + std::to_string(frag_off) + (mf ? " MF" : ""));
    return;
  }
  const bool whole = complete && parsed && !mf && total <= pkt.size();
  if (proto == wire::ipproto::kIcmp) decode_icmp(d, payload, whole);
  else if (proto == wire::ipproto::kUdp) decode_udp(d, payload, src, dst, whole);
  else if (proto == wire::ipproto::kTcp) decode_tcp(d, payload, src, dst, whole);
}

}  // namespace

DecodedFrame decode_frame(ByteView frame, size_t orig_len) {
  DecodedFrame d;
  if (orig_len == 0) orig_len = frame.size();
  d.truncated = frame.size() < orig_len;
  auto E = add_layer(d, "Ethernet");
  if (frame.size() < wire::kEthHeaderLen) {
    E.str("error", "runt: " + std::to_string(frame.size()) + " bytes");
    d.summary = "runt frame";
    return d;
  }
  const uint16_t type = load_be16(&frame[12]);
  E.str("destination", mac_at(&frame[0]).to_string()).str("source", mac_at(&frame[6]).to_string());
  E.str("type", wire::ethertype_name(type) + " (" + field_text({"", uint64_t{type}, 4}) + ")");
  E.num("frame length", orig_len);
  ByteView payload;
  if (!d.truncated && frame.size() >= wire::kEthHeaderLen + wire::kEthFcsLen) {
    const uint8_t* f = &frame[frame.size() - 4];
    const uint32_t fcs = uint32_t{f[0]} | (uint32_t{f[1]} << 8) | (uint32_t{f[2]} << 16) | (uint32_t{f[3]} << 24);
    d.fcs_ok = wire::fcs_ok(frame);
    E.hex("FCS", fcs, 8);
    if (d.fcs_ok) E.str("FCS status", "good");
    else E.str("FCS status", "BAD (computed " + field_text({"", uint64_t{wire::crc32(frame.subspan(0, frame.size() - 4))}, 8}) + ")");
    if (frame.size() < wire::kEthMinFrame) E.str("size", "runt (under 64 bytes)");
    payload = frame.subspan(wire::kEthHeaderLen, frame.size() - wire::kEthHeaderLen - wire::kEthFcsLen);
  } else {
    E.str("FCS status", "not checked (capture truncated)");
    payload = frame.subspan(wire::kEthHeaderLen);
  }
  d.summary = "Ethernet " + wire::ethertype_name(type);
  if (type == wire::ethertype::kArp) {
    auto A = add_layer(d, "ARP");
    auto p = wire::parse_arp(payload);
    if (p) {
      A.str("operation", p->op == wire::arpop::kRequest ? "request (1)" : "reply (2)");
      A.str("sender MAC", p->sha.to_string()).str("sender IP", p->spa.to_string());
      A.str("target MAC", p->tha.to_string()).str("target IP", p->tpa.to_string()).str("message", p->describe());
      raise(d, Proto::Arp, "ARP " + p->describe());
    } else {
      A.str("error", p.error().message);
      raise(d, Proto::Arp, "ARP (malformed)");
    }
  } else if (type == wire::ethertype::kIpv4) {
    decode_ipv4(d, payload, !d.truncated);
  }
  return d;
}

}  // namespace mz::report
