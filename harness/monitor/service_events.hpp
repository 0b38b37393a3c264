#pragma once
// What the host kernel sees of a dext's services and processes: the events it emits as it
// matches, starts, stops, powers and restarts them, for the checkers in harness/checks/
// (LifecycleChecker, DextProcessChecker). Each says what the kernel saw, in its own terms;
// whether it is a mistake, and how to say so, is the checker's business. Plain data, valid only
// during the handler: copy what you keep.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "harness/sim/time.hpp"

namespace dexthil::monitor {

// A matched service, or one made by IOService::Create, that the kernel could not start, so it
// was never registered.
struct ServiceStartFailed {
  enum class Reason {
    kNotAService,  // the IOUserClass names no IOService the dext defines
    kInitFailed,   // init() returned false; Start was never called
    kStartFailed,  // Start returned an error
  };
  sim::SimTime time = 0;
  std::string_view service;   // "Class@location"
  std::string_view location;  // the nub
  std::string_view class_name;
  Reason reason = Reason::kStartFailed;
  std::string_view result;  // kStartFailed: the IOReturn name Start returned
  bool created = false;     // made by IOService::Create (a user client) rather than matched on a nub
};

// A matched service's Start returned kIOReturnSuccess and the kernel registered it.
struct ServiceStarted {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view class_name;
  bool super_start_called = false;  // Start(provider, SUPERDISPATCH) ran the kernel's half
};

// A started service's personality asks, through its IOClass, for a family's kernel half that
// dexthil does not simulate: the service runs as a plain IOUserService (emitted where the family
// would take over, after the service joined the power tree).
struct FamilyNotSimulated {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view class_name;
  std::string_view io_class;  // the personality's IOClass
  std::string_view family;    // the family whose kernel half it names
};

// A dext called something a Mac would carry out and dexthil cannot yet, and got something else
// (mostly kIOReturnUnsupported: CPU access to device memory, one DMA mapping over several
// buffers).
struct NotSimulated {
  sim::SimTime time = 0;
  std::string_view service;   // the calling process's main service, "Class@location"; empty outside a dext
  std::string_view location;  // its nub
  std::string_view api;       // "IOMemoryDescriptor::CreateMapping"
  std::string_view what;      // what was asked, in a phrase
  std::string_view outcome;   // what the dext got instead: "it returned kIOReturnUnsupported"
};

// Something a service left running when Stop returned, in the words of the part that saw it
// (the nub's bus, or the kernel for timers).
struct LeftRunning {
  std::string what, why;
};

// A service's Stop returned; the kernel is about to drop its references.
struct ServiceStopped {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view class_name;
  std::string_view result;  // the IOReturn name Stop returned
  bool succeeded = true;
  bool super_stop_called = false;  // Stop(provider, SUPERDISPATCH) ran the kernel's half
  std::span<const LeftRunning> left_running;
};

// The kernel sent SetPowerState and the service never acknowledged it: the kernel gave up at its
// limit, or the run ended while it still waited.
struct PowerChangeUnacknowledged {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view state;  // "On", "Off", "Sleep"
  sim::SimTime sent = 0;
  sim::SimTime limit = 0;  // how long the kernel waits
  bool run_ended = false;  // still waiting when the run ended
};

// IOServiceOpen could not get a user client from the service.
struct UserClientRefused {
  enum class Reason {
    kNoStartedClient,     // NewUserClient returned kIOReturnSuccess without a started client
    kNoServiceProperties, // IOService::Create found no dictionary of that key in the personality
  };
  sim::SimTime time = 0;
  std::string_view service;  // the service asked (or, for Create, the caller)
  std::string_view location;
  std::string_view class_name;
  Reason reason = Reason::kNoStartedClient;
  std::string_view key;          // kNoServiceProperties: the key Create was given
  std::string_view personality;  // kNoServiceProperties: the matched personality
};

// A dext process died. The kernel tells the provider (ClientCrashed), which may reset its device;
// a service that had started counts against the dext's daily crash limit and is terminated to
// rematch the same dext on its provider, which starts a new process once the provider's recovery
// is done (kernel_crash.cpp).
struct DextCrashed {
  sim::SimTime time = 0;
  std::string_view service;  // the process's main service, "Class@location"
  std::string_view location;
  std::string_view server;  // the IOUserServer name (the bundle id)
  // How it died, as the crash reporter describes it: the kind ("dext.signal", "dext.exception",
  // "dext.queue-assertion", "dext.hang", "dext.stack-overflow"), the exception and backtrace, and
  // what that means.
  std::string_view kind;
  std::string_view report;
  std::string_view explanation;
  bool started = false;          // its Start had returned success (xnu's uvars->started)
  unsigned crashes_today = 0;    // OSDextStatistics: the dext's crashes in the last day, this one included; 0: not counted
  unsigned daily_limit = 0;      // daily_max_dext_crashes
  std::string_view provider_recovery;  // what the provider does on ClientCrashed, in words; empty: nothing
  std::string_view reset_type;         // its reset (kIOPCIDeviceResetType...), empty: none
  std::span<const std::string> reset;  // the functions the reset reaches
  std::string_view also_terminated;    // other services the provider's recovery terminates, "A@x, B@y"
  bool relaunching = false;      // the kernel rematches the provider to the same dext
  unsigned rematch_count = 0;    // the provider's IORematchCount after this crash (started services only)
  unsigned relaunch_limit = 0;   // dextrelaunch
};

// An object the dext created is still alive after the last of its process's services was freed.
struct DextObjectAlive {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view class_name;
  std::string_view file;
  std::uint32_t line = 0;
  std::uint32_t retain_count = 0;
};

// A loaded dext matched no nub, so the kernel started none of its personalities.
struct DextMatchedNothing {
  sim::SimTime time = 0;
  std::string_view dext;  // its bundle id (or library)
  bool has_personalities = false;
  // The nearest miss: the personality, the nub (as its bus describes it) and why each key failed.
  std::string_view personality;  // empty: no bus published a nub
  std::string_view nub;
  std::string_view location;
  std::span<const std::string> reasons;
  std::string_view ids_hint;  // where the bus's device IDs are listed; may be empty
};

}  // namespace dexthil::monitor
