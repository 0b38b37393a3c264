#pragma once
// Judges a failed IODMACommand::PrepareForDMA (dma.prepare-failed) from the monitor's event: why
// the mapping could not be made, in terms of the machine the dext ran on (a DART whose IOVAs
// start at 0x80000000, or a root port without an IOMMU and no bounce buffers).
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

  FindingSink findings_;
};

}  // namespace dexthil::checks
