// Helpers shared by the wire tests.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::wire::test {

inline Bytes hex(const std::string& s) {
  Bytes out;
  REQUIRE(from_hex(s, out));
  return out;
}

inline Bytes concat(ByteView a, ByteView b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

template <class T>
bool error_contains(const Result<T>& r, const std::string& needle) {
  if (r.ok()) return false;
  const bool found = r.error().message.find(needle) != std::string::npos;
  if (!found) MESSAGE("error was: ", r.error().message);
  return found;
}

}  // namespace mz::wire::test
