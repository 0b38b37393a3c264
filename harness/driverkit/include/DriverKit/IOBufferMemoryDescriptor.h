#pragma once
// IOBufferMemoryDescriptor: memory the dext allocates. Its length is 0 until SetLength, as in
// DriverKit, so a PrepareForDMA of a fresh buffer maps nothing.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOMemoryDescriptor.h>

class IOBufferMemoryDescriptor : public IOMemoryDescriptor {
  DEXTHIL_METACLASS(IOBufferMemoryDescriptor, IOMemoryDescriptor)

 public:
  // `options` is the direction (kIOMemoryDirectionIn/Out/InOut).
  static kern_return_t Create(uint64_t options, uint64_t capacity, uint64_t alignment,
                              IOBufferMemoryDescriptor** memory);
  kern_return_t GetAddressRange(IOAddressSegment* range);
  kern_return_t SetLength(uint64_t length);
  void free() override;

  // Host side.
  uint64_t capacity() const { return capacity_; }

 private:
  uint64_t capacity_ = 0;
  uint64_t pages_ = 0;  // simulated physical pages backing it
  uint8_t* allocation_ = nullptr;
};

}  // extern "C++"
