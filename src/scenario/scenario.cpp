// Scenario loading: JSON text -> overrides -> validation -> the typed model.
//
// Every problem is reported as a ScenarioError "FILE: JSON.PATH: problem" and loading
// stops at the first one (in document order, per object in schema order). nlohmann is
// used only here; nothing of it leaks into the public header.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/scenario/scenario.hpp"

namespace mz::scenario {

using json = nlohmann::ordered_json;

const Interface* Node::find_interface(const std::string& n) const {
  for (const auto& i : interfaces)
    if (i.name == n) return &i;
  return nullptr;
}

const Node* Scenario::find_node(const std::string& n) const {
  for (const auto& node : nodes)
    if (node.name == n) return &node;
  return nullptr;
}

const Link* Scenario::find_link(const std::string& n) const {
  for (const auto& l : links)
    if (l.name == n) return &l;
  return nullptr;
}

MacAddr derived_mac(uint16_t node_index, uint16_t iface_index) {
  return MacAddr{{0x02, 0x00, static_cast<uint8_t>(node_index >> 8), static_cast<uint8_t>(node_index & 0xff),
                  static_cast<uint8_t>(iface_index >> 8), static_cast<uint8_t>(iface_index & 0xff)}};
}

namespace {

// ---------------------------------------------------------------------------------------
// Small helpers

std::string quote(const std::string& s) { return json(s).dump(); }

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}
std::string index_path(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

std::string show_path(const std::string& path) { return path.empty() ? "(top level)" : path; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string join_names(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

/// Node, interface and similar names end up in "node:iface" ends and file names.
bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_usable_host_address(Ipv4Addr a) {
  return !a.is_unspecified() && !a.is_multicast() && (a.v >> 28) != 0xf;
}

struct Located {
  std::string path;
  std::string message;
};

// ---------------------------------------------------------------------------------------
// Parsing with duplicate-key detection

struct DuplicateKey {
  std::string path;
  std::string key;
};

// The DOM builder with a path-tracking duplicate-key check in front of it. (A parser
// callback would do the same, but nlohmann's callback parser scans the enclosing container
// at the end of every object, which makes an array of N objects cost N^2.)
class DuplicateCheckingSax {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit DuplicateCheckingSax(json& result) : dom_(result, true) {}

  bool null() { return note_element(), dom_.null(); }
  bool boolean(bool v) { return note_element(), dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return note_element(), dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return note_element(), dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return note_element(), dom_.number_float(v, s); }
  bool string(string_t& v) { return note_element(), dom_.string(v); }
  bool binary(binary_t& v) { return note_element(), dom_.binary(v); }
  bool start_object(std::size_t n) {
    note_element();
    stack_.push_back(Frame{false});
    return dom_.start_object(n);
  }
  bool key(string_t& k) {
    auto& f = stack_.back();
    if (!f.keys.insert(k).second) throw DuplicateKey{container_path(), k};
    f.key = k;
    return dom_.key(k);
  }
  bool end_object() {
    if (!stack_.empty()) stack_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    note_element();
    stack_.push_back(Frame{true});
    return dom_.start_array(n);
  }
  bool end_array() {
    if (!stack_.empty()) stack_.pop_back();
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t pos, const std::string& token, const Exception& ex) {
    return dom_.parse_error(pos, token, ex);
  }

 private:
  struct Frame {
    bool is_array = false;
    bool started = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  void note_element() {
    if (!stack_.empty() && stack_.back().is_array) {
      if (stack_.back().started)
        ++stack_.back().index;
      else
        stack_.back().started = true;
    }
  }
  std::string container_path() const {
    std::string p;
    for (size_t k = 0; k + 1 < stack_.size(); ++k)
      p = stack_[k].is_array ? index_path(p, stack_[k].index) : join_path(p, stack_[k].key);
    return p;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<Frame> stack_;
};

json parse_document(const std::string& text, const std::string& source) {
  try {
    json result;
    DuplicateCheckingSax sax(result);
    json::sax_parse(text, &sax);
    return result;
  } catch (const DuplicateKey& d) {
    throw ScenarioError(source + ": " + show_path(d.path) + ": duplicate key " + quote(d.key));
  } catch (const json::parse_error& e) {
    // Line and column from the byte position (1-based index of the last character read).
    size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    if (offset > text.size()) offset = text.size();
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    size_t column = offset - line_start + 1;
    // Strip nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    std::string msg = e.what();
    if (auto p = msg.find("] "); msg.rfind("[json.exception.", 0) == 0 && p != std::string::npos)
      msg = msg.substr(p + 2);
    if (msg.rfind("parse error", 0) == 0) {
      if (auto p = msg.find(": "); p != std::string::npos) msg = msg.substr(p + 2);
    }
    throw ScenarioError(source + ": line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                        msg);
  }
}

// ---------------------------------------------------------------------------------------
// Overrides: "PATH=VALUE"

struct PathToken {
  bool is_index = false;
  size_t index = 0;
  std::string key;
};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::vector<PathToken>> parse_override_path(const std::string& p) {
  std::vector<PathToken> out;
  size_t i = 0;
  if (p.empty()) return std::nullopt;
  while (true) {
    PathToken t;
    if (p[i] == '[') {
      size_t close = p.find(']', i);
      if (close == std::string::npos) return std::nullopt;
      std::string digits = p.substr(i + 1, close - i - 1);
      if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
      t.is_index = true;
      t.index = std::stoul(digits);
      i = close + 1;
    } else {
      size_t end = p.find_first_of(".[]", i);
      if (end == std::string::npos) end = p.size();
      std::string seg = p.substr(i, end - i);
      if (seg.empty()) return std::nullopt;
      if (all_digits(seg)) {
        if (seg.size() > 9 || out.empty()) return std::nullopt;
        t.is_index = true;
        t.index = std::stoul(seg);
      } else {
        t.key = seg;
      }
      i = end;
    }
    out.push_back(std::move(t));
    if (i == p.size()) break;
    if (p[i] == '.') {
      ++i;
      if (i == p.size()) return std::nullopt;
    } else if (p[i] != '[') {
      return std::nullopt;
    }
  }
  return out;
}

void apply_override(json& doc, const std::string& ov, const std::string& source) {
  auto fail = [&](const std::string& path, const std::string& problem) {
    throw ScenarioError(source + ": --set " + ov + ": " + (path.empty() ? "" : path + ": ") + problem);
  };
  auto eq = ov.find('=');
  if (eq == std::string::npos) fail("", "expected PATH=VALUE");
  std::string path_text = ov.substr(0, eq);
  std::string value_text = ov.substr(eq + 1);
  auto tokens = parse_override_path(path_text);
  if (!tokens)
    fail("", "bad path " + quote(path_text) + " (use keys and indices like links[0].loss or links.0.loss)");

  json value = json::parse(value_text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = value_text;

  json* cur = &doc;
  std::string cur_path;
  for (size_t k = 0; k < tokens->size(); ++k) {
    const auto& t = (*tokens)[k];
    const bool last = k + 1 == tokens->size();
    if (t.is_index) {
      std::string here = index_path(cur_path, t.index);
      if (!cur->is_array())
        fail(show_path(cur_path), std::string("is ") + (cur->is_object() ? "an object" : cur->type_name()) +
                                      ", not an array");
      if (last && t.index == cur->size()) {  // one past the end appends
        cur->push_back(value);
        return;
      }
      if (t.index >= cur->size())
        fail(here, "no such element (" + show_path(cur_path) + " has " + std::to_string(cur->size()) + ")");
      if (last) {
        (*cur)[t.index] = value;
        return;
      }
      cur = &(*cur)[t.index];
      cur_path = here;
    } else {
      std::string here = join_path(cur_path, t.key);
      if (!cur->is_object()) {
        if (cur->is_array())
          fail(show_path(cur_path), "is an array, use an index like " + index_path(cur_path, 0));
        fail(show_path(cur_path), std::string("is a ") + cur->type_name() + ", not an object");
      }
      if (last) {
        (*cur)[t.key] = value;
        return;
      }
      // A missing intermediate key becomes an empty object, or an empty array if an index
      // follows (so "trace.pcap=false" works without a "trace" in the file, and "apps[0]=..."
      // without "apps"); validation then judges the key.
      if (!cur->contains(t.key)) (*cur)[t.key] = (*tokens)[k + 1].is_index ? json::array() : json::object();
      cur = &(*cur)[t.key];
      cur_path = here;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Validation

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  Scenario load(const json& doc);

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw ScenarioError(source_ + ": " + show_path(path) + ": " + problem);
  }

  void expect_object(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, std::string("must be an object, got ") + j.type_name());
  }
  void expect_array(const json& j, const std::string& path) const {
    if (!j.is_array()) fail(path, std::string("must be an array, got ") + j.type_name());
  }

  void check_keys(const json& j, const std::string& path, const std::vector<std::string>& allowed) const {
    for (const auto& [key, _] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string best;
      size_t best_d = std::numeric_limits<size_t>::max();
      for (const auto& a : allowed) {
        size_t d = edit_distance(lower(key), lower(a));
        if (d < best_d) {
          best_d = d;
          best = a;
        }
      }
      size_t threshold = std::max<size_t>(1, std::min(key.size(), best.size()) / 3);
      if (best_d <= threshold)
        fail(join_path(path, key), "unknown key (did you mean " + quote(best) + "?)");
      fail(join_path(path, key), "unknown key (expected one of: " + join_names(allowed) + ")");
    }
  }

  const json& require(const json& obj, const std::string& path, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(path, std::string("missing required key \"") + key + "\"");
    return *it;
  }

  std::string get_string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, std::string("must be a string, got ") + j.type_name());
    return j.get<std::string>();
  }

  std::string get_identifier(const json& j, const std::string& path) const {
    std::string s = get_string(j, path);
    if (s.empty()) fail(path, "must not be empty");
    if (!is_identifier(s))
      fail(path, "must contain only letters, digits, '_', '-' and '.', got " + quote(s));
    return s;
  }

  bool get_bool(const json& j, const std::string& path) const {
    if (!j.is_boolean()) fail(path, std::string("must be true or false, got ") + j.type_name());
    return j.get<bool>();
  }

  double get_number(const json& j, const std::string& path) const {
    if (!j.is_number()) fail(path, std::string("must be a number, got ") + j.type_name());
    return j.get<double>();
  }

  /// An integer-valued JSON number, clamped to int64 (range checks then report it).
  int64_t get_integer(const json& j, const std::string& path) const {
    if (j.is_number_unsigned()) {
      auto u = j.get<uint64_t>();
      return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                              : static_cast<int64_t>(u);
    }
    if (j.is_number_integer()) return j.get<int64_t>();
    if (j.is_number_float()) {
      double d = j.get<double>();
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d > -9.2e18 && d < 9.2e18)
        return static_cast<int64_t>(d);
      fail(path, "must be an integer, got " + j.dump());
    }
    fail(path, std::string("must be an integer, got ") + j.type_name());
  }

  int64_t get_int_in(const json& j, const std::string& path, int64_t lo, int64_t hi) const {
    int64_t v = get_integer(j, path);
    if (v < lo || v > hi)
      fail(path, "must be in [" + std::to_string(lo) + "," + std::to_string(hi) + "], got " + j.dump());
    return v;
  }

  /// The text of a unit value: a string as is, a number as its JSON spelling (which is
  /// the shortest round-trip decimal, so 0.0015 -> "0.0015" -> exactly 1500000 ns).
  std::string unit_text(const json& j, const std::string& path, const char* example) const {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number()) return j.dump();
    fail(path, std::string("must be a number or a string like \"") + example + "\", got " + j.type_name());
  }

  uint64_t get_bandwidth(const json& j, const std::string& path) const {
    std::string t = unit_text(j, path, "10Mbps");
    uint64_t v = 0;
    try {
      v = parse_bandwidth(t);
    } catch (const std::exception& e) {
      fail(path, "bad bandwidth " + quote(t) + ": " + e.what());
    }
    if (v == 0) fail(path, "must be > 0, got " + j.dump());
    return v;
  }

  Duration get_duration(const json& j, const std::string& path) const {
    std::string t = unit_text(j, path, "5ms");
    try {
      return parse_duration(t);
    } catch (const std::exception& e) {
      fail(path, "bad duration " + quote(t) + ": " + e.what());
    }
  }
  Duration get_duration_min(const json& j, const std::string& path, bool strictly_positive) const {
    Duration d = get_duration(j, path);
    if (strictly_positive && d.ns <= 0) fail(path, "must be > 0, got " + j.dump());
    if (!strictly_positive && d.ns < 0) fail(path, "must be >= 0, got " + j.dump());
    return d;
  }

  uint64_t get_size(const json& j, const std::string& path) const {
    std::string t = unit_text(j, path, "1500");
    try {
      return parse_size(t);
    } catch (const std::exception& e) {
      fail(path, "bad size " + quote(t) + ": " + e.what());
    }
  }

  uint64_t get_seed(const json& j, const std::string& path) const {
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer()) fail(path, "must be an unsigned 64-bit integer, got " + j.dump());
    if (j.is_string()) {
      std::string s = j.get<std::string>();
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        fail(path, "must be an unsigned 64-bit integer, got " + j.dump());
      return v;
    }
    fail(path, std::string("must be an unsigned 64-bit integer (a number or a decimal string), got ") +
                   (j.is_number() ? j.dump() : std::string(j.type_name())));
  }

  void load_node(const json& j, const std::string& path, Node& node, size_t index);
  void load_routes(const json& j, const std::string& path, Node& node);
  void load_direction(const json& j, const std::string& path, LinkDirection& d) const;
  void load_link(const json& j, const std::string& path, Link& link, size_t index);
  void load_app(const json& j, const std::string& path, App& app, size_t index);
  void check_macs();
  void check_segments();
  void load_events(const json& j);
  void load_routing(const json& j);
  void load_transport(const json& j, const std::string& path, TransportOptions& t) const;

  std::string known_nodes() const {
    std::vector<std::string> names;
    for (const auto& n : sc_.nodes) names.push_back(n.name);
    return join_names(names);
  }
  // Lookups by name during loading: the first index with that name (names are unique once
  // loaded), so that a topology of many nodes, links and apps loads in linear time.
  const Node* find_node(const std::string& name) const {
    auto it = node_by_name_.find(name);
    return it == node_by_name_.end() ? nullptr : &sc_.nodes[it->second];
  }
  const Link* find_link(const std::string& name) const {
    auto it = link_by_name_.find(name);
    return it == link_by_name_.end() ? nullptr : &sc_.links[it->second];
  }
  const Node* node_or_fail(const std::string& name, const std::string& path) const {
    const Node* n = find_node(name);
    if (!n) fail(path, "unknown node " + quote(name) + " (known: " + known_nodes() + ")");
    return n;
  }
  std::string iface_names(const Node& n) const {
    std::vector<std::string> names;
    for (const auto& i : n.interfaces) names.push_back(i.name);
    return join_names(names);
  }

  std::string source_;
  Scenario sc_;
  std::string duration_text_ = "60s";
  std::vector<std::vector<bool>> mac_given_;      // [node][iface]
  std::map<std::string, std::string> used_ends_;  // "a:eth0" -> "links[0]"
  std::unordered_map<std::string, size_t> node_by_name_;  // name -> index in sc_.nodes
  std::unordered_map<std::string, size_t> link_by_name_;  // name -> index in sc_.links
  std::unordered_map<std::string, size_t> app_by_name_;   // name -> index in sc_.apps
  // (target, port) -> the first bulk or http app (TCP receivers), the first udp app with a
  // receiver.
  std::map<std::pair<Ipv4Addr, uint16_t>, size_t> tcp_receivers_;
  std::map<std::pair<Ipv4Addr, uint16_t>, size_t> udp_receivers_;
};

Scenario Loader::load(const json& doc) {
  expect_object(doc, "");
  check_keys(doc, "", {"name", "description", "seed", "duration", "nodes", "links", "apps", "events", "routing",
                       "transport", "trace"});
  sc_.source = source_;

  std::string stem = std::filesystem::path(source_).stem().string();
  sc_.name = stem.empty() ? "scenario" : stem;
  if (auto it = doc.find("name"); it != doc.end()) {
    sc_.name = get_string(*it, "name");
    if (sc_.name.empty()) fail("name", "must not be empty");
  }
  if (auto it = doc.find("description"); it != doc.end()) sc_.description = get_string(*it, "description");
  if (auto it = doc.find("seed"); it != doc.end()) sc_.seed = get_seed(*it, "seed");
  if (auto it = doc.find("duration"); it != doc.end()) {
    sc_.duration = get_duration_min(*it, "duration", true);
    duration_text_ = it->is_string() ? it->get<std::string>() : it->dump() + "s";
  }

  if (auto it = doc.find("trace"); it != doc.end()) {
    expect_object(*it, "trace");
    check_keys(*it, "trace", {"log", "jsonl", "pcap", "summary", "l1_bits", "keylog"});
    auto flag = [&](const char* key, bool& out) {
      if (auto f = it->find(key); f != it->end()) out = get_bool(*f, join_path("trace", key));
    };
    flag("log", sc_.trace.log);
    flag("jsonl", sc_.trace.jsonl);
    flag("pcap", sc_.trace.pcap);
    flag("summary", sc_.trace.summary);
    flag("l1_bits", sc_.trace.l1_bits);
    flag("keylog", sc_.trace.keylog);
  }

  const json& nodes = require(doc, "", "nodes");
  expect_array(nodes, "nodes");
  if (nodes.empty()) fail("nodes", "must have at least one node");
  if (nodes.size() > 65536) fail("nodes", "too many nodes (at most 65536)");
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node node;
    load_node(nodes[i], index_path("nodes", i), node, i);
    sc_.nodes.push_back(std::move(node));
    node_by_name_.emplace(sc_.nodes.back().name, i);
  }
  // Routes after all nodes, so that node names are known; they only refer to their own node.
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (auto r = nodes[i].find("routes"); r != nodes[i].end())
      load_routes(*r, index_path("nodes", i) + ".routes", sc_.nodes[i]);
  }
  check_macs();

  if (auto it = doc.find("links"); it != doc.end()) {
    expect_array(*it, "links");
    for (size_t i = 0; i < it->size(); ++i) {
      Link link;
      load_link((*it)[i], index_path("links", i), link, i);
      sc_.links.push_back(std::move(link));
      link_by_name_.emplace(sc_.links.back().name, i);
    }
  }

  check_segments();
  if (auto it = doc.find("transport"); it != doc.end()) load_transport(*it, "transport", sc_.transport);

  if (auto it = doc.find("apps"); it != doc.end()) {
    expect_array(*it, "apps");
    for (size_t i = 0; i < it->size(); ++i) {
      App app;
      load_app((*it)[i], index_path("apps", i), app, i);
      sc_.apps.push_back(std::move(app));
      const App& a = sc_.apps.back();
      app_by_name_.emplace(a.name, i);
      if (a.kind == AppKind::Bulk || a.kind == AppKind::Http) tcp_receivers_.emplace(std::make_pair(a.target, a.port), i);
      if (a.kind == AppKind::Udp && a.receiver) udp_receivers_.emplace(std::make_pair(a.target, a.port), i);
    }
  }
  if (auto it = doc.find("events"); it != doc.end()) load_events(*it);
  if (auto it = doc.find("routing"); it != doc.end()) load_routing(*it);
  return std::move(sc_);
}

// An Ethernet segment is a set of interfaces joined by links and switches. Its IP
// interfaces must share one subnet and have distinct addresses; switches must not form
// a loop (there is no spanning tree protocol: a loop would circulate broadcasts forever).
void Loader::check_segments() {
  // Union-find over (node, iface) ends; a switch joins all its ports.
  std::map<std::string, std::string> parent;
  std::function<std::string(const std::string&)> find = [&](const std::string& x) -> std::string {
    auto it = parent.find(x);
    if (it == parent.end() || it->second == x) return x;
    return it->second = find(it->second);
  };
  auto unite = [&](const std::string& x, const std::string& y) {
    std::string rx = find(x), ry = find(y);
    if (rx == ry) return false;
    parent[rx] = ry;
    return true;
  };
  for (const auto& n : sc_.nodes)
    for (const auto& i : n.interfaces) parent[n.name + ":" + i.name] = n.name + ":" + i.name;
  // Switch-to-switch links first, to detect loops among switches.
  std::map<std::string, std::string> sw_parent;
  std::function<std::string(const std::string&)> sw_find = [&](const std::string& x) -> std::string {
    auto it = sw_parent.find(x);
    if (it == sw_parent.end() || it->second == x) return x;
    return it->second = sw_find(it->second);
  };
  for (size_t li = 0; li < sc_.links.size(); ++li) {
    const Link& l = sc_.links[li];
    const Node* a = find_node(l.a_node);
    const Node* b = find_node(l.b_node);
    if (a->kind == NodeKind::Switch && b->kind == NodeKind::Switch) {
      std::string ra = sw_find(a->name), rb = sw_find(b->name);
      if (ra == rb)
        fail(index_path("links", li) + ".ends",
             "this link closes a loop of switches (" + l.a_node + " and " + l.b_node +
                 " are already connected); without a spanning tree protocol broadcasts would loop forever");
      sw_parent[ra] = rb;
    }
    unite(l.a_node + ":" + l.a_iface, l.b_node + ":" + l.b_iface);
  }
  for (const auto& n : sc_.nodes) {
    if (n.kind != NodeKind::Switch) continue;
    for (size_t k = 1; k < n.interfaces.size(); ++k)
      unite(n.name + ":" + n.interfaces[0].name, n.name + ":" + n.interfaces[k].name);
  }
  // Per segment: the first IP interface seen fixes the subnet; addresses are unique.
  struct Seen { Ipv4Cidr subnet; std::string where; std::map<Ipv4Addr, std::string> addrs; };
  std::map<std::string, Seen> segs;
  for (size_t i = 0; i < sc_.nodes.size(); ++i) {
    const Node& n = sc_.nodes[i];
    if (n.kind == NodeKind::Switch) continue;
    for (size_t k = 0; k < n.interfaces.size(); ++k) {
      const Interface& ifc = n.interfaces[k];
      const std::string key = n.name + ":" + ifc.name;
      const std::string root = find(key);
      const std::string p = index_path(index_path("nodes", i) + ".interfaces", k) + ".address";
      auto [it, fresh] = segs.try_emplace(root);
      Seen& sg = it->second;
      if (fresh) {
        sg.subnet = ifc.address;
        sg.where = key;
      } else if (sg.subnet.prefix_len != ifc.address.prefix_len || sg.subnet.network() != ifc.address.network()) {
        fail(p, key + " (" + ifc.address.to_string() + ") is on the same Ethernet segment as " + sg.where + " (" +
                    sg.subnet.to_string() + ") but not in the same IP subnet");
      }
      auto [at, new_addr] = sg.addrs.emplace(ifc.address.addr, key);
      if (!new_addr)
        fail(p, key + " has the address " + ifc.address.addr.to_string() + " of " + at->second +
                    ", on the same Ethernet segment");
    }
  }
}

void Loader::load_events(const json& j) {
  expect_array(j, "events");
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = index_path("events", i);
    const json& ej = j[i];
    expect_object(ej, p);
    check_keys(ej, p, {"at", "link", "action"});
    LinkEvent e;
    Duration at = get_duration_min(require(ej, p, "at"), p + ".at", false);
    if (at >= sc_.duration)
      fail(p + ".at", "must be before the end of the run (duration " + duration_text_ + "), got " + ej["at"].dump());
    e.at = Time::zero() + at;
    e.link = get_string(require(ej, p, "link"), p + ".link");
    if (!find_link(e.link)) {
      std::vector<std::string> names;
      for (const auto& l : sc_.links) names.push_back(l.name);
      fail(p + ".link", "unknown link " + quote(e.link) + " (links: " + join_names(names) + ")");
    }
    const std::string action = get_string(require(ej, p, "action"), p + ".action");
    if (action == "up") e.up = true;
    else if (action == "down") e.up = false;
    else fail(p + ".action", "must be \"up\" or \"down\", got " + quote(action));
    sc_.events.push_back(std::move(e));
  }
  std::stable_sort(sc_.events.begin(), sc_.events.end(),
                   [](const LinkEvent& a, const LinkEvent& b) { return a.at < b.at; });
}

