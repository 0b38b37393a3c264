// OSAction: the target object's method, called later by a dispatch source or completion.
#include <DriverKit/OSAction.h>

#include <DriverKit/IODispatchQueue.h>

#include <memory>

#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(OSAction, OSObject);

struct OSActionWaitToken {
  bool ended = false;  // an invocation ran (or the action was cancelled) and no Wait has seen it yet
  kern_return_t result = kIOReturnSuccess;
  bool timed_out = false;
  std::unique_ptr<dexthil::driverkit::FiberRuntime::Blocker> waiter;  // while a Wait is blocked
  dexthil::sim::EventId timeout = 0;                                  // its deadline's event, 0: none
};

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
  // A Wait holds a reference, so no Wait is blocked here; a deadline event may still be queued
  // if the waiting process died.
  if (wait_token_ && wait_token_->timeout) {
    if (Kernel* kernel = Kernel::active()) kernel->sim().cancel(wait_token_->timeout);
  }
  delete wait_token_;
  wait_token_ = nullptr;
  OSSafeReleaseNULL(target_);
  OSObject::free();
}

kern_return_t OSAction::WillWait(OSActionWaitToken** token) {
  if (!token) return kIOReturnBadArgument;
  if (wait_token_) return kIOReturnBusy;
  wait_token_ = new OSActionWaitToken;
  *token = wait_token_;
  return kIOReturnSuccess;
}

kern_return_t OSAction::Wait(OSActionWaitToken* token, uint64_t options, uint64_t deadline) {
  if (!token || token != wait_token_) return kIOReturnBadArgument;
  if (token->waiter) return kIOReturnBusy;  // one waiter
  Kernel* kernel = Kernel::active();
  if (!kernel || !kernel->runtime().in_fiber()) return kIOReturnNotPermitted;
  dexthil::sim::Simulator& sim = kernel->sim();
  dexthil::sim::SimTime until = dexthil::sim::kNever;
  if (deadline != 0) {
    const std::optional<Kernel::Clock> clock = Kernel::timer_clock(options);
    if (!clock) return kIOReturnBadArgument;
    until = Kernel::clock_time(*clock, deadline);
  }
  if (!token->ended && until != dexthil::sim::kNever && until <= sim.now()) return kIOReturnTimeout;
  if (!token->ended) {
    retain();  // the action, and so the token, outlive the wait whoever else releases it
    token->waiter = std::make_unique<dexthil::driverkit::FiberRuntime::Blocker>(kernel->runtime());
    token->timed_out = false;
    if (until != dexthil::sim::kNever) {
      token->timeout = sim.at(until, [token] {
        token->timeout = 0;
        if (token->ended) return;  // the invocation came at the same instant, first
        token->timed_out = true;
        token->waiter->signal();
      });
    }
    token->waiter->wait();
    if (token->timeout) sim.cancel(token->timeout);
    token->timeout = 0;
    token->waiter.reset();
    const bool timed_out = token->timed_out;
    release();
    if (timed_out) return kIOReturnTimeout;
  }
  token->ended = false;
  return token->result;
}

kern_return_t OSAction::EndWait(OSActionWaitToken* token) {
  if (!token || token != wait_token_ || token->waiter) return kIOReturnBadArgument;
  delete wait_token_;
  wait_token_ = nullptr;
  return kIOReturnSuccess;
}

void OSAction::wait_ended(kern_return_t result) {
  OSActionWaitToken* token = wait_token_;
  if (!token) return;
  token->ended = true;
  token->result = result;
  if (token->waiter && !token->timed_out) token->waiter->signal();
}

void OSAction::post_packed(IODispatchQueue* queue, std::shared_ptr<void> keep, void* args) {
  dexthil::driverkit::Kernel* kernel = dexthil::driverkit::Kernel::active();
  if (!kernel || !target_ || cancelled_) return;
  retain();  // the message in flight keeps the action (and so its target) alive
  kernel->post(target_, targetmsgid_, queue, [this, keep, args] {
    IORPC rpc{targetmsgid_, args, nullptr};
    if (!cancelled_) {
      target_->_InvokeMessage(rpc);
      wait_ended(kIOReturnSuccess);
    }
    release();
  });
}

kern_return_t OSAction::CancelFunction(std::function<void()> handler) {
  if (cancelled_) return kIOReturnSuccess;
  cancelled_ = true;
  wait_ended(kIOReturnAborted);
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
