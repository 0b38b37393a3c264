// SdkProbeChild: starts, registers (which makes it visible to notification sources), stops.
#include <DriverKit/DriverKit.h>

#include "SdkProbeChild.h"

kern_return_t IMPL(SdkProbeChild, Start) {
  const kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  return RegisterService();
}

kern_return_t IMPL(SdkProbeChild, Stop) { return Stop(provider, SUPERDISPATCH); }
