#pragma once
// Judges IODMACommand::PrepareForDMA from the monitor's events: why a mapping could not be made
// (dma.prepare-failed), in terms of the machine the dext ran on (a DART whose IOVAs start at
// 0x80000000, or a root port without an IOMMU and memory beyond the bounce pool), and when it was
// double-buffered (dma.bounce, informational: it works, at the cost of copies).
#include "harness/checks/finding.hpp"
#include "harness/monitor/device_events.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class DmaPrepareChecker {
 public:
  DmaPrepareChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  void on_failed(const monitor::DmaPrepareFailed& e);
  void on_bounced(const monitor::DmaBounced& e);

  FindingSink findings_;
};

}  // namespace dexthil::checks
