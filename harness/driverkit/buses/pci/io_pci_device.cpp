// IOPCIDevice on the simulated fabric: config cycles routed by BDF, MMIO routed through the
// bridges' windows and the BARs as programmed, MSI programmed in the function's capability.
#include <PCIDriverKit/IOPCIDevice.h>

#include <memory>
#include <optional>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/buses/pci/pci_provider.hpp"
#include "harness/monitor/device_events.hpp"
#include "harness/pcie/config_space.hpp"
#include "harness/util/hex.hpp"

using dexthil::driverkit::Kernel;
using dexthil::driverkit::PciProvider;

DEXTHIL_DEFINE_METACLASS(IOPCIDevice, IOService);

namespace {

bool open_by_anyone(PciProvider* impl) { return impl && impl->open_client; }

// Whether an access may reach the device: the provider must be open and not in the middle of a
// Reset (the access then fails as on the bus). What the access meets is the monitor's to judge.
bool accessible(PciProvider* impl, const char* accessor) {
  if (!open_by_anyone(impl)) return false;
  Kernel& kernel = impl->kernel();
  if (impl->resetting) {
    dexthil::monitor::DeviceAccessFailed refused;
    refused.time = kernel.sim().now();
    refused.location = impl->node().name;
    refused.accessor = accessor;
    refused.reason = dexthil::monitor::DeviceAccessFailed::Reason::kDuringReset;
    refused.why = "IOPCIDevice::Reset is in progress";
    kernel.monitor().emit(refused);
    return false;
  }
  kernel.monitor().emit(dexthil::monitor::DeviceAccessed{kernel.sim().now(), impl->node().name, accessor});
  return true;
}

}  // namespace

kern_return_t IOPCIDevice::Open(IOService* forClient, IOOptionBits) {
  if (!impl_ || !forClient) return kIOReturnBadArgument;
  if (impl_->open_client == forClient) return kIOReturnSuccess;
  if (impl_->open_client) return kIOReturnExclusiveAccess;
  impl_->open_client = forClient;
  return kIOReturnSuccess;
}

void IOPCIDevice::Close(IOService* forClient, IOOptionBits) {
  if (impl_ && impl_->open_client == forClient) impl_->open_client = nullptr;
}

// ---- config space: a kernel call (PCIDriverKit's _MemoryAccess) carrying a config request ----

namespace {
// The simulated time a config access costs the calling thread: the kernel call into
// IOPCIFamily and back (KernelProfile::kernel_call), around the config request's round trip
// down to the function and its completion back.
struct ConfigCost {
  Kernel& kernel;
  const PciProvider& provider;
  void before() { wait(kernel.profile().kernel_call / 2 + provider.fabric().one_way_latency(provider.node())); }
  void after() { wait(provider.fabric().one_way_latency(provider.node()) + kernel.profile().kernel_call / 2); }
  void wait(dexthil::sim::SimTime t) {
    if (kernel.runtime().in_fiber()) kernel.runtime().sleep_for(t);  // tests calling from outside a queue pay nothing
  }
};

uint32_t config_read(PciProvider* impl, uint64_t offset, unsigned size) {
  const uint32_t ones = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
  if (!impl || offset % size || offset + size > dexthil::pcie::ConfigSpace::kSize) return ones;
  if (!accessible(impl, "ConfigurationRead")) return ones;
  ConfigCost cost{impl->kernel(), *impl};
  cost.before();
  const uint32_t value = impl->fabric().config_read(impl->node().bdf, static_cast<uint16_t>(offset), size);
  cost.after();
  return value;
}
void config_write(PciProvider* impl, uint64_t offset, unsigned size, uint32_t value) {
  if (!impl || offset % size || offset + size > dexthil::pcie::ConfigSpace::kSize) return;
  if (!accessible(impl, "ConfigurationWrite")) return;
  ConfigCost cost{impl->kernel(), *impl};
  cost.before();
  impl->fabric().config_write(impl->node().bdf, static_cast<uint16_t>(offset), size, value);
  cost.after();  // config writes are non-posted: the caller waits for the completion
}
}  // namespace

