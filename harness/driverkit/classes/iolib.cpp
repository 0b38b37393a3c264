// IOLib on simulated time.
#include <DriverKit/IOLib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <string>
#include <time.h>
#include <vector>

#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::Kernel;

uint64_t mach_absolute_time(void) { return Kernel::current().mach_ticks(); }
uint64_t mach_continuous_time(void) { return Kernel::current().mach_ticks(); }

kern_return_t mach_timebase_info(mach_timebase_info_t info) {
  if (!info) return kIOReturnBadArgument;
  info->numer = 125;
  info->denom = 3;
  return kIOReturnSuccess;
}

void IOLogv(const char* format, va_list args) {
  // Dext logging goes to stderr with the simulated time, so it lines up with traces.
  Kernel* k = Kernel::active();
  if (k) std::fprintf(stderr, "[%12.6f ms] ", static_cast<double>(k->sim().now()) / dexthil::sim::kMillisecond);
  std::vfprintf(stderr, format, args);
}

void IOLog(const char* format, ...) {
  va_list args;
  va_start(args, format);
  IOLogv(format, args);
  va_end(args);
}

void IOSleep(uint64_t milliseconds) { Kernel::current().runtime().sleep_for(milliseconds * dexthil::sim::kMillisecond); }
void IODelay(uint64_t microseconds) { Kernel::current().runtime().sleep_for(microseconds * dexthil::sim::kMicrosecond); }

void* IOMalloc(size_t length) {
  void* p = std::malloc(length ? length : 1);
  // IOMalloc's memory is not zeroed on macOS. It is filled from the run's seed here, so a dext
  // that reads it before writing sees garbage, and the same garbage for the same seed.
  if (Kernel* k = Kernel::active(); k && p) k->fill_from_seed(static_cast<unsigned char*>(p), length);
  return p;
}
void* IOMallocZero(size_t length) { return std::calloc(1, length ? length : 1); }
void IOFree(void* address, size_t) { std::free(address); }

uint64_t IOVMPageSize = 16384;

// ---- clocks ----

uint64_t clock_gettime_nsec_np(clockid_t clock_id) {
  using Clock = Kernel::Clock;
  const Kernel& kernel = Kernel::current();
  switch (clock_id) {
    case CLOCK_REALTIME:
      return kernel.read_clock(Clock::kRealTimeNanoseconds);
    case CLOCK_MONOTONIC:  // Linux's id, as the dext's <time.h> gave it
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_RAW_APPROX:
    case CLOCK_MONOTONIC_COARSE:  // 6: macOS's CLOCK_MONOTONIC
    case CLOCK_BOOTTIME:
    case CLOCK_UPTIME_RAW:
    case CLOCK_UPTIME_RAW_APPROX:
      return kernel.read_clock(Clock::kNanoseconds);
    default:  // CPU-time clocks: the simulation does not account a dext's CPU time
      errno = EINVAL;
      return 0;
  }
}

// ---- locks ----
// Dext code runs as blocks on fibers: a lock is contended only when its holder suspended
// (IOSleep, a blocking call), and a waiter suspends until the holder hands the lock over, first
// come first served, so the same run always takes locks in the same order. What would deadlock
// or corrupt a lock on macOS (locking an IOLock the thread holds, unlocking one it does not)
// ends the process with a message naming the call.

namespace {

using dexthil::driverkit::FiberRuntime;

// Who is running: the block's id, or the harness itself (a test calling dext code directly).
std::uint64_t current_holder() {
  const std::uint64_t block = Kernel::current().runtime().current_block();
  return block ? block : ~std::uint64_t{0};
}

[[noreturn]] void lock_misuse(const char* function, const char* what) {
  std::fprintf(stderr, "%s: %s\n", function, what);
  std::abort();
}

struct LockWaiter {
  std::uint64_t who;
  bool shared;
  FiberRuntime::Blocker* blocker;
};

// The state behind every lock kind: one exclusive holder (with a depth, for recursion) or any
// number of shared holders, and the blocks waiting.
struct LockState {
  std::uint64_t owner = 0;
  unsigned depth = 0;
  std::vector<std::uint64_t> readers;
  std::deque<LockWaiter> waiters;

