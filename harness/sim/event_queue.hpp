#pragma once
// The simulator's agenda: callbacks ordered by simulated time, and by scheduling order among
// callbacks due at the same time, so that a run never depends on heap layout or addresses.
#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::sim {

using EventId = std::uint64_t;
using EventCallback = std::function<void()>;

class EventQueue {
 public:
  // Returns an id that cancel() accepts until the event has run.
  EventId schedule(SimTime when, EventCallback callback);
  // Returns false if the event already ran, was cancelled, or never existed.
  bool cancel(EventId id);

  bool empty() const;
  std::size_t size() const { return heap_.size() - cancelled_.size(); }
  // Time of the earliest live event, or kNever.
  SimTime next_time() const;
  // Removes the earliest live event into *when / *callback. Returns false when empty.
  bool pop(SimTime* when, EventCallback* callback);

 private:
  // The heap sifts small trivially copyable keys; callbacks stay put in slots_.
  struct Entry {
    SimTime when;
    EventId id;  // ids grow monotonically, so they double as the tie-break order
    std::uint32_t slot;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.id > b.id;
    }
  };
  void drop_cancelled_head() const;
  void release(std::uint32_t slot) const;

  mutable std::vector<Entry> heap_;
  mutable std::vector<EventCallback> slots_;
  mutable std::vector<std::uint32_t> free_slots_;
  mutable std::unordered_set<EventId> cancelled_;
  EventId next_id_ = 1;
};

}  // namespace dexthil::sim
