#pragma once
// IOMemoryDescriptor and IOMemoryMap. A descriptor's bytes live in simulated host memory at a
// physical address the kernel knows (for DMA) and are mapped into the dext at a host pointer
// (for the CPU): both views are the same bytes.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOTypes.h>
#include <DriverKit/OSObject.h>

#include <dexthil/host_std.h>

class IOMemoryMap;

// CreateMapping and Map options, with DriverKit's values. The cache mode is one of four (xnu's
// CreateMapping_Impl refuses any other); the simulated CPU has no caches, so they all read and
// write the same bytes.
enum {
  kIOMemoryMapFixedAddress = 0x00000001,
  kIOMemoryMapReadOnly = 0x00000002,
  kIOMemoryMapCacheModeDefault = 0x00000000,
  kIOMemoryMapCacheModeInhibit = 0x00000100,
  kIOMemoryMapCacheModeCopyback = 0x00000200,
  kIOMemoryMapCacheModeWriteThrough = 0x00000400,
};

// Create options beside the direction.
enum {
  kIOMemoryDisableCopyOnWrite = 0x00000010,
};

class IOMemoryDescriptor : public OSObject {
  DEXTHIL_METACLASS(IOMemoryDescriptor, OSObject)

 public:
  kern_return_t GetLength(uint64_t* returnLength);
  kern_return_t CreateMapping(uint64_t options, uint64_t address, uint64_t offset, uint64_t length,
                              uint64_t alignment, IOMemoryMap** map);
  // Maps the whole descriptor (or `length` of it) into the dext and returns where, without an
  // IOMemoryMap object; the mapping lives as long as the descriptor.
  kern_return_t Map(uint64_t options, uint64_t address, uint64_t length, uint64_t alignment, uint64_t* returnAddress,
                    uint64_t* returnLength);
  // A descriptor for [offset, offset + length) of `ofDescriptor`, which it keeps alive;
  // `memoryDescriptorCreateOptions` is the direction.
  static kern_return_t CreateSubMemoryDescriptor(uint64_t memoryDescriptorCreateOptions, uint64_t offset,
                                                 uint64_t length, IOMemoryDescriptor* ofDescriptor,
                                                 IOMemoryDescriptor** memory);
  // A descriptor for the `withDescriptors` end to end, in order, which it keeps alive (xnu's
  // IOMultiMemoryDescriptor). At most 32: the array's bound in Apple's IOMemoryDescriptor.iig.
  static kern_return_t CreateWithMemoryDescriptors(uint64_t memoryDescriptorCreateOptions, uint32_t withDescriptorsCount,
                                                   IOMemoryDescriptor** const withDescriptors,
                                                   IOMemoryDescriptor** memory);
  void free() override;

  // Host side. Device memory (a BAR, from IOPCIDevice::_CopyDeviceMemoryWithIndex) has a bus
  // address and no host bytes: loads and stores through a mapping of it are not simulated, so
  // CreateMapping refuses it, and PrepareForDMA does too (no peer-to-peer DMA).
  static IOMemoryDescriptor* make_device_memory(uint64_t bus_address, uint64_t length);
  bool is_device_memory() const { return device_memory_; }
  // A buffer, or a sub-range of one, is one physically contiguous range: these are its
  // bytes and address. A concatenation (CreateWithMemoryDescriptors) has neither; use runs().
  uint8_t* host_bytes() const { return host_; }
  uint64_t physical_address() const { return physical_; }
  uint64_t length() const { return length_; }
  uint64_t direction() const { return direction_; }
  // [offset, offset + length) of the descriptor as the physically contiguous runs it is made
  // of, in order, adjacent runs merged; empty when the range is out of bounds. `host` is
  // null for device memory.
  struct Run {
    uint64_t physical;
    uint8_t* host;
    uint64_t length;
  };
  std::vector<Run> runs(uint64_t offset, uint64_t length) const;
  // Copies between the descriptor's bytes from `offset` and `bytes`, across its runs; false
  // when the range is out of bounds or has no host bytes (device memory).
  bool read_bytes(uint64_t offset, uint64_t length, uint8_t* bytes) const {
    return copy_bytes(offset, length, bytes, false);
  }
  bool write_bytes(uint64_t offset, uint64_t length, const uint8_t* bytes) {
    return copy_bytes(offset, length, const_cast<uint8_t*>(bytes), true);
  }

 protected:
  bool copy_bytes(uint64_t offset, uint64_t length, uint8_t* bytes, bool into_descriptor) const;
  uint8_t* host_ = nullptr;
  uint64_t physical_ = 0;
  uint64_t length_ = 0;
  uint64_t direction_ = kIOMemoryDirectionInOut;
  IOMemoryDescriptor* parent_ = nullptr;  // a sub-descriptor's, retained
  bool device_memory_ = false;
  // A concatenation's parts, retained, or a sub-range of one's single part: (descriptor,
  // offset, length) each. Empty for a descriptor with bytes of its own.
  struct Slice {
    IOMemoryDescriptor* of;
    uint64_t offset;
    uint64_t length;
  };
  std::vector<Slice> slices_;
};

class IOMemoryMap : public OSObject {
  DEXTHIL_METACLASS(IOMemoryMap, OSObject)

 public:
  uint64_t GetAddress() { return address_; }
  uint64_t GetLength() { return length_; }
  uint64_t GetOffset() { return offset_; }
  void free() override;

  // Host side.
  static IOMemoryMap* make(IOMemoryDescriptor* memory, uint64_t address, uint64_t offset, uint64_t length);

 private:
  IOMemoryDescriptor* memory_ = nullptr;  // retained: a mapping keeps its memory alive
  uint64_t address_ = 0;
  uint64_t length_ = 0;
  uint64_t offset_ = 0;
};

}  // extern "C++"