void Loader::load_transport(const json& j, const std::string& path, TransportOptions& t) const {
  expect_object(j, path);
  check_keys(j, path, {"mode", "window_segments", "sack", "window_scale", "timestamps", "delayed_ack", "ack_delay",
                       "nagle", "min_rto", "initial_rto", "time_wait", "rcv_buf", "snd_buf", "max_retries",
                       "initial_window"});
  if (auto it = j.find("mode"); it != j.end()) {
    const std::string m = get_string(*it, join_path(path, "mode"));
    if (m == "stop-and-wait") t.window_segments = 1;
    else if (m == "sliding-window") t.window_segments = 0;
    else fail(join_path(path, "mode"), "must be \"stop-and-wait\" or \"sliding-window\", got " + quote(m));
  }
  if (auto it = j.find("window_segments"); it != j.end())
    t.window_segments = static_cast<uint32_t>(get_int_in(*it, join_path(path, "window_segments"), 0, 1 << 20));
  auto flag = [&](const char* key, bool& out) {
    if (auto f = j.find(key); f != j.end()) out = get_bool(*f, join_path(path, key));
  };
  flag("sack", t.sack);
  flag("window_scale", t.window_scale);
  flag("timestamps", t.timestamps);
  flag("delayed_ack", t.delayed_ack);
  flag("nagle", t.nagle);
  if (auto it = j.find("ack_delay"); it != j.end()) t.ack_delay = get_duration_min(*it, join_path(path, "ack_delay"), true);
  if (auto it = j.find("min_rto"); it != j.end()) t.min_rto = get_duration_min(*it, join_path(path, "min_rto"), true);
  if (auto it = j.find("initial_rto"); it != j.end())
    t.initial_rto = get_duration_min(*it, join_path(path, "initial_rto"), true);
  if (auto it = j.find("time_wait"); it != j.end()) t.time_wait = get_duration_min(*it, join_path(path, "time_wait"), false);
  auto buf = [&](const char* key, uint32_t& out) {
    if (auto f = j.find(key); f != j.end()) {
      const uint64_t v = get_size(*f, join_path(path, key));
      if (v < 2048 || v > (1u << 30)) fail(join_path(path, key), "must be in [2048, 1GiB], got " + f->dump());
      out = static_cast<uint32_t>(v);
    }
  };
  buf("rcv_buf", t.rcv_buf);
  buf("snd_buf", t.snd_buf);
  if (auto it = j.find("max_retries"); it != j.end())
    t.max_retries = static_cast<uint32_t>(get_int_in(*it, join_path(path, "max_retries"), 1, 30));
  if (auto it = j.find("initial_window"); it != j.end())
    t.initial_window = static_cast<uint32_t>(get_int_in(*it, join_path(path, "initial_window"), 1, 100));
}

