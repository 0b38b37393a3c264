#pragma once
// A bus as the kernel sees it: it publishes nubs into the kernel's registry (Kernel::publish),
// matches personalities against them by its own keys, and answers for what a service leaves
// open on its nubs. The PCI bus (buses/pci) publishes an IOPCIDevice per fabric function; the
// USB bus (buses/usb) an IOUSBHostDevice and IOUSBHostInterfaces per device. Adding a bus adds a
// plug-in; the kernel's matching, lifecycle and crash handling stay as they are.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <DriverKit/IOReturn.h>

#include "harness/driverkit/kernel/nub_registry.hpp"
#include "harness/monitor/service_events.hpp"

class IOService;

namespace dexthil::driverkit {

struct Personality;

class BusPlugin {
 public:
  virtual ~BusPlugin() = default;

  // Publishes the bus's nubs (Kernel::publish). Called once, when the bus is added.
  virtual void publish() = 0;

  // The personality's probe score against one of this bus's nubs whose class is the
  // personality's IOProviderClass; nullopt when its keys do not match.
  virtual std::optional<std::int64_t> match(const Personality& personality, const Nub& nub) const = 0;
  // Why the personality does not match the nub, a phrase per failing key; empty when it matches.
  virtual std::vector<std::string> mismatches(const Personality& personality, const Nub& nub) const = 0;
  // The nub in a few words for a person: "dev (1234:5678, 01:00.0)".
  virtual std::string describe(const Nub& nub) const = 0;
  // Where a person finds the IDs of this bus's devices, for dext.no-match; empty if nowhere.
  virtual std::string where_ids_are_listed() const { return {}; }

  // What a stopped client left running on the nub, each a finding's what and why
  // (lifecycle.io-after-stop); the bus closes what the client left open.
  using Leftover = monitor::LeftRunning;
  virtual std::vector<Leftover> left_after_stop(const Nub&, const IOService* client, const std::string& client_name) {
    (void)client;
    (void)client_name;
    return {};
  }
  // IOService::ClientCrashed on the nub (xnu's IOUserServer::clientClose): the process of
  // `client`, a service on the nub, died; `started`: its Start had returned success (xnu then also
  // unregisters the nub's interrupts). The provider says at once what it does about it and closes
  // what the client had open; `perform`, if set, then does it on a kernel thread and may take
  // simulated time (a reset). A provider with nothing to do returns an empty recovery.
  struct CrashRecovery {
    std::string what;  // what the provider does, in the platform's words, for the finding
    std::string reset_type;                // the reset, by its IOPCIFamilyDefinitions.h name; empty: none
    std::vector<std::string> reset;        // the locations of the functions the reset reaches
    std::vector<Nub*> terminated;          // other nubs whose drivers the provider terminates, to rematch them
    std::function<void()> perform;
  };
  // The process of a client that had already left the nub (its Stop was running, or its Start
  // failed) died: no ClientCrashed, but the kernel closes what it still had open on the nub.
  virtual void client_died(Nub& nub, const IOService* client) {
    (void)nub;
    (void)client;
  }
  virtual CrashRecovery client_crashed(Nub& nub, const IOService* client, const std::string& client_name, bool started) {
    (void)nub;
    (void)client;
    (void)client_name;
    (void)started;
    return {};
  }
};

}  // namespace dexthil::driverkit
