#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/time.hpp"

#include <cstdio>

namespace mz {

std::string to_hex(ByteView b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t x : b) {
    s.push_back(d[x >> 4]);
    s.push_back(d[x & 15]);
  }
  return s;
}

bool from_hex(const std::string& s, Bytes& out) {
  out.clear();
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    else return false;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return hi < 0;
}

std::string format_time(Time t) {
  const bool neg = t.ns < 0;
  const uint64_t a = neg ? static_cast<uint64_t>(-(t.ns + 1)) + 1 : static_cast<uint64_t>(t.ns);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%09llu", neg ? "-" : "", static_cast<unsigned long long>(a / 1000000000ull),
                static_cast<unsigned long long>(a % 1000000000ull));
  return buf;
}

std::string format_duration(Duration d) {
  char buf[48];
  const int64_t v = d.ns;
  const int64_t a = v < 0 ? -v : v;
  auto fmt = [&](double x, const char* unit) {
    std::snprintf(buf, sizeof buf, "%.6g%s", x, unit);
    return std::string(buf);
  };
  if (a < 1000) return std::to_string(v) + "ns";
  if (a < 1000000) return fmt(static_cast<double>(v) / 1e3, "us");
  if (a < 1000000000) return fmt(static_cast<double>(v) / 1e6, "ms");
  return fmt(static_cast<double>(v) / 1e9, "s");
}

}  // namespace mz
