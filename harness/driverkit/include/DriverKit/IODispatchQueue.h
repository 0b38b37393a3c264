#pragma once
// IODispatchQueue: a serial queue in simulated time (harness/driverkit/runtime/dispatch.hpp).
// Blocks are C blocks, which exist only in a compile with -fblocks (dexts are built with clang
// -fblocks); the harness's own code passes std::function to the *Function variants.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOTypes.h>
#include <DriverKit/OSObject.h>

#if defined(__BLOCKS__)
#include <Block.h>

typedef void (^IODispatchBlock)(void);
typedef void (^IODispatchSourceCancelHandler)(void);
typedef void (^IODispatchQueueCancelHandler)(void);
#endif

typedef char IODispatchQueueName[256];
typedef void (*IODispatchFunction)(void* context);

enum {
  kIODispatchQueueReentrant = 0x00000001,
  kIODispatchQueueMethodsNotSynchronized = 0x00000002,
};

// WakeupWithOptions' options.
enum {
  kIODispatchQueueWakeupAll = 0x00000001,
};

namespace dexthil::driverkit {
class DispatchQueue;
class FiberRuntime;
}

class IODispatchQueue : public OSObject {
  DEXTHIL_METACLASS(IODispatchQueue, OSObject)

 public:
  static kern_return_t Create(const char* name, uint64_t options, uint64_t priority, IODispatchQueue** queue);

  void DispatchAsync_f(void* context, IODispatchFunction function);
  void DispatchSync_f(void* context, IODispatchFunction function);
  bool OnQueue();
  // The running block gives the queue up until Wakeup(event) or the time limit: Sleep and
  // SleepWithTimeout take a timeout in nanoseconds from now, SleepWithDeadline a deadline on
  // the clock `options` names (a kIOTimerClock* value, else kIOReturnBadArgument). A timeout or
  // deadline of 0 waits for Wakeup only. kIOReturnTimeout when the time ran out.
  kern_return_t Sleep(void* event, uint64_t timeout);
  kern_return_t SleepWithTimeout(void* event, uint64_t timeout) { return Sleep(event, timeout); }
  kern_return_t SleepWithDeadline(void* event, uint64_t options, uint64_t deadline);
  // Wakes one block sleeping on `event` (the longest sleeper); WakeupWithOptions with
  // kIODispatchQueueWakeupAll wakes them all.
  kern_return_t Wakeup(void* event);
  kern_return_t WakeupWithOptions(void* event, uint64_t options);
  void free() override;

  // Host side. make_host creates a queue for a process without going through Create (the kernel
  // makes each service's Default queue).
  static IODispatchQueue* make_host(dexthil::driverkit::FiberRuntime& runtime, const char* name, uint64_t options,
                                    uint64_t owner);
  // Cancel: `handler` runs after the blocks already queued (runtime/dispatch.hpp says why this
  // is not IODispatchQueue.iig's "stops dequeuing work").
  kern_return_t CancelFunction(std::function<void()> handler);
  void DispatchAsyncFunction(std::function<void()> work);
  void DispatchSyncFunction(std::function<void()> work);
  dexthil::driverkit::DispatchQueue& host() const { return *queue_; }
  const char* GetName() const;

#if defined(__BLOCKS__)
  void DispatchAsync(IODispatchBlock block) { DispatchAsyncFunction(dexthil_block_function(block)); }
  void DispatchSync(IODispatchBlock block) { DispatchSyncFunction(dexthil_block_function(block)); }
  kern_return_t Cancel(IODispatchQueueCancelHandler handler) {
    return CancelFunction(handler ? dexthil_block_function(handler) : std::function<void()>());
  }

  // A block copied to the heap, released when the last copy of the function goes.
  static std::function<void()> dexthil_block_function(IODispatchBlock block) {
    std::shared_ptr<void> held(const_cast<void*>(Block_copy(static_cast<const void*>(block))),
                               [](void* b) { Block_release(b); });
    return [held] { reinterpret_cast<IODispatchBlock>(held.get())(); };
  }
#endif

 private:
  dexthil::driverkit::DispatchQueue* queue_ = nullptr;
};

}  // extern "C++"
