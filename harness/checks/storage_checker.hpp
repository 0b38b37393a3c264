#pragma once
// Judges a disk as the block front end (harness/storage) saw it: a probe the disk did not answer
// as a direct-access disk must (storage.probe-failed), a read or write that failed
// (storage.io-error), data read back that differs from what the disk acknowledged writing
// (storage.data-mismatch), and a command still outstanding when the run ended
// (storage.io-incomplete).
#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/storage_events.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class StorageChecker {
 public:
  StorageChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  FindingSink findings_;
};

}  // namespace dexthil::checks
