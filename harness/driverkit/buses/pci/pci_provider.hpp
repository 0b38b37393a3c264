#pragma once
// The kernel's side of one IOPCIDevice nub: the fabric function behind it, who has it open, its
// MSI vectors and the interrupt sources on them, and the DMA commands prepared for it (so Stop
// can be checked for I/O left running).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/pcie/fabric.hpp"
#include "harness/platform/pcie_platform.hpp"
#include "harness/util/insertion_ordered_set.hpp"

class IOService;
class IOPCIDevice;
class IOInterruptDispatchSource;
class IODMACommand;

namespace dexthil::driverkit {

class Kernel;

class PciProvider {
 public:
  PciProvider(Kernel& kernel, platform::PciePlatform& platform, pcie::Node& node, IOPCIDevice* nub)
      : kernel_(kernel), platform_(platform), node_(node), nub_(nub) {}

  Kernel& kernel() const { return kernel_; }
  pcie::Fabric& fabric() const { return platform_.fabric(); }
  // The DART driver's mapper for the function's root port (PrepareForDMA, CompleteDMA).
  platform::DmaMapper& mapper() const { return platform_.mapper(*node_.root_port()); }
  pcie::Node& node() const { return node_; }
  IOPCIDevice* nub() const { return nub_; }

  IOService* open_client = nullptr;
  std::uint32_t msi_vectors = 0;  // configured by ConfigureInterrupts
  util::InsertionOrderedSet<IOInterruptDispatchSource*> sources;
  util::InsertionOrderedSet<IODMACommand*> prepared_commands;

  // Config space as SaveDeviceState keeps it: the header and the capability list, in dwords.
  using ConfigImage = std::array<std::uint32_t, 64>;
  std::optional<ConfigImage> saved_state;
  bool saved_state_permanent = false;
  // Set while a Reset is in progress; an access then fails (DeviceAccessFailed, kDuringReset).
  bool resetting = false;

  // The function signalled its MSI: every enabled source on vector 0 gets it.
  void msi_received();

  // The BAR a memoryIndex names (memory BARs counted in order, a 64-bit BAR once), or -1.
  int bar_for_memory_index(std::uint8_t memory_index) const;
  std::uint64_t bar_address(int bar) const;

 private:
  Kernel& kernel_;
  platform::PciePlatform& platform_;
  pcie::Node& node_;
  IOPCIDevice* nub_;
};

// A function's config space as system software saves it (the header and the capability list),
// and restored the way it restores it: everything but Command first (BARs, then capabilities,
// whose read-only bits ignore the write), Command last, so the function decodes and masters again
// only once its BARs and MSI are in place. Both are config cycles through the fabric.
PciProvider::ConfigImage read_config_image(pcie::Fabric& fabric, pcie::Bdf bdf);
void write_config_image(pcie::Fabric& fabric, pcie::Bdf bdf, const PciProvider::ConfigImage& image);

}  // namespace dexthil::driverkit