  bool reads(std::uint64_t who) const { return std::find(readers.begin(), readers.end(), who) != readers.end(); }
  bool free_for(bool shared) const { return !owner && (shared ? waiters.empty() : readers.empty()); }

  void acquire(bool shared, const char* function) {
    const std::uint64_t me = current_holder();
    if (owner == me || (!shared && reads(me))) {
      lock_misuse(function, "the lock is already held by this thread, and taking it again waits for ever (a deadlock)");
    }
    if (free_for(shared)) {
      take(me, shared);
      return;
    }
    FiberRuntime& runtime = Kernel::current().runtime();
    if (!runtime.in_fiber()) {
      throw std::logic_error(std::string(function) + ": the lock is held by a dext block, and code outside the "
                             "simulation cannot wait for it");
    }
    FiberRuntime::Blocker blocker(runtime);
    waiters.push_back({me, shared, &blocker});
    blocker.wait();  // the releaser made us the holder before signalling
  }

  void take(std::uint64_t who, bool shared) {
    if (shared) {
      readers.push_back(who);
    } else {
      owner = who;
      depth = 1;
    }
  }

  void release(const char* function) {
    const std::uint64_t me = current_holder();
    if (owner) {
      if (owner != me) lock_misuse(function, "the lock is held by another thread: only its holder may unlock it");
      if (--depth > 0) return;
      owner = 0;
    } else {
      auto it = std::find(readers.begin(), readers.end(), me);
      if (it == readers.end()) lock_misuse(function, "the lock is not held by this thread");
      readers.erase(it);
    }
    // Hand over in arrival order: one writer, or every reader up to the next writer.
    while (!waiters.empty() && !owner && (waiters.front().shared || readers.empty())) {
      LockWaiter w = waiters.front();
      waiters.pop_front();
      take(w.who, w.shared);
      w.blocker->signal();
      if (!w.shared) break;
    }
  }
};

}  // namespace

struct IOLock {
  LockState state;
};
struct IORecursiveLock {
  LockState state;
};
struct IORWLock {
  LockState state;
};

IOLock* IOLockAlloc(void) { return new (std::nothrow) IOLock; }
void IOLockFree(IOLock* lock) { delete lock; }
void IOLockLock(IOLock* lock) { lock->state.acquire(false, "IOLockLock"); }
bool IOLockTryLock(IOLock* lock) {
  if (!lock->state.free_for(false)) return false;
  lock->state.take(current_holder(), false);
  return true;
}
void IOLockUnlock(IOLock* lock) { lock->state.release("IOLockUnlock"); }
void IOLockAssert(IOLock* lock, IOLockAssertState type) {
  const bool owned = lock->state.owner == current_holder();
  if ((type == kIOLockAssertOwned) != owned) {
    lock_misuse("IOLockAssert", owned ? "the lock is held by this thread" : "the lock is not held by this thread");
  }
}

IORecursiveLock* IORecursiveLockAlloc(void) { return new (std::nothrow) IORecursiveLock; }
void IORecursiveLockFree(IORecursiveLock* lock) { delete lock; }
void IORecursiveLockLock(IORecursiveLock* lock) {
  if (lock->state.owner == current_holder()) {
    ++lock->state.depth;
    return;
  }
  lock->state.acquire(false, "IORecursiveLockLock");
}
bool IORecursiveLockTryLock(IORecursiveLock* lock) {
  if (lock->state.owner == current_holder()) {
    ++lock->state.depth;
    return true;
  }
  if (!lock->state.free_for(false)) return false;
  lock->state.take(current_holder(), false);
  return true;
}
void IORecursiveLockUnlock(IORecursiveLock* lock) { lock->state.release("IORecursiveLockUnlock"); }
bool IORecursiveLockHaveLock(const IORecursiveLock* lock) { return lock->state.owner == current_holder(); }

IORWLock* IORWLockAlloc(void) { return new (std::nothrow) IORWLock; }
void IORWLockFree(IORWLock* lock) { delete lock; }
void IORWLockRead(IORWLock* lock) { lock->state.acquire(true, "IORWLockRead"); }
void IORWLockWrite(IORWLock* lock) { lock->state.acquire(false, "IORWLockWrite"); }
void IORWLockUnlock(IORWLock* lock) { lock->state.release("IORWLockUnlock"); }
