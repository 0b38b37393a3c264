#pragma once
// IOInterruptDispatchSource: a provider's interrupt (for PCI: an entry of the function's
// interrupt list, below) delivered as InterruptOccurred(action, count, time) on the source's queue.
// `count` says how many interrupts arrived since the handler last ran; `time` is mach absolute time.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IODispatchSource.h>
#include <DriverKit/IOService.h>

#define IOInterruptDispatchSource_InterruptOccurred_Args OSAction* action, uint64_t count, uint64_t time
#define IOInterruptDispatchSource_InterruptOccurred_ID (::dexthil::iig::message_id("InterruptOccurred"))

// GetInterruptType's answer, with IOKit's values (IOInterrupts.h).
enum {
  kIOInterruptTypeEdge = 0x00000000,
  kIOInterruptTypeLevel = 0x00000001,
  kIOInterruptTypePCIMessaged = 0x00010000,
};

class IOInterruptDispatchSource : public IODispatchSource {
  DEXTHIL_METACLASS(IOInterruptDispatchSource, IODispatchSource)

 public:
  static kern_return_t Create(IOService* provider, uint32_t index, IODispatchQueue* queue,
                              IOInterruptDispatchSource** source);
  // The kind of the provider's interrupt `index`. A PCI function's list, as IOPCIFamily numbers
  // it: before ConfigureInterrupts its legacy INTx (level) first, where it has an interrupt pin,
  // then its MSI vector (message-signalled, edge); after ConfigureInterrupts, the vectors it set
  // up, from 0. kIOReturnNoInterrupt past the end.
  static kern_return_t GetInterruptType(IOService* provider, uint32_t index, uint64_t* interruptType);
  void free() override;

  // Host side.
  kern_return_t CancelFunction(std::function<void()> done) override;
  void interrupt(uint64_t time_ticks);  // the provider raised the vector
  IOService* provider() const { return provider_; }

 private:
  IOService* provider_ = nullptr;
  uint32_t index_ = 0;
  bool delivery_pending_ = false;
  uint64_t pending_count_ = 0;
  uint64_t last_time_ = 0;
};

}  // extern "C++"
