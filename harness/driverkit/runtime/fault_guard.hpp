#pragma once
// Keeps a crashing dext from taking the harness with it, as a dext process on macOS dies alone.
//
// Dext code runs on fibers (dispatch.hpp). Every fiber stack comes from a pool of stacks with a
// guard page below them, so a runaway recursion faults instead of overwriting the heap. Signal
// handlers run on an alternate stack; when SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT arrives
// while a dext's fiber is running, the handler records what happened and rewrites the
// interrupted context so that returning from the handler (which restores the signal mask) lands
// in an escape routine on a stack of its own. That routine switches back to the scheduler and the
// fiber is never resumed: the dext's "process" is dead, the harness goes on. A watchdog thread
// does the same, through SIGUSR2, for a callback that has run longer than a wall-clock limit.
//
// A fault anywhere else (the simulator, a model, the kernel's own threads) is a harness bug: the
// handler prints what it was and lets the signal kill the process, which the scenario's parent
// process reports as a harness error, never as a dext finding.
#include <cstddef>
#include <cstdint>

namespace dexthil::driverkit {

// What the handler saw. Plain data: it is written inside a signal handler.
struct FaultRecord {
  // Enough to reach the method through a recursion that filled a whole fiber stack.
  static constexpr int kMaxFrames = 16384;
  enum class Kind { kSignal, kStackOverflow, kHang };
  Kind kind = Kind::kSignal;
  int signal = 0;
  int code = 0;                 // si_code
  std::uintptr_t address = 0;   // si_addr: the faulting data address (or the instruction for SIGILL/SIGFPE)
  std::uintptr_t pc = 0;        // the interrupted instruction
  void* frames[kMaxFrames] = {};
  int frame_count = 0;          // frames[0] is the interrupted instruction
  double hang_seconds = 0;      // kHang: how long the callback had run
};

// Whose fault is it: the guard asks the runtime that owns the running fiber.
class FaultSink {
 public:
  // True when the running fiber belongs to a dext (faults there are the dext's). Called from the
  // signal handler: must only read plain memory.
  virtual bool dext_fiber_running() const = 0;
  // Called on the escape stack, outside the handler, with the record; must not return (it
  // switches to the scheduler's context).
  [[noreturn]] virtual void escape_from_fault(const FaultRecord& record) = 0;

 protected:
  ~FaultSink() = default;
};

namespace fault_guard {

// Installs the handlers and this thread's alternate stack (once per process; again after fork is
// harmless). Idempotent.
void install();

// The runtime whose fiber is about to run (nullptr when it stops). Called on every switch: cheap.
void fiber_entered(FaultSink* sink);
void fiber_left();

// The wall-clock time one dext callback may run before the watchdog ends it. 0 disables the
// watchdog. Default: 10 s.
void set_callback_limit_ms(std::uint64_t ms);
std::uint64_t callback_limit_ms();

// Dext code lives in these address ranges (each loaded copy of a dext library); a hung callback
// is ended only while its instruction pointer is in one, so the harness's own state is never cut
// off half-way through an update.
void add_dext_code_range(std::uintptr_t begin, std::uintptr_t end);

// Fiber stacks with a guard page below each, reused rather than mapped for every block.
struct GuardedStack {
  void* top = nullptr;  // stacks grow down from here
  std::size_t size = 0;  // usable bytes below top
};
GuardedStack allocate_stack(std::size_t size);
void release_stack(const GuardedStack& stack);
// The stack whose guard page holds `address`, if any (for naming a stack overflow).
bool in_guard_page(std::uintptr_t address);

const char* signal_name(int signal);
// The kernel's si_code for the signal in words ("address not mapped", "integer divide by zero").
const char* signal_code_text(int signal, int code);

}  // namespace fault_guard
}  // namespace dexthil::driverkit