void IOPCIDevice::ConfigurationRead32(uint64_t offset, uint32_t* readData) {
  if (readData) *readData = config_read(impl_, offset, 4);
}
void IOPCIDevice::ConfigurationRead16(uint64_t offset, uint16_t* readData) {
  if (readData) *readData = static_cast<uint16_t>(config_read(impl_, offset, 2));
}
void IOPCIDevice::ConfigurationRead8(uint64_t offset, uint8_t* readData) {
  if (readData) *readData = static_cast<uint8_t>(config_read(impl_, offset, 1));
}
void IOPCIDevice::ConfigurationWrite32(uint64_t offset, uint32_t data) { config_write(impl_, offset, 4, data); }
void IOPCIDevice::ConfigurationWrite16(uint64_t offset, uint16_t data) { config_write(impl_, offset, 2, data); }
void IOPCIDevice::ConfigurationWrite8(uint64_t offset, uint8_t data) { config_write(impl_, offset, 1, data); }

// ---- memory space: loads and stores through the BAR mapping Open made, as PCIe requests ----
//
// PCIDriverKit maps every memory BAR into the dext at Open, and Memory{Read,Write}N are plain
// loads and stores through that mapping: no kernel call. A load is a non-posted read that
// stalls the thread until the completion is back; a store is a posted write.

namespace {
bool mmio_address(PciProvider* impl, uint8_t memory_index, uint64_t offset, unsigned size, uint64_t* address) {
  if (!open_by_anyone(impl)) return false;
  const int bar = impl->bar_for_memory_index(memory_index);
  if (bar < 0 || offset % size || offset + size > impl->node().bars[bar].size) return false;
  *address = impl->bar_address(bar) + offset;
  return true;
}

uint64_t all_ones(unsigned size) { return size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1; }

// A request the function could not take, for the monitor (DeviceAccessChecker reports it).
void report_failed(PciProvider* impl, const char* accessor, bool read, uint8_t memory_index, uint64_t offset,
                   unsigned size, const dexthil::pcie::MmioResult& r) {
  using Reason = dexthil::monitor::DeviceAccessFailed::Reason;
  dexthil::monitor::DeviceAccessFailed failed;
  failed.time = impl->kernel().sim().now();
  failed.location = impl->node().name;
  failed.accessor = accessor;
  failed.read = read;
  failed.memory_index = memory_index;
  failed.offset = offset;
  failed.size = size;
  failed.reason = r.status == dexthil::pcie::MmioResult::Status::kCompletionTimeout ? Reason::kCompletionTimeout
                                                                                   : Reason::kUnsupportedRequest;
  failed.why = r.why;
  impl->kernel().monitor().emit(failed);
}

// kIOPCIAccessLatencyTolerantHint sends the access through the kernel (PCIDriverKit's
// _MemoryAccess, as IOPCIDevice.cpp's MemoryRead/Write do with that option) instead of the
// mapping: it costs a kernel call on top of the request.
void kernel_call_half(PciProvider* impl, IOOptionBits options) {
  if (!(options & kIOPCIAccessLatencyTolerantHint)) return;
  Kernel& kernel = impl->kernel();
  if (kernel.runtime().in_fiber()) kernel.runtime().sleep_for(kernel.profile().kernel_call / 2);
}

uint64_t memory_read(PciProvider* impl, uint8_t memory_index, uint64_t offset, unsigned size, IOOptionBits options,
                     const char* accessor) {
  uint64_t address = 0;
  if (!impl || !mmio_address(impl, memory_index, offset, size, &address) || !accessible(impl, accessor)) {
    return all_ones(size);
  }
  Kernel& kernel = impl->kernel();
  kernel_call_half(impl, options);
  struct Pending {
    std::optional<dexthil::pcie::MmioResult> result;
    dexthil::driverkit::FiberRuntime::Blocker blocker;
  };
  auto pending = std::make_shared<Pending>(Pending{std::nullopt, dexthil::driverkit::FiberRuntime::Blocker(kernel.runtime())});
  impl->fabric().mmio_read(address, size, [pending](const dexthil::pcie::MmioResult& r) {
    pending->result = r;
    pending->blocker.signal();
  });
  kernel.runtime().wait_for(pending->blocker, [pending] { return pending->result.has_value(); });
  kernel_call_half(impl, options);
  if (!pending->result->ok()) report_failed(impl, accessor, true, memory_index, offset, size, *pending->result);
  return pending->result->value;
}

void memory_write(PciProvider* impl, uint8_t memory_index, uint64_t offset, unsigned size, uint64_t value,
                  IOOptionBits options, const char* accessor) {
  uint64_t address = 0;
  if (!impl || !mmio_address(impl, memory_index, offset, size, &address) || !accessible(impl, accessor)) return;
  kernel_call_half(impl, options);
  const dexthil::pcie::MmioResult r = impl->fabric().mmio_write(address, size, value);
  kernel_call_half(impl, options);  // the kernel call returns; the write itself stays posted
  if (!r.ok()) report_failed(impl, accessor, false, memory_index, offset, size, r);
}
}  // namespace

