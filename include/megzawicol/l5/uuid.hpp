// Uuid: a 128-bit session identifier (RFC 4122 / RFC 9562 layout).
//
// Session ids are version-4 (random) UUIDs drawn from an injected, seeded mz::Rng, so a
// simulation with a fixed seed gives the same ids on every run and every platform.
//
//   byte:  0 1 2 3   4 5   6 7   8 9   10 ... 15
//          time_low  mid   ver.  var.  node
//   canonical text: "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx", N in {8, 9, a, b}
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "megzawicol/core/rng.hpp"

namespace mz::l5 {

struct Uuid {
  std::array<uint8_t, 16> b{};

  /// The nil UUID (all zero bits).
  static constexpr Uuid nil() { return {}; }
  /// A random (version 4, variant 10) UUID: 122 bits from `rng`, then the version nibble
  /// (byte 6, high nibble = 4) and the variant bits (byte 8, top two bits = 10) are set.
  static Uuid v4(Rng& rng);
  /// Canonical 8-4-4-4-12 hex form (upper or lower case digits); nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view s);

  bool is_nil() const { return *this == nil(); }
  uint8_t version() const { return static_cast<uint8_t>(b[6] >> 4); }
  /// True for version 4 with the RFC 4122 variant (binary 10 in the top bits of byte 8).
  bool is_v4() const { return version() == 4 && (b[8] & 0xC0) == 0x80; }
  /// Canonical lower-case 8-4-4-4-12 form, 36 characters.
  std::string to_string() const;

  auto operator<=>(const Uuid&) const = default;
};

}  // namespace mz::l5
