#pragma once
// The model types a scenario can instantiate, with the parameters each accepts. Device folders
// under models/ register their types; the scenario loader validates against the same list.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/dma/transaction.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/sim/wave_request.hpp"
#include "harness/serial/serial_line.hpp"
#include "harness/usb/host_port.hpp"

namespace dexthil::runner {

// What a model instance gets from the run it belongs to.
struct ModelContext {
  sim::Simulator& sim;
  const scenario::Scenario& scenario;
  const scenario::ModelSpec& spec;
  // Exactly the ports the model type declares (scenario::PortSpec); the others are nullptr.
  sim::ClockDomain* clock;     // with a clock port: its clock domain
  dma::DmaUpstream* upstream;  // where its DMA goes: the fabric behind its endpoint, or host memory
  checks::FindingLog& findings;
  pcie::Fabric* fabric = nullptr;           // with a PCIe function port: the scenario's fabric
  const pcie::Node* endpoint = nullptr;     // with a PCIe function port: the endpoint it sits behind
  const sim::WaveRequest* waves = nullptr;  // write waveforms (models that can); nullptr: none
  usb::HostPort* usb_port = nullptr;        // with a USB device port: the host port it is plugged into
  serial::SerialLine::End* serial = nullptr;  // with a serial port: its end of the line (9600 8N1 until configured)
};

// A model instance as the runner sees it; the simulator sees its ClockedModel side.
class ScenarioModel {
 public:
  virtual ~ScenarioModel() = default;
  // End-of-run checks (requests still in flight, sticky error flags).
  virtual void finish(sim::SimTime now) = 0;
  // Instead of finish() when the machine stopped early (a kernel panic, [kernel] dart_fault):
  // report what went wrong before `now` (failed RTL assertions, sticky error flags), but nothing
  // that judges the end of a run (a request still in flight is no fault of a panicked machine's).
  virtual void halted(sim::SimTime /*now*/) {}
  // Figures for reports: name and value, in a stable order.
  virtual std::vector<std::pair<std::string, std::string>> stats() const = 0;
  // The device was unplugged ([[hotplug]]): it stops taking part in the simulation.
  virtual void removed() {}
};

struct ModelType {
  scenario::ModelTypeInfo info;
  std::function<std::unique_ptr<ScenarioModel>(ModelContext&)> create;
};

// The model types and the scenario sections (scenario/section.hpp) a run knows: what the loader
// accepts and the runner builds.
class ModelCatalog {
 public:
  void add(ModelType type) { types_.push_back(std::move(type)); }
  void add_section(std::shared_ptr<const scenario::SectionPlugin> section) { sections_.push_back(std::move(section)); }
  const ModelType* find(const std::string& type) const;
  std::vector<scenario::ModelTypeInfo> infos() const;
  const std::vector<std::shared_ptr<const scenario::SectionPlugin>>& sections() const { return sections_; }

 private:
  std::vector<ModelType> types_;
  std::vector<std::shared_ptr<const scenario::SectionPlugin>> sections_;
};

}  // namespace dexthil::runner