void Loader::load_routing(const json& j) {
  expect_object(j, "routing");
  check_keys(j, "routing", {"recompute", "delay"});
  if (auto it = j.find("recompute"); it != j.end()) sc_.routing.recompute = get_bool(*it, "routing.recompute");
  if (auto it = j.find("delay"); it != j.end()) sc_.routing.delay = get_duration_min(*it, "routing.delay", false);
}

void Loader::load_node(const json& j, const std::string& path, Node& node, size_t index) {
  expect_object(j, path);
  check_keys(j, path, {"name", "kind", "interfaces", "routes", "ttl"});
  node.name = get_identifier(require(j, path, "name"), path + ".name");
  if (find_node(node.name)) fail(path + ".name", "duplicate node name " + quote(node.name));

  if (auto it = j.find("kind"); it != j.end()) {
    std::string k = get_string(*it, path + ".kind");
    if (k == "host")
      node.kind = NodeKind::Host;
    else if (k == "router")
      node.kind = NodeKind::Router;
    else if (k == "switch")
      node.kind = NodeKind::Switch;
    else
      fail(path + ".kind", "must be one of \"host\", \"router\", \"switch\", got " + quote(k));
  }
  if (auto it = j.find("ttl"); it != j.end())
    node.default_ttl = static_cast<uint8_t>(get_int_in(*it, path + ".ttl", 1, 255));

  std::vector<bool> given;
  if (auto it = j.find("interfaces"); it != j.end()) {
    const std::string ipath = path + ".interfaces";
    expect_array(*it, ipath);
    if (it->size() > 65536) fail(ipath, "too many interfaces (at most 65536)");
    for (size_t k = 0; k < it->size(); ++k) {
      const json& ij = (*it)[k];
      const std::string p = index_path(ipath, k);
      expect_object(ij, p);
      check_keys(ij, p, {"name", "address", "mac"});
      Interface ifc;
      ifc.name = get_identifier(require(ij, p, "name"), p + ".name");
      if (node.find_interface(ifc.name))
        fail(p + ".name", "duplicate interface name " + quote(ifc.name) + " on node " + quote(node.name));

      if (node.kind == NodeKind::Switch) {
        if (ij.contains("address"))
          fail(p + ".address", "a switch port has no IP address (a switch works at layer 2 only)");
        ifc.address = Ipv4Cidr{Ipv4Addr::any(), 32};
      } else {
      const json& aj = require(ij, p, "address");
      std::string a = get_string(aj, p + ".address");
      auto cidr = Ipv4Cidr::parse(a);
      if (!cidr) fail(p + ".address", "not an IPv4 prefix like 10.0.0.1/24: " + quote(a));
      if (!is_usable_host_address(cidr->addr))
        fail(p + ".address", "not a usable unicast host address: " + quote(a));
      if (cidr->prefix_len <= 30 && cidr->addr == cidr->network())
        fail(p + ".address", quote(a) + " is the network address of its subnet, not a host address");
      if (cidr->prefix_len <= 30 && cidr->addr == cidr->directed_broadcast())
        fail(p + ".address", quote(a) + " is the broadcast address of its subnet, not a host address");
      ifc.address = *cidr;
      }

      if (auto m = ij.find("mac"); m != ij.end()) {
        std::string ms = get_string(*m, p + ".mac");
        auto mac = MacAddr::parse(ms);
        if (!mac) fail(p + ".mac", "not a MAC address like 02:00:00:00:00:01: " + quote(ms));
        if (mac->is_multicast()) fail(p + ".mac", "must be a unicast MAC (first octet even), got " + quote(ms));
        if (*mac == MacAddr::zero()) fail(p + ".mac", "must not be all zeros");
        ifc.mac = *mac;
        given.push_back(true);
      } else {
        ifc.mac = derived_mac(static_cast<uint16_t>(index), static_cast<uint16_t>(k));
        given.push_back(false);
      }
      node.interfaces.push_back(std::move(ifc));
    }
  }
  mac_given_.push_back(std::move(given));
  if (node.kind == NodeKind::Switch) {
    if (j.contains("routes")) fail(path + ".routes", "a switch has no routes (it forwards by MAC address)");
    if (j.contains("ttl")) fail(path + ".ttl", "a switch sends no IP packets");
  }
  if (node.kind == NodeKind::Router && node.interfaces.size() < 2)
    fail(path + ".interfaces", "a router forwards between interfaces and needs at least 2, " + quote(node.name) +
                                   " has " + std::to_string(node.interfaces.size()) +
                                   " (make it a \"host\" if it should not forward)");
}

