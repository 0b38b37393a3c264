#pragma once
// IODispatchSource: what interrupt and timer sources share, as in DriverKit: the handler (an
// OSAction), the queue it runs on, enabling, and cancelling.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/OSAction.h>

class IODispatchSource : public OSObject {
  DEXTHIL_METACLASS(IODispatchSource, OSObject)

 public:
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

  // Host side. `done` runs on the source's queue once nothing more will be delivered.
  kern_return_t SetEnableWithCompletionFunction(bool enable, std::function<void()> done);
  virtual kern_return_t CancelFunction(std::function<void()> done);
  bool enabled() const { return enabled_ && !cancelled_; }

 protected:
  explicit IODispatchSource(bool enabled = false) : enabled_(enabled) {}
  void set_queue(IODispatchQueue* queue);  // retains it

  IODispatchQueue* queue_ = nullptr;
  OSAction* action_ = nullptr;
  bool enabled_;
  bool cancelled_ = false;
};

}  // extern "C++"
