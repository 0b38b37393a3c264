#pragma once
// DriverKit's dispatch queues in simulated time. Dext code runs on fibers (Boost.Context), one at
// a time, started and resumed only by simulator events, so a method may block in Sleep, IOSleep
// or a synchronous IO() while simulated time moves on, and a seed still gives the same run.
//
// The semantics follow IODispatchQueue: every queue is serial; DispatchAsync queues a block;
// DispatchSync runs a block on another queue and waits for it, keeping the caller's queue held;
// Sleep waits for Wakeup or a deadline and releases the queue only when the queue was created
// with kIODispatchQueueReentrant; OnQueue is true on the queue and inside blocks it runs
// synchronously on other queues.
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <DriverKit/IOReturn.h>

#include "harness/driverkit/runtime/fault_guard.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::driverkit {

class DispatchQueue;

class FiberRuntime final : public FaultSink {
  struct Task;  // one block on its fiber (dispatch.cpp)

 public:
  static constexpr std::size_t kDefaultStackSize = 256 * 1024;

  explicit FiberRuntime(sim::Simulator& sim, std::size_t stack_size = kDefaultStackSize);
  ~FiberRuntime();
  FiberRuntime(const FiberRuntime&) = delete;
  FiberRuntime& operator=(const FiberRuntime&) = delete;

  sim::Simulator& sim() { return sim_; }
  bool in_fiber() const { return current_ != nullptr; }
  // The queue the running block belongs to, or nullptr outside dext code.
  DispatchQueue* current_queue() const;
  // What the running block is (the message it delivers, when it was given one), or nullptr.
  const char* current_label() const;
  // Which block is running, as an id no other block ever has (lock ownership), or 0 outside
  // dext code.
  std::uint64_t current_block() const;

  // IOSleep: blocks the running block for `duration` of simulated time; its queue stays held.
  void sleep_for(sim::SimTime duration);

  // Blocks (suspend) and unblocks (make_ready) the running block; used by synchronous calls such
  // as IO() that wait for something the simulation delivers later.
  class Blocker {
   public:
    explicit Blocker(FiberRuntime& runtime) : runtime_(runtime) {}
    void wait();    // from a block: returns once signal() was called (at once if it already was)
    void signal();  // from anywhere
   private:
    FiberRuntime& runtime_;
    Task* waiter_ = nullptr;
    bool signalled_ = false;
  };

  // Waits until `ready()`: a block suspends on `blocker` until it is signalled; code outside the
  // simulation (a test calling a driver method directly) runs the simulation until then, for at
  // most `limit` of simulated time. Simulator code outside any block cannot wait: logic_error.
  void wait_for(Blocker& blocker, const std::function<bool()>& ready, sim::SimTime limit = sim::kSecond);

  std::size_t live_fibers() const { return tasks_.size(); }

  // Called whenever a block starts or resumes (with its queue) and when it suspends or ends
  // (with nullptr): the kernel uses it to know whose code is running.
  void set_switch_hook(std::function<void(DispatchQueue*)> hook) { switch_hook_ = std::move(hook); }
  // Called when a block ends with an exception; returning true swallows it (the kernel treats
  // it as the dext crashing), false lets it surface from the simulator's run.
  void set_error_hook(std::function<bool(DispatchQueue*, std::exception_ptr)> hook) { error_hook_ = std::move(hook); }
  // Called when a block of a dext queue (owner != 0) died of a signal, overflowed its stack or
  // hung (fault_guard.hpp), with the block's label. Its fiber is never resumed.
  using FaultHook = std::function<void(DispatchQueue*, const char* label, const FaultRecord&)>;
  void set_fault_hook(FaultHook hook) { fault_hook_ = std::move(hook); }

  // FaultSink
  bool dext_fiber_running() const override;
  [[noreturn]] void escape_from_fault(const FaultRecord& record) override;

 private:
  friend class DispatchQueue;
  friend class Blocker;
  Task* create(DispatchQueue* queue, std::function<void()> work, const char* label);
  void switch_to(Task* task);      // from the simulator's context: run the task until it suspends or ends
  void suspend();                  // from a task: back to the simulator's context
  void resume_later(Task* task);   // schedule switch_to(task) as an event now
  Task* current_task() const { return current_; }