void Loader::check_macs() {
  std::map<MacAddr, std::string> seen;
  for (size_t i = 0; i < sc_.nodes.size(); ++i) {
    for (size_t k = 0; k < sc_.nodes[i].interfaces.size(); ++k) {
      const MacAddr& mac = sc_.nodes[i].interfaces[k].mac;
      std::string p = index_path(index_path("nodes", i) + ".interfaces", k);
      auto [it, fresh] = seen.emplace(mac, p);
      if (fresh) continue;
      if (mac_given_[i][k])
        fail(p + ".mac", "MAC " + mac.to_string() + " is already used by " + it->second);
      fail(p, "derived MAC " + mac.to_string() + " is already used by " + it->second +
                  " (give this interface a \"mac\")");
    }
  }
}

void Loader::load_routes(const json& j, const std::string& path, Node& node) {
  if (j.is_string()) {
    if (j.get<std::string>() != "auto") fail(path, "must be an array or \"auto\", got " + j.dump());
    node.routes_auto = true;
    return;
  }
  if (!j.is_array()) fail(path, std::string("must be an array or \"auto\", got ") + j.type_name());
  for (size_t k = 0; k < j.size(); ++k) {
    const json& rj = j[k];
    const std::string p = index_path(path, k);
    expect_object(rj, p);
    check_keys(rj, p, {"to", "via", "iface"});
    Route r;
    std::string to = get_string(require(rj, p, "to"), p + ".to");
    if (to == "default") {
      r.dest = Ipv4Cidr{Ipv4Addr::any(), 0};
    } else if (auto c = Ipv4Cidr::parse(to)) {
      r.dest = *c;
      if (c->addr != c->network())
        fail(p + ".to", quote(to) + " has host bits set (did you mean " + quote(c->network().to_string() + "/" +
                                                                                std::to_string(c->prefix_len)) +
                            "?)");
    } else if (auto a = Ipv4Addr::parse(to)) {
      r.dest = Ipv4Cidr{*a, 32};
    } else {
      fail(p + ".to", "not an IPv4 prefix like 10.0.0.0/8 or \"default\": " + quote(to));
    }
    for (size_t q = 0; q < node.routes.size(); ++q)
      if (node.routes[q].dest == r.dest)
        fail(p + ".to", "duplicate route to " + r.dest.to_string() + " (also " + index_path(path, q) + ")");

    const Interface* out = nullptr;
    if (auto it = rj.find("iface"); it != rj.end()) {
      r.iface = get_string(*it, p + ".iface");
      out = node.find_interface(r.iface);
      if (!out)
        fail(p + ".iface", "node " + quote(node.name) + " has no interface " + quote(r.iface) + " (has: " +
                               iface_names(node) + ")");
    }
    if (auto it = rj.find("via"); it != rj.end()) {
      std::string v = get_string(*it, p + ".via");
      auto a = Ipv4Addr::parse(v);
      if (!a) fail(p + ".via", "not an IPv4 address like 10.0.0.254: " + quote(v));
      for (const auto& ifc : node.interfaces)
        if (ifc.address.addr == *a) fail(p + ".via", v + " is an address of node " + quote(node.name) + " itself");
      if (out) {
        if (!out->address.contains(*a))
          fail(p + ".via", v + " is not in the subnet of " + node.name + ":" + out->name + " (" +
                               out->address.to_string() + ")");
      } else {
        bool on_link = std::any_of(node.interfaces.begin(), node.interfaces.end(),
                                   [&](const Interface& ifc) { return ifc.address.contains(*a); });
        if (!on_link) fail(p + ".via", v + " is not in the subnet of any interface of node " + quote(node.name));
      }
      r.via = *a;
    }
    if (!r.via && r.iface.empty()) fail(p, "a route needs \"via\" or \"iface\" (or both)");
    node.routes.push_back(std::move(r));
  }
}

