// IOPCIDevice on the simulated fabric: config cycles routed by BDF, MMIO routed through the
// bridges' windows and the BARs as programmed, MSI programmed in the function's capability.
#include <PCIDriverKit/IOPCIDevice.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/pci/pci_provider.hpp"
#include "harness/pcie/config_space.hpp"

using dexthil::driverkit::Kernel;
using dexthil::driverkit::PciProvider;

DEXTHIL_DEFINE_METACLASS(IOPCIDevice, IOService);

namespace {

// The MSI address the simulated interrupt controller listens on.
constexpr uint64_t kMsiAddress = 0xffff'f000;
constexpr uint32_t kMsiData = 0x4000;

bool open_by_anyone(PciProvider* impl) { return impl && impl->open_client; }

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

// ---- config space ----

namespace {
uint32_t config_read(IOPCIDevice* self, PciProvider* impl, uint64_t offset, unsigned size) {
  const uint32_t ones = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
  if (!open_by_anyone(impl) || offset % size || offset + size > dexthil::pcie::ConfigSpace::kSize) return ones;
  impl->kernel().device_access(self, "ConfigurationRead");
  return impl->kernel().fabric().config_read(impl->node().bdf, static_cast<uint16_t>(offset), size);
}
void config_write(IOPCIDevice* self, PciProvider* impl, uint64_t offset, unsigned size, uint32_t value) {
  if (!open_by_anyone(impl) || offset % size || offset + size > dexthil::pcie::ConfigSpace::kSize) return;
  impl->kernel().device_access(self, "ConfigurationWrite");
  impl->kernel().fabric().config_write(impl->node().bdf, static_cast<uint16_t>(offset), size, value);
}
}  // namespace

void IOPCIDevice::ConfigurationRead32(uint64_t offset, uint32_t* readData) {
  if (readData) *readData = config_read(this, impl_, offset, 4);
}
void IOPCIDevice::ConfigurationRead16(uint64_t offset, uint16_t* readData) {
  if (readData) *readData = static_cast<uint16_t>(config_read(this, impl_, offset, 2));
}
void IOPCIDevice::ConfigurationRead8(uint64_t offset, uint8_t* readData) {
  if (readData) *readData = static_cast<uint8_t>(config_read(this, impl_, offset, 1));
}
void IOPCIDevice::ConfigurationWrite32(uint64_t offset, uint32_t data) { config_write(this, impl_, offset, 4, data); }
void IOPCIDevice::ConfigurationWrite16(uint64_t offset, uint16_t data) { config_write(this, impl_, offset, 2, data); }
void IOPCIDevice::ConfigurationWrite8(uint64_t offset, uint8_t data) { config_write(this, impl_, offset, 1, data); }

// ---- memory space: the models decode 32-bit accesses; narrower ones are carved out of them ----

namespace {
bool mmio_address(PciProvider* impl, uint8_t memory_index, uint64_t offset, unsigned size, uint64_t* address) {
  if (!open_by_anyone(impl)) return false;
  const int bar = impl->bar_for_memory_index(memory_index);
  if (bar < 0 || offset % size || offset + size > impl->node().bars[bar].size) return false;
  *address = impl->bar_address(bar) + offset;
  return true;
}
uint32_t read32(PciProvider* impl, uint64_t address) {
  uint32_t v = 0xffffffffu;
  if (!impl->kernel().fabric().mmio_read32(address, &v)) v = 0xffffffffu;
  return v;
}
}  // namespace

void IOPCIDevice::MemoryRead32(uint8_t memoryIndex, uint64_t offset, uint32_t* readData) {
  uint64_t a = 0;
  if (!readData) return;
  if (!mmio_address(impl_, memoryIndex, offset, 4, &a)) {
    *readData = 0xffffffffu;
    return;
  }
  impl_->kernel().device_access(this, "MemoryRead32");
  *readData = read32(impl_, a);
}

void IOPCIDevice::MemoryRead64(uint8_t memoryIndex, uint64_t offset, uint64_t* readData) {
  uint32_t lo = 0, hi = 0;
  if (!readData) return;
  if (offset % 8) {
    *readData = ~uint64_t{0};
    return;
  }
  MemoryRead32(memoryIndex, offset, &lo);
  MemoryRead32(memoryIndex, offset + 4, &hi);
  *readData = uint64_t{hi} << 32 | lo;
}

void IOPCIDevice::MemoryRead16(uint8_t memoryIndex, uint64_t offset, uint16_t* readData) {
  uint32_t v = 0;
  if (!readData) return;
  if (offset % 2) {
    *readData = 0xffff;
    return;
  }
  MemoryRead32(memoryIndex, offset & ~uint64_t{3}, &v);
  *readData = static_cast<uint16_t>(v >> ((offset & 3) * 8));
}

void IOPCIDevice::MemoryRead8(uint8_t memoryIndex, uint64_t offset, uint8_t* readData) {
  uint32_t v = 0;
  if (!readData) return;
  MemoryRead32(memoryIndex, offset & ~uint64_t{3}, &v);
  *readData = static_cast<uint8_t>(v >> ((offset & 3) * 8));
}

void IOPCIDevice::MemoryWrite32(uint8_t memoryIndex, uint64_t offset, uint32_t data) {
  uint64_t a = 0;
  if (!mmio_address(impl_, memoryIndex, offset, 4, &a)) return;
  impl_->kernel().device_access(this, "MemoryWrite32");
  impl_->kernel().fabric().mmio_write32(a, data);
}

void IOPCIDevice::MemoryWrite64(uint8_t memoryIndex, uint64_t offset, uint64_t data) {
  if (offset % 8) return;
  MemoryWrite32(memoryIndex, offset, static_cast<uint32_t>(data));
  MemoryWrite32(memoryIndex, offset + 4, static_cast<uint32_t>(data >> 32));
}

void IOPCIDevice::MemoryWrite16(uint8_t memoryIndex, uint64_t offset, uint16_t data) {
  if (offset % 2) return;
  uint32_t v = 0;
  MemoryRead32(memoryIndex, offset & ~uint64_t{3}, &v);  // read-modify-write of the containing register
  const unsigned shift = (offset & 3) * 8;
  v = (v & ~(0xffffu << shift)) | uint32_t{data} << shift;
  MemoryWrite32(memoryIndex, offset & ~uint64_t{3}, v);
}

void IOPCIDevice::MemoryWrite8(uint8_t memoryIndex, uint64_t offset, uint8_t data) {
  uint32_t v = 0;
  MemoryRead32(memoryIndex, offset & ~uint64_t{3}, &v);
  const unsigned shift = (offset & 3) * 8;
  v = (v & ~(0xffu << shift)) | uint32_t{data} << shift;
  MemoryWrite32(memoryIndex, offset & ~uint64_t{3}, v);
}

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
  if (interruptType != kIOInterruptTypePCIMessaged) return kIOReturnUnsupported;  // the models signal MSI only
  if (minVectorCount > 1 || maxVectorCount < 1) return kIOReturnNoResources;        // single-vector MSI
  auto& fabric = impl_->kernel().fabric();
  const uint16_t msi = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapMsi);
  if (!msi) return kIOReturnUnsupported;
  const auto bdf = impl_->node().bdf;
  fabric.config_write(bdf, static_cast<uint16_t>(msi + 4), 4, static_cast<uint32_t>(kMsiAddress));
  fabric.config_write(bdf, static_cast<uint16_t>(msi + 8), 4, 0);
  fabric.config_write(bdf, static_cast<uint16_t>(msi + 12), 2, kMsiData);
  fabric.config_write(bdf, static_cast<uint16_t>(msi + 2), 2, fabric.config_read(bdf, msi + 2, 2) | 1);
  impl_->msi_vectors = 1;
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::SetASPMState(IOService* forClient, IOOptionBits state) {
  if (!impl_ || impl_->open_client != forClient) return kIOReturnNotOpen;
  const uint16_t pcie = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapPciExpress);
  if (!pcie) return kIOReturnUnsupported;
  auto& fabric = impl_->kernel().fabric();
  const uint16_t link_control = static_cast<uint16_t>(pcie + 0x10);
  const uint32_t value = (fabric.config_read(impl_->node().bdf, link_control, 2) & ~3u) | (state & 3u);
  fabric.config_write(impl_->node().bdf, link_control, 2, value);
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::Reset(uint32_t type) {
  if (!impl_) return kIOReturnNotReady;
  if (type != kIOPCIDeviceResetTypeFunctionReset) return kIOReturnUnsupported;
  // What a function level reset does to config space: decoding, bus mastering and MSI are off
  // until the driver enables them again. (The device model's own registers are not reset.)
  auto& fabric = impl_->kernel().fabric();
  const auto bdf = impl_->node().bdf;
  fabric.config_write(bdf, dexthil::pcie::cfg::kCommand, 2, fabric.config_read(bdf, dexthil::pcie::cfg::kCommand, 2) & ~6u);
  if (const uint16_t msi = impl_->node().config.find_capability(dexthil::pcie::cfg::kCapMsi)) {
    fabric.config_write(bdf, static_cast<uint16_t>(msi + 2), 2, fabric.config_read(bdf, msi + 2, 2) & ~1u);
  }
  impl_->msi_vectors = 0;
  return kIOReturnSuccess;
}

kern_return_t IOPCIDevice::HasPCIPowerManagement(IOOptionBits) {
  if (!impl_) return kIOReturnNotReady;
  return impl_->node().config.find_capability(dexthil::pcie::cfg::kCapPowerManagement) ? kIOReturnSuccess
                                                                                       : kIOReturnUnsupported;
}

kern_return_t IOPCIDevice::EnablePCIPowerManagement(IOOptionBits state) { return HasPCIPowerManagement(state); }
