#include "harness/sim/event_queue.hpp"

#include <algorithm>

namespace dexthil::sim {

EventId EventQueue::schedule(SimTime when, EventCallback callback) {
  EventId id = next_id_++;
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::move(callback));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(callback);
  }
  heap_.push_back(Entry{when, id, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return id;
}

bool EventQueue::cancel(EventId id) {
  if (id == 0 || id >= next_id_ || cancelled_.count(id)) return false;
  // Only ids still in the heap can be cancelled; a linear scan is fine because cancellation is
  // rare (timers being re-armed) compared with scheduling.
  bool pending = std::any_of(heap_.begin(), heap_.end(), [id](const Entry& e) { return e.id == id; });
  if (!pending) return false;
  cancelled_.insert(id);
  return true;
}

void EventQueue::drop_cancelled_head() const {
  while (!cancelled_.empty() && !heap_.empty() && cancelled_.count(heap_.front().id)) {
    cancelled_.erase(heap_.front().id);
    release(heap_.front().slot);
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

bool EventQueue::empty() const {
  drop_cancelled_head();
  return heap_.empty();
}

SimTime EventQueue::next_time() const {
  drop_cancelled_head();
  return heap_.empty() ? kNever : heap_.front().when;
}

bool EventQueue::pop(SimTime* when, EventCallback* callback) {
  drop_cancelled_head();
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  *when = heap_.back().when;
  *callback = std::move(slots_[heap_.back().slot]);
  release(heap_.back().slot);
  heap_.pop_back();
  return true;
}

void EventQueue::release(std::uint32_t slot) const {
  slots_[slot] = nullptr;  // drop captured state now, not when the slot is reused
  free_slots_.push_back(slot);
}

}  // namespace dexthil::sim
