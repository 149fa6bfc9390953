#include "megzawicol/l4/ring_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace mz::l4 {

void RingBuffer::reserve_extent(size_t extent) {
  if (extent <= buf_.size()) return;
  size_t sz = std::max<size_t>(4096, buf_.size() * 2);
  while (sz < extent) sz *= 2;
  sz = std::min(sz, cap_);
  decltype(buf_) nb(sz);
  const size_t keep = std::min(extent_, buf_.size());
  if (keep > 0) {
    const size_t first = std::min(keep, buf_.size() - head_);
    std::memcpy(nb.data(), buf_.data() + head_, first);
    std::memcpy(nb.data() + first, buf_.data(), keep - first);
  }
  buf_ = std::move(nb);
  head_ = 0;
}

size_t RingBuffer::write_at(size_t offset, ByteView data) {
  if (offset >= free()) return 0;
  const size_t n = std::min(data.size(), free() - offset);
  if (n == 0) return 0;
  reserve_extent(size_ + offset + n);
  extent_ = std::max(extent_, size_ + offset + n);
  const size_t cap = buf_.size();
  size_t pos = (head_ + size_ + offset) % cap;
  const size_t first = std::min(n, cap - pos);
  std::memcpy(buf_.data() + pos, data.data(), first);
  if (n > first) std::memcpy(buf_.data(), data.data() + first, n - first);
  return n;
}

size_t RingBuffer::push(ByteView data) {
  const size_t n = write_at(0, data);
  size_ += n;
  return n;
}

void RingBuffer::commit(size_t n) {
  assert(n <= free());
  size_ += std::min(n, free());
  extent_ = std::max(extent_, size_);
}

size_t RingBuffer::peek(size_t offset, MutByteView out) const {
  if (offset >= size_) return 0;
  const size_t n = std::min(out.size(), size_ - offset);
  if (n == 0) return 0;
  const size_t cap = buf_.size();
  const size_t pos = (head_ + offset) % cap;
  const size_t first = std::min(n, cap - pos);
  std::memcpy(out.data(), buf_.data() + pos, first);
  if (n > first) std::memcpy(out.data() + first, buf_.data(), n - first);
  return n;
}

void RingBuffer::consume(size_t n) {
  n = std::min(n, size_);
  if (buf_.empty()) return;
  head_ = (head_ + n) % buf_.size();
  size_ -= n;  // head_ stays put even when empty: bytes written ahead keep their place
  extent_ -= n;
  if (extent_ == 0) {
    decltype(buf_)().swap(buf_);
    head_ = 0;
  }
}

size_t RingBuffer::pop(MutByteView out) {
  const size_t n = peek(0, out);
  consume(n);
  return n;
}

}  // namespace mz::l4
