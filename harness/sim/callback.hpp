#pragma once
// sim::Callback: what an event runs. A move-only void() callable that keeps captures of up to
// kInlineBytes inside itself, so scheduling a typical event (a few pointers, a shared_ptr, a
// std::function) allocates nothing; larger ones go to the heap. libstdc++'s std::function keeps
// only trivially copyable callables inline, so a lambda holding a shared_ptr always allocates.
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace dexthil::sim {

class Callback {
 public:
  static constexpr std::size_t kInlineBytes = 48;

  Callback() noexcept = default;
  Callback(std::nullptr_t) noexcept {}  // NOLINT: as std::function's
  template <class F, class D = std::decay_t<F>,
            std::enable_if_t<!std::is_same_v<D, Callback> && std::is_invocable_r_v<void, D&>, int> = 0>
  Callback(F&& f) {  // NOLINT: converts from any callable, as std::function does
    if constexpr (sizeof(D) <= kInlineBytes && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &kInline<D>;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      ops_ = &kOnHeap<D>;
    }
  }
  Callback(Callback&& other) noexcept { take(other); }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Callback& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  // Calling an empty one throws, as std::function does.
  void operator()() {
    if (!ops_) throw std::bad_function_call();
    ops_->call(storage_);
  }

 private:
  struct Ops {
    void (*call)(void* storage);
    void (*move)(void* to, void* from) noexcept;  // leaves `from` destroyed
    void (*destroy)(void* storage) noexcept;
  };
  // The object placed in the storage: the callable itself, or a pointer to it on the heap.
  template <class T>
  static T* held(void* storage) noexcept {
    return std::launder(static_cast<T*>(storage));
  }
  template <class D>
  static constexpr Ops kInline = {
      [](void* s) { (*held<D>(s))(); },
      [](void* to, void* from) noexcept {
        ::new (to) D(std::move(*held<D>(from)));
        held<D>(from)->~D();
      },
      [](void* s) noexcept { held<D>(s)->~D(); }};
  template <class D>
  static constexpr Ops kOnHeap = {
      [](void* s) { (**held<D*>(s))(); },
      [](void* to, void* from) noexcept { ::new (to) D*(*held<D*>(from)); },
      [](void* s) noexcept { delete *held<D*>(s); }};

  void reset() noexcept {
    if (ops_) ops_->destroy(storage_);
    ops_ = nullptr;
  }
  void take(Callback& other) noexcept {
    ops_ = other.ops_;
    if (ops_) ops_->move(storage_, other.storage_);
    other.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace dexthil::sim
