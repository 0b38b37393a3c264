// IOInterruptDispatchSource and IOTimerDispatchSource on simulated time.
#include <DriverKit/IOInterruptDispatchSource.h>
#include <DriverKit/IOTimerDispatchSource.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/pci/pci_provider.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IOInterruptDispatchSource, OSObject);
DEXTHIL_DEFINE_METACLASS(IOTimerDispatchSource, OSObject);

// ---- interrupts ----

kern_return_t IOInterruptDispatchSource::Create(IOService* provider, uint32_t index, IODispatchQueue* queue,
                                                IOInterruptDispatchSource** source) {
  if (!provider || !queue || !source) return kIOReturnBadArgument;
  auto* pci = OSDynamicCast(IOPCIDevice, provider);
  dexthil::driverkit::PciProvider* impl = pci ? pci->provider_impl() : nullptr;
  if (!impl) return kIOReturnUnsupported;
  if (index >= impl->msi_vectors) return kIOReturnNoInterrupt;  // ConfigureInterrupts first
  IOInterruptDispatchSource* s = OSTypeAlloc(IOInterruptDispatchSource);
  provider->retain();
  queue->retain();
  s->provider_ = provider;
  s->index_ = index;
  s->queue_ = queue;
  impl->sources.insert(s);
  *source = s;
  return kIOReturnSuccess;
}

kern_return_t IOInterruptDispatchSource::SetHandler(OSAction* action) {
  if (!action) return kIOReturnBadArgument;
  action->retain();
  OSSafeReleaseNULL(action_);
  action_ = action;
  return kIOReturnSuccess;
}

kern_return_t IOInterruptDispatchSource::SetEnable(bool enable) {
  if (cancelled_) return kIOReturnNotPermitted;
  enabled_ = enable;
  return kIOReturnSuccess;
}

kern_return_t IOInterruptDispatchSource::SetEnableWithCompletionFunction(bool enable, std::function<void()> done) {
  const kern_return_t r = SetEnable(enable);
  if (done) done();  // nothing is in flight to wait for: deliveries check enabled_ when they run
  return r;
}

kern_return_t IOInterruptDispatchSource::CancelFunction(std::function<void()> done) {
  enabled_ = false;
  cancelled_ = true;
  if (auto* pci = OSDynamicCast(IOPCIDevice, provider_); pci && pci->provider_impl()) {
    pci->provider_impl()->sources.erase(this);
  }
  if (done) queue_->DispatchAsyncFunction(std::move(done));
  return kIOReturnSuccess;
}

void IOInterruptDispatchSource::interrupt(uint64_t time_ticks) {
  if (!enabled_ || !action_) return;
  ++pending_count_;
  last_time_ = time_ticks;
  if (delivery_pending_) return;  // coalesced: the handler sees the count
  delivery_pending_ = true;
  retain();
  Kernel::current().post(action_->target(), action_->targetMsgID(), queue_, [this] {
    delivery_pending_ = false;
    const uint64_t count = pending_count_;
    pending_count_ = 0;
    if (enabled_ && action_ && count) {
      std::tuple<OSAction*, uint64_t, uint64_t> args{action_, count, last_time_};
      IORPC rpc{action_->targetMsgID(), &args, nullptr};
      action_->target()->_InvokeMessage(rpc);
    }
    release();
  });
}

void IOInterruptDispatchSource::free() {
  if (auto* pci = OSDynamicCast(IOPCIDevice, provider_); pci && pci->provider_impl()) {
    pci->provider_impl()->sources.erase(this);
  }
  OSSafeReleaseNULL(action_);
  OSSafeReleaseNULL(queue_);
  OSSafeReleaseNULL(provider_);
  OSObject::free();
}

// ---- timers ----

kern_return_t IOTimerDispatchSource::Create(IODispatchQueue* queue, IOTimerDispatchSource** source) {
  if (!queue || !source) return kIOReturnBadArgument;
  IOTimerDispatchSource* t = OSTypeAlloc(IOTimerDispatchSource);
  queue->retain();
  t->queue_ = queue;
  Kernel::current().timer_created(t);
  *source = t;
  return kIOReturnSuccess;
}

kern_return_t IOTimerDispatchSource::SetHandler(OSAction* action) {
  if (!action) return kIOReturnBadArgument;
  action->retain();
  OSSafeReleaseNULL(action_);
  action_ = action;
  return kIOReturnSuccess;
}

OSObject* IOTimerDispatchSource::target_service() const { return action_ ? action_->target() : nullptr; }

kern_return_t IOTimerDispatchSource::SetEnable(bool enable) {
  if (cancelled_) return kIOReturnNotPermitted;
  enabled_ = enable;
  return kIOReturnSuccess;
}

kern_return_t IOTimerDispatchSource::WakeAtTime(uint64_t options, uint64_t deadline, uint64_t leeway) {
  (void)leeway;  // the simulation fires at the deadline itself
  if (cancelled_) return kIOReturnNotPermitted;
  if (options & ~uint64_t{kIOTimerClockMachContinuousTime}) return kIOReturnBadArgument;
  disarm();
  const uint64_t generation = ++generation_;
  armed_ = deadline != UINT64_MAX;
  if (!armed_) return kIOReturnSuccess;
  Kernel& kernel = Kernel::current();
  const dexthil::sim::SimTime when = std::max(Kernel::ticks_to_time(deadline), kernel.sim().now());
  retain();  // the pending event keeps the source alive; disarm() gives the reference back
  pending_event_ = kernel.sim().at(when, [this, generation] {
    pending_event_ = 0;
    fire(generation);
    release();
  });
  return kIOReturnSuccess;
}

void IOTimerDispatchSource::disarm() {
  if (!pending_event_) return;
  if (Kernel* k = Kernel::active(); k && k->sim().cancel(pending_event_)) release();
  pending_event_ = 0;
}

void IOTimerDispatchSource::fire(uint64_t generation) {
  if (generation != generation_ || !armed() || !action_) return;
  armed_ = false;
  Kernel* kernel = Kernel::active();
  if (!kernel) return;
  action_->post(queue_, action_, kernel->mach_ticks());
}

kern_return_t IOTimerDispatchSource::CancelFunction(std::function<void()> done) {
  cancelled_ = true;
  armed_ = false;
  disarm();
  if (done) queue_->DispatchAsyncFunction(std::move(done));
  return kIOReturnSuccess;
}

void IOTimerDispatchSource::free() {
  if (Kernel* k = Kernel::active()) k->timer_freed(this);
  OSSafeReleaseNULL(action_);
  OSSafeReleaseNULL(queue_);
  OSObject::free();
}