  sim::Simulator& sim_;
  std::size_t stack_size_;
  std::uint64_t next_task_id_ = 0;
  std::list<std::unique_ptr<Task>> tasks_;
  Task* current_ = nullptr;
  std::function<void(DispatchQueue*)> switch_hook_;
  std::function<bool(DispatchQueue*, std::exception_ptr)> error_hook_;
  FaultHook fault_hook_;
  const FaultRecord* fault_ = nullptr;  // the fault being reported (the guard's record)
};

class DispatchQueue {
 public:
  static constexpr std::uint64_t kReentrant = 1;               // kIODispatchQueueReentrant
  static constexpr std::uint64_t kMethodsNotSynchronized = 2;  // kIODispatchQueueMethodsNotSynchronized

  DispatchQueue(FiberRuntime& runtime, std::string name, std::uint64_t options = 0);
  ~DispatchQueue();
  DispatchQueue(const DispatchQueue&) = delete;
  DispatchQueue& operator=(const DispatchQueue&) = delete;

  const std::string& name() const { return name_; }
  std::uint64_t options() const { return options_; }

  // `label` names what the block does (a message, "TimerOccurred"), for crash reports; it must
  // outlive the block (a string literal or a method name iig generated).
  void dispatch_async(std::function<void()> block, const char* label = nullptr);
  // From a block on another queue: runs `block` here and returns after it ran. Calling it for the
  // queue the caller is on (directly or through a chain of DispatchSync) would deadlock, as it
  // does in libdispatch; that throws std::logic_error naming the queues.
  void dispatch_sync(std::function<void()> block, const char* label = nullptr);
  // IODispatchQueue::Cancel: `handler` runs after the blocks already queued. IODispatchQueue.iig
  // says the queue stops dequeuing work; Apple's user-client sample (NullDriver) cancels its
  // Default queue among its sources and relies on every source's cancel handler, queued around
  // it on that queue, still running, so dexthil keeps running queued and later work.
  void cancel(std::function<void()> handler);
  bool cancelled() const { return cancelled_; }
  bool on_queue() const;

  // From a block on this queue: waits for wakeup(event) or `deadline` (kNever: no deadline).
  // kIOReturnSuccess when woken, kIOReturnTimeout at the deadline, kIOReturnNotPermitted off the queue.
  IOReturn sleep(const void* event, sim::SimTime deadline = sim::kNever);
  // From a block on this queue: wakes the block that has slept longest on `event`, or every
  // block sleeping on it with `all`.
  IOReturn wakeup(const void* event, bool all = false);

  // The process that owned this queue is gone (a crashed dext): nothing queued runs, and blocks
  // suspended in it never resume. Their fibers are unwound when the runtime ends.
  void abandon();
  bool abandoned() const { return abandoned_; }
  // Who the queue belongs to (the kernel's process id for it; 0: the kernel itself).
  void set_owner(std::uint64_t owner) { owner_ = owner; }
  std::uint64_t owner() const { return owner_; }

  std::size_t pending() const { return ready_.size() + resumable_.size(); }
  std::size_t sleepers() const { return sleepers_.size(); }

 private:
  friend class FiberRuntime;
  using Task = FiberRuntime::Task;
  void pump();
  void run_next();
  void task_finished(Task* task);

  FiberRuntime& runtime_;
  std::string name_;
  std::uint64_t options_;
  std::deque<Task*> ready_;      // blocks not started yet, in dispatch order
  std::deque<Task*> resumable_;  // woken sleepers of a reentrant queue, waiting to re-enter
  Task* holder_ = nullptr;       // the block that holds the queue
  bool pump_scheduled_ = false;
  bool abandoned_ = false;
  bool cancelled_ = false;
  std::uint64_t owner_ = 0;
  struct Sleeper {
    Task* task;
    const void* event;
    sim::EventId timeout;
  };
  std::vector<Sleeper> sleepers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards events against a destroyed queue
};

}  // namespace dexthil::driverkit
