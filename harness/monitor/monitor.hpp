#pragma once
// The run's monitor: what the kernel, the buses and the models observe is emitted here as typed
// events, and checkers subscribe to the events they judge (OpenTitan's split of monitors and
// scoreboards from stimulus). An emitter says what happened, in its own terms; whether that is a
// finding is the checker's business. Handlers run in the order they subscribed, synchronously,
// so a run stays deterministic. Emitting an event nobody subscribed to costs one comparison.
#include <atomic>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace dexthil::monitor {

namespace detail {
inline std::size_t next_event_slot() {
  static std::atomic<std::size_t> next{0};
  return next++;
}
// One slot per event type, handed out on first use (the number carries no meaning).
template <class Event>
std::size_t event_slot() {
  static const std::size_t slot = next_event_slot();
  return slot;
}
}  // namespace detail

class Monitor {
 public:
  template <class Event>
  using Handler = std::function<void(const Event&)>;

  template <class Event>
  void subscribe(Handler<Event> handler) {
    const std::size_t slot = detail::event_slot<Event>();
    if (slots_.size() <= slot) slots_.resize(slot + 1);
    slots_[slot].push_back(
        [h = std::move(handler)](const void* event) { h(*static_cast<const Event*>(event)); });
  }

  template <class Event>
  void emit(const Event& event) const {
    const std::size_t slot = detail::event_slot<Event>();
    if (slot >= slots_.size()) return;
    for (const auto& handler : slots_[slot]) handler(&event);
  }

 private:
  std::vector<std::vector<std::function<void(const void*)>>> slots_;
};

}  // namespace dexthil::monitor
