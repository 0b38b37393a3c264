#pragma once
// What a scenario section (scenario/section.hpp) gets of the run it applies to, while the run is
// set up: after the fabric, the models and the kernel exist, before dexts are loaded and matched.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/runner/model_catalog.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::driverkit {
class Kernel;
class ScsiFamily;
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
  driverkit::ScsiFamily* scsi = nullptr;  // the kernel's SCSI family, with the kernel

  // What a section keeps to the run's end (its closures hold its state):
  // called once the scenario's duration has run out, before the kernel stops its services (not
  // after a panic, where the run stops at once);
  std::vector<std::function<void()>> at_duration_end;
  // and asked last for figures, as owner ("disk@dev.t0") and (name, value) pairs, beside the
  // models' and services' in summary.json and for [[expect]] stat.
  using Figures = std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>;
  std::vector<std::function<void(Figures&)>> figures;
};

}  // namespace dexthil::runner
