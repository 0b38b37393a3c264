#include "harness/driverkit/runtime/dispatch.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>

namespace dexthil::driverkit {

namespace ctx = boost::context;

namespace {

// Boost.Context's StackAllocator over the fault guard's pool: guard pages, and no mapping per block.
struct GuardedStackAllocator {
  std::size_t size;
  ctx::stack_context allocate() {
    const fault_guard::GuardedStack s = fault_guard::allocate_stack(size);
    ctx::stack_context sc;
    sc.size = s.size;
    sc.sp = s.top;
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept { fault_guard::release_stack({sc.sp, sc.size}); }
};

// Contexts that must never be resumed nor unwound: the escape routine's, after a fault. Kept
// reachable so leak checkers do not count them.
std::vector<ctx::fiber>& abandoned_contexts() {
  static auto* contexts = new std::vector<ctx::fiber>;
  return *contexts;
}

}  // namespace

struct FiberRuntime::Task {
  std::uint64_t id = 0;  // unique for the runtime's life, unlike the Task's address
  DispatchQueue* queue = nullptr;
  const char* label = nullptr;
  std::function<void()> work;
  std::function<void()> on_done;          // DispatchSync: resumes the waiting caller
  std::vector<const DispatchQueue*> held; // queues held by DispatchSync callers waiting on this block
  ctx::fiber self;                        // the suspended block
  ctx::fiber back;                        // the simulator's context while the block runs
  bool started = false;
  bool done = false;
  bool faulted = false;
  std::exception_ptr error;
  IOReturn wake_result = kIOReturnSuccess;
};

FiberRuntime::FiberRuntime(sim::Simulator& sim, std::size_t stack_size) : sim_(sim), stack_size_(stack_size) {
  fault_guard::install();
}

FiberRuntime::~FiberRuntime() {
  // Blocks still suspended when the run ends are unwound by their fibers' destructors; none may
  // believe it is running while that happens.
  current_ = nullptr;
  tasks_.clear();
}

DispatchQueue* FiberRuntime::current_queue() const { return current_ ? current_->queue : nullptr; }
std::uint64_t FiberRuntime::current_block() const { return current_ ? current_->id : 0; }

const char* FiberRuntime::current_label() const { return current_ ? current_->label : nullptr; }

bool FiberRuntime::dext_fiber_running() const {
  return current_ && current_->queue && current_->queue->owner() != 0;
}

void FiberRuntime::escape_from_fault(const FaultRecord& record) {
  // On the escape stack: the faulting block's own stack is left as the fault found it.
  Task* t = current_;
  fault_ = &record;  // the guard's record stays put until this fault has been reported
  t->faulted = true;
  t->back = std::move(t->back).resume();
  std::abort();  // unreachable: nothing resumes the escape context
}

FiberRuntime::Task* FiberRuntime::create(DispatchQueue* queue, std::function<void()> work, const char* label) {
  auto task = std::make_unique<Task>();
  task->id = ++next_task_id_;
  task->queue = queue;
  task->label = label;
  task->work = std::move(work);
  Task* t = task.get();
  tasks_.push_back(std::move(task));
  return t;
}

void FiberRuntime::switch_to(Task* t) {
  if (current_) throw std::logic_error("a dext block tried to resume another block directly");
  if (t->queue && t->queue->abandoned()) return;  // its process is gone
  if (!t->started) {
    t->started = true;
    t->self = ctx::fiber(std::allocator_arg, GuardedStackAllocator{stack_size_}, [this, t](ctx::fiber&& back) {
      t->back = std::move(back);
      try {
        t->work();
      } catch (const ctx::detail::forced_unwind&) {
        throw;  // the fiber is being destroyed: let Boost unwind it
      } catch (...) {
        t->error = std::current_exception();
      }
      t->done = true;
      return std::move(t->back);
    });
  }
  current_ = t;
  if (switch_hook_) switch_hook_(t->queue);
  fault_guard::fiber_entered(this);
  t->self = std::move(t->self).resume();
  fault_guard::fiber_left();
  current_ = nullptr;
  if (switch_hook_) switch_hook_(nullptr);
  if (t->faulted) {
    // What came back is the escape routine's context: keep it, never resume or unwind it. The
    // block's stack stays mapped and untouched, as a dead process's memory would be.
    abandoned_contexts().push_back(std::move(t->self));
    const FaultRecord& fault = *fault_;
    const char* label = t->label;
    std::function<void()> on_done = std::move(t->on_done);
    DispatchQueue* queue = t->queue;
    tasks_.remove_if([t](const std::unique_ptr<Task>& p) { return p.get() == t; });
    if (queue) queue->task_finished(t);
    if (fault_hook_) fault_hook_(queue, label, fault);
    if (on_done) on_done();  // a kernel thread waiting in DispatchSync learns the process died
    return;
  }
  if (!t->done) return;
  std::exception_ptr error = t->error;
  std::function<void()> on_done = std::move(t->on_done);
  DispatchQueue* queue = t->queue;
  tasks_.remove_if([t](const std::unique_ptr<Task>& p) { return p.get() == t; });
  if (queue) queue->task_finished(t);
  if (on_done) on_done();
  if (error && !(error_hook_ && error_hook_(queue, error))) std::rethrow_exception(error);  // surfaces from the simulator's run, where the runner catches it
}

void FiberRuntime::suspend() {
  Task* t = current_;
  if (!t) throw std::logic_error("blocking call outside a dispatch queue: only dext code running on a queue can block");
  t->back = std::move(t->back).resume();
}

void FiberRuntime::resume_later(Task* t) {
  sim_.at(sim_.now(), [this, t] { switch_to(t); });
}

void FiberRuntime::sleep_for(sim::SimTime duration) {
  Task* t = current_;
  if (!t) throw std::logic_error("IOSleep outside a dispatch queue");
  sim_.after(duration, [this, t] { switch_to(t); });
  suspend();
}

void FiberRuntime::wait_for(Blocker& blocker, const std::function<bool()>& ready, sim::SimTime limit) {
  if (current_) {
    blocker.wait();
    return;
  }
  if (sim_.running()) throw std::logic_error("a blocking device access from simulator code outside a dispatch queue");
  const sim::SimTime until = sim_.now() + limit;
  while (!ready() && sim_.now() < until) sim_.run_until(std::min(until, sim_.now() + sim::kMicrosecond));
  if (!ready()) throw std::logic_error("a blocking device access got no answer within " + sim::format_time(limit));
}

void FiberRuntime::Blocker::wait() {
  if (signalled_) return;
  waiter_ = runtime_.current_task();
  runtime_.suspend();
}

void FiberRuntime::Blocker::signal() {
  signalled_ = true;
  if (Task* t = waiter_) {
    waiter_ = nullptr;
    runtime_.resume_later(t);
  }
}

// ---- DispatchQueue ----

DispatchQueue::DispatchQueue(FiberRuntime& runtime, std::string name, std::uint64_t options)
    : runtime_(runtime), name_(std::move(name)), options_(options) {}

DispatchQueue::~DispatchQueue() { *alive_ = false; }

void DispatchQueue::dispatch_async(std::function<void()> block, const char* label) {
  ready_.push_back(runtime_.create(this, std::move(block), label));
  pump();
}

void DispatchQueue::cancel(std::function<void()> handler) {
  if (cancelled_) return;
  cancelled_ = true;
  // The handler follows what is already queued; the queue keeps running what comes after it.
  if (handler) dispatch_async(std::move(handler), "cancel handler");
}

void DispatchQueue::abandon() {
  abandoned_ = true;
  ready_.clear();
  resumable_.clear();
  for (const Sleeper& s : sleepers_) {
    if (s.timeout) runtime_.sim().cancel(s.timeout);
  }
  sleepers_.clear();
}

void DispatchQueue::pump() {
  if (abandoned_) return;
  if (holder_ || pump_scheduled_ || (ready_.empty() && resumable_.empty())) return;
  pump_scheduled_ = true;
  runtime_.sim().at(runtime_.sim().now(), [this, alive = alive_] {
    if (!*alive) return;
    pump_scheduled_ = false;
    run_next();
  });
}

void DispatchQueue::run_next() {
  if (holder_) return;
  Task* t = nullptr;
  if (!resumable_.empty()) {  // a woken sleeper re-enters before new work starts
    t = resumable_.front();
    resumable_.pop_front();
  } else if (!ready_.empty()) {
    t = ready_.front();
    ready_.pop_front();
  } else {
    return;
  }
  holder_ = t;
  runtime_.switch_to(t);
}

void DispatchQueue::task_finished(Task* t) {
  if (holder_ == t) holder_ = nullptr;
  pump();
}

bool DispatchQueue::on_queue() const {
  const Task* t = runtime_.current_task();
  if (!t) return false;
  return t->queue == this || std::find(t->held.begin(), t->held.end(), this) != t->held.end();
}

void DispatchQueue::dispatch_sync(std::function<void()> block, const char* label) {
  Task* caller = runtime_.current_task();
  if (!caller) {
    throw std::logic_error("DispatchSync to \"" + name_ + "\" outside a dispatch queue: the kernel side dispatches asynchronously");
  }
  if (on_queue()) {
    throw std::logic_error("DispatchSync to \"" + name_ + "\" from a block that already holds it would deadlock");
  }
  Task* t = runtime_.create(this, std::move(block), label);
  t->held = caller->held;
  t->held.push_back(caller->queue);
  t->on_done = [this, caller] { runtime_.resume_later(caller); };
  ready_.push_back(t);
  pump();
  runtime_.suspend();  // the caller keeps its own queue while it waits
}

IOReturn DispatchQueue::sleep(const void* event, sim::SimTime deadline) {
  Task* t = runtime_.current_task();
  if (!t || t->queue != this) return kIOReturnNotPermitted;
  sim::EventId timeout = 0;
  if (deadline != sim::kNever) {
    timeout = runtime_.sim().at(std::max(deadline, runtime_.sim().now()), [this, t, alive = alive_] {
      if (!*alive) return;
      auto it = std::find_if(sleepers_.begin(), sleepers_.end(), [t](const Sleeper& s) { return s.task == t; });
      if (it == sleepers_.end()) return;
      sleepers_.erase(it);
      t->wake_result = kIOReturnTimeout;
      if (options_ & kReentrant) {
        resumable_.push_back(t);
        pump();
      } else {
        runtime_.switch_to(t);
      }
    });
  }
  sleepers_.push_back({t, event, timeout});
  if (options_ & kReentrant) {
    holder_ = nullptr;  // others may enter while this block sleeps
    pump();
  }
  runtime_.suspend();
  return t->wake_result;
}

IOReturn DispatchQueue::wakeup(const void* event, bool all) {
  if (!on_queue()) return kIOReturnNotPermitted;
  for (auto it = sleepers_.begin(); it != sleepers_.end();) {
    if (it->event != event) {
      ++it;
      continue;
    }
    Task* t = it->task;
    if (it->timeout) runtime_.sim().cancel(it->timeout);
    it = sleepers_.erase(it);
    t->wake_result = kIOReturnSuccess;
    // Only a reentrant queue lets a waker in while a block sleeps, so the sleeper re-enters it.
    resumable_.push_back(t);
    if (!all) break;  // sleepers_ is in arrival order: the longest sleeper woke
  }
  pump();
  return kIOReturnSuccess;
}

}  // namespace dexthil::driverkit
