#pragma once
// The PCI bus plug-in: an IOPCIDevice nub for every function of the fabric, published with the
// properties IOPCIFamily gives it (vendor-id, device-id, class-code, ...), matched by
// IOPCIPrimaryMatch, IOPCIMatch and IOPCIClassMatch. It also carries the fabric's MSIs to the
// interrupt sources on a nub, answers for what a stopped driver left open on its function, recovers
// a function whose client crashed (IOPCIDevice::ClientCrashed), and registers the PCIe platform
// as a handler of the kernel's bus-stall limit (RequireMaxBusStall).
#include <memory>
#include <string>
#include <vector>

#include "harness/driverkit/buses/pci/pci_provider.hpp"
#include "harness/driverkit/kernel/bus_plugin.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::driverkit {

class Kernel;

class PciBus final : public BusPlugin {
 public:
  PciBus(Kernel& kernel, platform::PciePlatform& platform);
  ~PciBus() override;
  PciBus(const PciBus&) = delete;
  PciBus& operator=(const PciBus&) = delete;

  void publish() override;
  std::optional<std::int64_t> match(const Personality& personality, const Nub& nub) const override;
  std::vector<std::string> mismatches(const Personality& personality, const Nub& nub) const override;
  std::string describe(const Nub& nub) const override;
  std::string where_ids_are_listed() const override { return "`dexthil topo` lists the PCI functions' IDs."; }
  std::vector<Leftover> left_after_stop(const Nub& nub, const IOService* client, const std::string& client_name) override;
  // IOPCIDevice::ClientCrashed (pci_crash_recovery.cpp): a function the dead client had open is
  // reset, by FLR or by a hot reset through its upstream bridge.
  CrashRecovery client_crashed(Nub& nub, const IOService* client, const std::string& client_name, bool started) override;
  void client_died(Nub& nub, const IOService* client) override;

  // The kernel's side of a nub this bus published, or nullptr.
  PciProvider* provider(const Nub& nub) const;

 private:
  Kernel& kernel_;
  platform::PciePlatform& platform_;
  pcie::Fabric& fabric_;
  std::vector<std::unique_ptr<PciProvider>> providers_;  // one per published nub, in topology order
  std::uint64_t max_bus_delay_handler_ = 0;  // the platform's, registered with the kernel's MaxBusDelay
};

}  // namespace dexthil::driverkit