void Loader::load_direction(const json& j, const std::string& path, LinkDirection& d) const {
  if (auto it = j.find("bandwidth"); it != j.end()) d.bandwidth_bps = get_bandwidth(*it, join_path(path, "bandwidth"));
  if (auto it = j.find("delay"); it != j.end()) d.delay = get_duration_min(*it, join_path(path, "delay"), false);
  if (auto it = j.find("loss"); it != j.end()) {
    double v = get_number(*it, join_path(path, "loss"));
    if (!(v >= 0.0 && v <= 1.0)) fail(join_path(path, "loss"), "must be in [0,1], got " + it->dump());
    d.loss = v;
  }
  if (auto it = j.find("ber"); it != j.end()) {
    double v = get_number(*it, join_path(path, "ber"));
    if (!(v >= 0.0 && v < 1.0)) fail(join_path(path, "ber"), "must be in [0,1), got " + it->dump());
    d.ber = v;
  }
  if (auto it = j.find("queue"); it != j.end()) {
    int64_t v = get_integer(*it, join_path(path, "queue"));
    if (v < 1) fail(join_path(path, "queue"), "must be >= 1, got " + it->dump());
    if (v > std::numeric_limits<uint32_t>::max())
      fail(join_path(path, "queue"), "must be <= 4294967295, got " + it->dump());
    d.queue_frames = static_cast<uint32_t>(v);
  }
  if (auto it = j.find("duplicate"); it != j.end()) {
    double v = get_number(*it, join_path(path, "duplicate"));
    if (!(v >= 0.0 && v <= 1.0)) fail(join_path(path, "duplicate"), "must be in [0,1], got " + it->dump());
    d.duplicate = v;
  }
  if (auto it = j.find("jitter"); it != j.end()) d.jitter = get_duration_min(*it, join_path(path, "jitter"), false);
}

