#pragma once
// IOInterruptDispatchSource: a provider's interrupt (for PCI: an MSI vector set up with
// ConfigureInterrupts) delivered as InterruptOccurred(action, count, time) on the source's queue.
// `count` says how many interrupts arrived since the handler last ran; `time` is mach absolute time.
#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/IOService.h>
#include <DriverKit/OSAction.h>

#define IOInterruptDispatchSource_InterruptOccurred_Args OSAction* action, uint64_t count, uint64_t time
#define IOInterruptDispatchSource_InterruptOccurred_ID (::dexthil::iig::message_id("InterruptOccurred"))

class IOInterruptDispatchSource : public OSObject {
  DEXTHIL_METACLASS(IOInterruptDispatchSource, OSObject)

 public:
  static kern_return_t Create(IOService* provider, uint32_t index, IODispatchQueue* queue,
                              IOInterruptDispatchSource** source);
  kern_return_t SetHandler(OSAction* action);
  kern_return_t SetEnable(bool enable);
#if defined(__BLOCKS__)
  kern_return_t SetEnableWithCompletion(bool enable, IODispatchSourceCancelHandler handler) {
    return SetEnableWithCompletionFunction(enable, handler ? IODispatchQueue::dexthil_block_function(handler)
                                                           : std::function<void()>());
  }
  kern_return_t Cancel(IODispatchSourceCancelHandler handler) {
    return CancelFunction(handler ? IODispatchQueue::dexthil_block_function(handler) : std::function<void()>());
  }
#endif
  void free() override;

  // Host side.
  kern_return_t SetEnableWithCompletionFunction(bool enable, std::function<void()> done);
  kern_return_t CancelFunction(std::function<void()> done);
  void interrupt(uint64_t time_ticks);  // the provider raised the vector
  bool enabled() const { return enabled_; }
  IOService* provider() const { return provider_; }

 private:
  IOService* provider_ = nullptr;
  uint32_t index_ = 0;
  IODispatchQueue* queue_ = nullptr;
  OSAction* action_ = nullptr;
  bool enabled_ = false;
  bool cancelled_ = false;
  bool delivery_pending_ = false;
  uint64_t pending_count_ = 0;
  uint64_t last_time_ = 0;
};
