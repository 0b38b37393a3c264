#pragma once
// SystemVerilog assertions in the models' RTL (built with --assert) fail into this log instead of
// stopping the process, as Verilator's own $stop handling would: dexthil supplies vl_stop
// (VL_USER_STOP). Model wrappers turn the failures in their model into `rtl.assertion` findings
// at the end of the run.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::models {

struct RtlAssertionFailure {
  std::string file;
  int line = 0;
  std::string model;  // the model whose clock edge was being evaluated
  std::uint64_t time = 0;  // simulated time of the failing edge
};

namespace rtl_assertions {
// When and in which model a failure happens: the run's simulator knows (Simulator::evaluating).
// Each model with assertions holds a SimulatorLink for its lifetime.
class SimulatorLink {
 public:
  explicit SimulatorLink(const sim::Simulator& sim);
  ~SimulatorLink();
  SimulatorLink(const SimulatorLink&) = delete;
  SimulatorLink& operator=(const SimulatorLink&) = delete;
};
// Failures so far in `model` (and forget them).
std::vector<RtlAssertionFailure> take(const std::string& model);
// Reports each failure in `model` as an rtl.assertion finding, with the assertion's source line.
void report(const std::string& model, checks::FindingLog& findings);
}  // namespace rtl_assertions

}  // namespace dexthil::models
