// Helpers shared by the session-layer tests.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/l5/session.hpp"

namespace mz::l5::test {

inline Bytes hex(const std::string& s) {
  Bytes out;
  REQUIRE(from_hex(s, out));
  return out;
}

inline Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

template <class T>
bool error_contains(const Result<T>& r, const std::string& needle) {
  if (r.ok()) return false;
  const bool found = r.error().message.find(needle) != std::string::npos;
  if (!found) MESSAGE("error was: ", r.error().message);
  return found;
}

template <class Endpoint>
std::vector<SessionEvent> drain(Endpoint& e) {
  std::vector<SessionEvent> out;
  while (auto ev = e.poll_event()) out.push_back(std::move(*ev));
  return out;
}

inline std::vector<std::string> describe_all(const std::vector<SessionEvent>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs) out.push_back(describe(e));
  return out;
}

}  // namespace mz::l5::test
