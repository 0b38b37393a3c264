// IODispatchSource and its two kinds, IOInterruptDispatchSource and IOTimerDispatchSource, on
// simulated time.
#include <optional>

#include <DriverKit/IODispatchSource.h>
#include <DriverKit/IOInterruptDispatchSource.h>
#include <DriverKit/IOTimerDispatchSource.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/buses/pci/pci_provider.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IODispatchSource, OSObject);
DEXTHIL_DEFINE_METACLASS(IOInterruptDispatchSource, IODispatchSource);
DEXTHIL_DEFINE_METACLASS(IOTimerDispatchSource, IODispatchSource);

// ---- what both kinds share ----

void IODispatchSource::set_queue(IODispatchQueue* queue) {
  queue->retain();
  OSSafeReleaseNULL(queue_);
  queue_ = queue;
}

kern_return_t IODispatchSource::SetHandler(OSAction* action) {
  if (!action) return kIOReturnBadArgument;
  action->retain();
  OSSafeReleaseNULL(action_);
  action_ = action;
  return kIOReturnSuccess;
}

kern_return_t IODispatchSource::SetEnable(bool enable) {
  if (cancelled_) return kIOReturnNotPermitted;
  enabled_ = enable;
  return kIOReturnSuccess;
}

kern_return_t IODispatchSource::SetEnableWithCompletionFunction(bool enable, std::function<void()> done) {
  const kern_return_t r = SetEnable(enable);
  if (done) done();  // nothing is in flight to wait for: deliveries check enabled() when they run
  return r;
}

kern_return_t IODispatchSource::CancelFunction(std::function<void()> done) {
  enabled_ = false;
  cancelled_ = true;
  if (done && queue_) queue_->DispatchAsyncFunction(std::move(done));
  return kIOReturnSuccess;
}

void IODispatchSource::free() {
  OSSafeReleaseNULL(action_);
  OSSafeReleaseNULL(queue_);
  OSObject::free();
}

// ---- interrupts ----

kern_return_t IOInterruptDispatchSource::Create(IOService* provider, uint32_t index, IODispatchQueue* queue,
                                                IOInterruptDispatchSource** source) {
  if (!provider || !queue || !source) return kIOReturnBadArgument;
  auto* pci = OSDynamicCast(IOPCIDevice, provider);
  dexthil::driverkit::PciProvider* impl = pci ? pci->provider_impl() : nullptr;
  if (!impl) return kIOReturnUnsupported;
  using Interrupt = dexthil::driverkit::PciProvider::Interrupt;
  switch (impl->interrupt_at(index)) {
    case Interrupt::kNone:
      return kIOReturnNoInterrupt;
    case Interrupt::kLegacy:
      impl->kernel().not_simulated("IOInterruptDispatchSource::Create",
                                   "the legacy INTx interrupt (index " + std::to_string(index) + ")");
      return kIOReturnUnsupported;
    case Interrupt::kMsi:
      // Without ConfigureInterrupts this is the default vector, which IOPCIFamily sets up itself.
      if (!impl->interrupts_configured) impl->enable_msi();
      break;
  }
  IOInterruptDispatchSource* s = OSTypeAlloc(IOInterruptDispatchSource);
  provider->retain();
  s->provider_ = provider;
  s->index_ = index;
  s->set_queue(queue);
  impl->sources.insert(s);
  *source = s;
  return kIOReturnSuccess;
}

kern_return_t IOInterruptDispatchSource::GetInterruptType(IOService* provider, uint32_t index,
                                                          uint64_t* interruptType) {
  if (!provider || !interruptType) return kIOReturnBadArgument;
  auto* pci = OSDynamicCast(IOPCIDevice, provider);
  dexthil::driverkit::PciProvider* impl = pci ? pci->provider_impl() : nullptr;
  if (!impl) return kIOReturnUnsupported;
  using Interrupt = dexthil::driverkit::PciProvider::Interrupt;
  switch (impl->interrupt_at(index)) {
    case Interrupt::kNone:
      return kIOReturnNoInterrupt;
    case Interrupt::kLegacy:
      *interruptType = kIOInterruptTypeLevel;
      return kIOReturnSuccess;
    case Interrupt::kMsi:
      break;
  }
  *interruptType = kIOInterruptTypePCIMessaged | kIOInterruptTypeEdge;
  return kIOReturnSuccess;
}

