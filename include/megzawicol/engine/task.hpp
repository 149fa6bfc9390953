// A move-only `void()` callable with inline storage: the event kernel's callback type.
//
// std::function needs copyable targets and allocates for any lambda capturing more than
// two pointers; an event that carries a frame or a few ids would pay a heap allocation
// per event. A Task stores targets up to kInline bytes in place (trivially copyable ones
// are moved with memcpy), larger ones on the heap.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace mz::engine {

class Task {
 public:
  static constexpr size_t kInline = 48;

  Task() = default;
  Task(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): reads like std::function

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Task> && std::is_invocable_r_v<void, D&>>>
  Task(F&& f) {  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload)
    init<F, D>(std::forward<F>(f));
  }

  /// Replaces the target with `f`, constructed in place (a Task is moved in).
  template <class F, class D = std::decay_t<F>>
  void assign(F&& f) {
    if constexpr (std::is_same_v<D, Task>) {
      *this = std::forward<F>(f);
    } else {
      reset();
      init<F, D>(std::forward<F>(f));
    }
  }

  Task(Task&& o) noexcept { take(o); }
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  Task& operator=(std::nullptr_t) {
    reset();
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const { return invoke_ != nullptr; }
  void operator()() { invoke_(buf_); }

 private:
  template <class F, class D>
  void init(F&& f) {
    if constexpr (sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      invoke_ = [](void* p) { (*static_cast<D*>(p))(); };
      if constexpr (!(std::is_trivially_copyable_v<D> && std::is_trivially_destructible_v<D>))
        manage_ = [](void* dst, void* src) {
          if (dst != nullptr) ::new (dst) D(std::move(*static_cast<D*>(src)));
          static_cast<D*>(src)->~D();
        };
    } else {
      ::new (static_cast<void*>(buf_)) D*(new D(std::forward<F>(f)));  // the buffer holds a D*
      invoke_ = [](void* p) { (**static_cast<D**>(p))(); };
      manage_ = [](void* dst, void* src) {
        if (dst != nullptr)
          ::new (dst) D*(*static_cast<D**>(src));  // the pointer moves; the target stays put
        else
          delete *static_cast<D**>(src);
      };
    }
  }

  using Invoke = void (*)(void*);
  /// dst != nullptr: move-construct *dst from *src, then destroy *src; dst == nullptr: destroy *src.
  using Manage = void (*)(void* dst, void* src);

  void take(Task& o) noexcept {
    if (o.invoke_ == nullptr) return;
    if (o.manage_ == nullptr)
      std::memcpy(buf_, o.buf_, kInline);
    else
      o.manage_(buf_, o.buf_);
    invoke_ = o.invoke_;
    manage_ = o.manage_;
    o.invoke_ = nullptr;
    o.manage_ = nullptr;
  }
  void reset() noexcept {
    if (manage_ != nullptr) manage_(nullptr, buf_);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buf_[kInline] = {};
  Invoke invoke_ = nullptr;
  Manage manage_ = nullptr;
};

}  // namespace mz::engine
