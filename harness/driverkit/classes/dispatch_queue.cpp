// IODispatchQueue on the fiber runtime (harness/driverkit/runtime/dispatch.hpp).
#include <DriverKit/IODispatchQueue.h>

#include <DriverKit/IOLib.h>
#include <DriverKit/IOTimerDispatchSource.h>

#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IODispatchQueue, OSObject);

IODispatchQueue* IODispatchQueue::make_host(dexthil::driverkit::FiberRuntime& runtime, const char* name,
                                            uint64_t options, uint64_t owner) {
  IODispatchQueue* q = OSTypeAlloc(IODispatchQueue);
  q->queue_ = new dexthil::driverkit::DispatchQueue(runtime, name ? name : "", options);
  q->queue_->set_owner(owner);
  return q;
}

kern_return_t IODispatchQueue::Create(const char* name, uint64_t options, uint64_t, IODispatchQueue** queue) {
  if (!queue || !name) return kIOReturnBadArgument;
  Kernel& kernel = Kernel::current();
  IODispatchQueue* q = make_host(kernel.runtime(), name, options, 0);
  kernel.queue_created(q);
  *queue = q;
  return kIOReturnSuccess;
}

void IODispatchQueue::free() {
  if (Kernel* k = Kernel::active()) k->queue_freed(this);
  delete queue_;
  queue_ = nullptr;
  OSObject::free();
}

const char* IODispatchQueue::GetName() const { return queue_->name().c_str(); }

kern_return_t IODispatchQueue::CancelFunction(std::function<void()> handler) {
  queue_->cancel(std::move(handler));
  return kIOReturnSuccess;
}

void IODispatchQueue::DispatchAsyncFunction(std::function<void()> work) { queue_->dispatch_async(std::move(work)); }
void IODispatchQueue::DispatchSyncFunction(std::function<void()> work) { queue_->dispatch_sync(std::move(work)); }

void IODispatchQueue::DispatchAsync_f(void* context, IODispatchFunction function) {
  queue_->dispatch_async([context, function] { function(context); });
}

void IODispatchQueue::DispatchSync_f(void* context, IODispatchFunction function) {
  queue_->dispatch_sync([context, function] { function(context); });
}

bool IODispatchQueue::OnQueue() { return queue_->on_queue(); }

kern_return_t IODispatchQueue::Sleep(void* event, uint64_t timeout) {
  if (timeout == 0) return queue_->sleep(event, dexthil::sim::kNever);
  Kernel& kernel = Kernel::current();
  const uint64_t now_ns = kernel.read_clock(Kernel::Clock::kNanoseconds);
  // Saturating: a timeout past the end of time is no timeout.
  const uint64_t until_ns = timeout > UINT64_MAX - now_ns ? UINT64_MAX : now_ns + timeout;
  return queue_->sleep(event, Kernel::clock_time(Kernel::Clock::kNanoseconds, until_ns));
}

kern_return_t IODispatchQueue::SleepWithDeadline(void* event, uint64_t options, uint64_t deadline) {
  // A deadline of 0 waits for Wakeup only, whatever the clock; any other needs a kIOTimerClock* value.
  if (deadline == 0) return queue_->sleep(event, dexthil::sim::kNever);
  const std::optional<Kernel::Clock> clock = Kernel::timer_clock(options);
  if (!clock) return kIOReturnBadArgument;
  return queue_->sleep(event, Kernel::clock_time(*clock, deadline));
}

kern_return_t IODispatchQueue::Wakeup(void* event) { return queue_->wakeup(event); }

kern_return_t IODispatchQueue::WakeupWithOptions(void* event, uint64_t options) {
  if (options & ~uint64_t{kIODispatchQueueWakeupAll}) return kIOReturnBadArgument;
  return queue_->wakeup(event, options & kIODispatchQueueWakeupAll);
}
