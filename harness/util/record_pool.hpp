#pragma once
// Records that outlive the call that made them (a DMA in flight, a register read waiting for its
// completion) and are reused once done: events on the hot path point at a record instead of
// capturing its state, so they neither copy it nor allocate. Records never move and are freed
// only with the pool, so a pointer to one stays valid; whether it still means the same piece of
// work is the user's to know (a generation count, say).
#include <cstddef>
#include <memory>
#include <vector>

namespace dexthil::util {

template <class T>
class RecordPool {
 public:
  // A free record as its last user left it, or a new default-constructed one (then *made is
  // true, and its index is made_count() - 1).
  T& take(bool* made = nullptr) {
    if (made) *made = free_.empty();
    if (free_.empty()) {
      all_.push_back(std::make_unique<T>());
      return *all_.back();
    }
    T* r = free_.back();
    free_.pop_back();
    return *r;
  }
  void give(T& record) { free_.push_back(&record); }
  // The record made index-th.
  T& at(std::size_t index) const { return *all_[index]; }
  std::size_t made_count() const { return all_.size(); }

 private:
  std::vector<std::unique_ptr<T>> all_;
  std::vector<T*> free_;
};

}  // namespace dexthil::util