kern_return_t IOInterruptDispatchSource::CancelFunction(std::function<void()> done) {
  if (auto* pci = OSDynamicCast(IOPCIDevice, provider_); pci && pci->provider_impl()) {
    pci->provider_impl()->sources.erase(this);
  }
  return IODispatchSource::CancelFunction(std::move(done));
}

void IOInterruptDispatchSource::interrupt(uint64_t time_ticks) {
  if (!enabled() || !action_) return;
  ++pending_count_;
  last_time_ = time_ticks;
  if (delivery_pending_) return;  // coalesced: the handler sees the count
  delivery_pending_ = true;
  retain();
  Kernel::current().post(action_->target(), action_->targetMsgID(), queue_, [this] {
    delivery_pending_ = false;
    const uint64_t count = pending_count_;
    pending_count_ = 0;
    if (enabled() && action_ && count) {
      std::tuple<OSAction*, uint64_t, uint64_t> args{action_, count, last_time_};
      IORPC rpc{action_->targetMsgID(), &args, nullptr};
      OSAction* action = action_;
      action->retain();  // the handler may cancel the source and let go of it
      action->target()->_InvokeMessage(rpc);
      action->wait_ended(kIOReturnSuccess);
      action->release();
    }
    release();
  });
}

void IOInterruptDispatchSource::free() {
  if (auto* pci = OSDynamicCast(IOPCIDevice, provider_); pci && pci->provider_impl()) {
    pci->provider_impl()->sources.erase(this);
  }
  OSSafeReleaseNULL(provider_);
  IODispatchSource::free();
}

// ---- timers ----

kern_return_t IOTimerDispatchSource::Create(IODispatchQueue* queue, IOTimerDispatchSource** source) {
  if (!queue || !source) return kIOReturnBadArgument;
  IOTimerDispatchSource* t = OSTypeAlloc(IOTimerDispatchSource);
  t->set_queue(queue);
  Kernel::current().timer_created(t);
  *source = t;
  return kIOReturnSuccess;
}

OSObject* IOTimerDispatchSource::target_service() const { return action_ ? action_->target() : nullptr; }


kern_return_t IOTimerDispatchSource::WakeAtTime(uint64_t options, uint64_t deadline, uint64_t leeway) {
  (void)leeway;  // the simulation fires at the deadline itself
  if (cancelled_) return kIOReturnNotPermitted;
  // A deadline of UINT64_MAX disarms, whatever the clock says.
  const std::optional<Kernel::Clock> clock = Kernel::timer_clock(options);
  if (!clock && deadline != UINT64_MAX) return kIOReturnBadArgument;
  disarm();
  const uint64_t generation = ++generation_;
  armed_ = deadline != UINT64_MAX;
  if (!armed_) return kIOReturnSuccess;
  clock_ = options;
  Kernel& kernel = Kernel::current();
  const dexthil::sim::SimTime when = std::max(Kernel::clock_time(*clock, deadline), kernel.sim().now());
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
  action_->post(queue_, action_, kernel->read_clock(*Kernel::timer_clock(clock_)));
}

kern_return_t IOTimerDispatchSource::CancelFunction(std::function<void()> done) {
  armed_ = false;
  disarm();
  return IODispatchSource::CancelFunction(std::move(done));
}

void IOTimerDispatchSource::free() {
  if (Kernel* k = Kernel::active()) k->timer_freed(this);
  IODispatchSource::free();
}
