// UsbProbeDriver: matched on a USB interface nub, it publishes what it saw (its Start, the power
// changes, the provider it was given) for the tests to read back, and tears nothing down but
// itself, because it opens nothing.

#include <DriverKit/DriverKit.h>

#include "UsbProbeDriver.h"

struct UsbProbeDriver_IVars {
  IOService* provider;
  uint64_t starts;
  uint64_t powerChanges;
};

bool UsbProbeDriver::init() {
  if (!super::init()) return false;
  ivars = IONewZero(UsbProbeDriver_IVars, 1);
  return ivars != nullptr;
}

void UsbProbeDriver::free() {
  IOSafeDeleteNULL(ivars, UsbProbeDriver_IVars, 1);
  super::free();
}

kern_return_t IMPL(UsbProbeDriver, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  ivars->provider = provider;
  ivars->starts++;
  Publish();
  return RegisterService();
}

kern_return_t IMPL(UsbProbeDriver, SetPowerState) {
  ivars->powerChanges++;
  Publish();
  return SetPowerState(powerFlags, SUPERDISPATCH);
}

kern_return_t IMPL(UsbProbeDriver, Stop) {
  ivars->provider = nullptr;
  return Stop(provider, SUPERDISPATCH);
}

void UsbProbeDriver::Publish() {
  OSDictionary* props = OSDictionary::withCapacity(4);
  if (!props) return;
  auto set = [props](const char* key, uint64_t value) {
    OSNumber* n = OSNumber::withNumber(value, 64);
    props->setObject(key, n);
    n->release();
  };
  set("Starts", ivars->starts);
  set("PowerChanges", ivars->powerChanges);
  set("HasProvider", ivars->provider ? 1 : 0);
  SetProperties(props);
  props->release();
}
