// The ladder-diagram report: pcap reader, frame matching, decoding, and the page itself
// rendered by headless Chromium when it is installed.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/l5/session_wire.hpp"
#include "megzawicol/report/decode.hpp"
#include "megzawicol/report/html.hpp"
#include "megzawicol/report/ladder.hpp"
#include "megzawicol/report/pcap_reader.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"
#include "megzawicol/wire/arp.hpp"
#include "megzawicol/wire/ethernet.hpp"
#include "megzawicol/wire/icmp.hpp"
#include "megzawicol/wire/ipv4.hpp"
#include "megzawicol/wire/tcp.hpp"

using namespace mz;
namespace fs = std::filesystem;

namespace {

std::string out_dir(const std::string& name) {
  const fs::path p = fs::path(MZ_BINARY_DIR) / "test-out" / "report" / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p.string();
}

std::string ping_json(const std::string& link_extra, int count) {
  return R"({"name": "ping-report", "seed": 7, "duration": "60s",
  "nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
            {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
  "links": [{"ends": ["a:eth0", "b:eth0"], "bandwidth": "10Mbps", "delay": "5ms")" +
         (link_extra.empty() ? "" : ", " + link_extra) + R"(}],
  "apps": [{"kind": "ping", "node": "a", "target": "b", "count": )" + std::to_string(count) +
         R"(, "interval": "100ms", "size": 56}]})";
}

struct Run {
  std::string dir;
  std::vector<sim::ChannelCounters> ab, ba;  // per link
};

Run run_scenario(const scenario::Scenario& sc, const std::string& name) {
  Run r;
  r.dir = out_dir(name);
  sim::RunOptions o;
  o.out_dir = r.dir;
  sim::Simulation s(sc, o);
  s.run();
  for (size_t l = 0; l < sc.links.size(); ++l) {
    r.ab.push_back(s.channel(l, true));
    r.ba.push_back(s.channel(l, false));
  }
  return r;
}

Run run_text(const std::string& json, const std::string& name) {
  return run_scenario(scenario::load_scenario_text(json, name + ".json", {}), name);
}

uint64_t count_events(const std::string& dir, const std::string& event) {
  std::ifstream f(dir + "/trace.jsonl");
  std::string line;
  uint64_t n = 0;
  const std::string needle = "\"event\":\"" + event + "\"";
  while (std::getline(f, line)) n += line.find(needle) != std::string::npos;
  return n;
}

std::string field(const nlohmann::ordered_json& layers, const std::string& layer, const std::string& key) {
  for (const auto& l : layers)
    if (l["layer"] == layer && l["fields"].contains(key)) return l["fields"][key].get<std::string>();
  return "<missing " + layer + "." + key + ">";
}

Bytes ethernet(PacketBuf pkt, MacAddr dst, MacAddr src, uint16_t type) {
  wire::emit_ethernet(pkt, {dst, src, type});
  const auto v = pkt.view();
  return Bytes(v.begin(), v.end());
}

const MacAddr kMacA{{0x02, 0, 0, 0, 0, 1}}, kMacB{{0x02, 0, 0, 0, 0, 2}};
const Ipv4Addr kIpA = Ipv4Addr::from_octets(10, 0, 0, 1), kIpB = Ipv4Addr::from_octets(10, 0, 0, 2);

}  // namespace

TEST_CASE("pcap reader reads the simulator's captures: records match the channel counters") {
  const Run r = run_text(ping_json("", 5), "pcap");
  const auto a = report::read_pcap(r.dir + "/a-eth0.pcap");
  const auto b = report::read_pcap(r.dir + "/b-eth0.pcap");
  CHECK(a.has_fcs);
  CHECK((a.link_type & 0xffff) == 1);
  // A port's capture holds what it sent and what it received.
  CHECK(a.records.size() == r.ab[0].sent + r.ba[0].delivered);
  CHECK(b.records.size() == r.ba[0].sent + r.ab[0].delivered);
  REQUIRE(!a.records.empty());
  CHECK(a.records[0].data.size() == a.records[0].orig_len);
  CHECK(wire::fcs_ok(a.records[0].data));
  for (size_t i = 1; i < a.records.size(); ++i) CHECK(a.records[i].time_ns >= a.records[i - 1].time_ns);
  CHECK_THROWS_AS(report::read_pcap(r.dir + "/trace.jsonl"), report::PcapError);
}

TEST_CASE("frame matching pairs every delivered frame exactly once") {
  const Run r = run_scenario(scenario::load_scenario_file(std::string(MZ_SOURCE_DIR) + "/scenarios/seed-story.json"),
                             "story");
  const report::Ladder L = report::build_ladder(r.dir);
  uint64_t sent = 0, delivered = 0, lost = 0, line = 0;
  for (size_t l = 0; l < r.ab.size(); ++l) {
    sent += r.ab[l].sent + r.ba[l].sent;
    delivered += r.ab[l].delivered + r.ba[l].delivered;
    lost += r.ab[l].drop_loss + r.ba[l].drop_loss;
    line += r.ab[l].drop_line + r.ba[l].drop_line;
  }
  CHECK(L.frames.size() == sent);
  CHECK(L.frames.size() == count_events(r.dir, "tx_bits"));
  CHECK(L.receptions == delivered);
  CHECK(L.unmatched_receptions == 0);
  CHECK(L.warnings.empty());
  uint64_t received = 0, n_lost = 0, n_line = 0;
  for (const auto& f : L.frames) {
    if (f.has_received) {
      ++received;
      CHECK(f.recv_ns > f.send_ns);
      CHECK(f.to_port == L.ports[f.from_port].peer);
      CHECK(L.ports[f.to_port].lane != L.ports[f.from_port].lane);
      // Undamaged frames arrive as sent.
      if (!(f.flags & report::frame_flag::kBitErrors)) CHECK(f.received.empty());
    }
    n_lost += (f.flags & report::frame_flag::kLost) != 0;
    n_line += (f.flags & report::frame_flag::kLineError) != 0;
  }
  CHECK(received == delivered);  // no duplicates in this scenario
  CHECK(n_lost == lost);
  CHECK(n_line == line);
  for (const auto& p : L.ports) CHECK(p.peer >= 0);
}

TEST_CASE("lost frames are those with a link lost event") {
  const Run r = run_text(ping_json("\"loss\": 0.3", 40), "lossy");
  const report::Ladder L = report::build_ladder(r.dir);
  const uint64_t lost_events = count_events(r.dir, "lost");
  REQUIRE(lost_events > 0);
  uint64_t lost = 0, received = 0;
  for (const auto& f : L.frames) {
    const bool is_lost = f.flags & report::frame_flag::kLost;
    lost += is_lost;
    if (is_lost) {
      CHECK(f.recv_ns == -1);
      CHECK(!f.has_received);
      CHECK(f.to_port >= 0);  // the arrow still points at the peer
    } else {
      CHECK(f.has_received);
      received += f.has_received;
    }
  }
  CHECK(lost == lost_events);
  CHECK(lost == r.ab[0].drop_loss + r.ba[0].drop_loss);
  CHECK(received == r.ab[0].delivered + r.ba[0].delivered);
}

TEST_CASE("damaged frames are flagged: bad FCS or undecodable line") {
  const Run r = run_text(ping_json("\"ber\": 0.0004", 60), "ber");
  const report::Ladder L = report::build_ladder(r.dir);
  uint64_t bad = 0, line = 0, biterr = 0;
  for (const auto& f : L.frames) {
    bad += (f.flags & (report::frame_flag::kBadFcs | report::frame_flag::kRxError)) != 0;
    line += (f.flags & report::frame_flag::kLineError) != 0;
    biterr += (f.flags & report::frame_flag::kBitErrors) != 0;
  }
  CHECK(line == r.ab[0].drop_line + r.ba[0].drop_line);
  CHECK(biterr == r.ab[0].damaged + r.ba[0].damaged);
  CHECK(bad + line <= biterr);
  CHECK(biterr > 0);
  CHECK(L.unmatched_receptions == 0);
}

TEST_CASE("decoded ARP frame") {
  PacketBuf p;
  wire::emit_arp(p, {wire::arpop::kRequest, kMacA, kIpA, MacAddr::zero(), kIpB});
  const Bytes f = ethernet(std::move(p), MacAddr::broadcast(), kMacA, wire::ethertype::kArp);
  const auto d = report::decode_frame(f);
  CHECK(d.proto == report::Proto::Arp);
  CHECK(d.fcs_ok);
  const auto j = report::decoded_json(d);
  CHECK(field(j, "Ethernet", "destination") == "ff:ff:ff:ff:ff:ff");
  CHECK(field(j, "Ethernet", "source") == "02:00:00:00:00:01");
  CHECK(field(j, "Ethernet", "type") == "ARP (0x0806)");
  CHECK(field(j, "Ethernet", "FCS status") == "good");
  CHECK(field(j, "ARP", "operation") == "request (1)");
  CHECK(field(j, "ARP", "sender IP") == "10.0.0.1");
  CHECK(field(j, "ARP", "target IP") == "10.0.0.2");
  CHECK(d.summary == "ARP who-has 10.0.0.2 tell 10.0.0.1");
  // A flipped bit: the FCS no longer matches.
  Bytes bad = f;
  bad[20] ^= 0x10;
  const auto jb = report::decoded_json(report::decode_frame(bad));
  CHECK(field(jb, "Ethernet", "FCS status").rfind("BAD", 0) == 0);
}

TEST_CASE("decoded ICMP echo request") {
  const Bytes data(56, 0xab);
  wire::IcmpRepr ic;
  ic.type = wire::icmptype::kEchoRequest;
  ic.ident = 0x1234;
  ic.seq = 7;
  ic.data = data;
  PacketBuf p = wire::make_icmp(ic);
  wire::Ipv4Repr ip;
  ip.ident = 0x4242;
  ip.dont_frag = true;
  ip.ttl = 63;
  ip.protocol = wire::ipproto::kIcmp;
  ip.src = kIpA;
  ip.dst = kIpB;
  wire::emit_ipv4(p, ip);
  const Bytes f = ethernet(std::move(p), kMacB, kMacA, wire::ethertype::kIpv4);
  const auto d = report::decode_frame(f);
  CHECK(d.proto == report::Proto::Icmp);
  const auto j = report::decoded_json(d);
  CHECK(field(j, "IPv4", "version") == "4");
  CHECK(field(j, "IPv4", "header length") == "20");
  CHECK(field(j, "IPv4", "total length") == "84");
  CHECK(field(j, "IPv4", "identification") == "0x4242");
  CHECK(field(j, "IPv4", "flags") == "DF");
  CHECK(field(j, "IPv4", "fragment offset") == "0");
  CHECK(field(j, "IPv4", "TTL") == "63");
  CHECK(field(j, "IPv4", "protocol") == "ICMP (1)");
  CHECK(field(j, "IPv4", "checksum status") == "good");
  CHECK(field(j, "IPv4", "source") == "10.0.0.1");
  CHECK(field(j, "IPv4", "destination") == "10.0.0.2");
  CHECK(field(j, "ICMP", "type") == "8");
  CHECK(field(j, "ICMP", "identifier") == "0x1234");
  CHECK(field(j, "ICMP", "sequence") == "7");
  CHECK(field(j, "ICMP", "checksum status") == "good");
  CHECK(field(j, "ICMP", "data bytes") == "56");
}

TEST_CASE("decoded TCP segment with options and a session header") {
  // A session OPEN frame (33 bytes) as the TCP payload.
  Bytes payload;
  l5::Uuid id;
  for (int i = 0; i < 16; ++i) id.b[i] = static_cast<uint8_t>(0x10 + i);
  l5::emit_session_frame(payload, l5::SessionType::kOpen, 0, id, Time::zero() + Duration{1'500'000'000}, {});
  PacketBuf p = PacketBuf::from(payload);
  wire::TcpRepr t;
  t.src_port = 49152;
  t.dst_port = 443;
  t.seq = 1000;
  t.ack = 2000;
  t.flags = wire::tcpflag::ACK | wire::tcpflag::PSH;
  t.window = 5000;
  t.timestamps = std::pair<uint32_t, uint32_t>{11, 22};
  wire::emit_tcp(p, t, kIpA, kIpB);
  wire::Ipv4Repr ip;
  ip.protocol = wire::ipproto::kTcp;
  ip.src = kIpA;
  ip.dst = kIpB;
  wire::emit_ipv4(p, ip);
  const Bytes f = ethernet(std::move(p), kMacB, kMacA, wire::ethertype::kIpv4);
  const auto d = report::decode_frame(f);
  CHECK(d.proto == report::Proto::Session);
  const auto j = report::decoded_json(d);
  CHECK(field(j, "TCP", "source port") == "49152");
  CHECK(field(j, "TCP", "destination port") == "443");
  CHECK(field(j, "TCP", "sequence number") == "1000");
  CHECK(field(j, "TCP", "acknowledgment number") == "2000");
  CHECK(field(j, "TCP", "flags") == "[PSH, ACK]");
  CHECK(field(j, "TCP", "window") == "5000");
  CHECK(field(j, "TCP", "options") == "timestamps 11/22");
  CHECK(field(j, "TCP", "checksum status") == "good");
  CHECK(field(j, "TCP", "payload bytes") == "33");
  CHECK(field(j, "Session", "type") == "OPEN (1)");
  CHECK(field(j, "Session", "session id") == id.to_string());
  CHECK(field(j, "Session", "timestamp") == "1.500000000 s");
  CHECK(field(j, "Session", "header check") == "ok");
}

// ---- the page in a browser

namespace {

bool have_chromium() { return fs::exists("/usr/bin/chromium"); }

// Loads FILE#selftest in headless Chromium and returns the page's self-test JSON.
nlohmann::json browser_selftest(const std::string& html, double* seconds = nullptr) {
  const std::string profile = out_dir("chromium-profile");
  const std::string dump = html + ".dom.txt";
  const std::string cmd = "/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--user-data-dir=" + profile + " --virtual-time-budget=5000 --dump-dom 'file://" + html +
                          "#selftest' > '" + dump + "' 2>/dev/null";
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = std::system(cmd.c_str());
  if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(rc == 0);
  std::ifstream in(dump);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string dom = ss.str();
  const std::string open = "<pre id=\"selftest\">";
  const size_t a = dom.find(open);
  REQUIRE(a != std::string::npos);
  const size_t b = dom.find("</pre>", a);
  REQUIRE(b != std::string::npos);
  std::string text = dom.substr(a + open.size(), b - a - open.size());
  // Undo the DOM serialisation's escapes.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
    for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
  }
  REQUIRE_MESSAGE(!text.empty(), "the page wrote no self-test result");
  return nlohmann::json::parse(text);
}

void check_page(const std::string& dir) {
  const std::string html = dir + "/report.html";
  const auto st = report::write_report(dir, html);
  const auto r = browser_selftest(fs::absolute(html).string());
  MESSAGE(dir << ": " << r.dump());
  CHECK(r["done"] == true);
  CHECK(r["arrows"].get<uint64_t>() == count_events(dir, "tx_bits"));
  CHECK(r["frames"].get<uint64_t>() == st.frames);
  CHECK(r["click_ok"] == true);
  CHECK(r["hit_ok"] == true);
  CHECK(r["details_has"]["Ethernet"] == true);
  CHECK(r["details_has"]["IPv4"] == true);
  CHECK(r["details_has"]["ICMP"] == true);
  CHECK(r["details_has"]["line bits"] == true);
  CHECK(r["line_bits_checked"].get<int>() > 0);
  CHECK(r["line_bits_match"] == true);
}

}  // namespace

TEST_CASE("browser: the ping report renders and a click shows the decoded layers") {
  if (!have_chromium()) {
    MESSAGE("skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)");
    return;
  }
  const Run r = run_scenario(scenario::load_scenario_file(std::string(MZ_SOURCE_DIR) + "/scenarios/ping.json"), "page-ping");
  check_page(r.dir);
}

TEST_CASE("browser: the seed story report renders") {
  if (!have_chromium()) {
    MESSAGE("skipped: /usr/bin/chromium is not installed");
    return;
  }
  const Run r = run_scenario(scenario::load_scenario_file(std::string(MZ_SOURCE_DIR) + "/scenarios/seed-story.json"),
                             "page-story");
  check_page(r.dir);
}

TEST_CASE("browser: a 100k-frame report stays responsive") {
  if (!have_chromium()) {
    MESSAGE("skipped: /usr/bin/chromium is not installed");
    return;
  }
  // A long UDP flow: about 100,000 frames (a few are lost).
  const std::string json = R"({"name": "udp100k", "seed": 1, "duration": "20s",
    "nodes": [{"name": "a", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
              {"name": "b", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
    "links": [{"ends": ["a:eth0", "b:eth0"], "bandwidth": "100Mbps", "delay": "1ms", "loss": 0.001, "queue": 1000}],
    "apps": [{"kind": "udp", "node": "a", "target": "b", "port": 5001, "size": 200, "count": 100000, "rate": "40Mbps"}],
    "trace": {"log": false}})";
  const Run r = run_text(json, "page-100k");
  const std::string html = r.dir + "/report.html";
  const auto t0 = std::chrono::steady_clock::now();
  const auto st = report::write_report(r.dir, html);
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(st.frames >= 99000);
  CHECK(st.bytes_truncated);
  double browser_s = 0;
  const auto res = browser_selftest(fs::absolute(html).string(), &browser_s);
  MESSAGE("100k report: " << st.frames << " frames, " << st.html_bytes << " bytes, written in " << gen_s
                          << " s; headless Chromium load + self-test " << browser_s << " s; page: " << res.dump());
  CHECK(res["done"] == true);
  CHECK(res["arrows"].get<uint64_t>() == st.frames);
  CHECK(st.html_bytes < 40u * 1024 * 1024);
  // The page decimates what it draws: no frame of the drawing may take long.
  CHECK(res["render_worst_ms"].get<double>() < 1000);
  CHECK(res["total_ms"].get<double>() < 15000);
  CHECK(res["click_ok"] == true);
  CHECK(res["details_has"]["UDP"] == true);  // no ICMP in this run: the first UDP frame is clicked
  CHECK(res["details_has"]["Ethernet"] == true);
  CHECK(res["details_has"]["IPv4"] == true);
}
