#pragma once
// What the host DriverKit sees of a dext using its device through a provider nub: the events the
// nub's bus and the kernel emit, for the checkers in harness/checks/ (DeviceAccessChecker,
// DmaPrepareChecker). Plain data, valid only during the handler: copy what you keep.
#include <cstdint>
#include <string_view>

#include "harness/sim/time.hpp"

namespace dexthil::monitor {

// The kernel turned a service's device off (after the driver acknowledged SetPowerState(Off)) or
// on again (before the driver hears SetPowerState(On)).
struct DevicePowerChanged {
  sim::SimTime time = 0;
  std::string_view service;   // "Class@location"
  std::string_view location;  // the nub
  bool on = false;
};

// A service stopped driving its device: its process died, or it was stopped and freed.
struct ServiceEnded {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
};

// A dext's access to its device through a nub that the provider let through (it was open and not
// resetting): a config or memory accessor, before the request goes out.
struct DeviceAccessed {
  sim::SimTime time = 0;
  std::string_view location;
  std::string_view accessor;  // "MemoryRead32", "ConfigurationWrite16"
};

// A reset of the function behind a nub begins or ends (IOPCIDevice::Reset).
struct DeviceReset {
  sim::SimTime time = 0;
  std::string_view location;
  bool begins = false;
};

// An access that did not complete normally.
struct DeviceAccessFailed {
  enum class Reason {
    kUnsupportedRequest,  // the function or the path refused it: a read gets all ones, a write is dropped
    kCompletionTimeout,   // a read nobody answered, ended by the root complex's timer
    kDuringReset,         // the provider refused it while IOPCIDevice::Reset runs
  };
  sim::SimTime time = 0;
  std::string_view location;
  std::string_view accessor;
  bool read = false;
  std::uint8_t memory_index = 0;
  std::uint64_t offset = 0;
  unsigned size = 0;
  Reason reason = Reason::kUnsupportedRequest;
  std::string_view why;  // which rule refused it, in the platform's terms
};

// IODMACommand::PrepareForDMA failed.
struct DmaPrepareFailed {
  sim::SimTime time = 0;
  std::string_view location;
  std::uint64_t length = 0;
  std::string_view result;  // the IOReturn name the dext got
  std::string_view error;   // the mapper's reason
  bool too_few_address_bits = false;  // else: the IOVA space is exhausted
  bool translates = true;             // a DART is behind the root port (false: physical addresses)
  std::uint64_t iova_base = 0;        // where the DART's IOVAs start
  std::string_view root_port;
  std::uint64_t max_address_bits = 0;  // what the dext's IODMACommandSpecification asked for
};

// PrepareForDMA found no mapper and memory above the command's maxAddressBits, and double-buffered
// it: the device was given a bounce buffer in low memory (xnu's IODMACommand does the same).
struct DmaBounced {
  sim::SimTime time = 0;
  std::string_view location;
  std::uint64_t length = 0;
  std::uint64_t memory_address = 0;  // where the dext's memory is
  std::uint64_t bounce_address = 0;  // what the device was given
  std::uint64_t max_address_bits = 0;
  std::string_view root_port;
};

}  // namespace dexthil::monitor
