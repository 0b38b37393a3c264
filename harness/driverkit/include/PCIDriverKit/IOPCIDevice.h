#pragma once
// IOPCIDevice: the provider a PCI dext matches, backed by a function in the simulated fabric
// (harness/pcie). Accessors need Open(); a failed or out-of-range access reads all-ones, as on
// the bus. Memory accessors take a memoryIndex, which is not the BAR number: GetBARInfo maps one
// to the other (a 64-bit BAR uses two BAR registers but one memory index).
#include <DriverKit/IOService.h>
#include <PCIDriverKit/IOPCIFamilyDefinitions.h>

namespace dexthil::pcie {
struct Node;
}
namespace dexthil::driverkit {
class PciProvider;
}

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

  kern_return_t GetBARInfo(uint8_t barIndex, uint8_t* memoryIndex, uint64_t* barSize, uint8_t* barType);
  kern_return_t FindPCICapability(uint32_t capabilityID, uint64_t searchOffset, uint64_t* foundCapability);
  kern_return_t GetBusDeviceFunction(uint8_t* busNumber, uint8_t* deviceNumber, uint8_t* functionNumber);
  kern_return_t ConfigureInterrupts(uint32_t interruptType, uint32_t minVectorCount, uint32_t maxVectorCount,
                                    IOOptionBits options);
  kern_return_t SetASPMState(IOService* forClient, IOOptionBits state);
  kern_return_t Reset(uint32_t type);
  kern_return_t HasPCIPowerManagement(IOOptionBits state);
  kern_return_t EnablePCIPowerManagement(IOOptionBits state);

  // Host side.
  dexthil::driverkit::PciProvider* provider_impl() const { return impl_; }
  void set_provider_impl(dexthil::driverkit::PciProvider* impl) { impl_ = impl; }

 private:
  dexthil::driverkit::PciProvider* impl_ = nullptr;
};
