#pragma once
// Judges a dext as a whole, from the kernel's events: a process that died (its crash kind,
// dext.crashed with what the provider and the kernel did about it, and dext.crash-loop once the
// dext crashed more than its daily limit or its device ran out of relaunches), objects still alive
// after its last service was freed (dext.leak), and a dext that matched no nub (dext.no-match).
// The kernel acts on a crash (the provider's reset, the rematch) and says what it did; the words
// are here.
#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/service_events.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class DextProcessChecker {
 public:
  DextProcessChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  void on_crashed(const monitor::DextCrashed& e);
  void on_object_alive(const monitor::DextObjectAlive& e);
  void on_matched_nothing(const monitor::DextMatchedNothing& e);

  FindingSink findings_;
};

}  // namespace dexthil::checks
