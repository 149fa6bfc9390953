// Reference implementation of the 4B/5B line code, for tests only: a verbatim copy of the
// straightforward decoder and encoder the optimized src/l1/line_code.cpp replaced (pairs
// read one 10-bit peek at a time, the hunt for a start of stream one bit position at a
// time). The differential test (line_code_diff_test.cpp) checks that the optimized code
// produces exactly the same outputs, counters and stream positions. Do not optimize this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/l1/line_code.hpp"

namespace mz::l1::ref {

using mz::l1::DecodedFrame;
using mz::l1::LineBits;

void encode_frame(ByteView frame, LineBits& out);
Result<DecodedFrame> decode_frame(const LineBits& in);

class LineEncoder {
 public:
  void encode(ByteView frame, Bytes& out_append);
  uint64_t frames() const { return frames_; }
  uint64_t line_bits() const { return line_bits_; }

 private:
  uint64_t frames_ = 0;
  uint64_t line_bits_ = 0;
};

class LineDecoder {
 public:
  explicit LineDecoder(size_t max_frame_len = 16384) : max_frame_len_(max_frame_len) {}

  void feed(ByteView chunk);
  std::optional<Result<DecodedFrame>> poll();

  uint64_t bits_discarded() const { return discarded_; }
  size_t buffered_bytes() const { return buf_.size() + frame_.size(); }
  bool in_frame() const { return state_ != State::Hunt; }

 private:
  friend Result<DecodedFrame> decode_frame(const LineBits& in);
  enum class State { Hunt, Preamble, Data };

  std::optional<Result<DecodedFrame>> step(const uint8_t* b, size_t nbits, size_t& pos, bool final);
  std::optional<Result<DecodedFrame>> fail(State next, bool report_next_run, std::string msg);

  size_t max_frame_len_;
  State state_ = State::Hunt;
  Bytes buf_;
  size_t pos_ = 0;
  Bytes frame_;
  uint32_t symbol_errors_ = 0;
  uint32_t first_bad_ = 0;
  uint64_t run_bits_ = 0;
  bool run_has_zero_ = false;
  bool report_run_ = true;
  bool after_tr_ = false;
  uint64_t discarded_ = 0;
};

}  // namespace mz::l1::ref
