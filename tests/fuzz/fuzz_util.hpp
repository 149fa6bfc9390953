// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cpp).
//
// Every target defines LLVMFuzzerTestOneInput. Built with clang and MZ_BUILD_FUZZ=ON it links
// libFuzzer; in a regular build it links replay_main.cpp and replays its seed corpus as a
// ctest test. Invariants are checked with MZ_FUZZ_CHECK, which aborts in every build type
// (assert() is compiled out of RelWithDebInfo builds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "megzawicol/core/bytes.hpp"

#define MZ_FUZZ_CHECK(cond)                                                                    \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace mz::fuzz {

/// Consumes a fuzz input from the front: fixed-size integers, then byte ranges. Reading past
/// the end yields zeros / short ranges, never an error (like libFuzzer's FuzzedDataProvider,
/// which the g++ replay build does not have).
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  size_t remaining() const { return n_; }
  bool empty() const { return n_ == 0; }
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
  bool flag() { return (u8() & 1) != 0; }
  /// Up to `len` bytes.
  ByteView bytes(size_t len) {
    if (len > n_) len = n_;
    ByteView v(p_, len);
    p_ += len;
    n_ -= len;
    return v;
  }
  ByteView rest() { return bytes(n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

/// Chunk sizes for chunking-invariance checks: derived from `seed`, 1..max.
class Chunker {
 public:
  Chunker(uint32_t seed, size_t max) : s_(seed | 1), max_(max) {}
  size_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 17;
    s_ ^= s_ << 5;
    return 1 + s_ % max_;
  }

 private:
  uint32_t s_;
  size_t max_;
};

}  // namespace mz::fuzz
