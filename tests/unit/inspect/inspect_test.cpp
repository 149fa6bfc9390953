// The inspect module against the simulator's own counters and an independent reading
// of trace.jsonl: summary numbers, filter selection and formatting, diff, plots.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "megzawicol/app/bulk.hpp"
#include "megzawicol/app/ping.hpp"
#include "megzawicol/inspect/filter.hpp"
#include "megzawicol/inspect/plot.hpp"
#include "megzawicol/inspect/summary.hpp"
#include "support.hpp"

using namespace mz;
using namespace mz::inspect;
using namespace mz::inspect_test;
using nlohmann::json;

namespace {

// One lossy bulk run shared by the cases (run once per process).
struct BulkRun {
  std::string dir;
  std::unique_ptr<sim::Simulation> sim;
  std::vector<json> events;
};
const BulkRun& bulk_run() {
  static const BulkRun run = [] {
    BulkRun r;
    r.dir = run_scenario(bulk_scenario(), "bulk", &r.sim);
    r.events = parse_jsonl(r.dir);
    return r;
  }();
  return run;
}

template <class T>
const T& app_of(const sim::Simulation& s, const std::string& node) {
  for (const auto& a : s.host(node).apps())
    if (auto* p = dynamic_cast<const T*>(a.get())) return *p;
  FAIL("no such app on " << node);
  throw 0;
}

size_t count_events(const std::vector<json>& ev, const std::string& layer, const std::string& event,
                    const std::string& node = "") {
  return static_cast<size_t>(std::count_if(ev.begin(), ev.end(), [&](const json& e) {
    return e["layer"] == layer && e["event"] == event && (node.empty() || e["node"] == node);
  }));
}

const DropCount* drop(const RunSummary& s, const std::string& cause) {
  for (const auto& d : s.drops)
    if (d.cause == cause) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("time arguments take units and are exact") {
  CHECK(parse_time_ns("1.5s") == 1'500'000'000);
  CHECK(parse_time_ns("200ms") == 200'000'000);
  CHECK(parse_time_ns("250us") == 250'000);
  CHECK(parse_time_ns("10ns") == 10);
  CHECK(parse_time_ns("2") == 2'000'000'000);
  CHECK(parse_time_ns("0.000000001") == 1);
  CHECK(parse_time_ns("1.5 ms") == 1'500'000);
  CHECK(parse_time_ns("2m") == 120'000'000'000);
  CHECK_THROWS_AS(parse_time_ns("1.5ns"), InputError);
  CHECK_THROWS_AS(parse_time_ns("1.5x"), InputError);
  CHECK_THROWS_AS(parse_time_ns("ms"), InputError);
  CHECK_THROWS_AS(parse_time_ns("-1s"), InputError);
}

TEST_CASE("nearest-rank percentiles") {
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Percentiles p = percentiles(v);
  CHECK(p.count == 100);
  CHECK(p.min == 1);
  CHECK(p.p50 == 50);
  CHECK(p.p90 == 90);
  CHECK(p.p99 == 99);
  CHECK(p.max == 100);
  std::vector<int64_t> one{7};
  CHECK(percentiles(one).p99 == 7);
}

TEST_CASE("TCP endpoints come from the event messages") {
  auto e = tcp_endpoints("tx_segment", "sending 10.0.0.1:61559 > 10.0.0.2:5001 61559 > 5001 [SYN] seq 1 len 0");
  REQUIRE(e);
  CHECK(e->first == "10.0.0.1:61559");
  CHECK(e->second == "10.0.0.2:5001");
  e = tcp_endpoints("retransmit", "connection 10.0.0.1:61559 > 10.0.0.2:5001: retransmitting seq 9 (1 bytes, timeout)");
  REQUIRE(e);
  CHECK(e->second == "10.0.0.2:5001");
  e = tcp_endpoints("rx_segment", "received 10.0.0.2:5001 > 10.0.0.1:61559 5001 > 61559 [ACK] seq 1 ack 2 win 9 len 0, checksum ok");
  REQUIRE(e);
  CHECK(e->first == "10.0.0.2:5001");
  CHECK_FALSE(tcp_endpoints("state", "something else"));
}

TEST_CASE("summary: drops, TCP flow and RTT numbers equal the simulation's counters") {
  const BulkRun& run = bulk_run();
  const sim::Simulation& s = *run.sim;
  const RunSummary sum = summarize(run.dir);
  CHECK(sum.events == run.events.size());
  CHECK(sum.have_summary_json);
  CHECK(sum.scenario == "inspect-bulk");

  // Drops by cause, from the trace and from summary.json, against the channels and hosts.
  const auto& ab = s.channel(0, true);
  const auto& ba = s.channel(0, false);
  REQUIRE(ab.drop_loss + ba.drop_loss > 0);
  const DropCount* loss = drop(sum, "loss");
  REQUIRE(loss);
  CHECK(loss->trace.value() == ab.drop_loss + ba.drop_loss);
  CHECK(loss->summary.value() == ab.drop_loss + ba.drop_loss);
  CHECK(loss->by_node.at("a") == ab.drop_loss);
  CHECK(loss->by_node.at("b") == ba.drop_loss);
  const auto& ca = s.host("a").counters();
  const auto& cb = s.host("b").counters();
  const uint64_t fcs = ca.drop_fcs + cb.drop_fcs, rx_error = ca.drop_rx_error + cb.drop_rx_error;
  REQUIRE(fcs + rx_error > 0);  // the bit error rate does hit frames with this seed
  if (fcs) CHECK(drop(sum, "fcs")->trace.value() == fcs);
  if (fcs) CHECK(drop(sum, "fcs")->summary.value() == fcs);
  if (rx_error) CHECK(drop(sum, "rx_error")->trace.value() == rx_error);
  CHECK(drop(sum, "queue") == nullptr);  // nothing dropped there: not listed

  // Per node and layer.
  CHECK(sum.layers.at("a").at(trace::Layer::Physical).sent == ab.sent);
  CHECK(sum.layers.at("a").at(trace::Layer::Physical).sent_bytes == ab.bytes_sent);
  CHECK(sum.layers.at("b").at(trace::Layer::Physical).delivered == ab.delivered);
  CHECK(sum.layers.at("a").at(trace::Layer::DataLink).sent == ca.frames_out);
  CHECK(sum.layers.at("a").at(trace::Layer::Network).sent == ca.ip_out);
  CHECK(sum.layers.at("b").at(trace::Layer::Transport).sent ==
        count_events(run.events, "L4", "tx_segment", "b") + count_events(run.events, "L4", "udp_out", "b"));

  // The TCP flow against the bulk apps.
  const auto& sender = app_of<app::BulkSender>(s, "a");
  const auto& receiver = app_of<app::BulkReceiver>(s, "b");
  REQUIRE(sum.flows.size() == 1);
  const TcpFlow& f = sum.flows[0];
  CHECK(f.client_node == "a");
  CHECK(f.server_node == "b");
  CHECK(f.server == "10.0.0.2:5001");
  REQUIRE(sender.stats().retransmitted_segs > 0);
  CHECK(f.up.retransmits == sender.stats().retransmitted_segs);
  CHECK(f.up.timeouts == sender.stats().timeouts);
  CHECK(f.up.rtx_fast == sender.stats().fast_retransmits);
  CHECK(f.up.rtx_sack == sender.stats().sack_retransmits);
  CHECK(f.up.retransmits == count_events(run.events, "L4", "retransmit", "a"));
  CHECK(f.down.retransmits == count_events(run.events, "L4", "retransmit", "b"));
  REQUIRE(receiver.complete());
  CHECK(f.up.delivered == receiver.received());
  CHECK(f.up.delivered == 2'000'000);
  CHECK(f.down.delivered == 0);
  CHECK(f.up.segments == count_events(run.events, "L4", "tx_segment", "a"));
  // The bulk sender connects at its start (0 s): the handshake is its connect time.
  const json sj = json::parse(read_file(run.dir + "/summary.json"));
  const json* bulk0 = nullptr;
  for (const auto& a : sj["apps"])
    if (a["kind"] == "bulk") bulk0 = &a;
  REQUIRE(bulk0);
  REQUIRE(f.handshake_ns());
  CHECK(*f.handshake_ns() == (*bulk0)["connect_time_ns"].get<int64_t>());
  CHECK(f.up.retransmits == (*bulk0)["retransmitted_segments"].get<uint64_t>());
  CHECK(f.up.goodput_bps() > 0);
  CHECK(f.up.goodput_bps() < 10e6);

  // RTT percentiles from the ping replies and the TCP samples, recomputed here.
  std::vector<int64_t> ping, tcp;
  for (const auto& e : run.events) {
    if (e["event"] == "ping_reply") ping.push_back(e["fields"]["rtt_ns"].get<int64_t>());
    if (e["layer"] == "L4" && e["event"] == "rtt") tcp.push_back(e["fields"]["rtt_ns"].get<int64_t>());
  }
  REQUIRE(sum.rtt.size() >= 2);
  CHECK(sum.rtt[0].source == "ping");
  CHECK(sum.rtt[0].p.count == app_of<app::Ping>(s, "a").received());
  std::sort(ping.begin(), ping.end());
  CHECK(sum.rtt[0].p.min == ping.front());
  CHECK(sum.rtt[0].p.max == ping.back());
  CHECK(sum.rtt[0].p.p50 == ping[(ping.size() + 1) / 2 - 1]);
  CHECK(sum.rtt[1].p.count == tcp.size());
  std::sort(tcp.begin(), tcp.end());
  CHECK(sum.rtt[1].p.p90 == tcp[(tcp.size() * 9 + 9) / 10 - 1]);

  // The text form names what it found; the JSON form carries the same numbers.
  const std::string text = format_summary_text(sum);
  CHECK(text.find("10.0.0.1") != std::string::npos);
  CHECK(text.find("Drops by cause") != std::string::npos);
  const auto j = summary_to_json(sum);
  CHECK(j["tcp_flows"][0]["client_to_server"]["retransmits"] == sender.stats().retransmitted_segs);
  CHECK(j["events"] == run.events.size());
}

TEST_CASE("filter: exactly the matching events, as trace.log prints them") {
  const BulkRun& run = bulk_run();
  const auto log = read_lines(run.dir + "/trace.log");
  const auto jsonl = read_lines(run.dir + "/trace.jsonl");
  REQUIRE(log.size() == run.events.size());

  struct Case {
    const char* name;
    FilterSpec spec;
    std::function<bool(const json&)> pred;
  };
  std::vector<Case> cases;
  {
    FilterSpec f;
    f.nodes = {"a"};
    f.layers = {trace::Layer::Transport};
    f.events = {"retransmit"};
    cases.push_back({"retransmissions of a", f, [](const json& e) {
                       return e["node"] == "a" && e["layer"] == "L4" && e["event"] == "retransmit";
                     }});
  }
  {
    FilterSpec f;
    f.from_ns = parse_time_ns("1.5s");
    f.to_ns = parse_time_ns("2000ms");
    f.layers = {trace::Layer::Link, trace::Layer::DataLink};
    cases.push_back({"link and L2 between 1.5 s and 2 s", f, [](const json& e) {
                       const auto t = e["time_ns"].get<int64_t>();
                       return t >= 1'500'000'000 && t <= 2'000'000'000 && (e["layer"] == "link" || e["layer"] == "L2");
                     }});
  }
  {
    FilterSpec f;
    f.grep = "timeout";
    cases.push_back({"grep timeout", f, [](const json& e) {
                       return e["msg"].get<std::string>().find("timeout") != std::string::npos;
                     }});
  }
  {
    FilterSpec f;
    f.events = {"lost", "fcs_error"};
    f.nodes = {"b"};
    cases.push_back({"two events of b", f, [](const json& e) {
                       return e["node"] == "b" && (e["event"] == "lost" || e["event"] == "fcs_error");
                     }});
  }
  cases.push_back({"everything", FilterSpec{}, [](const json&) { return true; }});

  for (auto& c : cases) {
    INFO(c.name);
    std::string expect_log, expect_json;
    size_t n = 0;
    for (size_t i = 0; i < run.events.size(); ++i) {
      if (!c.pred(run.events[i])) continue;
      ++n;
      expect_log += log[i] + "\n";
      expect_json += jsonl[i] + "\n";
    }
    CHECK(n > 0);
    std::ostringstream out;
    CHECK(filter_trace(run.dir, c.spec, out) == n);
    CHECK(out.str() == expect_log);
    c.spec.json = true;
    std::ostringstream outj;
    CHECK(filter_trace(run.dir, c.spec, outj) == n);
    CHECK(outj.str() == expect_json);
  }
}

TEST_CASE("diff: same seed is identical; different runs point at the first differing event") {
  const BulkRun& run = bulk_run();
  const std::string same = run_scenario(bulk_scenario(), "bulk-same");
  const DiffResult d0 = diff_traces(run.dir, same);
  CHECK(d0.identical);
  CHECK(d0.events_a == run.events.size());
  CHECK(d0.counts.empty());
  CHECK(format_diff_text(d0, "x", "y").find("identical") == 0);

  auto first_difference = [](const std::string& a, const std::string& b) {
    const auto la = read_lines(a + "/trace.jsonl"), lb = read_lines(b + "/trace.jsonl");
    size_t i = 0;
    while (i < la.size() && i < lb.size() && la[i] == lb[i]) ++i;
    return i;
  };
  // Another seed (the start event names the seed, so they differ at once) and another
  // loss probability with the same seed (they differ later, at the first loss draw that
  // comes out differently).
  for (const auto& [name, text] : {std::pair<std::string, std::string>{"bulk-seed8", bulk_scenario("8")},
                                   std::pair<std::string, std::string>{"bulk-loss3", bulk_scenario("7", "0.03")}}) {
    INFO(name);
    const std::string other = run_scenario(text, name);
    const DiffResult d = diff_traces(run.dir, other);
    CHECK_FALSE(d.identical);
    const size_t expect = first_difference(run.dir, other);
    REQUIRE(d.first_index);
    CHECK(*d.first_index == expect);
    REQUIRE(d.first_a);
    REQUIRE(d.first_b);
    CHECK(d.first_a->line == expect + 1);
    CHECK(d.first_a->raw == read_lines(run.dir + "/trace.jsonl")[expect]);
    CHECK(d.first_b->raw == read_lines(other + "/trace.jsonl")[expect]);
    CHECK_FALSE(d.differences.empty());
    if (name == "bulk-loss3") CHECK(expect > 0);
    // The per-(layer, event) counts that differ, recounted here.
    std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> counts;
    for (const auto& e : run.events) ++counts[{e["layer"], e["event"]}].first;
    for (const auto& e : parse_jsonl(other)) ++counts[{e["layer"], e["event"]}].second;
    size_t differing = 0;
    for (const auto& [k, c] : counts) {
      if (c.first == c.second) continue;
      ++differing;
      auto it = std::find_if(d.counts.begin(), d.counts.end(),
                             [&](const DiffCount& x) { return x.layer == k.first && x.event == k.second; });
      REQUIRE(it != d.counts.end());
      CHECK(it->a == c.first);
      CHECK(it->b == c.second);
    }
    CHECK(d.counts.size() == differing);
    const std::string text_out = format_diff_text(d, run.dir, other);
    CHECK(text_out.find("event #" + std::to_string(expect)) != std::string::npos);
  }
}

namespace {

// A small well-formedness check that needs nothing installed: every tag closes in order,
// attributes are quoted, text has no bare '<' or '&' outside entities.
bool well_formed_xml(const std::string& s, std::string& why) {
  std::vector<std::string> stack;
  size_t i = 0;
  bool root_seen = false;
  while (i < s.size()) {
    if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      const std::string ent = semi == std::string::npos ? "" : s.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") {
        why = "bad entity at " + std::to_string(i);
        return false;
      }
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      ++i;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) {
      why = "unterminated tag";
      return false;
    }
    std::string tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.rfind("?xml", 0) == 0 || tag.rfind("!", 0) == 0) continue;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        why = "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
        return false;
      }
      stack.pop_back();
      continue;
    }
    const bool self = !tag.empty() && tag.back() == '/';
    if (self) tag.pop_back();
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n"));
    if (stack.empty()) {
      if (root_seen) {
        why = "second root element";
        return false;
      }
      root_seen = true;
    }
    // Quotes balanced in the attributes.
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) {
      why = "unbalanced quotes in <" + name + ">";
      return false;
    }
    if (!self) stack.push_back(name);
  }
  if (!stack.empty()) {
    why = "<" + stack.back() + "> never closed";
    return false;
  }
  return root_seen;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("plot: well-formed SVG files, one point per transmitted segment") {
  const BulkRun& run = bulk_run();
  const std::string out = fresh_dir("bulk-plots");
  const PlotResult r = plot_run(run.dir, out);
  const std::string flow = "10.0.0.1_" + std::to_string(
      run.events[static_cast<size_t>(std::find_if(run.events.begin(), run.events.end(), [](const json& e) {
                                         return e["event"] == "tx_segment";
                                       }) - run.events.begin())]["fields"]["sport"].get<uint64_t>()) + "-10.0.0.2_5001";
  std::vector<std::string> names;
  for (const auto& [name, title] : r.files) names.push_back(name);
  for (const std::string& want : {"tcp-seq-" + flow + ".svg", "cwnd-" + flow + ".svg", "rtt-" + flow + ".svg",
                                 std::string("throughput.svg")}) {
    INFO(want);
    CHECK(std::find(names.begin(), names.end(), want) != names.end());
  }
  CHECK(names.size() == 4);  // the ACK-only direction b -> a gets none
  const std::string index = read_file(out + "/index.html");
  for (const auto& n : names) CHECK(index.find("src=\"" + n + "\"") != std::string::npos);

  for (const auto& n : names) {
    INFO(n);
    const std::string svg = read_file(out + "/" + n);
    std::string why;
    CHECK_MESSAGE(well_formed_xml(svg, why), why);
    CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.find("href") == std::string::npos);  // self-contained: nothing external
    CHECK(svg.find("<title>") != std::string::npos);
    CHECK(svg.find("class=\"legend\"") != std::string::npos);
    CHECK(svg.find("time (s)") != std::string::npos);
  }
  std::string py;
  if (run_command("python3 -c 'import xml.etree.ElementTree'", &py) == 0) {
    for (const auto& n : names) {
      std::string o;
      INFO(n << ": " << o);
      CHECK(run_command("python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' '" + out + "/" + n + "'",
                        &o) == 0);
    }
  } else {
    MESSAGE("python3 not found: SVGs checked by the built-in tag checker only");
  }

  // One point (class tx or rtx) per tx_segment of the sender; retransmissions in red.
  const std::string seq = read_file(out + "/tcp-seq-" + flow + ".svg");
  const size_t tx = count_events(run.events, "L4", "tx_segment", "a");
  const size_t rtx = count_events(run.events, "L4", "retransmit", "a");
  CHECK(count_of(seq, "class=\"tx\"") + count_of(seq, "class=\"rtx\"") == tx);
  CHECK(count_of(seq, "class=\"rtx\"") == rtx);
  CHECK(count_of(seq, "class=\"ack\"") == 1);
  const std::string cw = read_file(out + "/cwnd-" + flow + ".svg");
  CHECK(cw.find("ssthresh") != std::string::npos);
  const std::string rt = read_file(out + "/rtt-" + flow + ".svg");
  CHECK(count_of(rt, "class=\"rtt\"") == count_events(run.events, "L4", "rtt", "a"));
  CHECK(rt.find("RTO") != std::string::npos);
}

TEST_CASE("plot: a run without TCP still gets an index") {
  const std::string dir = run_scenario(read_file(std::string(MZ_SOURCE_DIR) + "/scenarios/ping.json"), "ping");
  const PlotResult r = plot_run(dir, dir + "/plots");
  CHECK(r.files.empty());
  CHECK(read_file(r.index).find("Nothing to plot") != std::string::npos);
}

TEST_CASE("svg chart helpers") {
  const auto t = nice_ticks(0, 5.7, 6);
  REQUIRE(t.size() == 6);
  CHECK(t.front() == 0);
  CHECK(t.back() == doctest::Approx(5));
  CHECK(xml_escape("a<b & \"c\">") == "a&lt;b &amp; &quot;c&quot;&gt;");
  SvgChart c;
  c.title = "T <&>";
  c.x_label = "time (s)";
  c.y_label = "y";
  c.series.push_back({"s", "#000000", SvgSeries::Kind::Step, "", false, {{0, 1}, {1, std::nan("")}, {2, 3}}, {}});
  std::string why;
  CHECK_MESSAGE(well_formed_xml(c.render(), why), why);
  SvgChart empty;
  CHECK_MESSAGE(well_formed_xml(empty.render(), why), why);
}
