#include <os/log.h>
#include <time.h>

#include <DriverKit/DriverKit.h>

#include "HelloXcode.h"
#include "checksum.h"
#include "hello_config.h"

struct HelloXcode_IVars {
  IOTimerDispatchSource* timer;
  OSAction* tick;
  uint32_t ticks;
};

bool HelloXcode::init() {
  if (!super::init()) return false;
  ivars = IONewZero(HelloXcode_IVars, 1);
  return ivars != nullptr;
}

void HelloXcode::free() {
  IOSafeDeleteNULL(ivars, HelloXcode_IVars, 1);
  super::free();
}

static void Publish(IOService* service, uint32_t ticks) {
  // "hello" through the C helper: 0x62 0x15 -> 0x6215 ... checked by the scenario.
  const uint8_t text[] = {'h', 'e', 'l', 'l', 'o'};
  OSDictionary* props = OSDictionary::withCapacity(2);
  if (!props) return;
  OSNumber* n = OSNumber::withNumber(ticks, 32);
  OSNumber* sum = OSNumber::withNumber(hello_fletcher16(text, sizeof text), 16);
  props->setObject("Ticks", n);
  props->setObject("Checksum", sum);
  // A definition with a ';' in it reaches the compiler whole: "a;b" is three characters.
  OSNumber* separators = OSNumber::withNumber(sizeof(HELLO_SEPARATORS) - 1, 32);
  props->setObject("Separators", separators);
  OSSafeReleaseNULL(separators);
  service->SetProperties(props);
  OSSafeReleaseNULL(n);
  OSSafeReleaseNULL(sum);
  props->release();
}

kern_return_t IMPL(HelloXcode, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  os_log(OS_LOG_DEFAULT, "HelloXcode: Start, %{public}s, %d ticks to go", TARGET_OS_DRIVERKIT ? "DriverKit" : "?",
         HELLO_TICKS);
  IODispatchQueue* queue = nullptr;
  ret = CopyDispatchQueue(kIOServiceDefaultQueueName, &queue);
  if (ret == kIOReturnSuccess) ret = IOTimerDispatchSource::Create(queue, &ivars->timer);
  OSSafeReleaseNULL(queue);
  if (ret == kIOReturnSuccess) ret = CreateActionTimerOccurred(0, &ivars->tick);
  if (ret != kIOReturnSuccess) return ret;
  ivars->timer->SetHandler(ivars->tick);
  ivars->timer->WakeAtTime(kIOTimerClockMonotonicRaw, clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + HELLO_TICK_NS, 0);
  Publish(this, 0);
  return RegisterService();
}

void IMPL(HelloXcode, TimerOccurred) {
  ivars->ticks++;
  os_log_info(OS_LOG_DEFAULT, "HelloXcode: tick %u", ivars->ticks);
  Publish(this, ivars->ticks);
  if (ivars->ticks < HELLO_TICKS) ivars->timer->WakeAtTime(kIOTimerClockMonotonicRaw, time + HELLO_TICK_NS, 0);
}

kern_return_t IMPL(HelloXcode, Stop) {
  if (ivars->timer) ivars->timer->Cancel(nullptr);
  OSSafeReleaseNULL(ivars->timer);
  OSSafeReleaseNULL(ivars->tick);
  return Stop(provider, SUPERDISPATCH);
}