void Loader::load_link(const json& j, const std::string& path, Link& link, size_t /*index*/) {
  expect_object(j, path);
  check_keys(j, path, {"name", "ends", "bandwidth", "delay", "loss", "ber", "mtu", "queue", "duplicate", "jitter",
                       "cost", "a_to_b", "b_to_a"});

  const std::string epath = path + ".ends";
  const json& ends = require(j, path, "ends");
  expect_array(ends, epath);
  if (ends.size() != 2) fail(epath, "must have exactly 2 elements, got " + std::to_string(ends.size()));
  const Node* nodes[2];
  const Interface* ifaces[2];
  std::string end_names[2];
  for (size_t e = 0; e < 2; ++e) {
    const std::string p = index_path(epath, e);
    std::string s = get_string(ends[e], p);
    auto colon = s.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() || s.find(':', colon + 1) != std::string::npos)
      fail(p, "must look like \"node:iface\", got " + quote(s));
    std::string nn = s.substr(0, colon), in = s.substr(colon + 1);
    nodes[e] = node_or_fail(nn, p);
    ifaces[e] = nodes[e]->find_interface(in);
    if (!ifaces[e])
      fail(p, "node " + quote(nn) + " has no interface " + quote(in) + " (has: " + iface_names(*nodes[e]) + ")");
    end_names[e] = s;
  }
  if (nodes[0] == nodes[1])
    fail(epath, "both ends are on node " + quote(nodes[0]->name) + "; a link joins two different nodes");
  for (size_t e = 0; e < 2; ++e) {
    auto it = used_ends_.find(end_names[e]);
    if (it != used_ends_.end())
      fail(index_path(epath, e), "interface " + quote(end_names[e]) + " is already used by " + it->second);
  }
  for (size_t e = 0; e < 2; ++e) used_ends_.emplace(end_names[e], path);

  const Ipv4Cidr &a = ifaces[0]->address, &b = ifaces[1]->address;
  const bool l2_only = nodes[0]->kind == NodeKind::Switch || nodes[1]->kind == NodeKind::Switch;
  if (l2_only) {
    // Checked per Ethernet segment once all links are known (check_segments).
  } else if (a.prefix_len != b.prefix_len || a.network() != b.network())
    fail(epath, end_names[0] + " (" + a.to_string() + ") and " + end_names[1] + " (" + b.to_string() +
                    ") are not in the same IP subnet");
  if (!l2_only && a.addr == b.addr)
    fail(epath, end_names[0] + " and " + end_names[1] + " have the same address " + a.addr.to_string());

  link.a_node = nodes[0]->name;
  link.a_iface = ifaces[0]->name;
  link.b_node = nodes[1]->name;
  link.b_iface = ifaces[1]->name;

  if (auto it = j.find("name"); it != j.end()) {
    link.name = get_string(*it, path + ".name");
    if (link.name.empty()) fail(path + ".name", "must not be empty");
  } else {
    link.name = end_names[0] + "-" + end_names[1];
  }
  if (auto q = link_by_name_.find(link.name); q != link_by_name_.end())
    fail(path + ".name", "duplicate link name " + quote(link.name) + " (also " + index_path("links", q->second) + ")");

  if (auto it = j.find("mtu"); it != j.end()) {
    uint64_t v = get_size(*it, path + ".mtu");
    if (v < 68 || v > 9000) fail(path + ".mtu", "must be in [68,9000], got " + it->dump());
    link.mtu = static_cast<uint32_t>(v);
  }
  if (auto it = j.find("cost"); it != j.end())
    link.cost = static_cast<uint32_t>(get_int_in(*it, path + ".cost", 1, 1000000));

  LinkDirection base;
  load_direction(j, path, base);
  link.a_to_b = base;
  link.b_to_a = base;
  const std::pair<const char*, LinkDirection*> dirs[] = {{"a_to_b", &link.a_to_b}, {"b_to_a", &link.b_to_a}};
  for (const auto& [key, dir] : dirs) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    const std::string p = join_path(path, key);
    expect_object(*it, p);
    check_keys(*it, p, {"bandwidth", "delay", "loss", "ber", "queue", "duplicate", "jitter"});
    load_direction(*it, p, *dir);
  }
}

