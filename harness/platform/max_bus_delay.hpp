#pragma once
// The platform's bus-stall limit: what xnu publishes as the platform expert's
// "IOPlatformMaxBusDelay" and hands to the platform's MaxBusDelay handlers (IOService.cpp,
// requireMaxCpuDelay and setLatencyHandler). Every service may hold one requirement (a dext's
// RequireMaxBusStall); the limit in force is the smallest of them, system-wide, whichever bus
// the services sit on, and a handler hears each change. A requirement ends when its holder
// requires 0 (kIOMaxBusStallNone) or goes away (xnu's IOService::free requires 0). With no
// requirement there is no limit (xnu's UINT_MAX).
//
// Which stalls the handlers bound on Apple silicon is not public; dexthil's PCIe platform bounds
// the fabric's injected stalls with it (PciePlatform::apply_max_bus_delay).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::platform {

class MaxBusDelay {
 public:
  // The limit now in force (nullopt: none) and who holds it (the smallest requirement's owner).
  using Handler = std::function<void(std::optional<sim::SimTime> limit, std::string_view holder)>;

  // `holder` (any stable identity, e.g. the service's object) requires stalls of at most `limit`;
  // 0 ends its requirement. Handlers hear the new limit.
  void require(const void* holder, std::string name, sim::SimTime limit);
  void release(const void* holder) { require(holder, {}, 0); }

  std::optional<sim::SimTime> limit() const { return limit_; }
  const std::string& holder() const { return holder_name_; }
  // The requirement `holder` has now (0: none).
  sim::SimTime requirement(const void* holder) const;

  // A handler is told the current limit at once, then every change, as xnu's setLatencyHandler
  // does. The id removes it.
  std::uint64_t add_handler(Handler handler);
  void remove_handler(std::uint64_t id);

 private:
  struct Entry {
    const void* holder = nullptr;  // nullptr: a free slot (xnu reuses them)
    std::string name;
    sim::SimTime limit = 0;
  };
  void notify();

  std::vector<Entry> entries_;  // in the order the requirements came, so ties resolve the same way every run
  std::optional<sim::SimTime> limit_;
  std::string holder_name_;
  std::vector<std::pair<std::uint64_t, Handler>> handlers_;
  std::uint64_t next_handler_ = 1;
};

}  // namespace dexthil::platform
