#pragma once
// IOLib for dexts: allocation (IONew, IONewZero, IODelete, IOMalloc...), IOLog, IOSleep and
// mach absolute time. Time is the simulator's: mach_absolute_time counts ticks of the 24 MHz
// timebase of Apple silicon (mach_timebase_info 125/3), so a dext that treats ticks as
// nanoseconds is wrong here as it would be on the Mac.
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include <DriverKit/IOTypes.h>
#include <DriverKit/OSObject.h>

struct mach_timebase_info {
  uint32_t numer;
  uint32_t denom;
};
typedef struct mach_timebase_info* mach_timebase_info_t;
typedef struct mach_timebase_info mach_timebase_info_data_t;

uint64_t mach_absolute_time(void);
uint64_t mach_continuous_time(void);
kern_return_t mach_timebase_info(mach_timebase_info_t info);

void IOLog(const char* format, ...) __attribute__((format(printf, 1, 2)));
void IOLogv(const char* format, va_list args);
// Blocks the calling dext code for `milliseconds` of simulated time; its queue stays held.
void IOSleep(uint64_t milliseconds);
void IODelay(uint64_t microseconds);

void* IOMalloc(size_t length);
void* IOMallocZero(size_t length);
void IOFree(void* address, size_t length);

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
