#include "sdkprobe_checks.h"

#include <TargetConditionals.h>
#include <libkern/OSByteOrder.h>
#include <mach/error.h>
#include <os/log.h>

int sdkprobe_c_helpers_ok(void) {
  const uint8_t big[4] = {0x12, 0x34, 0x56, 0x78};
  int ok = OSReadBigInt32(big, 0) == 0x12345678u && OSReadLittleInt32(big, 0) == 0x78563412u &&
           OSSwapInt16(0x1234) == 0x3412 && err_get_system(err_system(0x38) | 0x2c2) == 0x38 &&
           err_get_code(err_system(0x38) | 0x2c2) == 0x2c2 && TARGET_OS_DRIVERKIT == 1;
  os_log(OS_LOG_DEFAULT, "SdkProbe: C helpers %{public}s", ok ? "agree" : "disagree");
  return ok;
}
