#pragma once
// A set that iterates in the order its members were added. For sets of pointers that are walked
// (interrupt sources an MSI reaches, timers checked at Stop): a std::set of pointers walks in
// address order, which changes from run to run, and so would the order of what the walk does.
// Meant for the handful of members these hold: lookups are linear.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace dexthil::util {

template <class T>
class InsertionOrderedSet {
 public:
  bool insert(const T& value) {
    if (contains(value)) return false;
    items_.push_back(value);
    return true;
  }
  bool erase(const T& value) {
    auto it = std::find(items_.begin(), items_.end(), value);
    if (it == items_.end()) return false;
    items_.erase(it);  // keeps the others in order
    return true;
  }
  bool contains(const T& value) const { return std::find(items_.begin(), items_.end(), value) != items_.end(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<T> items_;
};

}  // namespace dexthil::util
