// Virtual time: integer nanoseconds, never floating point.
//
// `Time` is a point on a clock (virtual in the simulator, real in socket mode);
// `Duration` is a signed span between two points. Both are plain 64-bit counts
// of nanoseconds, so a simulation can run for ~292 years of virtual time.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace mz {

struct Duration {
  int64_t ns = 0;

  static constexpr Duration nanos(int64_t v) { return {v}; }
  static constexpr Duration micros(int64_t v) { return {v * 1000}; }
  static constexpr Duration millis(int64_t v) { return {v * 1000000}; }
  static constexpr Duration seconds(int64_t v) { return {v * 1000000000}; }
  static constexpr Duration zero() { return {0}; }
  static constexpr Duration max() { return {INT64_MAX}; }

  constexpr double to_seconds() const { return static_cast<double>(ns) / 1e9; }
  constexpr double to_millis() const { return static_cast<double>(ns) / 1e6; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return {ns + o.ns}; }
  constexpr Duration operator-(Duration o) const { return {ns - o.ns}; }
  constexpr Duration operator*(int64_t k) const { return {ns * k}; }
  constexpr Duration operator/(int64_t k) const { return {ns / k}; }
  constexpr Duration& operator+=(Duration o) { ns += o.ns; return *this; }
  constexpr Duration& operator-=(Duration o) { ns -= o.ns; return *this; }
};

struct Time {
  int64_t ns = 0;

  static constexpr Time zero() { return {0}; }
  static constexpr Time max() { return {INT64_MAX}; }
  static constexpr Time from_ns(int64_t v) { return {v}; }

  constexpr double to_seconds() const { return static_cast<double>(ns) / 1e9; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return {ns + d.ns}; }
  constexpr Time operator-(Duration d) const { return {ns - d.ns}; }
  constexpr Duration operator-(Time o) const { return {ns - o.ns}; }
  constexpr Time& operator+=(Duration d) { ns += d.ns; return *this; }
};

/// "12.000345678" (seconds with 9 decimals): exact, locale-free, deterministic.
std::string format_time(Time t);
/// Human-readable duration with a unit chosen for size: "250ns", "1.5us", "20.25ms", "3s".
std::string format_duration(Duration d);

}  // namespace mz
