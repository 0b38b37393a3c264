// OSAction: the target object's method, called later by a dispatch source or completion.
#include <DriverKit/OSAction.h>

#include <DriverKit/IODispatchQueue.h>

#include "harness/driverkit/kernel/kernel.hpp"

DEXTHIL_DEFINE_METACLASS(OSAction, OSObject);

kern_return_t OSAction::Create(OSObject* target, uint64_t targetmsgid, uint64_t msgid, size_t referenceSize,
                               OSAction** action) {
  if (!target || !action) return kIOReturnBadArgument;
  OSAction* a = OSTypeAlloc(OSAction);
  target->retain();  // as in DriverKit: the action keeps its target alive until it is freed
  a->target_ = target;
  a->targetmsgid_ = targetmsgid;
  a->msgid_ = msgid;
  a->reference_.assign(referenceSize, 0);
  *action = a;
  return kIOReturnSuccess;
}

void OSAction::free() {
  OSSafeReleaseNULL(target_);
  OSObject::free();
}

void OSAction::post_packed(IODispatchQueue* queue, std::shared_ptr<void> keep, void* args) {
  dexthil::driverkit::Kernel* kernel = dexthil::driverkit::Kernel::active();
  if (!kernel || !target_ || cancelled_) return;
  retain();  // the message in flight keeps the action (and so its target) alive
  kernel->post(target_, targetmsgid_, queue, [this, keep, args] {
    IORPC rpc{targetmsgid_, args, nullptr};
    if (!cancelled_) target_->_InvokeMessage(rpc);
    release();
  });
}

kern_return_t OSAction::CancelFunction(std::function<void()> handler) {
  if (cancelled_) return kIOReturnSuccess;
  cancelled_ = true;
  if (!handler) return kIOReturnSuccess;
  dexthil::driverkit::Kernel* kernel = dexthil::driverkit::Kernel::active();
  dexthil::driverkit::DispatchQueue* queue = kernel ? kernel->runtime().current_queue() : nullptr;
  if (queue) {
    queue->dispatch_async(std::move(handler));
  } else {
    handler();  // the harness itself cancelled it, outside any queue
  }
  return kIOReturnSuccess;
}
