// IOLib on simulated time.
#include <DriverKit/IOLib.h>

#include <cstdio>

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
