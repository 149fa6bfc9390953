#include "megzawicol/inspect/reader.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <filesystem>

namespace mz::inspect {

namespace {

bool same_json(const nlohmann::json& a, const nlohmann::json& b) {
  // nlohmann compares 5 and 5u as equal, and 1.0 with 1 as equal: fine for events.
  return a == b;
}

}  // namespace

trace::Event TraceRecord::as_event(std::vector<trace::Field>& storage) const {
  storage.clear();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const auto& v = it.value();
    trace::Value val;
    if (v.is_number_unsigned()) val = v.get<uint64_t>();
    else if (v.is_number_integer()) val = v.get<int64_t>();
    else if (v.is_number_float()) val = v.get<double>();
    else if (v.is_boolean()) val = v.get<bool>();
    else if (v.is_string()) val = v.get<std::string>();
    else val = v.dump();  // null (a non-finite double) or nested: kept as text
    storage.push_back({it.key(), std::move(val)});
  }
  return trace::Event{Time::from_ns(time_ns), node, layer, event, msg, &storage};
}

std::string TraceRecord::log_line() const {
  std::vector<trace::Field> f;
  return trace::LogSink::format(as_event(f));
}

std::optional<int64_t> TraceRecord::int_field(std::string_view key) const {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  return std::nullopt;
}

std::optional<uint64_t> TraceRecord::uint_field(std::string_view key) const {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return static_cast<uint64_t>(it->get<int64_t>());
  return std::nullopt;
}

std::optional<double> TraceRecord::number_field(std::string_view key) const {
  auto it = fields.find(key);
  if (it == fields.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<std::string> TraceRecord::string_field(std::string_view key) const {
  auto it = fields.find(key);
  if (it == fields.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool TraceRecord::same_as(const TraceRecord& o) const {
  return time_ns == o.time_ns && node == o.node && layer == o.layer && event == o.event && msg == o.msg &&
         same_json(fields, o.fields);
}

std::string trace_path(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(dir_or_file, ec)) return dir_or_file;
  return (fs::path(dir_or_file) / "trace.jsonl").string();
}

TraceReader::TraceReader(const std::string& dir_or_file) : path_(trace_path(dir_or_file)) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir_or_file, ec)) throw TraceError(dir_or_file + ": no such directory or file");
  f_ = std::fopen(path_.c_str(), "rb");
  if (!f_) {
    throw TraceError(path_ + ": cannot open: " + std::strerror(errno) +
                     (fs::is_directory(dir_or_file, ec) ? " (was the run made with \"trace\": {\"jsonl\": true}?)" : ""));
  }
}

TraceReader::~TraceReader() {
  if (f_) std::fclose(f_);
}

void TraceReader::fail(const std::string& what) const {
  throw TraceError(path_ + ": line " + std::to_string(line_) + ": " + what);
}

bool TraceReader::read_line(std::string& out) {
  out.clear();
  char buf[8192];
  bool any = false;
  while (std::fgets(buf, sizeof buf, f_)) {
    any = true;
    size_t n = std::strlen(buf);
    const bool eol = n > 0 && buf[n - 1] == '\n';
    if (eol) --n;
    out.append(buf, n);
    if (out.size() > kMaxLine) {
      ++line_;
      fail("line longer than " + std::to_string(kMaxLine) + " bytes");
    }
    if (eol) break;
  }
  if (std::ferror(f_)) {
    ++line_;
    fail(std::string("read error: ") + std::strerror(errno));
  }
  if (!any) return false;
  ++line_;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return true;
}

bool TraceReader::next(TraceRecord& r) {
  std::string text;
  if (!read_line(text)) return false;
  r = parse_trace_line(text, path_, line_);
  r.raw = std::move(text);
  return true;
}

