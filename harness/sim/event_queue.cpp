#include "harness/sim/event_queue.hpp"

#include <algorithm>

namespace dexthil::sim {

EventId EventQueue::schedule(SimTime when, EventCallback callback) {
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.pending = true;
  heap_.push_back(Entry{when, next_order_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  // slot + 1 keeps 0 free to mean "no event" for callers.
  return (static_cast<EventId>(s.generation) << 32) | (static_cast<EventId>(slot) + 1);
}

bool EventQueue::cancel(EventId id) {
  const std::uint64_t low = id & 0xffffffffu;
  if (low == 0 || low > slots_.size()) return false;
  Slot& s = slots_[low - 1];
  if (s.generation != static_cast<std::uint32_t>(id >> 32) || !s.pending || s.cancelled) return false;
  s.cancelled = true;
  ++cancelled_;
  // Captured state goes now (the heap entry when it reaches the top), and last: a captured
  // object's destructor may schedule events, which can move `s`.
  EventCallback dropped = std::move(s.callback);
  return true;
}

void EventQueue::drop_cancelled_head() const {
  while (cancelled_ != 0 && !heap_.empty() && slots_[heap_.front().slot].cancelled) {
    --cancelled_;
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
  *callback = std::move(slots_[heap_.back().slot].callback);
  release(heap_.back().slot);
  heap_.pop_back();
  return true;
}

void EventQueue::release(std::uint32_t slot) const {
  Slot& s = slots_[slot];  // its callback is gone already: run (moved out) or cancelled
  s.pending = false;
  s.cancelled = false;
  ++s.generation;
  free_slots_.push_back(slot);
}

}  // namespace dexthil::sim
