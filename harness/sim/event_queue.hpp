#pragma once
// The simulator's agenda: callbacks ordered by simulated time, and by scheduling order among
// callbacks due at the same time, so that a run never depends on heap layout or addresses.
#include <cstdint>
#include <vector>

#include "harness/sim/callback.hpp"
#include "harness/sim/time.hpp"

namespace dexthil::sim {

using EventId = std::uint64_t;
using EventCallback = Callback;

class EventQueue {
 public:
  // Returns an id that cancel() accepts until the event has run.
  EventId schedule(SimTime when, EventCallback callback);
  // Returns false if the event already ran, was cancelled, or never existed.
  bool cancel(EventId id);

  bool empty() const;
  std::size_t size() const { return heap_.size() - cancelled_; }
  // Time of the earliest live event, or kNever.
  SimTime next_time() const;
  // Removes the earliest live event into *when / *callback. Returns false when empty.
  bool pop(SimTime* when, EventCallback* callback);

 private:
  // The heap sifts small trivially copyable keys; callbacks stay put in slots_.
  struct Entry {
    SimTime when;
    std::uint64_t order;  // grows monotonically: the tie-break among events due at one time
    std::uint32_t slot;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.order > b.order;
    }
  };
  // An EventId is a slot and the slot's generation, so cancel() finds its event in O(1) and an
  // id whose event has run (its slot released, the generation moved on) matches nothing.
  struct Slot {
    EventCallback callback;
    std::uint32_t generation = 1;
    bool pending = false;
    bool cancelled = false;
  };
  void drop_cancelled_head() const;
  void release(std::uint32_t slot) const;

  mutable std::vector<Entry> heap_;
  mutable std::vector<Slot> slots_;
  mutable std::vector<std::uint32_t> free_slots_;
  mutable std::size_t cancelled_ = 0;  // cancelled entries still in the heap
  std::uint64_t next_order_ = 0;
};

}  // namespace dexthil::sim
