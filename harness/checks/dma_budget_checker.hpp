#pragma once
// The scenario's DMA latency budget ([budgets] dma_latency) for every DMA through the fabric,
// whoever issued it: a dext's device, the test device, an exerciser behind an endpoint. The
// budget is the longest a round trip may take before the device's buffering runs dry (an audio
// FIFO, a SCSI data phase); the finding breaks the time down by cause, so a person can see
// whether ASPM, an injected stall, IOTLB misses or a slow link spent it.
#include "harness/checks/finding.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::checks {

class DmaBudgetChecker final : public pcie::DmaPathObserver {
 public:
  DmaBudgetChecker(FindingLog& log, const sim::Simulator& sim, sim::SimTime budget) : log_(log), sim_(sim), budget_(budget) {}
  void on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) override;

 private:
  FindingLog& log_;
  const sim::Simulator& sim_;
  sim::SimTime budget_;
};

}  // namespace dexthil::checks
