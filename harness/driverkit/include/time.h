/* <time.h> for dexts: the C library's, plus what macOS adds and DriverKit code uses.
 * clock_gettime_nsec_np reads the simulated clocks (harness/driverkit/classes/iolib.cpp);
 * clock_gettime and time() stay the host's, so a dext that reads them sees real time. */
#include_next <time.h>

#ifndef DEXTHIL_TIME_H
#define DEXTHIL_TIME_H
#include <stdint.h>

/* macOS's clocks that Linux lacks, with macOS's ids; Linux has no clock with these ids that a
 * dext could mean instead. */
#ifndef CLOCK_MONOTONIC_RAW_APPROX
#define CLOCK_MONOTONIC_RAW_APPROX 5
#endif
#ifndef CLOCK_UPTIME_RAW
#define CLOCK_UPTIME_RAW 8
#endif
#ifndef CLOCK_UPTIME_RAW_APPROX
#define CLOCK_UPTIME_RAW_APPROX 9
#endif

#ifdef __cplusplus
extern "C" {
#endif
/* Nanoseconds on `clock_id`, or 0 with errno EINVAL for a clock the simulation does not keep. */
uint64_t clock_gettime_nsec_np(clockid_t clock_id);
#ifdef __cplusplus
}
#endif
#endif
