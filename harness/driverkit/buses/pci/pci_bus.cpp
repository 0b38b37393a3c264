#include "harness/driverkit/buses/pci/pci_bus.hpp"

#include <cstdio>

#include <DriverKit/IOInterruptDispatchSource.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/matching/info_plist.hpp"

namespace dexthil::driverkit {
namespace {

std::uint16_t id_property(const Nub& nub, const char* key) { return static_cast<std::uint16_t>(nub.number(key).value_or(0xffff)); }

}  // namespace

PciBus::PciBus(Kernel& kernel, platform::PciePlatform& platform)
    : kernel_(kernel), platform_(platform), fabric_(platform.fabric()) {
  fabric_.set_msi_handler([this](const pcie::Node& from, std::uint64_t, std::uint32_t) {
    for (auto& p : providers_) {
      if (&p->node() == &from) p->msi_received();
    }
  });
  // The platform's MaxBusDelay handler: the system-wide RequireMaxBusStall bounds the fabric's stalls.
  max_bus_delay_handler_ = kernel_.max_bus_delay().add_handler(
      [this](std::optional<sim::SimTime> limit, std::string_view holder) { platform_.apply_max_bus_delay(limit, holder); });
}

PciBus::~PciBus() {
  kernel_.max_bus_delay().remove_handler(max_bus_delay_handler_);
  for (auto& provider : providers_) {
    provider->nub()->set_provider_impl(nullptr);
    provider->nub()->release();
  }
  fabric_.set_msi_handler({});
}

void PciBus::publish() {
  for (pcie::Node* node : fabric_.topology().endpoints()) {
    IOPCIDevice* object = OSTypeAlloc(IOPCIDevice);
    object->init();
    providers_.push_back(std::make_unique<PciProvider>(kernel_, platform_, *node, object));
    object->set_provider_impl(providers_.back().get());
    // The properties IOPCIFamily publishes on a function's nub, as numbers (ioreg shows the ID
    // properties as little-endian data; matching reads their values).
    char name[32];
    std::snprintf(name, sizeof name, "pci%x,%x", node->ids.vendor, node->ids.device);
    char debug[32];
    std::snprintf(debug, sizeof debug, "%u:%u:%u", node->bdf.bus, node->bdf.device, node->bdf.function);
    kernel_.publish(*this, "IOPCIDevice", node->name, object,
                    {{"vendor-id", std::uint64_t{node->ids.vendor}},
                     {"device-id", std::uint64_t{node->ids.device}},
                     {"revision-id", std::uint64_t{node->revision}},
                     {"class-code", std::uint64_t{node->class_code}},
                     {"IOName", std::string(name)},
                     {"pcidebug", std::string(debug)}});
  }
}

std::optional<std::int64_t> PciBus::match(const Personality& p, const Nub& nub) const {
  if (!matches_pci(p, id_property(nub, "vendor-id"), id_property(nub, "device-id"),
                   static_cast<std::uint32_t>(nub.number("class-code").value_or(0)))) {
    return std::nullopt;
  }
  return p.probe_score;
}

std::vector<std::string> PciBus::mismatches(const Personality& p, const Nub& nub) const {
  return pci_mismatches(p, id_property(nub, "vendor-id"), id_property(nub, "device-id"),
                        static_cast<std::uint32_t>(nub.number("class-code").value_or(0)));
}

std::string PciBus::describe(const Nub& nub) const {
  char ids[16];
  std::snprintf(ids, sizeof ids, "%04x:%04x", id_property(nub, "vendor-id"), id_property(nub, "device-id"));
  const PciProvider* p = provider(nub);
  return nub.location + " (" + ids + (p ? ", " + p->node().bdf.str() : std::string()) + ")";
}

PciProvider* PciBus::provider(const Nub& nub) const {
  for (const auto& p : providers_) {
    if (p->nub() == nub.object) return p.get();
  }
  return nullptr;
}

std::vector<BusPlugin::Leftover> PciBus::left_after_stop(const Nub& nub, const IOService* client,
                                                         const std::string& client_name) {
  std::vector<Leftover> out;
  PciProvider* p = provider(nub);
  if (!p) return out;
  const std::string& name = nub.location;
  for (IOInterruptDispatchSource* source : p->sources) {
    if (source->enabled()) {
      out.push_back({"an IOInterruptDispatchSource on " + name + " is still enabled after Stop returned",
                     "Interrupts can still reach a handler of a service being torn down. Disable or cancel interrupt "
                     "sources in Stop, before calling Stop(provider, SUPERDISPATCH)."});
    }
  }
  for (std::size_t n = 0; n < p->prepared_commands.size(); ++n) {
    out.push_back({"an IODMACommand for " + name + " is still prepared after Stop returned",
                   "The device may still DMA into memory the driver is about to free. Stop the device's DMA and call "
                   "CompleteDMA in Stop."});
  }
  if (p->open_client && p->open_client == client) {
    out.push_back({name + " is still open by " + client_name + " after Stop returned",
                   "Close the provider in Stop, or the next client cannot open it."});
    p->open_client = nullptr;
  }
  return out;
}

}  // namespace dexthil::driverkit
