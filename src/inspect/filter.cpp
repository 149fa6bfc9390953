#include "megzawicol/inspect/filter.hpp"

#include <algorithm>

#include "table.hpp"

namespace mz::inspect {

bool FilterSpec::matches(const TraceRecord& r) const {
  if (!nodes.empty() && std::find(nodes.begin(), nodes.end(), r.node) == nodes.end()) return false;
  if (!layers.empty() && std::find(layers.begin(), layers.end(), r.layer) == layers.end()) return false;
  if (!events.empty() && std::find(events.begin(), events.end(), r.event) == events.end()) return false;
  if (from_ns && r.time_ns < *from_ns) return false;
  if (to_ns && r.time_ns > *to_ns) return false;
  if (!grep.empty() && r.msg.find(grep) == std::string::npos) return false;
  return true;
}

uint64_t filter_trace(const std::string& dir, const FilterSpec& spec, std::ostream& out) {
  TraceReader reader(dir);
  TraceRecord r;
  std::vector<trace::Field> storage;
  uint64_t n = 0;
  while (reader.next(r)) {
    if (!spec.matches(r)) continue;
    ++n;
    if (spec.json) {
      out << r.raw << '\n';
    } else {
      out << trace::LogSink::format(r.as_event(storage));
    }
  }
  return n;
}

namespace {

std::vector<std::string> differences(const TraceRecord& a, const TraceRecord& b) {
  std::vector<std::string> d;
  if (a.time_ns != b.time_ns) d.push_back("time " + format_time_ns(a.time_ns) + " vs " + format_time_ns(b.time_ns));
  if (a.node != b.node) d.push_back("node " + a.node + " vs " + b.node);
  if (a.layer != b.layer) d.push_back(std::string("layer ") + trace::layer_tag(a.layer) + " vs " + trace::layer_tag(b.layer));
  if (a.event != b.event) d.push_back("event " + a.event + " vs " + b.event);
  if (a.msg != b.msg) d.push_back("message");
  for (auto it = a.fields.begin(); it != a.fields.end(); ++it) {
    auto jt = b.fields.find(it.key());
    if (jt == b.fields.end()) d.push_back("field " + it.key() + " only in the first");
    else if (*jt != it.value()) d.push_back("field " + it.key() + " " + it.value().dump() + " vs " + jt->dump());
  }
  for (auto it = b.fields.begin(); it != b.fields.end(); ++it)
    if (!a.fields.contains(it.key())) d.push_back("field " + it.key() + " only in the second");
  return d;
}

}  // namespace

DiffResult diff_traces(const std::string& dir_a, const std::string& dir_b) {
  DiffResult res;
  TraceReader ra(dir_a), rb(dir_b);
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> counts;
  TraceRecord a, b;
  bool more_a = true, more_b = true;
  uint64_t index = 0;
  while (more_a || more_b) {
    if (more_a) more_a = ra.next(a);
    if (more_b) more_b = rb.next(b);
    if (!more_a && !more_b) break;
    if (more_a) {
      ++res.events_a;
      ++counts[{trace::layer_tag(a.layer), a.event}].first;
    }
    if (more_b) {
      ++res.events_b;
      ++counts[{trace::layer_tag(b.layer), b.event}].second;
    }
    if (res.identical && !(more_a && more_b && a.same_as(b))) {
      res.identical = false;
      res.first_index = index;
      if (more_a) res.first_a = a;
      if (more_b) res.first_b = b;
      if (more_a && more_b) res.differences = differences(a, b);
    }
    ++index;
  }
  for (const auto& [key, c] : counts)
    if (c.first != c.second) res.counts.push_back({key.first, key.second, c.first, c.second});
  return res;
}

std::string format_diff_text(const DiffResult& d, const std::string& dir_a, const std::string& dir_b) {
  if (d.identical) {
    return "identical: " + std::to_string(d.events_a) + " events, the same in " + dir_a + " and " + dir_b + "\n";
  }
  const std::string name_a = "run1", name_b = "run2";
  std::string out = name_a + " = " + dir_a + "\n" + name_b + " = " + dir_b + "\n";
  out += "the runs differ from event #" + std::to_string(*d.first_index) + " (line " +
         std::to_string(*d.first_index + 1) + " of trace.jsonl)\n";
  const size_t w = std::max(name_a.size(), name_b.size());
  auto show = [&](const std::string& name, const std::optional<TraceRecord>& r) {
    std::string l = "  " + name + std::string(w - name.size(), ' ') + "  ";
    if (!r) return l + "(no more events)\n";
    return l + r->log_line();
  };
  out += show(name_a, d.first_a);
  out += show(name_b, d.first_b);
  if (!d.differences.empty()) {
    out += "  differs in:";
    for (size_t i = 0; i < d.differences.size(); ++i) out += (i ? ", " : " ") + d.differences[i];
    out += "\n";
  }
  out += "\nevents: " + std::to_string(d.events_a) + " in " + name_a + ", " + std::to_string(d.events_b) + " in " + name_b +
         "\n";
  if (d.counts.empty()) {
    out += "every (layer, event) occurs as often in both runs\n";
  } else {
    out += "events per (layer, event) whose counts differ:\n";
    detail::Table t({"layer", "event", name_a, name_b, "change"}, {false, false, true, true, true});
    for (const auto& c : d.counts) {
      const int64_t delta = static_cast<int64_t>(c.b) - static_cast<int64_t>(c.a);
      t.add({c.layer, c.event, std::to_string(c.a), std::to_string(c.b), (delta > 0 ? "+" : "") + std::to_string(delta)});
    }
    out += t.render();
  }
  return out;
}

}  // namespace mz::inspect