void Loader::load_app(const json& j, const std::string& path, App& app, size_t index) {
  expect_object(j, path);
  // The keys allowed depend on the kind; with an unknown kind, unknown keys are reported
  // first, against the ping keys.
  std::string kind = "ping";
  if (auto it = j.find("kind"); it != j.end() && it->is_string()) kind = it->get<std::string>();
  if (kind == "udp")
    check_keys(j, path, {"kind", "name", "node", "start", "target", "port", "size", "count", "rate", "interval",
                         "timeout", "receiver"});
  else if (kind == "traceroute")
    check_keys(j, path, {"kind", "name", "node", "start", "target", "max_ttl", "probes", "timeout"});
  else if (kind == "bulk")
    check_keys(j, path, {"kind", "name", "node", "start", "target", "port", "bytes", "duration", "tls", "transport"});
  else if (kind == "http")
    check_keys(j, path, {"kind", "name", "node", "start", "target", "port", "message", "file", "requests",
                         "connections", "keep_alive", "timeout", "tls", "transport"});
  else
    check_keys(j, path, {"kind", "name", "node", "start", "target", "count", "interval", "size", "timeout", "df"});
  kind = "ping";
  if (auto it = j.find("kind"); it != j.end()) {
    kind = get_string(*it, path + ".kind");
    if (kind != "ping" && kind != "udp" && kind != "traceroute" && kind != "bulk" && kind != "http")
      fail(path + ".kind", "must be one of \"ping\", \"udp\", \"traceroute\", \"bulk\", \"http\", got " + quote(kind));
  }
  app.kind = kind == "udp"          ? AppKind::Udp
             : kind == "traceroute" ? AppKind::Traceroute
             : kind == "bulk"       ? AppKind::Bulk
             : kind == "http"       ? AppKind::Http
                                    : AppKind::Ping;
  app.transport = sc_.transport;
  if (app.kind == AppKind::Bulk) {
    app.port = 5001;
    if (auto it = j.find("port"); it != j.end())
      app.port = static_cast<uint16_t>(get_int_in(*it, path + ".port", 1, 65535));
    if (auto it = j.find("bytes"); it != j.end()) {
      if (j.contains("duration")) fail(path + ".bytes", "give either \"bytes\" or \"duration\", not both");
      app.bytes = get_size(*it, path + ".bytes");
      if (app.bytes == 0) fail(path + ".bytes", "must be > 0, got " + it->dump());
    }
    if (auto it = j.find("duration"); it != j.end()) app.send_for = get_duration_min(*it, path + ".duration", true);
    if (auto it = j.find("tls"); it != j.end()) app.tls = get_bool(*it, path + ".tls");
    if (auto it = j.find("transport"); it != j.end()) load_transport(*it, path + ".transport", app.transport);
    if (auto q = tcp_receivers_.find(std::make_pair(app.target, app.port)); q != tcp_receivers_.end())
      fail(path + ".port", "TCP port " + std::to_string(app.port) + " on " + app.target.to_string() +
                               " already has a receiver (" + index_path("apps", q->second) +
                               "); a bulk receiver takes one transfer");
  }
  if (app.kind == AppKind::Http) {
    app.port = 65432;
    app.timeout = Duration::seconds(30);
    if (auto it = j.find("port"); it != j.end())
      app.port = static_cast<uint16_t>(get_int_in(*it, path + ".port", 1, 65535));
    if (auto it = j.find("message"); it != j.end()) {
      if (j.contains("file")) fail(path + ".message", "give either \"message\" or \"file\", not both");
      app.message = get_string(*it, path + ".message");
    }
    if (auto it = j.find("file"); it != j.end()) {
      const std::string f = get_string(*it, path + ".file");
      std::filesystem::path fp(f);
      if (fp.is_relative()) fp = std::filesystem::path(source_).parent_path() / fp;
      std::FILE* fh = std::fopen(fp.string().c_str(), "rb");
      if (!fh) fail(path + ".file", "cannot open " + quote(fp.string()) + ": " + std::strerror(errno));
      std::string text;
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof buf, fh)) > 0;) {
        text.append(buf, n);
        if (text.size() > (1u << 20)) {
          std::fclose(fh);
          fail(path + ".file", quote(fp.string()) + " is larger than 1 MiB");
        }
      }
      std::fclose(fh);
      app.message = std::move(text);
    }
    if (auto it = j.find("requests"); it != j.end())
      app.requests = static_cast<uint32_t>(get_int_in(*it, path + ".requests", 1, 100000));
    if (auto it = j.find("connections"); it != j.end())
      app.connections = static_cast<uint32_t>(get_int_in(*it, path + ".connections", 1, 10000));
    if (auto it = j.find("keep_alive"); it != j.end()) app.keep_alive = get_bool(*it, path + ".keep_alive");
    if (auto it = j.find("tls"); it != j.end()) {
      const std::string tp = path + ".tls";
      expect_object(*it, tp);
      check_keys(*it, tp, {"server_key", "pinned_key"});
      auto key = [&](const char* k) -> std::optional<std::array<uint8_t, 32>> {
        auto f = it->find(k);
        if (f == it->end()) return std::nullopt;
        const std::string h = get_string(*f, join_path(tp, k));
        mz::Bytes b;
        if (!mz::from_hex(h, b) || b.size() != 32)
          fail(join_path(tp, k), "must be 32 bytes in hex (64 hex digits), got " + quote(h));
        std::array<uint8_t, 32> a{};
        std::copy(b.begin(), b.end(), a.begin());
        return a;
      };
      app.server_key = key("server_key");
      app.pinned_key = key("pinned_key");
    }
    if (auto it = j.find("transport"); it != j.end()) load_transport(*it, path + ".transport", app.transport);
  }
  if (app.kind == AppKind::Udp) {  // udp's own defaults
    app.size = 512;
    app.count = 100;
    app.interval = Duration::millis(10);
  }

  if (auto it = j.find("name"); it != j.end()) {
    app.name = get_identifier(*it, path + ".name");
  } else {
    app.name = kind + std::to_string(index);
  }
  if (auto q = app_by_name_.find(app.name); q != app_by_name_.end())
    fail(path + ".name", "duplicate app name " + quote(app.name) + " (also " + index_path("apps", q->second) + ")");

  const Node* on = node_or_fail(get_string(require(j, path, "node"), path + ".node"), path + ".node");
  if (on->kind == NodeKind::Switch)
    fail(path + ".node", quote(on->name) + " is a switch: applications run on hosts and routers");
  app.node = on->name;

  if (auto it = j.find("start"); it != j.end()) {
    Duration d = get_duration_min(*it, path + ".start", false);
    if (d >= sc_.duration)
      fail(path + ".start", "must be before the end of the run (duration " + duration_text_ + "), got " + it->dump());
    app.start = Time::zero() + d;
  }

  const std::string tpath = path + ".target";
  std::string target = get_string(require(j, path, "target"), tpath);
  if (const Node* n = find_node(target)) {
    if (n->kind == NodeKind::Switch) fail(tpath, quote(target) + " is a switch, it has no IP address");
    if (n->interfaces.empty())
      fail(tpath, "node " + quote(target) + " has no interfaces, so no address to " +
                      (app.kind == AppKind::Ping ? "ping" : "reach"));
    app.target = n->interfaces.front().address.addr;
  } else if (auto a = Ipv4Addr::parse(target)) {
    app.target = *a;
  } else {
    fail(tpath, "unknown node or address " + quote(target));
  }

  if (auto it = j.find("count"); it != j.end()) {
    int64_t v = get_integer(*it, path + ".count");
    if (v < 1) fail(path + ".count", "must be >= 1, got " + it->dump());
    if (v > std::numeric_limits<uint32_t>::max()) fail(path + ".count", "must be <= 4294967295, got " + it->dump());
    app.count = static_cast<uint32_t>(v);
  }
  if (auto it = j.find("interval"); it != j.end()) app.interval = get_duration_min(*it, path + ".interval", true);
  if (auto it = j.find("size"); it != j.end()) {
    uint64_t v = get_size(*it, path + ".size");
    if (app.kind == AppKind::Udp && (v < 12 || v > 65507))
      fail(path + ".size",
           "must be in [12,65507] (a sequence number and a timestamp take 12 bytes), got " + it->dump());
    if (v > 65507) fail(path + ".size", "must be <= 65507, got " + it->dump());
    app.size = static_cast<uint32_t>(v);
  }
  if (auto it = j.find("timeout"); it != j.end()) app.timeout = get_duration_min(*it, path + ".timeout", true);

  if (app.kind == AppKind::Ping) {
    if (auto it = j.find("df"); it != j.end()) app.dont_fragment = get_bool(*it, path + ".df");
  }
  if (app.kind == AppKind::Udp) {
    if (auto it = j.find("port"); it != j.end())
      app.port = static_cast<uint16_t>(get_int_in(*it, path + ".port", 1, 65535));
    if (auto it = j.find("rate"); it != j.end()) {
      if (j.contains("interval")) fail(path + ".rate", "give either \"rate\" or \"interval\", not both");
      app.rate_bps = get_bandwidth(*it, path + ".rate");
      // One datagram every size*8/rate seconds, rounded up to a whole nanosecond.
      const uint64_t bits_ns = uint64_t{app.size} * 8 * 1'000'000'000;
      app.interval = Duration{static_cast<int64_t>((bits_ns + app.rate_bps - 1) / app.rate_bps)};
    }
    if (auto it = j.find("receiver"); it != j.end()) app.receiver = get_bool(*it, path + ".receiver");
    if (app.receiver) {
      if (auto q = udp_receivers_.find(std::make_pair(app.target, app.port)); q != udp_receivers_.end())
        fail(path + ".port", "port " + std::to_string(app.port) + " on " + app.target.to_string() +
                                 " already has a receiver (" + index_path("apps", q->second) + ")");
    }
  }
  if (app.kind == AppKind::Traceroute) {
    if (auto it = j.find("max_ttl"); it != j.end())
      app.max_ttl = static_cast<uint32_t>(get_int_in(*it, path + ".max_ttl", 1, 255));
    if (auto it = j.find("probes"); it != j.end())
      app.probes = static_cast<uint32_t>(get_int_in(*it, path + ".probes", 1, 10));
  }
}

}  // namespace

Scenario load_scenario_text(const std::string& text, const std::string& source,
                            const std::vector<std::string>& overrides) {
  try {
    json doc = parse_document(text, source);
    if (!overrides.empty() && !doc.is_object())
      throw ScenarioError(source + ": (top level): must be an object, got " + std::string(doc.type_name()));
    for (const auto& ov : overrides) apply_override(doc, ov, source);
    return Loader(source).load(doc);
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::exception& e) {
    throw ScenarioError(source + ": " + e.what());
  }
}

Scenario load_scenario_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ScenarioError(path + ": cannot open: " + std::strerror(EISDIR));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw ScenarioError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool bad = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (bad) throw ScenarioError(path + ": cannot read: " + std::strerror(err));
  return load_scenario_text(text, path, overrides);
}

}  // namespace mz::scenario
