#pragma once
// IODMACommand: makes memory visible to a device. On the simulated Apple silicon machine
// PrepareForDMA maps the memory into the provider's DART under the SID of the provider's own
// requester ID only, and returns IOVAs; CompleteDMA unmaps. maxAddressBits is enforced against
// the IOVA (which starts at 0x80000000, so 31 bits cannot work). Without a DART (no mapper) the
// device gets physical addresses, and memory above maxAddressBits is double-buffered as xnu's
// IODMACommand does: the device is given a bounce buffer below 4 GiB, which PrepareForDMA fills
// from the memory when the device reads it and CompleteDMA copies back when the device writes
// it. PerformOperation reads and writes what the device sees.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOMemoryDescriptor.h>
#include <DriverKit/IOService.h>

namespace dexthil::driverkit {
class Kernel;
class PciProvider;
}
namespace dexthil::pcie {
struct Node;
}

struct IODMACommandSpecification {
  uint64_t options;
  uint64_t maxAddressBits;
  uint64_t _resv[16];
};

enum {
  kIODMACommandSpecificationNoOptions = 0x00000000,
  kIODMACommandCreateNoOptions = 0x00000000,
  kIODMACommandPrepareForDMANoOptions = 0x00000000,
  kIODMACommandCompleteDMANoOptions = 0x00000000,
};

// PerformOperation's options, one at a time.
enum {
  kIODMACommandPerformOperationOptionRead = 0x00000001,
  kIODMACommandPerformOperationOptionWrite = 0x00000002,
  kIODMACommandPerformOperationOptionZero = 0x00000004,
};

class IODMACommand : public OSObject {
  DEXTHIL_METACLASS(IODMACommand, OSObject)

 public:
  static kern_return_t Create(IOService* device, uint64_t options, const IODMACommandSpecification* specification,
                              IODMACommand** command);
  kern_return_t PrepareForDMA(uint64_t options, IOMemoryDescriptor* memory, uint64_t offset, uint64_t length,
                              uint64_t* flags, uint32_t* segmentsCount, IOAddressSegment* segments);
  kern_return_t CompleteDMA(uint64_t options);
  kern_return_t GetPreparation(uint64_t* offset, uint64_t* length, IOMemoryDescriptor** memory);
  // Copies between the prepared range as the device sees it (from dmaOffset) and `data` (from
  // dataOffset): Read into data, Write from data, Zero clears the range.
  kern_return_t PerformOperation(uint64_t options, uint64_t dmaOffset, uint64_t length, uint64_t dataOffset,
                                 IOMemoryDescriptor* data);
  void free() override;

  // Host side.
  bool prepared() const { return memory_ != nullptr; }
  IOService* device() const { return device_; }

 private:
  void unprepare();  // unmaps from the DART and lets go of the memory
  IOService* device_ = nullptr;
  uint64_t max_address_bits_ = 64;
  IOMemoryDescriptor* memory_ = nullptr;  // retained while prepared
  uint8_t* memory_host_ = nullptr;        // the prepared range's bytes in memory_
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
  uint64_t mapping_id_ = 0;  // the kernel mapper's record of this preparation
  // The bounce buffer of a double-buffered preparation (0 / nullptr: none).
  uint64_t bounce_physical_ = 0;
  uint64_t bounce_pages_ = 0;
  uint8_t* bounce_host_ = nullptr;
  uint8_t* device_view() const;  // the bytes the device reads and writes for the prepared range
  // Reports a PrepareForDMA that failed (dma.prepare-failed) and returns `result`.
  kern_return_t fail_prepare(dexthil::driverkit::Kernel& kernel, dexthil::driverkit::PciProvider* provider,
                             const dexthil::pcie::Node& node, const dexthil::pcie::Node& root, uint64_t length,
                             kern_return_t result, const std::string& error, bool too_few_bits);
  void release_bounce();
};

}  // extern "C++"
