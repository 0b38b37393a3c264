#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "HelloTestdev.h"

struct HelloTestdev_IVars {
  IOPCIDevice* pci;
  IODispatchQueue* queue;
  IOTimerDispatchSource* timer;
  OSAction* tick;
  uint32_t ticks;
};

namespace {
constexpr uint32_t kExpectedId = 0xd7e57001;  // the test device's ID register, BAR0 offset 0

uint64_t ticks_from_now(uint64_t nanoseconds) {
  mach_timebase_info_data_t timebase;
  mach_timebase_info(&timebase);
  return mach_absolute_time() + nanoseconds * timebase.denom / timebase.numer;
}
}  // namespace

bool HelloTestdev::init() {
  if (!super::init()) return false;
  ivars = IONewZero(HelloTestdev_IVars, 1);
  return ivars != nullptr;
}

void HelloTestdev::free() {
  IOSafeDeleteNULL(ivars, HelloTestdev_IVars, 1);
  super::free();
}

kern_return_t IMPL(HelloTestdev, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  ivars->pci = OSDynamicCast(IOPCIDevice, provider);
  if (!ivars->pci || ivars->pci->Open(this, 0) != kIOReturnSuccess) return kIOReturnNoDevice;
  uint8_t memoryIndex = 0;
  ret = ivars->pci->GetBARInfo(0, &memoryIndex, nullptr, nullptr);
  if (ret != kIOReturnSuccess) return ret;
  uint32_t id = 0;
  ivars->pci->MemoryRead32(memoryIndex, 0, &id);
  IOLog("HelloTestdev: device ID 0x%08x\n", id);
  if (id != kExpectedId) return kIOReturnNoDevice;

  ret = CopyDispatchQueue("Default", &ivars->queue);
  if (ret == kIOReturnSuccess) ret = IOTimerDispatchSource::Create(ivars->queue, &ivars->timer);
  if (ret == kIOReturnSuccess) ret = CreateActionTimerOccurred(0, &ivars->tick);
  if (ret != kIOReturnSuccess) return ret;
  ivars->timer->SetHandler(ivars->tick);
  ivars->timer->WakeAtTime(kIOTimerClockMachAbsoluteTime, ticks_from_now(1000000), 0);
  return RegisterService();
}

void IMPL(HelloTestdev, TimerOccurred) {
  ivars->ticks++;
  IOLog("HelloTestdev: tick %u\n", ivars->ticks);
  // Published in the registry (ioreg shows it on a Mac): a scenario can check it as a figure.
  if (OSDictionary* props = OSDictionary::withCapacity(1)) {
    if (OSNumber* ticks = OSNumber::withNumber(ivars->ticks, 32)) {
      props->setObject("Ticks", ticks);
      ticks->release();
    }
    SetProperties(props);
    props->release();
  }
  if (ivars->ticks < 3) ivars->timer->WakeAtTime(kIOTimerClockMachAbsoluteTime, ticks_from_now(1000000), 0);
}

kern_return_t IMPL(HelloTestdev, Stop) {
  if (ivars->timer) ivars->timer->Cancel(nullptr);
  OSSafeReleaseNULL(ivars->timer);
  OSSafeReleaseNULL(ivars->tick);
  OSSafeReleaseNULL(ivars->queue);
  if (ivars->pci) ivars->pci->Close(this, 0);
  return Stop(provider, SUPERDISPATCH);
}
