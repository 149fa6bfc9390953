// Unit parsing for scenario values: bandwidths, durations and sizes.
//
// Values are decimal numbers with an optional unit. They are converted exactly: the
// decimal digits are read into an integer and a power of ten, then multiplied by the
// unit, so "1.5ms" is exactly 1500000 ns and never passes through binary floating point.
// A result that is not a whole number of the base unit ("1.5ns") is rejected.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "megzawicol/scenario/scenario.hpp"

namespace mz::scenario {
namespace {

__extension__ typedef unsigned __int128 u128;

struct Decimal {
  bool negative = false;
  u128 mantissa = 0;      // significant digits, at most 24 (< 2^80)
  int exponent = 0;       // value = mantissa * 10^exponent
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Splits "  -1.5e3 ms " into the number (read exactly) and the unit ("ms").
Decimal split_number(std::string_view s, std::string_view& unit) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) throw std::invalid_argument("empty value");

  Decimal d;
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') {
    d.negative = s[i] == '-';
    ++i;
  }
  std::string digits;
  int frac_digits = 0;
  bool any_digit = false;
  while (i < s.size() && is_digit(s[i])) {
    digits += s[i++];
    any_digit = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) {
      digits += s[i++];
      ++frac_digits;
      any_digit = true;
    }
  }
  if (!any_digit) throw std::invalid_argument("not a number");

  long long exp10 = 0;
  // An exponent: 'e' or 'E' followed by an optional sign and at least one digit. "1e"
  // or "1em" are not exponents (the 'e' would then belong to a unit, and none starts
  // with 'e', so the unit check reports it).
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    bool neg = false;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
      neg = s[j] == '-';
      ++j;
    }
    if (j < s.size() && is_digit(s[j])) {
      long long e = 0;
      while (j < s.size() && is_digit(s[j])) {
        if (e < 100000) e = e * 10 + (s[j] - '0');
        ++j;
      }
      exp10 = neg ? -e : e;
      i = j;
    }
  }

  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  unit = s.substr(i);

  // Normalize: drop leading zeros, move trailing zeros into the exponent.
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    d.mantissa = 0;
    d.exponent = 0;
    return d;
  }
  digits.erase(0, first);
  exp10 -= frac_digits;
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.size() > 24) throw std::invalid_argument("too many significant digits");
  for (char c : digits) d.mantissa = d.mantissa * 10 + static_cast<unsigned>(c - '0');
  if (exp10 > 1000 || exp10 < -1000) throw std::invalid_argument("out of range");
  d.exponent = static_cast<int>(exp10);
  return d;
}

/// mantissa * 10^exponent * multiplier as an exact integer no larger than `limit`.
uint64_t scale(const Decimal& d, uint64_t multiplier, uint64_t limit, const char* base_unit) {
  if (d.mantissa == 0) return 0;
  u128 v = d.mantissa * multiplier;  // < 2^80 * 2^42: fits
  if (d.exponent >= 0) {
    for (int k = 0; k < d.exponent; ++k) {
      v *= 10;
      if (v > limit) throw std::invalid_argument("too large");
    }
  } else {
    for (int k = 0; k < -d.exponent; ++k) {
      if (v % 10 != 0) throw std::invalid_argument(std::string("not a whole number of ") + base_unit);
      v /= 10;
    }
  }
  if (v > limit) throw std::invalid_argument("too large");
  return static_cast<uint64_t>(v);
}

struct UnitDef {
  std::string_view name;
  uint64_t multiplier;
};

constexpr UnitDef kBandwidthUnits[] = {
    {"", 1},
    {"bps", 1},
    {"kbps", 1'000},
    {"Kbps", 1'000},
    {"Mbps", 1'000'000},
    {"Gbps", 1'000'000'000},
    {"Tbps", 1'000'000'000'000},
    {"bit/s", 1},
    {"kbit/s", 1'000},
    {"Kbit/s", 1'000},
    {"Mbit/s", 1'000'000},
    {"Gbit/s", 1'000'000'000},
    {"Tbit/s", 1'000'000'000'000},
};

constexpr UnitDef kDurationUnits[] = {
    {"", 1'000'000'000},  // a bare number is seconds
    {"ns", 1},
    {"us", 1'000},
    {"\xc2\xb5s", 1'000},  // "µs"
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"min", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

constexpr UnitDef kSizeUnits[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1'000},
    {"kB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
};

template <size_t N>
uint64_t find_unit(const UnitDef (&table)[N], std::string_view unit, const char* expected) {
  for (const auto& u : table)
    if (u.name == unit) return u.multiplier;
  throw std::invalid_argument("unknown unit '" + std::string(unit) + "' (expected " + expected + ")");
}

}  // namespace

uint64_t parse_bandwidth(const std::string& s) {
  std::string_view unit;
  Decimal d = split_number(s, unit);
  uint64_t mult = find_unit(kBandwidthUnits, unit, "bps, kbps, Mbps, Gbps, Tbps or bit/s forms like Mbit/s");
  if (d.negative && d.mantissa != 0) throw std::invalid_argument("must not be negative");
  return scale(d, mult, std::numeric_limits<uint64_t>::max(), "bit/s");
}

Duration parse_duration(const std::string& s) {
  std::string_view unit;
  Decimal d = split_number(s, unit);
  uint64_t mult = find_unit(kDurationUnits, unit, "ns, us, ms, s, m, h");
  uint64_t ns = scale(d, mult, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), "nanoseconds");
  int64_t v = static_cast<int64_t>(ns);
  return Duration::nanos(d.negative ? -v : v);
}

uint64_t parse_size(const std::string& s) {
  std::string_view unit;
  Decimal d = split_number(s, unit);
  uint64_t mult = find_unit(kSizeUnits, unit, "B, KB, MB, GB, KiB, MiB, GiB");
  if (d.negative && d.mantissa != 0) throw std::invalid_argument("must not be negative");
  return scale(d, mult, std::numeric_limits<uint64_t>::max(), "bytes");
}

}  // namespace mz::scenario