TraceRecord parse_trace_line(std::string_view text, const std::string& source, uint64_t line) {
  auto fail = [&](const std::string& what) -> TraceError {
    return TraceError(source + ": line " + std::to_string(line) + ": " + what);
  };
  if (text.find_first_not_of(" \t\r") == std::string_view::npos) throw fail("empty line (expected one JSON event)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 7: ..." -> the useful tail.
    if (auto p = what.find("column"); p != std::string::npos) what = what.substr(p);
    throw fail("not valid JSON: " + what);
  }
  if (!j.is_object()) throw fail("expected a JSON object, got " + std::string(j.type_name()));
  auto need = [&](const char* key) -> const nlohmann::json& {
    auto it = j.find(key);
    if (it == j.end()) throw fail(std::string("missing key \"") + key + "\"");
    return *it;
  };
  TraceRecord r;
  r.line = line;
  const auto& t = need("time_ns");
  if (t.is_number_unsigned()) {
    if (t.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) throw fail("\"time_ns\": out of range");
    r.time_ns = static_cast<int64_t>(t.get<uint64_t>());
  } else if (t.is_number_integer()) {
    r.time_ns = t.get<int64_t>();
    if (r.time_ns < 0) throw fail("\"time_ns\": negative");
  } else {
    throw fail("\"time_ns\": expected an integer, got " + std::string(t.type_name()));
  }
  auto str = [&](const char* key) {
    const auto& v = need(key);
    if (!v.is_string()) throw fail("\"" + std::string(key) + "\": expected a string, got " + v.type_name());
    return v.get<std::string>();
  };
  r.node = str("node");
  const std::string layer = str("layer");
  if (!trace::parse_layer(layer, r.layer))
    throw fail("\"layer\": unknown layer \"" + layer + "\" (expected L1..L7, link or sim)");
  r.event = str("event");
  r.msg = str("msg");
  const auto& f = need("fields");
  if (!f.is_object()) throw fail("\"fields\": expected an object, got " + std::string(f.type_name()));
  r.fields = f;
  return r;
}

int64_t parse_time_ns(std::string_view s0) {
  const std::string s(s0);
  auto bad = [&](const std::string& why) { return InputError("bad time \"" + s + "\": " + why); };
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  uint64_t mant = 0;
  int frac = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
      if (__builtin_mul_overflow(mant, uint64_t{10}, &mant) || __builtin_add_overflow(mant, uint64_t(c - '0'), &mant))
        throw bad("too large");
      if (dot) ++frac;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) throw bad("expected a number with an optional unit, like 1.5s or 200ms");
  while (i < s.size() && s[i] == ' ') ++i;
  std::string unit = s.substr(i);
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  uint64_t scale;
  if (unit.empty() || unit == "s") scale = 1'000'000'000;
  else if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "\xc2\xb5s") scale = 1'000;
  else if (unit == "ms") scale = 1'000'000;
  else if (unit == "m" || unit == "min") scale = 60'000'000'000;
  else if (unit == "h") scale = 3'600'000'000'000;
  else throw bad("unknown unit \"" + unit + "\" (ns, us, ms, s, m, h)");
  // value = mant * scale / 10^frac, exactly.
  while (frac > 0 && scale % 10 == 0) {
    scale /= 10;
    --frac;
  }
  while (frac > 0 && mant % 10 == 0) {
    mant /= 10;
    --frac;
  }
  if (frac > 18) throw bad("not a whole number of nanoseconds");
  uint64_t v;
  if (__builtin_mul_overflow(mant, scale, &v)) throw bad("too large");
  uint64_t div = 1;
  for (int k = 0; k < frac; ++k) div *= 10;
  if (v % div != 0) throw bad("not a whole number of nanoseconds");
  v /= div;
  if (v > static_cast<uint64_t>(INT64_MAX)) throw bad("too large");
  return static_cast<int64_t>(v);
}

std::string format_time_ns(int64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%09" PRId64, ns / 1000000000, ns % 1000000000);
  return buf;
}

}  // namespace mz::inspect
