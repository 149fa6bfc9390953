#include "megzawicol/inspect/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>

#include "megzawicol/inspect/flows.hpp"
#include "megzawicol/inspect/summary.hpp"

namespace mz::inspect {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kW = 960, kH = 540, kML = 84, kMR = 24, kMT = 84, kMB = 56;
constexpr int kPW = kW - kML - kMR, kPH = kH - kMT - kMB;

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s == "-0.00") s = "0.00";
  return s;
}

std::string tick_label(double v, double step) {
  int dec = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  dec = std::clamp(dec, 0, 9);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", dec, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

struct Unit {
  double div;
  std::string name;
};
Unit bytes_unit(double max) {
  if (max >= 1e9) return {1e9, "GB"};
  if (max >= 1e6) return {1e6, "MB"};
  if (max >= 1e4) return {1e3, "kB"};
  return {1, "bytes"};
}
Unit rate_unit(double max) {
  if (max >= 1e9) return {1e9, "Gbit/s"};
  if (max >= 1e6) return {1e6, "Mbit/s"};
  if (max >= 1e3) return {1e3, "kbit/s"};
  return {1, "bit/s"};
}
Unit duration_unit(double max_ns) {
  if (max_ns >= 1e9) return {1e9, "s"};
  if (max_ns >= 1e6) return {1e6, "ms"};
  if (max_ns >= 1e3) return {1e3, "µs"};
  return {1, "ns"};
}

double secs(int64_t ns) { return static_cast<double>(ns) / 1e9; }

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::FILE* f = std::fopen(p.string().c_str(), "wb");
  if (!f) throw std::runtime_error(p.string() + ": cannot create file");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error(p.string() + ": write failed");
}

