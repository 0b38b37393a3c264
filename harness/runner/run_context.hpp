#pragma once
// What a scenario section (scenario/section.hpp) gets of the run it applies to, while the run is
// set up: after the fabric, the models and the kernel exist, before dexts are loaded and matched.
#include <utility>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/runner/model_catalog.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::driverkit {
class Kernel;
}

namespace dexthil::runner {

class UsbHost;

struct RunContext {
  sim::Simulator& sim;
  const scenario::Scenario& scenario;
  checks::FindingLog& findings;
  monitor::Monitor& monitor;
  pcie::Fabric* fabric = nullptr;          // nullptr without [scenario] topology
  driverkit::Kernel* kernel = nullptr;     // nullptr when the scenario loads no dexts
  UsbHost& usb_host;                       // the USB host's ports (usb_host.hpp)
  // Every model with its spec, in the scenario's order; the models outlive the run.
  std::vector<std::pair<const scenario::ModelSpec*, ScenarioModel*>> models;
};

}  // namespace dexthil::runner
