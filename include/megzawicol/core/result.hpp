// Result<T>: a value or an error, without exceptions (C++20 has no std::expected).
//
// Parsers and layer entry points return it; malformed input is an `Error`, never a
// throw. Exceptions are kept for scenario loading and the command line.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace mz {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}                // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(std::move(e)) {}            // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string msg) { return Error{std::move(msg)}; }

}  // namespace mz
