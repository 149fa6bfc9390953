// The bytes an upper-layer app (http, bulk with TLS) has for TCP but TCP has no room for yet.
#pragma once

#include <cstddef>
#include <utility>

#include "megzawicol/core/bytes.hpp"

namespace mz::app {

/// A vector and a read offset. TCP takes about one segment per ACK, so dropping the sent
/// prefix on every call would move a large body over and over (quadratic); the prefix is
/// dropped once it is at least half the vector, so each byte moves O(1) times.
class SendQueue {
 public:
  bool empty() const { return head_ == data_.size(); }
  size_t size() const { return data_.size() - head_; }
  void append(ByteView b) {
    if (head_ > 0 && head_ * 2 >= data_.size()) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    data_.insert(data_.end(), b.begin(), b.end());
  }
  void append(Bytes&& b) {  // no copy when the queue is empty (the usual case)
    if (empty()) {
      data_ = std::move(b);
      head_ = 0;
    } else {
      append(ByteView(b));
    }
  }
  ByteView pending() const { return ByteView(data_).subspan(head_); }
  void consume(size_t n) {
    head_ += n;
    if (head_ == data_.size()) clear();
  }
  void clear() {
    data_.clear();
    head_ = 0;
  }

 private:
  Bytes data_;
  size_t head_ = 0;
};

}  // namespace mz::app
