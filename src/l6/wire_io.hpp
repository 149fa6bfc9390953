// Bounds-checked reader and length-prefixed writer for TLS presentation-language vectors
// (RFC 8446 3). Private to src/l6/.
//
// The Reader is sticky: once a read runs past the end every later read fails too, so a
// decoder can chain reads and check `ok()` at the points where it matters. No accessor
// ever touches memory outside the view it was given.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "megzawicol/core/bytes.hpp"

namespace mz::l6::wire_io {

class Reader {
 public:
  explicit Reader(ByteView d) : d_(d) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == d_.size(); }
  size_t remaining() const { return ok_ ? d_.size() - pos_ : 0; }

  bool u8(uint8_t& v) {
    if (!need(1)) return false;
    v = d_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (!need(2)) return false;
    v = load_be16(d_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool u24(uint32_t& v) {
    if (!need(3)) return false;
    v = (uint32_t{d_[pos_]} << 16) | (uint32_t{d_[pos_ + 1]} << 8) | uint32_t{d_[pos_ + 2]};
    pos_ += 3;
    return true;
  }
  bool bytes(size_t n, ByteView& out) {
    if (!need(n)) return false;
    out = d_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  /// A vector with a `len_bytes`-byte length prefix (1, 2 or 3) whose length lies in [min, max].
  bool vec(int len_bytes, size_t min, size_t max, ByteView& out) {
    size_t n = 0;
    if (len_bytes == 1) {
      uint8_t v;
      if (!u8(v)) return false;
      n = v;
    } else if (len_bytes == 2) {
      uint16_t v;
      if (!u16(v)) return false;
      n = v;
    } else {
      uint32_t v;
      if (!u24(v)) return false;
      n = v;
    }
    if (n < min || n > max) return fail();
    return bytes(n, out);
  }
  bool fail() {
    ok_ = false;
    return false;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || d_.size() - pos_ < n) return fail();
    return true;
  }

  ByteView d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void u24(uint32_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 16));
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }

  /// Opens a vector with a `len_bytes`-byte length prefix; close it with `end_vec`.
  size_t begin_vec(int len_bytes) {
    const size_t at = out_.size();
    out_.insert(out_.end(), static_cast<size_t>(len_bytes), 0);
    return at;
  }
  void end_vec(size_t at, int len_bytes) {
    const size_t n = out_.size() - at - static_cast<size_t>(len_bytes);
    assert(n < (size_t{1} << (8 * len_bytes)));
    for (int i = len_bytes - 1; i >= 0; --i) {
      out_[at + static_cast<size_t>(len_bytes - 1 - i)] = static_cast<uint8_t>(n >> (8 * i));
    }
  }

 private:
  Bytes& out_;
};

}  // namespace mz::l6::wire_io
