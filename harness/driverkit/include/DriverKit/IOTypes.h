#pragma once
// Basic DriverKit types and constants with Apple's names and values.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOReturn.h>

typedef uint32_t IOOptionBits;
typedef uint64_t IOVirtualAddress;
typedef uint64_t IOByteCount;

struct IOAddressSegment {
  uint64_t address;
  uint64_t length;
};

// Memory directions (IOMemoryDescriptor): In = the device writes memory, Out = it reads it.
enum {
  kIOMemoryDirectionNone = 0x00000000,
  kIOMemoryDirectionIn = 0x00000001,
  kIOMemoryDirectionOut = 0x00000002,
  kIOMemoryDirectionOutIn = 0x00000003,
  kIOMemoryDirectionInOut = kIOMemoryDirectionOutIn,
};

// Power capability flags for SetPowerState / ChangePowerState.
enum {
  kIOServicePowerCapabilityOff = 0x00000000,
  kIOServicePowerCapabilityOn = 0x00000002,
  kIOServicePowerCapabilityLow = 0x00010000,
};

// RequireMaxBusStall values, in nanoseconds.
enum {
  kIOMaxBusStallNone = 0,
  kIOMaxBusStall40usec = 40000,
  kIOMaxBusStall30usec = 30000,
  kIOMaxBusStall25usec = 25000,
  kIOMaxBusStall20usec = 20000,
  kIOMaxBusStall10usec = 10000,
  kIOMaxBusStall5usec = 5000,
};

// CreatePMAssertion bits.
enum {
  kIOServicePMAssertionCPUBit = 0x00000001,
  kIOServicePMAssertionForceFullWakeupBit = 0x00000800,
};

#ifndef NULL
#define NULL nullptr
#endif

}  // extern "C++"
