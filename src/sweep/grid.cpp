#include "megzawicol/sweep/grid.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace mz::sweep {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint64_t parse_u64(const std::string& s, const std::string& what) {
  if (!all_digits(s) || s.size() > 20) throw SweepError(what);
  try {
    size_t used = 0;
    const unsigned long long v = std::stoull(s, &used);
    if (used != s.size()) throw SweepError(what);
    return v;
  } catch (const std::out_of_range&) {
    throw SweepError(what);
  } catch (const std::invalid_argument&) {
    throw SweepError(what);
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

// The path syntax of --set: keys and [index] / .index, e.g. links[0].loss, apps.1.transport.mode.
bool plausible_path(const std::string& p) {
  if (p.empty() || p.front() == '.' || p.front() == '[' || p.back() == '.') return false;
  int depth = 0;
  char prev = 0;
  for (char c : p) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (c == '[') {
      if (depth || prev == '.') return false;
      depth = 1;
    } else if (c == ']') {
      if (!depth || prev == '[') return false;
      depth = 0;
    } else if (depth) {
      if (c < '0' || c > '9') return false;
    } else if (c == '.') {
      if (prev == '.') return false;
    } else if (!word || prev == ']') {
      return false;  // a character outside a name, or a name after an index: "x[0]y"
    }
    prev = c;
  }
  return depth == 0;
}

}  // namespace

Vary parse_vary(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos)
    throw SweepError("--vary " + text + ": expected PATH=v1,v2,... (e.g. --vary links[0].loss=0,0.01,0.05)");
  Vary v;
  v.path = text.substr(0, eq);
  if (v.path.empty()) throw SweepError("--vary " + text + ": empty PATH");
  if (!plausible_path(v.path))
    throw SweepError("--vary " + text + ": bad path \"" + v.path + "\" (use keys and indices like links[0].loss)");
  if (v.path == "seed") throw SweepError("--vary " + text + ": use --seeds to vary the seed");
  const std::string list = text.substr(eq + 1);
  if (list.empty()) throw SweepError("--vary " + text + ": no values after '='");
  std::set<std::string> seen;
  for (auto& value : split(list, ',')) {
    if (value.empty()) throw SweepError("--vary " + text + ": empty value in the list");
    if (!seen.insert(value).second) throw SweepError("--vary " + text + ": value \"" + value + "\" is listed twice");
    v.values.push_back(std::move(value));
  }
  return v;
}

std::vector<uint64_t> parse_seeds(const std::string& text) {
  const std::string bad = "--seeds " + text + ": expected seeds like 1-20, 7 or 1-5,9,12-13";
  if (text.empty()) throw SweepError(bad);
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  auto add = [&](uint64_t s) {
    if (!seen.insert(s).second) throw SweepError("--seeds " + text + ": seed " + std::to_string(s) + " is listed twice");
    out.push_back(s);
    if (out.size() > 100000) throw SweepError("--seeds " + text + ": more than 100000 seeds");
  };
  for (const auto& part : split(text, ',')) {
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      add(parse_u64(part, bad));
      continue;
    }
    const uint64_t lo = parse_u64(part.substr(0, dash), bad), hi = parse_u64(part.substr(dash + 1), bad);
    if (hi < lo) throw SweepError("--seeds " + text + ": range " + part + " is reversed");
    if (hi - lo >= 100000) throw SweepError("--seeds " + text + ": more than 100000 seeds");
    for (uint64_t s = lo;; ++s) {
      add(s);
      if (s == hi) break;
    }
  }
  return out;
}

Shard parse_shard(const std::string& text) {
  const std::string bad = "--shard " + text + ": expected I/N with 0 <= I < N, e.g. --shard 3/10";
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw SweepError(bad);
  Shard s;
  const uint64_t i = parse_u64(text.substr(0, slash), bad), n = parse_u64(text.substr(slash + 1), bad);
  if (n == 0 || i >= n || n > 1000000) throw SweepError(bad);
  s.index = static_cast<size_t>(i);
  s.count = static_cast<size_t>(n);
  return s;
}

void Grid::validate() const {
  std::set<std::string> paths;
  for (const auto& v : vary) {
    if (!paths.insert(v.path).second) throw SweepError("--vary " + v.path + ": the path is varied twice");
    if (v.values.empty()) throw SweepError("--vary " + v.path + ": no values");
  }
  if (seeds.empty()) throw SweepError("--seeds: no seeds");
  double total = static_cast<double>(seeds.size());
  for (const auto& v : vary) total *= static_cast<double>(v.values.size());
  if (total > 1e6) throw SweepError("the grid has more than 1000000 runs");
}

size_t Grid::combinations() const {
  size_t n = 1;
  for (const auto& v : vary) n *= v.values.size();
  return n;
}

std::vector<size_t> Grid::value_indices(size_t combination) const {
  std::vector<size_t> idx(vary.size());
  for (size_t k = vary.size(); k-- > 0;) {
    idx[k] = combination % vary[k].values.size();
    combination /= vary[k].values.size();
  }
  return idx;
}

std::vector<std::string> Grid::values(size_t combination) const {
  std::vector<std::string> out;
  const auto idx = value_indices(combination);
  for (size_t k = 0; k < vary.size(); ++k) out.push_back(vary[k].values[idx[k]]);
  return out;
}

std::vector<std::string> Grid::overrides(size_t combination) const {
  std::vector<std::string> out;
  const auto vals = values(combination);
  for (size_t k = 0; k < vary.size(); ++k) out.push_back(vary[k].path + "=" + vals[k]);
  return out;
}

}  // namespace mz::sweep
