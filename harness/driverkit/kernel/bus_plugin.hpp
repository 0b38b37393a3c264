#pragma once
// A bus as the kernel sees it: it publishes nubs into the kernel's registry (Kernel::publish),
// matches personalities against them by its own keys, and answers for what a service leaves
// open on its nubs. The PCI bus (buses/pci) publishes an IOPCIDevice per fabric function; the
// USB bus (buses/usb) an IOUSBHostDevice and IOUSBHostInterfaces per device. Adding a bus adds a
// plug-in; the kernel's matching, lifecycle and crash handling stay as they are.
#include <cstdint>
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
  // The client process of a nub died: the kernel closes what it had open.
  virtual void client_died(const Nub&) {}
  // IOService::RequireMaxBusStall for a service on the nub. A bus whose links have no stalls to
  // limit accepts it and does nothing, as the power manager does for such a device.
  virtual kern_return_t require_max_bus_stall(const Nub&, std::uint64_t ns) {
    (void)ns;
    return kIOReturnSuccess;
  }
};

}  // namespace dexthil::driverkit
