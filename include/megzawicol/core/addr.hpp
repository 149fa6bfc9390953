// Strong address types: MAC (EUI-48) and IPv4, plus an IPv4 prefix (CIDR).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mz {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static constexpr MacAddr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static constexpr MacAddr zero() { return {}; }
  bool is_broadcast() const { return *this == broadcast(); }
  bool is_multicast() const { return (b[0] & 1) != 0; }

  /// "02:00:00:00:00:01" (also accepts '-' separators); nullopt if malformed.
  static std::optional<MacAddr> parse(std::string_view s);
  std::string to_string() const;
  auto operator<=>(const MacAddr&) const = default;
};

struct Ipv4Addr {
  uint32_t v = 0;  // host order: 10.0.0.1 == 0x0a000001

  static constexpr Ipv4Addr any() { return {0}; }
  static constexpr Ipv4Addr broadcast() { return {0xffffffffu}; }
  static constexpr Ipv4Addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d};
  }
  /// Dotted quad, exactly four decimal octets 0..255; nullopt otherwise.
  static std::optional<Ipv4Addr> parse(std::string_view s);
  std::string to_string() const;
  bool is_unspecified() const { return v == 0; }
  bool is_broadcast() const { return v == 0xffffffffu; }
  bool is_multicast() const { return (v >> 28) == 0xe; }
  auto operator<=>(const Ipv4Addr&) const = default;
};

/// An address with its prefix length, e.g. 10.0.0.1/24 (an interface) or 10.0.0.0/8 (a route).
struct Ipv4Cidr {
  Ipv4Addr addr;
  uint8_t prefix_len = 32;

  /// "a.b.c.d/n" with 0 <= n <= 32; nullopt otherwise.
  static std::optional<Ipv4Cidr> parse(std::string_view s);
  uint32_t mask() const { return prefix_len == 0 ? 0u : (0xffffffffu << (32 - prefix_len)); }
  Ipv4Addr network() const { return {addr.v & mask()}; }
  Ipv4Addr directed_broadcast() const { return {addr.v | ~mask()}; }
  bool contains(Ipv4Addr a) const { return (a.v & mask()) == (addr.v & mask()); }
  std::string to_string() const;
  auto operator<=>(const Ipv4Cidr&) const = default;
};

}  // namespace mz

template <>
struct std::hash<mz::Ipv4Addr> {
  size_t operator()(mz::Ipv4Addr a) const noexcept { return std::hash<uint32_t>{}(a.v); }
};
