#pragma once
// IOLib for dexts: allocation (IONew, IONewZero, IODelete, IOMalloc...), IOLog, IOSleep and
// mach absolute time. Time is the simulator's: mach_absolute_time counts ticks of the 24 MHz
// timebase of Apple silicon (mach_timebase_info 125/3), so a dext that treats ticks as
// nanoseconds is wrong here as it would be on the Mac.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOTypes.h>
#include <os/log.h>  // DriverKit's IOLib.h brings os_log with it; dexts rely on that
#include <DriverKit/OSObject.h>

struct mach_timebase_info {
  uint32_t numer;
  uint32_t denom;
};
typedef struct mach_timebase_info* mach_timebase_info_t;
typedef struct mach_timebase_info mach_timebase_info_data_t;

// C functions, as in Apple's IOLib.h: C sources and C libraries call them by their C names.
extern "C" {
uint64_t mach_absolute_time(void);
uint64_t mach_continuous_time(void);
kern_return_t mach_timebase_info(mach_timebase_info_t info);

void IOLog(const char* format, ...) __attribute__((format(printf, 1, 2)));
void IOLogv(const char* format, va_list args);
// Blocks the calling dext code for `milliseconds` of simulated time; its queue stays held.
void IOSleep(uint64_t milliseconds);
void IODelay(uint64_t microseconds);

// The page size of the simulated Mac: 16 KiB, as on Apple silicon. A dext that assumes 4 KiB
// pages gets the same surprise it would on the Mac.
extern uint64_t IOVMPageSize;

// Locks. A block that waits for a lock suspends in simulated time like any other wait; locking
// an IOLock the running block already holds ends the process, as the deadlock it is on macOS.
typedef struct IOLock IOLock;
typedef struct IORecursiveLock IORecursiveLock;
typedef struct IORWLock IORWLock;
enum IOLockAssertState {
  kIOLockAssertOwned = 1,
  kIOLockAssertNotOwned = 2,
};
IOLock* IOLockAlloc(void);
void IOLockFree(IOLock* lock);
void IOLockLock(IOLock* lock);
bool IOLockTryLock(IOLock* lock);
void IOLockUnlock(IOLock* lock);
void IOLockAssert(IOLock* lock, IOLockAssertState type);
IORecursiveLock* IORecursiveLockAlloc(void);
void IORecursiveLockFree(IORecursiveLock* lock);
void IORecursiveLockLock(IORecursiveLock* lock);
bool IORecursiveLockTryLock(IORecursiveLock* lock);
void IORecursiveLockUnlock(IORecursiveLock* lock);
bool IORecursiveLockHaveLock(const IORecursiveLock* lock);
IORWLock* IORWLockAlloc(void);
void IORWLockFree(IORWLock* lock);
void IORWLockRead(IORWLock* lock);
void IORWLockWrite(IORWLock* lock);
void IORWLockUnlock(IORWLock* lock);

void* IOMalloc(size_t length);
void* IOMallocZero(size_t length);
void IOFree(void* address, size_t length);
}  // extern "C"

#define IONew(type, count) (new (std::nothrow) type[count])
#define IONewZero(type, count) (new (std::nothrow) type[count]())
#define IODelete(ptr, type, count) (delete[] (ptr))
#define IOSafeDeleteNULL(ptr, type, count) \
  do {                                     \
    if (ptr) {                             \
      IODelete(ptr, type, count);          \
      (ptr) = nullptr;                     \
    }                                      \
  } while (0)

}  // extern "C++"
