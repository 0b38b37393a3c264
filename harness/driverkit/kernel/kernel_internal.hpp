#pragma once
// What the kernel's files share (kernel.cpp, kernel_matching.cpp, kernel_lifecycle.cpp,
// kernel_power.cpp, kernel_crash.cpp): not part of the kernel's interface.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/monitor/service_events.hpp"

namespace dexthil::driverkit::kernel_internal {

// Process ids tag the objects a process creates, and objects of a crashed process outlive its
// kernel (nothing frees them), so ids are unique across every kernel in this harness process.
std::uint64_t next_process_id();

// libDriverKit's check in OSMetaClassBase::Invoke, as it prints when it fails.
inline constexpr const char* kQueueAssertion =
    "uioserver.cpp:1654 Assertion failed: notsync || !remote || (msgid == IOService_Start_ID) || queue->OnQueue()";

// A process's main service as findings and stats name it: "Class@location" (its nub's).
inline std::string main_service_name(const DextProcess* p) { return p->user_class + "@" + p->nub->location; }

inline const char* short_method(const char* method) {
  const char* colon = std::strrchr(method, ':');
  return colon ? colon + 1 : method;
}

inline const char* power_name(PowerState s) {
  switch (s) {
    case PowerState::kOff: return "Off";
    case PowerState::kLow: return "Low";
    case PowerState::kOn: return "On";
  }
  return "?";
}

}  // namespace dexthil::driverkit::kernel_internal
