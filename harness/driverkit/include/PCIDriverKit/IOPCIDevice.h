#pragma once
// IOPCIDevice: the provider a PCI dext matches, backed by a function in the simulated fabric
// (harness/pcie). Accessors need Open(); a failed or out-of-range access reads all-ones, as on
// the bus. Memory accessors take a memoryIndex, which is not the BAR number: GetBARInfo maps one
// to the other (a 64-bit BAR uses two BAR registers but one memory index).
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOService.h>
#include <PCIDriverKit/IOPCIFamilyDefinitions.h>

namespace dexthil::pcie {
struct Node;
}
namespace dexthil::driverkit {
class PciProvider;
}

// SaveDeviceState's options.
enum IOPCISaveDeviceStateOptions : uint32_t {
  kPCIConfigShadowPermanent = 0x80000000,  // restore this copy every time until the next permanent save
};

// GetBARInfo's barIndex.
enum IOPCIMemoryRange {
  kPCIMemoryRangeBAR0 = 0,
  kPCIMemoryRangeBAR1 = 1,
  kPCIMemoryRangeBAR2 = 2,
  kPCIMemoryRangeBAR3 = 3,
  kPCIMemoryRangeBAR4 = 4,
  kPCIMemoryRangeBAR5 = 5,
  kPCIMemoryRangeExpansionROM = 6,
};

// GetBARInfo's barType: the BAR register's low type bits.
enum IOPCIBARType {
  kPCIBARTypeM32 = 0x00,
  kPCIBARTypeIO = 0x01,
  kPCIBARTypeM64 = 0x04,
  kPCIBARTypeM32PF = 0x08,
  kPCIBARTypeM64PF = 0x0c,
};

// SetLinkSpeed / GetLinkSpeed.
enum IOPCILinkSpeed {
  kPCILinkSpeed_2_5_GTs = 1,
  kPCILinkSpeed_5_GTs,
  kPCILinkSpeed_8_GTs,
  kPCILinkSpeed_16_GTs,
  kPCILinkSpeed_32_GTs,
};

class IOPCIDevice : public IOService {
  DEXTHIL_METACLASS(IOPCIDevice, IOService)

 public:
  kern_return_t Open(IOService* forClient, IOOptionBits options = 0);
  void Close(IOService* forClient, IOOptionBits options = 0);

  void ConfigurationRead32(uint64_t offset, uint32_t* readData);
  void ConfigurationRead16(uint64_t offset, uint16_t* readData);
  void ConfigurationRead8(uint64_t offset, uint8_t* readData);
  void ConfigurationWrite32(uint64_t offset, uint32_t data);
  void ConfigurationWrite16(uint64_t offset, uint16_t data);
  void ConfigurationWrite8(uint64_t offset, uint8_t data);

  void MemoryRead64(uint8_t memoryIndex, uint64_t offset, uint64_t* readData);
  void MemoryRead32(uint8_t memoryIndex, uint64_t offset, uint32_t* readData);
  void MemoryRead16(uint8_t memoryIndex, uint64_t offset, uint16_t* readData);
  void MemoryRead8(uint8_t memoryIndex, uint64_t offset, uint8_t* readData);
  void MemoryWrite64(uint8_t memoryIndex, uint64_t offset, uint64_t data);
  void MemoryWrite32(uint8_t memoryIndex, uint64_t offset, uint32_t data);
  void MemoryWrite16(uint8_t memoryIndex, uint64_t offset, uint16_t data);
  void MemoryWrite8(uint8_t memoryIndex, uint64_t offset, uint8_t data);
  // With tIOPCIAccessOptions: kIOPCIAccessLatencyTolerantHint goes through the kernel.
  void MemoryRead64(uint8_t memoryIndex, uint64_t offset, uint64_t* readData, IOOptionBits options);
  void MemoryRead32(uint8_t memoryIndex, uint64_t offset, uint32_t* readData, IOOptionBits options);
  void MemoryRead16(uint8_t memoryIndex, uint64_t offset, uint16_t* readData, IOOptionBits options);
  void MemoryRead8(uint8_t memoryIndex, uint64_t offset, uint8_t* readData, IOOptionBits options);
  void MemoryWrite64(uint8_t memoryIndex, uint64_t offset, uint64_t data, IOOptionBits options);
  void MemoryWrite32(uint8_t memoryIndex, uint64_t offset, uint32_t data, IOOptionBits options);
  void MemoryWrite16(uint8_t memoryIndex, uint64_t offset, uint16_t data, IOOptionBits options);
  void MemoryWrite8(uint8_t memoryIndex, uint64_t offset, uint8_t data, IOOptionBits options);

  virtual kern_return_t FindPCICapability(uint32_t capabilityID, uint64_t searchOffset, uint64_t* foundCapabilityOffset);
  virtual kern_return_t GetBusDeviceFunction(uint8_t* returnBusNumber, uint8_t* returnDeviceNumber,
                                             uint8_t* returnFunctionNumber);
  virtual kern_return_t HasPCIPowerManagement(uint64_t state);
  virtual kern_return_t EnablePCIPowerManagement(uint64_t state);
  // Config space (the type 0 header and the capability list) into memory and back, e.g. around a
  // reset the driver triggers itself.
  virtual kern_return_t SaveDeviceState(IOOptionBits options = 0);
  virtual kern_return_t RestoreDeviceState(IOOptionBits options = 0);
  virtual kern_return_t GetBARInfo(uint8_t barIndex, uint8_t* memoryIndex, uint64_t* barSize = 0, uint8_t* barType = 0);
  // The upstream bridge's target link speed; with retrain the link trains again at once.
  virtual kern_return_t SetLinkSpeed(IOPCILinkSpeed linkSpeed, bool retrain = false);
  virtual kern_return_t GetLinkSpeed(IOPCILinkSpeed* linkSpeed);
  virtual kern_return_t ConfigureInterrupts(uint32_t interruptType, uint32_t numRequired = 1, uint32_t numRequested = 1,
                                            IOOptionBits options = 0);
  // Saves config space, resets, waits until the function may be accessed again (100 ms), and
  // restores config space. The caller must not touch the device meanwhile.
  virtual kern_return_t Reset(IOOptionBits type, IOOptionBits options = 0);
  virtual kern_return_t SetASPMState(IOOptionBits aspmLinkControl);
  // A descriptor of the BAR at memoryIndex, for a user client to hand an app
  // (CopyClientMemoryForType), as IOPCIFamily's _CopyDeviceMemoryWithIndex: the caller must have
  // the device open (kIOReturnNotOpen), and the index is at most kPCIMemoryRangeExpansionROM
  // (kIOReturnBadArgument). Mapping it is not simulated yet (IOMemoryDescriptor.h).
  virtual kern_return_t _CopyDeviceMemoryWithIndex(uint64_t memoryIndex, IOMemoryDescriptor** returnMemory,
                                                   IOService* forClient);

  // Host side.
  dexthil::driverkit::PciProvider* provider_impl() const { return impl_; }
  void set_provider_impl(dexthil::driverkit::PciProvider* impl) { impl_ = impl; }

 private:
  dexthil::driverkit::PciProvider* impl_ = nullptr;
};

}  // extern "C++"
