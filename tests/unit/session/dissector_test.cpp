// Checks tools/megzawicol_session.lua with tshark on small hand-built captures.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "megzawicol/l5/session_wire.hpp"
#include "session_test_util.hpp"

using namespace mz;
using namespace mz::l5;
using mz::l5::test::hex;
using mz::l5::test::text;

namespace {

const std::string kLua = std::string(MZ_SOURCE_DIR) + "/tools/megzawicol_session.lua";
const Uuid kId = *Uuid::parse("1b4e28ba-2fa1-41d2-883f-0016d3cca427");
constexpr uint16_t kClientPort = 40000;
constexpr uint16_t kServerPort = 7000;  // registered to Gryphon: only -d makes it ours
constexpr uint16_t kFreePort = 4455;    // no dissector registered: the heuristic decides

int run_command(const std::string& cmd, std::string* output) {
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  std::string out;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool have_tshark() {
  static const bool have = run_command("tshark --version", nullptr) == 0;
  return have;
}

std::string tshark(const std::string& args) {
  std::string out;
  const int rc = run_command("tshark -X lua_script:" + kLua + " " + args, &out);
  INFO("tshark " << args << "\n" << out);
  REQUIRE(rc == 0);
  return out;
}

// RFC 1071 one's-complement sum over `b`, added to `sum`.
uint32_t sum16(ByteView b, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += load_be16(b.data() + i);
  if (b.size() % 2) sum += uint32_t{b.back()} << 8;
  return sum;
}
uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

struct Segment {
  bool from_client;
  uint32_t seq;
  Bytes payload;
  uint16_t server_port = kServerPort;
};

// Ethernet / IPv4 / TCP (PSH|ACK) with correct IPv4 and TCP checksums.
Bytes frame(const Segment& s) {
  const uint8_t client_ip[4] = {10, 0, 0, 1};
  const uint8_t server_ip[4] = {10, 0, 0, 2};
  const uint8_t* src = s.from_client ? client_ip : server_ip;
  const uint8_t* dst = s.from_client ? server_ip : client_ip;
  Bytes f = hex(s.from_client ? "020000000002 020000000001 0800" : "020000000001 020000000002 0800");
  Bytes ip(20, 0);
  ip[0] = 0x45;
  store_be16(ip.data() + 2, static_cast<uint16_t>(20 + 20 + s.payload.size()));
  store_be16(ip.data() + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  std::copy(src, src + 4, ip.data() + 12);
  std::copy(dst, dst + 4, ip.data() + 16);
  store_be16(ip.data() + 10, fold(sum16(ip)));
  Bytes tcp(20, 0);
  store_be16(tcp.data(), s.from_client ? kClientPort : s.server_port);
  store_be16(tcp.data() + 2, s.from_client ? s.server_port : kClientPort);
  store_be32(tcp.data() + 4, s.seq);
  store_be32(tcp.data() + 8, 1);
  tcp[12] = 5 << 4;
  tcp[13] = 0x18;  // PSH|ACK
  store_be16(tcp.data() + 14, 65535);
  tcp.insert(tcp.end(), s.payload.begin(), s.payload.end());
  Bytes pseudo(src, src + 4);
  pseudo.insert(pseudo.end(), dst, dst + 4);
  pseudo.insert(pseudo.end(), {0, 6, 0, 0});
  store_be16(pseudo.data() + 10, static_cast<uint16_t>(tcp.size()));
  store_be16(tcp.data() + 16, fold(sum16(tcp, sum16(pseudo))));
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), tcp.begin(), tcp.end());
  return f;
}

// A classic pcap (microsecond timestamps, LINKTYPE_ETHERNET), one packet per segment.
std::string write_pcap(const std::string& name, const std::vector<Segment>& segs) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MZ_BINARY_DIR) / "test-out" / "session";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  Bytes out(24, 0);
  store_le32(out.data(), 0xa1b2c3d4);
  out[4] = 2;  // version 2.4
  out[6] = 4;
  store_le32(out.data() + 16, 65535);
  store_le32(out.data() + 20, 1);
  uint32_t usec = 0;
  for (const Segment& s : segs) {
    const Bytes f = frame(s);
    Bytes rec(16, 0);
    store_le32(rec.data(), 12);
    store_le32(rec.data() + 4, usec += 1000);
    store_le32(rec.data() + 8, static_cast<uint32_t>(f.size()));
    store_le32(rec.data() + 12, static_cast<uint32_t>(f.size()));
    out.insert(out.end(), rec.begin(), rec.end());
    out.insert(out.end(), f.begin(), f.end());
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()),
                                              static_cast<std::streamsize>(out.size()));
  return path;
}

bool contains(const std::string& hay, const std::string& needle) {
  const bool found = hay.find(needle) != std::string::npos;
  if (!found) MESSAGE("missing: ", needle);
  return found;
}

// A TLS 1.2 fatal handshake_failure alert record: content type 21, version 3.3, length 2.
const char* kTlsAlert = "15 0303 0002 02 28";

}  // namespace