// Each accessor in both forms, as IOPCIDevice.iig declares them: without options it is options 0.
#define DEXTHIL_PCI_MEMORY_ACCESSORS(bits)                                                                          \
  void IOPCIDevice::MemoryRead##bits(uint8_t memoryIndex, uint64_t offset, uint##bits##_t* readData,               \
                                     IOOptionBits options) {                                                       \
    if (readData) {                                                                                                \
      *readData = static_cast<uint##bits##_t>(                                                                     \
          memory_read(impl_, memoryIndex, offset, bits / 8, options, "MemoryRead" #bits));                         \
    }                                                                                                              \
  }                                                                                                                \
  void IOPCIDevice::MemoryRead##bits(uint8_t memoryIndex, uint64_t offset, uint##bits##_t* readData) {             \
    MemoryRead##bits(memoryIndex, offset, readData, 0);                                                            \
  }                                                                                                                \
  void IOPCIDevice::MemoryWrite##bits(uint8_t memoryIndex, uint64_t offset, uint##bits##_t data,                   \
                                      IOOptionBits options) {                                                      \
    memory_write(impl_, memoryIndex, offset, bits / 8, data, options, "MemoryWrite" #bits);                        \
  }                                                                                                                \
  void IOPCIDevice::MemoryWrite##bits(uint8_t memoryIndex, uint64_t offset, uint##bits##_t data) {                 \
    MemoryWrite##bits(memoryIndex, offset, data, 0);                                                               \
  }
DEXTHIL_PCI_MEMORY_ACCESSORS(64)
DEXTHIL_PCI_MEMORY_ACCESSORS(32)
DEXTHIL_PCI_MEMORY_ACCESSORS(16)
DEXTHIL_PCI_MEMORY_ACCESSORS(8)
#undef DEXTHIL_PCI_MEMORY_ACCESSORS

// ---- identity, capabilities, interrupts, link ----

kern_return_t IOPCIDevice::GetBARInfo(uint8_t barIndex, uint8_t* memoryIndex, uint64_t* barSize, uint8_t* barType) {
  if (!impl_) return kIOReturnNotReady;
  unsigned reg = 0;
  const auto& bars = impl_->node().bars;
  for (size_t i = 0; i < bars.size(); ++i) {
    if (reg == barIndex) {
      if (memoryIndex) *memoryIndex = static_cast<uint8_t>(i);
      if (barSize) *barSize = bars[i].size;
      if (barType) {
        *barType = bars[i].is64 ? (bars[i].prefetchable ? kPCIBARTypeM64PF : kPCIBARTypeM64)
                                : (bars[i].prefetchable ? kPCIBARTypeM32PF : kPCIBARTypeM32);
      }
      return kIOReturnSuccess;
    }
    reg += bars[i].is64 ? 2 : 1;
  }
  return kIOReturnNotFound;  // no BAR starts at that register (unused, or the upper half of a 64-bit BAR)
}