// 1, 2 or 5 x 10^k ns, at least `min_ns`.
int64_t nice_bin(double min_ns) {
  int64_t b = 1;
  while (true) {
    for (int64_t m : {1, 2, 5})
      if (static_cast<double>(b * m) >= min_ns) return b * m;
    if (b > INT64_MAX / 100) return b;
    b *= 10;
  }
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string SvgChart::render() const {
  // Data bounds.
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  auto see = [&](double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y)) return;
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
  };
  for (const auto& s : series) {
    for (const auto& [x, y] : s.xy) see(x, y);
    for (const auto& [x, yy] : s.bars) {
      see(x, yy.first);
      see(x, yy.second);
    }
  }
  if (!std::isfinite(x0)) {
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  }
  if (y_from_zero) y0 = std::min(y0, 0.0);
  if (x1 <= x0) {
    const double pad = x0 == 0 ? 1 : std::abs(x0) * 0.01;
    x0 -= pad;
    x1 += pad;
  }
  if (y1 <= y0) y1 = y0 + (y0 == 0 ? 1 : std::abs(y0) * 0.1);
  y1 += (y1 - y0) * 0.05;
  const double xs = kPW / (x1 - x0), ys = kPH / (y1 - y0);
  auto px = [&](double x) { return kML + (x - x0) * xs; };
  auto py = [&](double y) { return kMT + kPH - (y - y0) * ys; };

  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kW) + "\" height=\"" + std::to_string(kH) +
       "\" viewBox=\"0 0 " + std::to_string(kW) + " " + std::to_string(kH) +
       "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n";
  o += "<title>" + xml_escape(title) + "</title>\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(kW) + "\" height=\"" + std::to_string(kH) + "\" fill=\"#ffffff\"/>\n";
  o += "<defs><clipPath id=\"plot-area\"><rect x=\"" + std::to_string(kML) + "\" y=\"" + std::to_string(kMT) +
       "\" width=\"" + std::to_string(kPW) + "\" height=\"" + std::to_string(kPH) + "\"/></clipPath></defs>\n";
  o += "<text x=\"" + std::to_string(kW / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" +
       xml_escape(title) + "</text>\n";
  if (!subtitle.empty())
    o += "<text x=\"" + std::to_string(kW / 2) + "\" y=\"40\" text-anchor=\"middle\" fill=\"#555555\">" + xml_escape(subtitle) +
         "</text>\n";

  // Grid, ticks and tick labels.
  const auto xt = nice_ticks(x0, x1, 8), yt = nice_ticks(y0, y1, 6);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  o += "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
  for (double v : xt)
    o += "<line x1=\"" + num(px(v)) + "\" y1=\"" + std::to_string(kMT) + "\" x2=\"" + num(px(v)) + "\" y2=\"" +
         std::to_string(kMT + kPH) + "\"/>\n";
  for (double v : yt)
    o += "<line x1=\"" + std::to_string(kML) + "\" y1=\"" + num(py(v)) + "\" x2=\"" + std::to_string(kML + kPW) + "\" y2=\"" +
         num(py(v)) + "\"/>\n";
  o += "</g>\n";
  o += "<rect x=\"" + std::to_string(kML) + "\" y=\"" + std::to_string(kMT) + "\" width=\"" + std::to_string(kPW) +
       "\" height=\"" + std::to_string(kPH) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  o += "<g class=\"axis\" stroke=\"#333333\">\n";
  for (double v : xt)
    o += "<line x1=\"" + num(px(v)) + "\" y1=\"" + std::to_string(kMT + kPH) + "\" x2=\"" + num(px(v)) + "\" y2=\"" +
         std::to_string(kMT + kPH + 5) + "\"/>\n";
  for (double v : yt)
    o += "<line x1=\"" + std::to_string(kML - 5) + "\" y1=\"" + num(py(v)) + "\" x2=\"" + std::to_string(kML) + "\" y2=\"" +
         num(py(v)) + "\"/>\n";
  o += "</g>\n<g class=\"tick-labels\" fill=\"#333333\">\n";
  for (double v : xt)
    o += "<text x=\"" + num(px(v)) + "\" y=\"" + std::to_string(kMT + kPH + 18) + "\" text-anchor=\"middle\">" +
         tick_label(v, xstep) + "</text>\n";
  for (double v : yt)
    o += "<text x=\"" + std::to_string(kML - 8) + "\" y=\"" + num(py(v) + 4) + "\" text-anchor=\"end\">" +
         tick_label(v, ystep) + "</text>\n";
  o += "</g>\n";
  o += "<text x=\"" + std::to_string(kML + kPW / 2) + "\" y=\"" + std::to_string(kH - 14) +
       "\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(x_label) + "</text>\n";
  o += "<text x=\"18\" y=\"" + std::to_string(kMT + kPH / 2) + "\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 " +
       std::to_string(kMT + kPH / 2) + ")\">" + xml_escape(y_label) + "</text>\n";

  // Data.
  o += "<g clip-path=\"url(#plot-area)\">\n";
  for (const auto& s : series) {
    const std::string dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    const std::string cls = s.css_class.empty() ? "" : " class=\"" + s.css_class + "\"";
    switch (s.kind) {
      case SvgSeries::Kind::Line:
      case SvgSeries::Kind::Step: {
        std::string d;
        bool pen = false;
        double last_y = 0;
        for (const auto& [x, y] : s.xy) {
          if (!std::isfinite(y)) {
            pen = false;
            continue;
          }
          if (!pen) {
            d += "M" + num(px(x)) + " " + num(py(y));
          } else if (s.kind == SvgSeries::Kind::Step) {
            d += "H" + num(px(x));
            if (y != last_y) d += "V" + num(py(y));
          } else {
            d += "L" + num(px(x)) + " " + num(py(y));
          }
          pen = true;
          last_y = y;
        }
        if (!d.empty())
          o += "<path" + cls + " d=\"" + d + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.5\"" + dash + "/>\n";
        break;
      }
      case SvgSeries::Kind::Points:
        o += "<g fill=\"" + s.color + "\">\n";
        for (const auto& [x, y] : s.xy)
          if (std::isfinite(y)) o += "<circle" + cls + " cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"2.2\"/>\n";
        o += "</g>\n";
        break;
      case SvgSeries::Kind::Bars:
        o += "<g stroke=\"" + s.color + "\" stroke-width=\"1.6\">\n";
        for (const auto& [x, yy] : s.bars) {
          // At least 2 px tall, so a one-byte segment stays visible.
          double ya = py(yy.first), yb = py(yy.second);
          if (std::abs(ya - yb) < 2) yb = ya - 2;
          o += "<line" + cls + " x1=\"" + num(px(x)) + "\" y1=\"" + num(ya) + "\" x2=\"" + num(px(x)) + "\" y2=\"" + num(yb) +
               "\"/>\n";
        }
        o += "</g>\n";
        break;
    }
  }
  o += "</g>\n";

  // Legend: one row (wrapping) under the title.
  o += "<g class=\"legend\">\n";
  int lx = kML, ly = 62;
  auto entry = [&](const std::string& color, const std::string& text, SvgSeries::Kind kind, bool dashed) {
    const int w = 34 + static_cast<int>(text.size()) * 7;
    if (lx + w > kW - kMR && lx > kML) {
      lx = kML;
      ly += 16;
    }
    if (kind == SvgSeries::Kind::Points) {
      o += "<circle cx=\"" + std::to_string(lx + 9) + "\" cy=\"" + std::to_string(ly - 4) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    } else if (kind == SvgSeries::Kind::Bars) {
      o += "<line x1=\"" + std::to_string(lx + 9) + "\" y1=\"" + std::to_string(ly + 2) + "\" x2=\"" + std::to_string(lx + 9) +
           "\" y2=\"" + std::to_string(ly - 10) + "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    } else {
      o += "<line x1=\"" + std::to_string(lx) + "\" y1=\"" + std::to_string(ly - 4) + "\" x2=\"" + std::to_string(lx + 18) +
           "\" y2=\"" + std::to_string(ly - 4) + "\" stroke=\"" + color + "\" stroke-width=\"2\"" +
           (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    }
    o += "<text x=\"" + std::to_string(lx + 24) + "\" y=\"" + std::to_string(ly) + "\">" + xml_escape(text) + "</text>\n";
    lx += w;
  };
  for (const auto& s : series)
    if (!s.name.empty()) entry(s.color, s.name, s.kind, s.dashed);
  for (const auto& [color, text] : notes) {
    const int w = 10 + static_cast<int>(text.size()) * 7;
    if (lx + w > kW - kMR && lx > kML) {
      lx = kML;
      ly += 16;
    }
    o += "<text x=\"" + std::to_string(lx) + "\" y=\"" + std::to_string(ly) + "\" fill=\"" + color + "\">" + xml_escape(text) +
         "</text>\n";
    lx += w;
  }
  o += "</g>\n</svg>\n";
  return o;
}

namespace {

struct UdpSeries {
  std::string node, app;
  std::vector<DeliveryPoint> deliveries;
};

SvgChart seq_chart(const TcpFlow& f, const TcpDirection& d, const std::string& sub) {
  SvgChart c;
  c.title = "TCP time-sequence graph: " + d.src + " > " + d.dst;
  c.subtitle = sub;
  uint32_t max_seq = 1;
  for (const auto& p : d.seq) max_seq = std::max(max_seq, p.rel_seq + p.len);
  for (const auto& a : d.acks) max_seq = std::max(max_seq, a.rel_ack);
  const Unit u = bytes_unit(max_seq);
  c.x_label = "time (s)";
  c.y_label = "relative sequence number (" + u.name + ")";
  SvgSeries ack{"ACKs received by " + (d.node.empty() ? d.src : d.node), "#2ca02c", SvgSeries::Kind::Step, "ack", false, {}, {}};
  for (const auto& a : d.acks) ack.xy.push_back({secs(a.t_ns), a.rel_ack / u.div});
  SvgSeries tx{"segment (seq .. seq+len)", "#1f77b4", SvgSeries::Kind::Bars, "tx", false, {}, {}};
  SvgSeries tx0{"segment without payload", "#1f77b4", SvgSeries::Kind::Points, "tx", false, {}, {}};
  SvgSeries rtx{"retransmission", "#d62728", SvgSeries::Kind::Bars, "rtx", false, {}, {}};
  SvgSeries rtx0{"retransmitted SYN/FIN", "#d62728", SvgSeries::Kind::Points, "rtx", false, {}, {}};
  for (const auto& p : d.seq) {
    const double x = secs(p.t_ns), y = p.rel_seq / u.div;
    if (p.len > 0) {
      (p.retransmission ? rtx : tx).bars.push_back({x, {y, (p.rel_seq + p.len) / u.div}});
    } else {
      (p.retransmission ? rtx0 : tx0).xy.push_back({x, y});
    }
  }
  (void)f;
  if (!ack.xy.empty()) c.series.push_back(std::move(ack));
  if (!tx.bars.empty()) c.series.push_back(std::move(tx));
  if (!tx0.xy.empty()) c.series.push_back(std::move(tx0));
  if (!rtx.bars.empty()) c.series.push_back(std::move(rtx));
  if (!rtx0.xy.empty()) c.series.push_back(std::move(rtx0));
  return c;
}

SvgChart cwnd_chart(const TcpDirection& d, const std::string& sub) {
  SvgChart c;
  c.title = "Congestion window: " + d.src + " > " + d.dst;
  c.subtitle = sub;
  constexpr uint64_t kInfinite = uint64_t{1} << 30;
  double max = 1;
  bool skipped = false;
  for (const auto& p : d.cwnd) {
    max = std::max(max, static_cast<double>(p.cwnd));
    if (p.ssthresh < kInfinite) max = std::max(max, static_cast<double>(p.ssthresh));
    else skipped = true;
  }
  const Unit u = bytes_unit(max);
  c.x_label = "time (s)";
  c.y_label = "window (" + u.name + ")";
  SvgSeries cw{"cwnd", "#1f77b4", SvgSeries::Kind::Step, "cwnd", false, {}, {}};
  SvgSeries ss{"ssthresh", "#ff7f0e", SvgSeries::Kind::Step, "ssthresh", true, {}, {}};
  for (const auto& p : d.cwnd) {
    cw.xy.push_back({secs(p.t_ns), p.cwnd / u.div});
    ss.xy.push_back({secs(p.t_ns), p.ssthresh < kInfinite ? p.ssthresh / u.div : kNaN});
  }
  c.series.push_back(std::move(cw));
  c.series.push_back(std::move(ss));
  if (skipped) c.notes.push_back({"#777777", "(ssthresh not drawn while unbounded)"});
  return c;
}

SvgChart rtt_chart(const TcpDirection& d, const std::string& sub) {
  SvgChart c;
  c.title = "Round-trip time: " + d.src + " > " + d.dst;
  c.subtitle = sub;
  double max = 1;
  for (const auto& p : d.rtt) max = std::max({max, static_cast<double>(p.rtt_ns), static_cast<double>(p.rto_ns)});
  const Unit u = duration_unit(max);
  c.x_label = "time (s)";
  c.y_label = "time (" + u.name + ")";
  SvgSeries rto{"RTO", "#d62728", SvgSeries::Kind::Step, "rto", true, {}, {}};
  SvgSeries srtt{"SRTT", "#1f77b4", SvgSeries::Kind::Line, "srtt", false, {}, {}};
  SvgSeries rtt{"RTT sample", "#2ca02c", SvgSeries::Kind::Points, "rtt", false, {}, {}};
  for (const auto& p : d.rtt) {
    const double x = secs(p.t_ns);
    rto.xy.push_back({x, p.rto_ns / u.div});
    srtt.xy.push_back({x, p.srtt_ns / u.div});
    rtt.xy.push_back({x, p.rtt_ns / u.div});
  }
  c.series.push_back(std::move(rto));
  c.series.push_back(std::move(srtt));
  c.series.push_back(std::move(rtt));
  return c;
}

}  // namespace

PlotResult plot_run(const std::string& dir, const std::string& out_dir) {
  namespace fs = std::filesystem;
  TraceReader reader(dir);
  FlowTracker tracker(true);
  std::vector<UdpSeries> udp;
  std::string scenario;
  int64_t first_ns = -1, last_ns = 0;
  TraceRecord r;
  while (reader.next(r)) {
    if (first_ns < 0) first_ns = r.time_ns;
    last_ns = std::max(last_ns, r.time_ns);
    tracker.add(r);
    if (r.layer == trace::Layer::Application && r.event == "udp_flow_recv") {
      const std::string app = r.msg.substr(0, r.msg.find(':'));
      auto it = std::find_if(udp.begin(), udp.end(), [&](const UdpSeries& s) { return s.node == r.node && s.app == app; });
      if (it == udp.end()) {
        udp.push_back({r.node, app, {}});
        it = udp.end() - 1;
      }
      it->deliveries.push_back({r.time_ns, r.uint_field("size").value_or(0)});
    } else if (r.layer == trace::Layer::Sim && r.event == "start" && scenario.empty()) {
      const size_t a = r.msg.find('"'), b = a == std::string::npos ? a : r.msg.find('"', a + 1);
      if (b != std::string::npos) scenario = r.msg.substr(a + 1, b - a - 1);
    }
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create directory: " + ec.message());
  const std::string sub = "run " + dir + (scenario.empty() ? "" : ", scenario \"" + scenario + "\"");

  PlotResult res;
  auto emit = [&](const std::string& name, const SvgChart& c) {
    write_file(fs::path(out_dir) / name, c.render());
    res.files.push_back({name, c.title});
  };

  const auto& flows = tracker.flows();
  for (const auto& f : flows) {
    const bool any_data = f.up.bytes_sent > 0 || f.down.bytes_sent > 0;
    for (const TcpDirection* d : {&f.up, &f.down}) {
      const bool plot_it = d->bytes_sent > 0 || (!any_data && d == &f.up && !d->seq.empty());
      if (!plot_it) continue;
      std::string id = d->src + "-" + d->dst;
      for (char& ch : id)
        if (ch == ':') ch = '_';
      emit("tcp-seq-" + id + ".svg", seq_chart(f, *d, sub));
      if (!d->cwnd.empty()) emit("cwnd-" + id + ".svg", cwnd_chart(*d, sub));
      if (!d->rtt.empty()) emit("rtt-" + id + ".svg", rtt_chart(*d, sub));
    }
  }

  // Throughput: bytes delivered per bin, one line per TCP direction and UDP flow.
  struct Named {
    std::string name;
    const std::vector<DeliveryPoint>* points;
  };
  std::vector<Named> sources;
  for (const auto& f : flows)
    for (const TcpDirection* d : {&f.up, &f.down})
      if (!d->deliveries.empty()) sources.push_back({"TCP " + d->src + " > " + d->dst, &d->deliveries});
  for (const auto& u : udp) sources.push_back({"UDP " + u.app + " received at " + u.node, &u.deliveries});
  if (!sources.empty()) {
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (const auto& s : sources)
      for (const auto& p : *s.points) {
        t0 = std::min(t0, p.t_ns);
        t1 = std::max(t1, p.t_ns);
      }
    const int64_t bin = nice_bin(std::max<double>(static_cast<double>(t1 - t0) / 60.0, 1000.0));
    const int64_t start = t0 / bin * bin;
    const size_t nbins = static_cast<size_t>((t1 - start) / bin) + 1;
    double max_rate = 1;
    std::vector<std::vector<double>> rates;
    for (const auto& s : sources) {
      std::vector<double> bytes(nbins, 0.0);
      for (const auto& p : *s.points) bytes[static_cast<size_t>((p.t_ns - start) / bin)] += static_cast<double>(p.bytes);
      for (double& b : bytes) {
        b = b * 8e9 / static_cast<double>(bin);
        max_rate = std::max(max_rate, b);
      }
      rates.push_back(std::move(bytes));
    }
    const Unit u = rate_unit(max_rate);
    SvgChart c;
    c.title = "Throughput (bytes delivered per " + format_ns(bin) + " bin)";
    c.subtitle = sub;
    c.x_label = "time (s)";
    c.y_label = "throughput (" + u.name + ")";
    for (size_t i = 0; i < sources.size(); ++i) {
      SvgSeries s{sources[i].name, kPalette[i % std::size(kPalette)], SvgSeries::Kind::Step, "throughput", false, {}, {}};
      for (size_t b = 0; b < nbins; ++b) s.xy.push_back({secs(start + static_cast<int64_t>(b) * bin), rates[i][b] / u.div});
      s.xy.push_back({secs(start + static_cast<int64_t>(nbins) * bin), rates[i].back() / u.div});
      c.series.push_back(std::move(s));
    }
    emit("throughput.svg", c);
  }

  // index.html
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Plots of " +
                  xml_escape(dir) + "</title>\n<style>body{font-family:sans-serif;margin:2em;}figure{margin:0 0 2em 0;}"
                  "img{max-width:100%;border:1px solid #ddd;}</style>\n</head>\n<body>\n<h1>Plots of " + xml_escape(dir) +
                  "</h1>\n<p>" + xml_escape(sub) + "; " + std::to_string(flows.size()) + " TCP connection(s), trace from " +
                  format_time_ns(std::max<int64_t>(first_ns, 0)) + " to " + format_time_ns(last_ns) + " s.</p>\n";
  if (res.files.empty()) {
    h += "<p>Nothing to plot: no TCP flows and no UDP flows in this run.</p>\n";
  } else {
    h += "<ul>\n";
    for (const auto& [name, title] : res.files)
      h += "<li><a href=\"" + xml_escape(name) + "\">" + xml_escape(name) + "</a>: " + xml_escape(title) + "</li>\n";
    h += "</ul>\n";
    for (const auto& [name, title] : res.files)
      h += "<figure><img src=\"" + xml_escape(name) + "\" alt=\"" + xml_escape(title) + "\"><figcaption>" + xml_escape(name) +
           "</figcaption></figure>\n";
  }
  h += "</body>\n</html>\n";
  const fs::path index = fs::path(out_dir) / "index.html";
  write_file(index, h);
  res.index = index.string();
  return res;
}

}  // namespace mz::inspect