TEST_CASE("dissector: OPEN and DATA in one segment show every field and TLS inside") {
  if (!have_tshark()) {
    MESSAGE("tshark not installed: skipping the Lua dissector test");
    return;
  }
  Bytes payload;
  emit_session_frame(payload, SessionType::kOpen, 0, kId, Time{12500000000}, {});
  emit_session_frame(payload, SessionType::kData, 0, kId, Time{12500001000}, hex(kTlsAlert));
  const std::string pcap = write_pcap("open_data.pcap", {{true, 1000, payload}});
  const std::string v = tshark("-r " + pcap + " -d tcp.port==7000,megzawicol_session -V");
  CHECK(contains(v, "Megzawicol Session, OPEN, Id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  CHECK(contains(v, "Megzawicol Session, DATA, Id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  CHECK(contains(v, "Magic: 0x4d5a"));
  CHECK(contains(v, "Version: 1"));
  CHECK(contains(v, "Type: OPEN (1)"));
  CHECK(contains(v, "Type: DATA (5)"));
  CHECK(contains(v, "Flags: 0x00"));
  CHECK(contains(v, "Payload length: 7"));
  CHECK(contains(v, "Session id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  CHECK(contains(v, "Timestamp (ns): 12500000000 (12.500000000 s)"));
  CHECK(contains(v, "Timestamp (ns): 12500001000 (12.500001000 s)"));
  CHECK(contains(v, "Transport Layer Security"));
  CHECK(contains(v, "Alert Message"));
  CHECK(contains(v, "Description: Handshake Failure (40)"));

  // Field by field, and no malformed or warning-level expert items anywhere.
  const std::string fields = tshark("-r " + pcap + " -d tcp.port==7000,megzawicol_session -T fields -E occurrence=a" +
                                    " -e megzawicol_session.type -e megzawicol_session.length" +
                                    " -e megzawicol_session.timestamp -e tls.alert_message.desc");
  CHECK(contains(fields, "1,5\t0,7\t12500000000,12500001000\t40"));
  const std::string bad = tshark("-r " + pcap + " -d tcp.port==7000,megzawicol_session -o tcp.check_checksum:TRUE" +
                                 " -o ip.check_checksum:TRUE -Y \"_ws.malformed || _ws.expert.severity >= warning\"");
  CHECK(bad.find("MZ-SESSION") == std::string::npos);
  CHECK(bad.find("TCP") == std::string::npos);
}

namespace {

// ACCEPT (34 bytes), REFUSE (88), CLOSE END (33) from the server, cut into three segments at
// `cut1` and `cut2`.
std::string split_pcap(const std::string& name, size_t cut1, size_t cut2) {
  Bytes stream;
  const uint8_t st = 1;  // NEW
  emit_session_frame(stream, SessionType::kAccept, 0, kId, Time{1}, ByteView(&st, 1));
  emit_session_frame(stream, SessionType::kRefuse, 0, kId, Time{2}, text("unknown session id " + kId.to_string()));
  emit_session_frame(stream, SessionType::kClose, kFlagEnd, kId, Time{3}, {});
  REQUIRE(stream.size() == 34 + 88 + 33);
  auto part = [&](size_t a, size_t b) { return Bytes(stream.begin() + static_cast<std::ptrdiff_t>(a), stream.begin() + static_cast<std::ptrdiff_t>(b)); };
  return write_pcap(name, {{false, 5000, part(0, cut1), kFreePort},
                           {false, static_cast<uint32_t>(5000 + cut1), part(cut1, cut2), kFreePort},
                           {false, static_cast<uint32_t>(5000 + cut2), part(cut2, stream.size()), kFreePort}});
}

void check_split(const std::string& pcap, const std::string& decode_as) {
  const std::string fields = tshark("-r " + pcap + decode_as + " -T fields -E occurrence=a" +
                                    " -e frame.number -e megzawicol_session.type -e megzawicol_session.state" +
                                    " -e megzawicol_session.reason -e megzawicol_session.flags.end");
  CHECK(contains(fields, "1\t3\t1\t\t0"));
  // The REFUSE is complete in frame 3 only, with the CLOSE that follows it.
  CHECK(contains(fields, "3\t4,6\t\tunknown session id 1b4e28ba-2fa1-41d2-883f-0016d3cca427\t0,1"));
  const std::string v = tshark("-r " + pcap + decode_as + " -V");
  CHECK(contains(v, "State: NEW (1)"));
  CHECK(contains(v, "Reason: unknown session id 1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  CHECK(contains(v, "Reassembled TCP Segments (88 bytes)"));
  CHECK(contains(v, "END (session ends, not resumable): True"));
  CHECK(contains(v, "Megzawicol Session, CLOSE, Id: 1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
}

}  // namespace

TEST_CASE("dissector: a frame split across three segments is reassembled") {
  if (!have_tshark()) {
    MESSAGE("tshark not installed: skipping the Lua dissector test");
    return;
  }
  // The REFUSE starts in the first segment (20 of its 88 bytes) and ends in the third.
  check_split(split_pcap("split_decode_as.pcap", 34 + 20, 34 + 40), " -d tcp.port==4455,megzawicol_session");
}

TEST_CASE("dissector: the heuristic finds the protocol without a port and reassembles later frames") {
  if (!have_tshark()) {
    MESSAGE("tshark not installed: skipping the Lua dissector test");
    return;
  }
  // tshark 4.0 drops a reassembly request made by a heuristic dissector in the very segment
  // where it first claims the connection, so here the first segment ends on a frame boundary;
  // the REFUSE then spans segments 2 and 3 (tools/megzawicol_session.lua notes this).
  check_split(split_pcap("split_heuristic.pcap", 34, 34 + 40), "");
}
