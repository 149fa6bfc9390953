#include "megzawicol/l5/uuid.hpp"

namespace mz::l5 {

namespace {

// Dash positions in the canonical text form.
constexpr bool is_dash_pos(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Uuid Uuid::v4(Rng& rng) {
  Uuid u;
  rng.fill(u.b.data(), u.b.size());
  u.b[6] = static_cast<uint8_t>((u.b[6] & 0x0F) | 0x40);
  u.b[8] = static_cast<uint8_t>((u.b[8] & 0x3F) | 0x80);
  return u;
}

std::optional<Uuid> Uuid::parse(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  Uuid u;
  size_t k = 0;
  for (size_t i = 0; i < 36;) {
    if (is_dash_pos(i)) {
      if (s[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_val(s[i]);
    const int lo = hex_val(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.b[k++] = static_cast<uint8_t>((hi << 4) | lo);
    i += 2;
  }
  return u;
}

std::string Uuid::to_string() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t k = 0; k < 16; ++k) {
    if (k == 4 || k == 6 || k == 8 || k == 10) s += '-';
    s += kDigits[b[k] >> 4];
    s += kDigits[b[k] & 0x0F];
  }
  return s;
}

}  // namespace mz::l5