kern_return_t IOPCIDevice::_CopyDeviceMemoryWithIndex(uint64_t memoryIndex, IOMemoryDescriptor** returnMemory,
                                                      IOService* forClient) {
  if (!impl_ || !returnMemory) return kIOReturnBadArgument;
  if (!forClient || impl_->open_client != forClient) return kIOReturnNotOpen;
  if (memoryIndex > kPCIMemoryRangeExpansionROM) return kIOReturnBadArgument;
  const int bar = impl_->bar_for_memory_index(static_cast<uint8_t>(memoryIndex));
  if (bar < 0) return kIOReturnUnsupported;  // no device memory at that index
  *returnMemory = IOMemoryDescriptor::make_device_memory(impl_->bar_address(bar), impl_->node().bars[bar].size);
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::FindPCICapability(uint32_t capabilityID, uint64_t searchOffset, uint64_t* foundCapability) {
  if (!impl_ || !foundCapability) return kIOReturnBadArgument;
  const auto& config = impl_->node().config;
  if (!(config.read(dexthil::pcie::cfg::kStatus, 2) & 0x10)) return kIOReturnNotFound;
  // Walk the list; a non-zero searchOffset continues after the capability at that offset.
  uint16_t at = config.read(dexthil::pcie::cfg::kCapabilitiesPointer, 1) & 0xfc;
  bool searching = searchOffset == 0;
  for (int guard = 0; at && guard < 48; ++guard) {
    if (searching && config.read(at, 1) == capabilityID) {
      *foundCapability = at;
      return kIOReturnSuccess;
    }
    if (at == searchOffset) searching = true;
    at = config.read(static_cast<uint16_t>(at + 1), 1) & 0xfc;
  }
  return kIOReturnNotFound;
}

kern_return_t IOPCIDevice::GetBusDeviceFunction(uint8_t* busNumber, uint8_t* deviceNumber, uint8_t* functionNumber) {
  if (!impl_) return kIOReturnNotReady;
  const auto bdf = impl_->node().bdf;
  if (busNumber) *busNumber = bdf.bus;
  if (deviceNumber) *deviceNumber = bdf.device;
  if (functionNumber) *functionNumber = bdf.function;
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::ConfigureInterrupts(uint32_t interruptType, uint32_t minVectorCount, uint32_t maxVectorCount,
                                               IOOptionBits) {
  if (!impl_) return kIOReturnNotReady;
  if (interruptType == kIOInterruptTypeLevel) {
    // A Mac would switch the function to its legacy INTx; the models signal MSI only.
    impl_->kernel().not_simulated("IOPCIDevice::ConfigureInterrupts", "legacy INTx interrupts (kIOInterruptTypeLevel)");
    return kIOReturnUnsupported;
  }
  // MSI-X: the models have no MSI-X capability, so a Mac refuses it too.
  if (interruptType != kIOInterruptTypePCIMessaged) return kIOReturnUnsupported;
  if (minVectorCount > 1 || maxVectorCount < 1) return kIOReturnNoResources;  // single-vector MSI
  if (!impl_->enable_msi()) return kIOReturnUnsupported;
  impl_->msi_vectors = 1;
  impl_->interrupts_configured = true;
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::SetASPMState(IOOptionBits aspmLinkControl) {
  if (!open_by_anyone(impl_)) return kIOReturnNotOpen;
  if (aspmLinkControl & ~uint32_t{kIOPCILinkControlASPMBitsL0sL1}) return kIOReturnBadArgument;
  const uint16_t pcie = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapPciExpress);
  if (!pcie) return kIOReturnUnsupported;
  auto& fabric = impl_->fabric();
  const uint16_t link_control = static_cast<uint16_t>(pcie + 0x10);
  const uint32_t value = (fabric.config_read(impl_->node().bdf, link_control, 2) & ~3u) | aspmLinkControl;
  fabric.config_write(impl_->node().bdf, link_control, 2, value);
  return kIOReturnSuccess;
}

// ---- saving and restoring config space, and reset ----

namespace {

PciProvider::ConfigImage read_image(dexthil::pcie::Fabric& fabric, dexthil::pcie::Bdf bdf) {
  PciProvider::ConfigImage image{};
  for (uint16_t i = 0; i < image.size(); ++i) image[i] = fabric.config_read(bdf, static_cast<uint16_t>(i * 4), 4);
  return image;
}

// Writes an image back the way system software restores a function: everything but Command and
// Status first (BARs, then the capabilities, whose read-only bits ignore the write), and Command
// last, so the function decodes and masters again only once its BARs and MSI are in place.
void write_image(dexthil::pcie::Fabric& fabric, dexthil::pcie::Bdf bdf, const PciProvider::ConfigImage& image) {
  for (uint16_t i = 2; i < image.size(); ++i) fabric.config_write(bdf, static_cast<uint16_t>(i * 4), 4, image[i]);
  fabric.config_write(bdf, dexthil::pcie::cfg::kCommand, 2, image[1] & 0xffff);
}

// PCIe Base spec 6.6: software waits 100 ms after a reset before the function must answer.
constexpr dexthil::sim::SimTime kResetRecovery = 100 * dexthil::sim::kMillisecond;
// A Secondary Bus Reset is held at least 1 ms.
constexpr dexthil::sim::SimTime kSecondaryBusResetHold = 2 * dexthil::sim::kMillisecond;

}  // namespace

kern_return_t IOPCIDevice::SaveDeviceState(IOOptionBits options) {
  if (!open_by_anyone(impl_)) return kIOReturnNotOpen;
  if (options & ~uint32_t{kPCIConfigShadowPermanent}) return kIOReturnBadArgument;
  impl_->saved_state = read_image(impl_->fabric(), impl_->node().bdf);
  impl_->saved_state_permanent = (options & kPCIConfigShadowPermanent) != 0;
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::RestoreDeviceState(IOOptionBits options) {
  if (!open_by_anyone(impl_)) return kIOReturnNotOpen;
  if (options) return kIOReturnBadArgument;  // reserved
  if (!impl_->saved_state) return kIOReturnNotReady;  // nothing saved (or a one-time copy already used)
  write_image(impl_->fabric(), impl_->node().bdf, *impl_->saved_state);
  if (!impl_->saved_state_permanent) impl_->saved_state.reset();
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::Reset(IOOptionBits type, IOOptionBits options) {
  if (!impl_) return kIOReturnNotReady;
  if (!open_by_anyone(impl_)) return kIOReturnNotOpen;
  // Terminating and re-probing the nubs is not modelled; the warm resets need a platform
  // function for PERST#, which the simulated machine does not have.
  if (options & ~uint32_t{kIOPCIDeviceResetOptionTerminate}) return kIOReturnBadArgument;
  // As IOPCIBridge::resetDeviceGated checks it: exactly one known type bit; a warm reset on a
  // bridge without the platform's PERST# control is a bad argument too.
  constexpr uint32_t kKnownTypes = kIOPCIDeviceResetTypeHotReset | kIOPCIDeviceResetTypeWarmReset |
                                   kIOPCIDeviceResetTypeWarmResetDisable | kIOPCIDeviceResetTypeWarmResetEnable |
                                   kIOPCIDeviceResetTypeFunctionReset;
  if (__builtin_popcount(type) != 1 || (type & ~kKnownTypes)) return kIOReturnBadArgument;
  if (type != kIOPCIDeviceResetTypeFunctionReset && type != kIOPCIDeviceResetTypeHotReset) return kIOReturnBadArgument;
  if (options & kIOPCIDeviceResetOptionTerminate) return kIOReturnUnsupported;
  if (impl_->resetting) return kIOReturnBusy;
  Kernel& kernel = impl_->kernel();
  auto& fabric = impl_->fabric();
  dexthil::pcie::Node& node = impl_->node();
  const uint16_t pcie = node.config.find_capability(dexthil::pcie::cfg::kCapPciExpress);

  // Every function the reset reaches, with its config space as it is now.
  std::vector<std::pair<dexthil::pcie::Node*, PciProvider::ConfigImage>> saved;
  dexthil::pcie::Node* bridge = node.parent;
  if (type == kIOPCIDeviceResetTypeFunctionReset) {
    if (!pcie || !(node.config.read(pcie + 4, 4) & dexthil::pcie::cfg::kDevCapFunctionLevelReset)) {
      return kIOReturnUnsupported;  // the function does not advertise FLR: ask for a hot reset
    }
    saved.emplace_back(&node, read_image(fabric, node.bdf));
  } else {
    if (!bridge) return kIOReturnUnsupported;
    for (dexthil::pcie::Node* ep : fabric.topology().endpoints_below(*bridge)) {
      saved.emplace_back(ep, read_image(fabric, ep->bdf));
    }
  }

  impl_->resetting = true;
  kernel.monitor().emit(dexthil::monitor::DeviceReset{kernel.sim().now(), node.name, true});
  if (type == kIOPCIDeviceResetTypeFunctionReset) {
    const uint16_t device_control = static_cast<uint16_t>(pcie + 8);
    fabric.config_write(node.bdf, device_control, 2,
                        fabric.config_read(node.bdf, device_control, 2) | dexthil::pcie::cfg::kDevCtlInitiateFunctionLevelReset);
  } else {
    const uint32_t control = fabric.config_read(bridge->bdf, dexthil::pcie::cfg::kBridgeControl, 2);
    fabric.config_write(bridge->bdf, dexthil::pcie::cfg::kBridgeControl, 2,
                        control | dexthil::pcie::cfg::kBridgeControlSecondaryBusReset);
    kernel.runtime().sleep_for(kSecondaryBusResetHold);
    fabric.config_write(bridge->bdf, dexthil::pcie::cfg::kBridgeControl, 2, control);
  }
  kernel.runtime().sleep_for(kResetRecovery);
  for (const auto& [function, image] : saved) write_image(fabric, function->bdf, image);
  impl_->resetting = false;
  kernel.monitor().emit(dexthil::monitor::DeviceReset{kernel.sim().now(), node.name, false});
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::HasPCIPowerManagement(uint64_t state) {
  if (!impl_) return kIOReturnNotReady;
  const uint16_t pm = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapPowerManagement);
  if (!pm) return kIOReturnUnsupported;
  // 0 asks whether PCI power management is there at all; D3hot support is mandatory with it.
  const uint64_t asked = state & ~uint64_t{kPCIPMCD3Support};
  const uint64_t pmc = impl_->node().config.read(static_cast<uint16_t>(pm + 2), 2);
  return (pmc & asked) == asked ? kIOReturnSuccess : kIOReturnUnsupported;
}

kern_return_t IOPCIDevice::EnablePCIPowerManagement(uint64_t state) {
  if (!impl_) return kIOReturnNotReady;
  if (state != kPCIPMCSDefaultEnableBits && state > kPCIPMCSPowerStateD3) return kIOReturnBadArgument;
  return HasPCIPowerManagement(0);
}

// ---- link speed ----

kern_return_t IOPCIDevice::GetLinkSpeed(IOPCILinkSpeed* linkSpeed) {
  if (!impl_ || !linkSpeed) return kIOReturnBadArgument;
  const uint16_t pcie = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapPciExpress);
  if (!pcie) return kIOReturnUnsupported;  // conventional PCI has no link
  *linkSpeed = static_cast<IOPCILinkSpeed>(impl_->node().config.read(static_cast<uint16_t>(pcie + 0x12), 2) & 0xf);
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::SetLinkSpeed(IOPCILinkSpeed linkSpeed, bool retrain) {
  if (!open_by_anyone(impl_)) return kIOReturnNotOpen;
  dexthil::pcie::Node& node = impl_->node();
  dexthil::pcie::Node* bridge = node.parent;
  const uint16_t own = node.config.find_capability(dexthil::pcie::cfg::kCapPciExpress);
  const uint16_t up = bridge ? bridge->config.find_capability(dexthil::pcie::cfg::kCapPciExpress) : 0;
  if (!own || !up || !node.link) return kIOReturnUnsupported;
  // The bridge must support the speed (Link Capabilities' Max Link Speed).
  const uint32_t bridge_max = bridge->config.read(static_cast<uint16_t>(up + 0x0c), 4) & 0xf;
  if (linkSpeed < kPCILinkSpeed_2_5_GTs || static_cast<uint32_t>(linkSpeed) > bridge_max) return kIOReturnBadArgument;
  auto& fabric = impl_->fabric();
  const uint16_t target = static_cast<uint16_t>(up + 0x30);  // Link Control 2: Target Link Speed
  fabric.config_write(bridge->bdf, target, 2, (fabric.config_read(bridge->bdf, target, 2) & ~0xfu) | linkSpeed);
  if (retrain) fabric.retrain_link(node);
  return kIOReturnSuccess;
}

