// PacketBuf: one contiguous buffer with headroom and tailroom.
//
// On transmit, each layer prepends its header with `push_front(n)` (and L2 appends
// its FCS with `push_back(4)`), so a segment is written once and never copied on its
// way down. On receive, each layer strips its header with `pull_front(n)`.
//
//   [ headroom | data ............................ | tailroom ]
//   ^ buf_      ^ buf_ + head_                     ^ buf_ + tail_
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz {

class PacketBuf {
 public:
  /// Headroom large enough for Ethernet + IPv4 (with options) + TCP (with options) + the
  /// session and record headers above it.
  static constexpr size_t kDefaultHeadroom = 128;
  static constexpr size_t kDefaultTailroom = 32;

  PacketBuf() = default;
  /// An empty payload of `len` zero bytes with the given reserves.
  static PacketBuf with_reserve(size_t head, size_t len, size_t tail) {
    PacketBuf p;
    p.buf_.assign(head + len + tail, 0);
    p.head_ = head;
    p.tail_ = head + len;
    return p;
  }
  /// A copy of `data` with the default reserves (used at the top of the stack and on receive).
  static PacketBuf from(ByteView data, size_t head = kDefaultHeadroom, size_t tail = kDefaultTailroom) {
    PacketBuf p = with_reserve(head, data.size(), tail);
    if (!data.empty()) std::memcpy(p.buf_.data() + head, data.data(), data.size());
    return p;
  }

  size_t size() const { return tail_ - head_; }
  bool empty() const { return size() == 0; }
  size_t headroom() const { return head_; }
  size_t tailroom() const { return buf_.size() - tail_; }

  uint8_t* data() { return buf_.data() + head_; }
  const uint8_t* data() const { return buf_.data() + head_; }
  ByteView view() const { return {data(), size()}; }
  MutByteView mut_view() { return {data(), size()}; }
  Bytes to_bytes() const { return Bytes(data(), data() + size()); }

  /// Grows the data by `n` bytes at the front and returns them (the new header).
  MutByteView push_front(size_t n) {
    if (n > head_) grow_front(n - head_ + kDefaultHeadroom);
    head_ -= n;
    return {buf_.data() + head_, n};
  }
  /// Grows the data by `n` bytes at the back and returns them (e.g. a trailer).
  MutByteView push_back(size_t n) {
    if (n > tailroom()) buf_.resize(tail_ + n + kDefaultTailroom);
    tail_ += n;
    return {buf_.data() + tail_ - n, n};
  }
  /// Removes `n` bytes from the front (a parsed header). Precondition: n <= size().
  void pull_front(size_t n) {
    assert(n <= size());
    head_ += n;
  }
  /// Removes `n` bytes from the back (a trailer, or padding). Precondition: n <= size().
  void pull_back(size_t n) {
    assert(n <= size());
    tail_ -= n;
  }
  /// Keeps only the first `n` bytes (n <= size()).
  void truncate(size_t n) {
    assert(n <= size());
    tail_ = head_ + n;
  }

 private:
  void grow_front(size_t extra) {
    buf_.insert(buf_.begin(), extra, 0);
    head_ += extra;
    tail_ += extra;
  }

  std::vector<uint8_t> buf_;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace mz
