#pragma once
// IOTimerDispatchSource: TimerOccurred(action, time) on the source's queue when the armed clock
// reaches the deadline; `time` is that clock's reading then, in its units. WakeAtTime with a
// deadline of UINT64_MAX (or Cancel) disarms. The simulation keeps no sleep gap in its clocks
// (system sleep is a power transition only), so uptime and monotonic clocks read alike.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IODispatchSource.h>

#define IOTimerDispatchSource_TimerOccurred_Args OSAction* action, uint64_t time
#define IOTimerDispatchSource_TimerOccurred_ID (::dexthil::iig::message_id("TimerOccurred"))

// WakeAtTime's clock, with DriverKit's values (IOTimerDispatchSource.iig): the ns clocks of
// clock_gettime_nsec_np, and mach time in 24 MHz ticks.
enum {
  kIOTimerClockUptimeRaw = 0x88ull,
  kIOTimerClockMonotonicRaw = 0x84ull,
  kIOTimerClockRealTime = 0x80ull,
  kIOTimerClockWallTime = 0x80ull,
  kIOTimerClockMachAbsoluteTime = 0xC8ull,
  kIOTimerClockMachContinuousTime = 0xC4ull,
};

class IOTimerDispatchSource : public IODispatchSource {
  DEXTHIL_METACLASS(IOTimerDispatchSource, IODispatchSource)

 public:
  IOTimerDispatchSource() : IODispatchSource(true) {}  // timers start enabled, disarmed
  static kern_return_t Create(IODispatchQueue* queue, IOTimerDispatchSource** source);
  kern_return_t WakeAtTime(uint64_t options, uint64_t deadline, uint64_t leeway);
  void free() override;

  // Host side.
  kern_return_t CancelFunction(std::function<void()> done) override;
  bool armed() const { return armed_ && enabled(); }
  OSObject* target_service() const;  // whose method the handler calls

 private:
  void fire(uint64_t generation);
  void disarm();  // drops the pending simulator event and the reference it holds
  bool armed_ = false;
  uint64_t clock_ = 0;  // the armed clock, for TimerOccurred's time
  uint64_t generation_ = 0;  // a newer WakeAtTime supersedes the armed event
  uint64_t pending_event_ = 0;  // the simulator event that fires it (0: none)
};

}  // extern "C++"
