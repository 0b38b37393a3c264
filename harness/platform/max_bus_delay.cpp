#include "harness/platform/max_bus_delay.hpp"

#include <algorithm>

namespace dexthil::platform {

void MaxBusDelay::require(const void* holder, std::string name, sim::SimTime limit) {
  auto own = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.holder == holder; });
  if (limit == 0) {
    if (own == entries_.end()) return;  // it held nothing: nothing changes
    *own = Entry{};
  } else if (own != entries_.end()) {
    own->name = std::move(name);
    own->limit = limit;
  } else {
    auto free = std::find_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.holder == nullptr; });
    if (free == entries_.end()) free = entries_.insert(entries_.end(), Entry{});
    *free = Entry{holder, std::move(name), limit};
    own = free;
  }
  // The smallest requirement wins. A new requirement holds the limit on a tie; otherwise the first
  // of the smallest, in the order they came (as requireMaxCpuDelay scans its table).
  const Entry* smallest = limit != 0 ? &*own : nullptr;
  for (const Entry& e : entries_) {
    if (e.holder && (!smallest || e.limit < smallest->limit)) smallest = &e;
  }
  limit_ = smallest ? std::optional<sim::SimTime>(smallest->limit) : std::nullopt;
  holder_name_ = smallest ? smallest->name : std::string();
  notify();
}

sim::SimTime MaxBusDelay::requirement(const void* holder) const {
  for (const Entry& e : entries_) {
    if (e.holder == holder) return e.limit;
  }
  return 0;
}

std::uint64_t MaxBusDelay::add_handler(Handler handler) {
  handler(limit_, holder_name_);
  handlers_.emplace_back(next_handler_, std::move(handler));
  return next_handler_++;
}

void MaxBusDelay::remove_handler(std::uint64_t id) {
  std::erase_if(handlers_, [id](const auto& h) { return h.first == id; });
}

void MaxBusDelay::notify() {
  for (const auto& [id, handler] : handlers_) handler(limit_, holder_name_);
}

}  // namespace dexthil::platform
