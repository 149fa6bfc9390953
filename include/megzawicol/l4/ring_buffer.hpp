// A fixed-capacity byte ring, allocated once.
//
//   [ read ........ size() ........ | free: capacity() - size() ]
//     ^ offset 0                      ^ offset size(): write_at() may fill ahead of the end
//
// The send buffer keeps the bytes from SND.UNA on (peek() reads any of them for a
// (re)transmission, consume() drops what was acknowledged). The receive buffer keeps the
// unread in-order bytes, and out-of-order bytes are written ahead of the end with
// write_at(); commit() then makes them part of the readable data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz::l4 {

class RingBuffer {
 public:
  explicit RingBuffer(size_t capacity = 0) : cap_(capacity) {}

  size_t capacity() const { return cap_; }
  size_t size() const { return size_; }
  size_t free() const { return cap_ - size_; }
  bool empty() const { return size_ == 0; }
  /// Bytes of storage held now: grows on demand (doubling, from 4 KiB, up to the capacity)
  /// and is released when nothing is buffered, so an idle connection holds none.
  size_t allocated() const { return buf_.size(); }

  /// Appends as much of `data` as fits; returns the count appended.
  size_t push(ByteView data);
  /// Writes `data` at `offset` past the end of the stored bytes (room permitting: only
  /// what lies within the capacity is written); size() does not change. Returns the count written.
  size_t write_at(size_t offset, ByteView data);
  /// Makes `n` bytes written ahead of the end part of the stored bytes (n <= free()).
  void commit(size_t n);
  /// Copies up to out.size() bytes starting `offset` bytes into the stored data.
  size_t peek(size_t offset, MutByteView out) const;
  /// Drops `n` bytes (clamped to size()) from the front.
  void consume(size_t n);
  /// peek(0, out) then consume.
  size_t pop(MutByteView out);

 private:
  // Storage is not zero-filled: only bytes written are ever read.
  template <typename T>
  struct NoZeroFill : std::allocator<T> {
    template <typename U>
    struct rebind {
      using other = NoZeroFill<U>;
    };
    NoZeroFill() = default;
    template <typename U>
    NoZeroFill(const NoZeroFill<U>&) {}
    template <typename U>
    void construct(U* p) {
      ::new (static_cast<void*>(p)) U;
    }
  };
  void reserve_extent(size_t extent);
  std::vector<uint8_t, NoZeroFill<uint8_t>> buf_;
  size_t cap_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t extent_ = 0;
};

}  // namespace mz::l4
