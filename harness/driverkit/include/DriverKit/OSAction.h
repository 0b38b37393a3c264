#pragma once
// OSAction: a method of an object that the system calls later (an interrupt, a timer, an I/O
// completion). iig generates CreateAction<Method> for every TYPE(...) method; the action holds a
// reference on its target, as in DriverKit, so a dext must release its actions.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOTypes.h>
#include <DriverKit/OSObject.h>

class IODispatchQueue;
// What WillWait hands out and Wait and EndWait take; opaque, as in DriverKit.
struct OSActionWaitToken;

#if defined(__BLOCKS__)
#include <Block.h>
typedef void (^OSActionCancelHandler)(void);
#endif

class OSAction : public OSObject {
  DEXTHIL_METACLASS(OSAction, OSObject)

 public:
  static kern_return_t Create(OSObject* target, uint64_t targetmsgid, uint64_t msgid, size_t referenceSize,
                              OSAction** action);
  void* GetReference() { return reference_.empty() ? nullptr : reference_.data(); }
  // After Cancel the action delivers nothing more, messages already posted included; `handler`
  // then runs on the queue that called Cancel.
  kern_return_t CancelFunction(std::function<void()> handler);
#if defined(__BLOCKS__)
  kern_return_t Cancel(OSActionCancelHandler handler) {
    if (!handler) return CancelFunction({});
    std::shared_ptr<void> held(const_cast<void*>(Block_copy(static_cast<const void*>(handler))),
                               [](void* b) { Block_release(b); });
    return CancelFunction([held] { reinterpret_cast<OSActionCancelHandler>(held.get())(); });
  }
#endif
  // Waiting for the action synchronously (OSAction.iig): WillWait before anything can invoke
  // it (one waiter per action; a second WillWait is kIOReturnBusy), then Wait blocks the calling
  // block, its queue held, until an invocation of the action has run (kIOReturnSuccess), the
  // action is cancelled (kIOReturnAborted), or `deadline` on the kIOTimerClock* `options` clock
  // passes (kIOReturnTimeout; 0 waits without one). An invocation that ran before Wait counts.
  // Waiting on the queue the invocation runs on can only time out. EndWait frees the token.
  kern_return_t WillWait(OSActionWaitToken** token);
  kern_return_t Wait(OSActionWaitToken* token, uint64_t options, uint64_t deadline);
  kern_return_t EndWait(OSActionWaitToken* token);
  void free() override;

  // Host side.
  OSObject* target() const { return target_; }
  uint64_t targetMsgID() const { return targetmsgid_; }
  uint64_t msgID() const { return msgid_; }
  bool cancelled() const { return cancelled_; }
  // An invocation of the action ran (kIOReturnSuccess), or it was cancelled (kIOReturnAborted):
  // what a Wait returns. Whoever invokes the target calls it after the method returned.
  void wait_ended(kern_return_t result);
  // Sends the target method its arguments asynchronously, on the queue the method is routed
  // to or else on `queue` (the source's). Arguments are copied; references are not allowed.
  template <class... A>
  void post(IODispatchQueue* queue, A... args) {
    auto packed = std::make_shared<std::tuple<A...>>(args...);
    post_packed(queue, packed, packed.get());
  }

 private:
  void post_packed(IODispatchQueue* queue, std::shared_ptr<void> keep, void* args);
  OSActionWaitToken* wait_token_ = nullptr;
  OSObject* target_ = nullptr;
  uint64_t targetmsgid_ = 0;
  uint64_t msgid_ = 0;
  std::vector<uint8_t> reference_;
  bool cancelled_ = false;
};

}  // extern "C++"
