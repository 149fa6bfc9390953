// results.csv, summary.csv, plot.svg and sweep.json.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "megzawicol/inspect/plot.hpp"
#include "megzawicol/sweep/csv.hpp"
#include "megzawicol/sweep/stats.hpp"
#include "megzawicol/sweep/sweep.hpp"

namespace mz::sweep {

namespace {

using ojson = nlohmann::ordered_json;

const char* const kLinkFields[] = {"dropped",           "a_to_b.sent",    "a_to_b.bytes_sent", "a_to_b.delivered",
                                   "a_to_b.dropped",    "b_to_a.sent",    "b_to_a.bytes_sent", "b_to_a.delivered",
                                   "b_to_a.dropped"};

// "links[12].a_to_b.sent" -> (12, "a_to_b.sent"); false for an app column.
bool split_link(const std::string& col, size_t& index, std::string& field) {
  if (col.rfind("links[", 0) != 0) return false;
  const auto close = col.find(']');
  if (close == std::string::npos || close == 6 || close + 1 >= col.size() || col[close + 1] != '.') return false;
  index = 0;
  for (size_t i = 6; i < close; ++i) {
    if (col[i] < '0' || col[i] > '9') return false;
    index = index * 10 + static_cast<size_t>(col[i] - '0');
  }
  field = col.substr(close + 2);
  return true;
}

size_t link_rank(const std::string& field) {
  for (size_t i = 0; i < std::size(kLinkFields); ++i)
    if (field == kLinkFields[i]) return i;
  return std::size(kLinkFields);
}

std::string fmt(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// `sig` significant digits; large values without an exponent (9209573 -> "9209570").
std::string sig_digits(double v, int sig) {
  if (v == 0 || !std::isfinite(v)) return fmt(v);
  const int digits = static_cast<int>(std::floor(std::log10(std::abs(v)))) + 1;
  char buf[64];
  if (digits >= sig && digits <= 15) {
    const double unit = std::pow(10.0, digits - sig);
    std::snprintf(buf, sizeof buf, "%.0f", std::round(v / unit) * unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", sig, v);
  }
  return buf;
}

bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The value of `metric` in a record: a column, or "A/B" (the ratio of two columns).
bool metric_value(const RunRecord& r, const std::string& metric, double& v) {
  if (auto it = r.metrics.find(metric); it != r.metrics.end()) return parse_double(it->second, v);
  const auto slash = metric.find('/');
  if (slash == std::string::npos) return false;
  double a = 0, b = 0;
  if (!metric_value(r, metric.substr(0, slash), a) || !metric_value(r, metric.substr(slash + 1), b) || b == 0)
    return false;
  v = a / b;
  return true;
}

std::vector<std::string> metric_columns(const std::vector<RunRecord>& records) {
  std::set<std::string> all;
  for (const auto& r : records)
    for (const auto& [k, v] : r.metrics) all.insert(k);
  std::vector<std::string> cols(all.begin(), all.end());
  std::sort(cols.begin(), cols.end(), metric_less);
  return cols;
}

// The records of each combination, successful runs only, in run-id order.
std::vector<std::vector<const RunRecord*>> by_combination(const SweepInfo& info, const std::vector<RunRecord>& records,
                                                          std::vector<size_t>& runs, std::vector<size_t>& failed) {
  const size_t nc = info.grid.combinations();
  std::vector<std::vector<const RunRecord*>> out(nc);
  runs.assign(nc, 0);
  failed.assign(nc, 0);
  std::vector<const RunRecord*> sorted;
  sorted.reserve(records.size());
  for (const auto& r : records) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (const auto* r : sorted) {
    const size_t c = info.grid.combination_of(r->id);
    if (c >= nc) continue;
    ++runs[c];
    if (r->status != 0) ++failed[c];
    else out[c].push_back(r);
  }
  return out;
}

Stats stats_of(const std::vector<const RunRecord*>& rs, const std::string& metric) {
  std::vector<double> vals;
  for (const auto* r : rs) {
    double v = 0;
    if (metric_value(*r, metric, v)) vals.push_back(v);
  }
  return describe(vals);
}

bool numeric(const std::string& s) {
  double v = 0;
  return parse_double(s, v) && std::isfinite(v);
}

}  // namespace

std::map<std::string, std::string> flatten_summary(const std::string& json_text) {
  const ojson j = ojson::parse(json_text);
  std::map<std::string, std::string> m;
  if (j.contains("apps") && j["apps"].is_array()) {
    for (const auto& app : j["apps"]) {
      if (!app.is_object()) continue;
      const std::string name = app.value("name", std::string("app")), kind = app.value("kind", std::string());
      for (const auto& [field, value] : app.items()) {
        if (field == "name" || field == "kind" || field == "node") continue;
        std::string text;
        if (value.is_boolean()) text = value.get<bool>() ? "1" : "0";
        else if (value.is_number()) text = value.dump();
        else continue;
        std::string key = name + "." + field;
        if (m.count(key)) key = name + "." + kind + "." + field;
        m[key] = text;
      }
    }
  }
  if (j.contains("links") && j["links"].is_array()) {
    for (size_t i = 0; i < j["links"].size(); ++i) {
      const auto& l = j["links"][i];
      const std::string p = "links[" + std::to_string(i) + "].";
      uint64_t total = 0;
      for (const char* dir : {"a_to_b", "b_to_a"}) {
        if (!l.contains(dir)) continue;
        const auto& d = l[dir];
        uint64_t dropped = 0;
        if (d.contains("dropped") && d["dropped"].is_object())
          for (const auto& [cause, n] : d["dropped"].items())
            if (n.is_number_unsigned()) dropped += n.get<uint64_t>();
        total += dropped;
        for (const char* f : {"sent", "bytes_sent", "delivered"})
          if (d.contains(f) && d[f].is_number()) m[p + dir + "." + f] = d[f].dump();
        m[p + dir + ".dropped"] = std::to_string(dropped);
      }
      m[p + "dropped"] = std::to_string(total);
    }
  }
  return m;
}

bool metric_less(const std::string& a, const std::string& b) {
  size_t ia = 0, ib = 0;
  std::string fa, fb;
  const bool la = split_link(a, ia, fa), lb = split_link(b, ib, fb);
  if (la != lb) return lb;  // app columns first
  if (!la) return a < b;
  if (ia != ib) return ia < ib;
  const size_t ra = link_rank(fa), rb = link_rank(fb);
  if (ra != rb) return ra < rb;
  return fa < fb;
}

std::string sweep_json(const SweepInfo& info) {
  ojson j;
  j["scenario"] = info.scenario;
  j["scenario_name"] = info.scenario_name;
  j["vary"] = ojson::array();
  for (const auto& v : info.grid.vary) j["vary"].push_back({{"path", v.path}, {"values", v.values}});
  j["seeds"] = info.grid.seeds;
  j["runs"] = info.grid.size();
  j["metric"] = info.metric;
  j["shard"] = info.shard;
  return j.dump(2) + "\n";
}

SweepInfo parse_sweep_json(const std::string& text, const std::string& source) {
  try {
    const ojson j = ojson::parse(text);
    SweepInfo info;
    info.scenario = j.at("scenario").get<std::string>();
    info.scenario_name = j.at("scenario_name").get<std::string>();
    for (const auto& v : j.at("vary")) info.grid.vary.push_back({v.at("path").get<std::string>(), v.at("values").get<std::vector<std::string>>()});
    info.grid.seeds = j.at("seeds").get<std::vector<uint64_t>>();
    info.metric = j.value("metric", std::string());
    info.shard = j.value("shard", std::string());
    info.grid.validate();
    return info;
  } catch (const SweepError& e) {
    throw SweepError(source + ": " + e.what());
  } catch (const std::exception& e) {
    throw SweepError(source + ": not a sweep.json: " + e.what());
  }
}

std::string results_csv(const SweepInfo& info, std::vector<RunRecord> records) {
  std::sort(records.begin(), records.end(), [](const RunRecord& a, const RunRecord& b) { return a.id < b.id; });
  const auto cols = metric_columns(records);
  std::vector<std::string> header{"run"};
  for (const auto& v : info.grid.vary) header.push_back(v.path);
  header.push_back("seed");
  header.push_back("status");
  header.insert(header.end(), cols.begin(), cols.end());
  std::string o = csv_line(header);
  for (const auto& r : records) {
    std::vector<std::string> row{std::to_string(r.id)};
    for (const auto& v : info.grid.values(info.grid.combination_of(r.id))) row.push_back(v);
    row.push_back(std::to_string(r.seed));
    row.push_back(std::to_string(r.status));
    for (const auto& c : cols) {
      auto it = r.metrics.find(c);
      row.push_back(it == r.metrics.end() ? std::string() : it->second);
    }
    o += csv_line(row);
  }
  return o;
}

std::vector<RunRecord> parse_results_csv(const SweepInfo& info, const std::string& text, const std::string& source) {
  const auto rows = parse_csv(text, source);
  if (rows.empty()) throw SweepError(source + ": empty file");
  const auto& h = rows[0];
  const size_t fixed = info.grid.vary.size() + 3;
  std::vector<std::string> want{"run"};
  for (const auto& v : info.grid.vary) want.push_back(v.path);
  want.push_back("seed");
  want.push_back("status");
  if (h.size() < fixed || !std::equal(want.begin(), want.end(), h.begin()))
    throw SweepError(source + ": the header does not match the grid of sweep.json (expected " +
                     csv_line(want).substr(0, csv_line(want).size() - 1) + ", ...)");
  std::vector<RunRecord> out;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const std::string where = source + ": line " + std::to_string(i + 1);
    if (row.size() != h.size()) throw SweepError(where + ": " + std::to_string(row.size()) + " fields, the header has " + std::to_string(h.size()));
    RunRecord r;
    try {
      size_t used = 0;
      r.id = std::stoull(row[0], &used);
      if (used != row[0].size()) throw std::invalid_argument("id");
      r.seed = std::stoull(row[fixed - 2], &used);
      r.status = std::stoi(row[fixed - 1], &used);
    } catch (const std::exception&) {
      throw SweepError(where + ": bad run, seed or status");
    }
    if (r.id >= info.grid.size()) throw SweepError(where + ": run " + row[0] + " is outside the grid");
    const auto vals = info.grid.values(info.grid.combination_of(r.id));
    if (!std::equal(vals.begin(), vals.end(), row.begin() + 1) || r.seed != info.grid.seed_of(r.id))
      throw SweepError(where + ": run " + row[0] + " has other values than the grid gives it");
    for (size_t k = fixed; k < row.size(); ++k)
      if (!row[k].empty()) r.metrics[h[k]] = row[k];
    out.push_back(std::move(r));
  }
  return out;
}

std::string summary_csv(const SweepInfo& info, const std::vector<RunRecord>& records) {
  auto cols = metric_columns(records);
  if (!info.metric.empty() && std::find(cols.begin(), cols.end(), info.metric) == cols.end()) cols.push_back(info.metric);
  std::vector<size_t> runs, failed;
  const auto groups = by_combination(info, records, runs, failed);
  std::vector<std::string> header;
  for (const auto& v : info.grid.vary) header.push_back(v.path);
  for (const char* c : {"runs", "failed", "metric", "n", "mean", "sd", "ci95"}) header.push_back(c);
  std::string o = csv_line(header);
  for (size_t c = 0; c < groups.size(); ++c) {
    if (runs[c] == 0) continue;
    const auto vals = info.grid.values(c);
    for (const auto& m : cols) {
      const Stats s = stats_of(groups[c], m);
      std::vector<std::string> row(vals);
      row.push_back(std::to_string(runs[c]));
      row.push_back(std::to_string(failed[c]));
      row.push_back(m);
      row.push_back(std::to_string(s.n));
      row.push_back(s.n >= 1 ? fmt(s.mean) : "");
      row.push_back(s.n >= 2 ? fmt(s.sd) : "");
      row.push_back(s.n >= 2 ? fmt(s.ci95) : "");
      o += csv_line(row);
    }
  }
  return o;
}

std::string plot_svg(const SweepInfo& info, const std::vector<RunRecord>& records) {
  if (info.metric.empty() || info.grid.vary.empty()) return "";
  std::vector<size_t> runs, failed;
  const auto groups = by_combination(info, records, runs, failed);
  const Vary& xv = info.grid.vary[0];
  const bool numeric_x = std::all_of(xv.values.begin(), xv.values.end(), numeric);
  auto xpos = [&](size_t k) {
    double v = static_cast<double>(k);
    if (numeric_x) parse_double(xv.values[k], v);
    return v;
  };
  // One series per combination of the other varied parameters.
  size_t nseries = 1;
  for (size_t k = 1; k < info.grid.vary.size(); ++k) nseries *= info.grid.vary[k].values.size();
  static const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  inspect::SvgChart chart;
  chart.title = info.metric + " vs " + xv.path;
  size_t seeds = info.grid.seeds.size();
  chart.subtitle = info.scenario_name + ": mean of up to " + std::to_string(seeds) + " seed" + (seeds == 1 ? "" : "s") +
                   " per point; error bars: 95% confidence interval";
  chart.x_label = xv.path;
  chart.y_label = info.metric;
  // Some room left and right of the outermost points, and error bar caps 1% of the x range wide.
  double xlo = xpos(0), xhi = xpos(0);
  for (size_t x = 0; x < xv.values.size(); ++x) {
    xlo = std::min(xlo, xpos(x));
    xhi = std::max(xhi, xpos(x));
  }
  const double span = xhi > xlo ? xhi - xlo : 1, cap = span * 0.01;
  bool any = false;
  double any_y = 0;
  for (size_t s = 0; s < nseries; ++s) {
    const std::string color = kColors[s % std::size(kColors)];
    inspect::SvgSeries line{"", color, inspect::SvgSeries::Kind::Line, "mean", false, {}, {}};
    inspect::SvgSeries points{"", color, inspect::SvgSeries::Kind::Points, "mean", false, {}, {}};
    inspect::SvgSeries bars{"", color, inspect::SvgSeries::Kind::Bars, "ci95", false, {}, {}};
    inspect::SvgSeries caps{"", color, inspect::SvgSeries::Kind::Line, "ci95", false, {}, {}};
    for (size_t x = 0; x < xv.values.size(); ++x) {
      const size_t c = x * nseries + s;  // the first path is the most significant digit
      if (x == 0 && info.grid.vary.size() > 1) {
        const auto vals = info.grid.values(c);
        for (size_t k = 1; k < vals.size(); ++k)
          line.name += (k > 1 ? ", " : "") + info.grid.vary[k].path + "=" + vals[k];
      }
      const Stats st = stats_of(groups[c], info.metric);
      if (st.n == 0) continue;
      any = true;
      any_y = st.mean;
      line.xy.push_back({xpos(x), st.mean});
      points.xy.push_back({xpos(x), st.mean});
      if (st.n >= 2) {
        bars.bars.push_back({xpos(x), {st.mean - st.ci95, st.mean + st.ci95}});
        for (double y : {st.mean - st.ci95, st.mean + st.ci95}) {  // caps; NaN lifts the pen
          caps.xy.push_back({xpos(x) - cap, y});
          caps.xy.push_back({xpos(x) + cap, y});
          caps.xy.push_back({xpos(x), std::nan("")});
        }
      }
    }
    chart.series.push_back(std::move(caps));
    if (info.grid.vary.size() == 1) line.name = info.metric;
    chart.series.push_back(std::move(line));
    chart.series.push_back(std::move(points));
    chart.series.push_back(std::move(bars));
  }
  if (!any) return "";
  inspect::SvgSeries pad{"", "none", inspect::SvgSeries::Kind::Line, "pad", false, {}, {}};
  pad.xy = {{xlo - span * 0.04, any_y}, {xlo - span * 0.04, std::nan("")}, {xhi + span * 0.04, any_y}};
  chart.series.push_back(std::move(pad));
  if (!numeric_x) {
    std::string legend = "x:";
    for (size_t k = 0; k < xv.values.size(); ++k) legend += " " + std::to_string(k) + " = " + xv.values[k] + (k + 1 < xv.values.size() ? "," : "");
    chart.notes.push_back({"#333333", legend});
  }
  return chart.render();
}

std::string metric_table(const SweepInfo& info, const std::vector<RunRecord>& records) {
  if (info.metric.empty()) return "";
  std::vector<size_t> runs, failed;
  const auto groups = by_combination(info, records, runs, failed);
  std::string o = "|";
  for (const auto& v : info.grid.vary) o += " " + v.path + " |";
  o += " n | mean | ± 95% CI | sd |\n|";
  for (size_t k = 0; k < info.grid.vary.size() + 4; ++k) o += k < info.grid.vary.size() ? "---|" : "---:|";
  o += "\n";
  bool any = false;
  for (size_t c = 0; c < groups.size(); ++c) {
    if (runs[c] == 0) continue;
    const Stats s = stats_of(groups[c], info.metric);
    any = any || s.n > 0;
    o += "|";
    for (const auto& v : info.grid.values(c)) o += " " + v + " |";
    o += " " + std::to_string(s.n) + " | " + (s.n >= 1 ? sig_digits(s.mean, 6) : "") + " | " +
         (s.n >= 2 ? sig_digits(s.ci95, 3) : "") + " | " + (s.n >= 2 ? sig_digits(s.sd, 3) : "") + " |\n";
  }
  return any ? o : "";
}

}  // namespace mz::sweep
