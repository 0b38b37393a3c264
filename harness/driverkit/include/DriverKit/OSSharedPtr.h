#pragma once
// An owning pointer that retains and releases an OSObject, as libkern's OSSharedPtr does.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/OSObject.h>

struct OSNoRetainTag {};
struct OSRetainTag {};
inline constexpr OSNoRetainTag OSNoRetain{};
inline constexpr OSRetainTag OSRetain{};

template <class T>
class OSSharedPtr {
 public:
  OSSharedPtr() = default;
  OSSharedPtr(std::nullptr_t) {}
  OSSharedPtr(T* p, OSNoRetainTag) : p_(p) {}  // adopts a reference the caller already owns
  OSSharedPtr(T* p, OSRetainTag) : p_(p) {
    if (p_) p_->retain();
  }
  OSSharedPtr(const OSSharedPtr& o) : p_(o.p_) {
    if (p_) p_->retain();
  }
  OSSharedPtr(OSSharedPtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  OSSharedPtr(OSSharedPtr<U>&& o) noexcept : p_(o.detach()) {}
  ~OSSharedPtr() { reset(); }
  OSSharedPtr& operator=(OSSharedPtr o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset() {
    if (T* p = std::exchange(p_, nullptr)) p->release();
  }
  void reset(T* p, OSNoRetainTag) {
    reset();
    p_ = p;
  }
  // Gives up ownership without releasing.
  T* detach() { return std::exchange(p_, nullptr); }

 private:
  T* p_ = nullptr;
};

template <class T, class... Args>
OSSharedPtr<T> OSMakeShared(Args&&... args) {
  return OSSharedPtr<T>(new T(std::forward<Args>(args)...), OSNoRetain);
}

}  // extern "C++"
