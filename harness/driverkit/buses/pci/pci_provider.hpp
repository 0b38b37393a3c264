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
  // The MSI address and data the simulated interrupt controller listens for.
  static constexpr std::uint64_t kMsiAddress = 0xffff'f000;
  static constexpr std::uint32_t kMsiData = 0x4000;

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
  bool interrupts_configured = false;
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

  // What interrupt `index` of the function is, as IOPCIFamily lists them: before
  // ConfigureInterrupts the legacy INTx entry first (a function with an interrupt pin), then
  // the default MSI vector (a function with an MSI capability); after it, the configured MSI
  // vectors from 0. Apple's PEX8733 sample creates index 1 without ConfigureInterrupts, and
  // public dexts that configure first use 0.
  enum class Interrupt { kNone, kLegacy, kMsi };
  Interrupt interrupt_at(std::uint32_t index) const;
  // Programs the function's MSI address and data and enables MSI, as IOPCIFamily does for the
  // vector a source uses; false for a function without the capability.
  bool enable_msi();

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
