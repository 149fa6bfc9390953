// Private formatting helpers for describe() and error messages (no <format> in GCC 12).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace mz::wire::detail {

inline std::string hex16(uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", static_cast<unsigned>(v));
  return b;
}

inline std::string hex32(uint32_t v) {
  char b[12];
  std::snprintf(b, sizeof b, "0x%08x", static_cast<unsigned>(v));
  return b;
}

}  // namespace mz::wire::detail
