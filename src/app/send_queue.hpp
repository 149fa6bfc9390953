// The bytes an upper-layer app (http, bulk with TLS) has for TCP but TCP has no room for yet.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <utility>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz::app {

/// A list of byte vectors and a read offset into the first. A whole vector handed over
/// (append(Bytes&&): a message's session frames, up to 16 MiB) is queued as it is, never
/// copied; short views are copied onto the last vector. TCP is given every queued byte at
/// once (parts(), one Host::tcp_send), exactly as if the queue were one contiguous buffer.
class SendQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void append(ByteView b) {
    if (b.empty()) return;
    if (chunks_.empty()) chunks_.emplace_back();
    chunks_.back().insert(chunks_.back().end(), b.begin(), b.end());
    size_ += b.size();
  }
  void append(Bytes&& b) {
    if (b.empty()) return;
    size_ += b.size();
    chunks_.push_back(std::move(b));
  }
  /// The queued bytes, in order, as views (valid until the next call that changes the queue).
  std::span<const ByteView> parts() {
    parts_.clear();
    for (size_t i = 0; i < chunks_.size(); ++i)
      parts_.push_back(ByteView(chunks_[i]).subspan(i == 0 ? head_ : 0));
    return parts_;
  }
  void consume(size_t n) {
    size_ -= n;
    while (n > 0) {
      const size_t left = chunks_.front().size() - head_;
      if (n < left) {
        head_ += n;
        return;
      }
      n -= left;
      chunks_.pop_front();
      head_ = 0;
    }
    if (size_ == 0) clear();
  }
  void clear() {
    chunks_.clear();
    head_ = 0;
    size_ = 0;
  }

 private:
  std::deque<Bytes> chunks_;
  size_t head_ = 0;  // bytes of chunks_.front() already taken
  size_t size_ = 0;
  std::vector<ByteView> parts_;
};

}  // namespace mz::app
