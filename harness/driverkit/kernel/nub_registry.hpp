#pragma once
// The kernel's registry of nubs: the provider objects buses publish (an IOPCIDevice per PCI
// function, an IOUSBHostDevice and its IOUSBHostInterfaces per USB device), each with its
// property dictionary as ioreg shows it. Matching reads a nub's properties, never the bus's own
// data structures, so every bus is matched the same way: the personality's IOProviderClass
// against the nub's class, then the bus's keys against its properties (BusPlugin::match).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

class IOService;

namespace dexthil::driverkit {

class BusPlugin;
struct Personality;

// A property value: a number, a string or a boolean (what matching keys compare against).
using NubProperty = std::variant<std::uint64_t, std::string, bool>;
using NubProperties = std::vector<std::pair<std::string, NubProperty>>;

struct Nub {
  std::uint64_t entry_id = 0;   // the registry entry ID, in publication order
  std::string provider_class;   // what a personality's IOProviderClass names: "IOPCIDevice"
  std::string location;         // where it is, for findings and [[expect]] endpoint=: "dev", "usb1.port2"
  BusPlugin* bus = nullptr;     // the bus that published it and matches personalities against it
  IOService* object = nullptr;  // the object a matched service's Start gets as its provider
  NubProperties properties;     // in the order the bus published them
  bool terminated = false;      // the device is gone; nothing matches it any more
  // xnu's IORematchCount and IORematchPersonality (IOService::terminateWorker): a dext's process
  // died and its service was terminated to rematch the same dext. The count goes 0, 1, 2, ... with
  // each such relaunch and is never reset while the dext stays the same; the personality is used
  // up by the next matching (IOService::doServiceMatch).
  std::optional<unsigned> rematch_count;
  const Personality* rematch_personality = nullptr;

  const NubProperty* property(std::string_view key) const;
  std::optional<std::uint64_t> number(std::string_view key) const;
};

class NubRegistry {
 public:
  // Adds a nub; entry IDs count up from the first.
  Nub& publish(BusPlugin& bus, std::string provider_class, std::string location, IOService* object,
               NubProperties properties);
  Nub* find(std::string_view location) const;  // the newest nub at that location
  Nub* find(const IOService* object) const;
  // Every nub ever published, terminated ones included, in publication order.
  const std::vector<std::unique_ptr<Nub>>& all() const { return nubs_; }

 private:
  std::vector<std::unique_ptr<Nub>> nubs_;
};

}  // namespace dexthil::driverkit
