#pragma once
// IOTimerDispatchSource: TimerOccurred(action, time) on the source's queue when simulated mach
// absolute time reaches the armed deadline. WakeAtTime(0, UINT64_MAX, 0) (or Cancel) disarms.
#include <DriverKit/IODispatchSource.h>

#define IOTimerDispatchSource_TimerOccurred_Args OSAction* action, uint64_t time
#define IOTimerDispatchSource_TimerOccurred_ID (::dexthil::iig::message_id("TimerOccurred"))

enum {
  kIOTimerClockMachAbsoluteTime = 0x00000000,
  kIOTimerClockMachContinuousTime = 0x00000001,
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
  uint64_t generation_ = 0;  // a newer WakeAtTime supersedes the armed event
  uint64_t pending_event_ = 0;  // the simulator event that fires it (0: none)
};
