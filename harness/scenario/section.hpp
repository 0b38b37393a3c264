#pragma once
// Scenario sections as plug-ins. The part of dexthil that understands a top-level section of a
// scenario file ([[usb_device]], [[hotplug]]) owns it: it reads and validates the section with
// the same file:line:col messages as the loader, and applies what it read to the run. Adding a
// device's section adds a plug-in (registered in the model catalog beside its model types); the
// loader, the runner and scenario.hpp stay as they are.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "harness/toml/reader.hpp"

namespace dexthil::runner {
struct RunContext;
}

namespace dexthil::scenario {

struct Scenario;

// A section as read and validated: what the run needs of it.
class SectionData {
 public:
  virtual ~SectionData() = default;
  // Applies the section to a run being set up: the simulator, the fabric (if the scenario has a
  // topology), the models and, when the scenario loads dexts, the kernel exist; dexts are not
  // matched yet, so nubs published here are matched with the rest.
  virtual void apply(runner::RunContext& run) const = 0;
  // Where the section puts nubs a dext service may sit on ("usb1.port1.if0"): what [[expect]]
  // endpoint= and stat = "Class@PLACE.NAME" may name beside the topology's endpoints.
  virtual std::vector<std::string> places() const { return {}; }
};

// What a section plug-in may check its section against.
struct SectionScope {
  const Scenario& scenario;                 // the parts read before sections: [scenario], models
  bool has_topology = false;
  const std::set<std::string>& endpoints;   // the topology's endpoints (empty without a topology)
  const std::set<std::string>& model_names;
  const std::set<std::string>& usb_ports;   // the USB ports models are plugged into
  // Every place a model's ports make: its USB port and interfaces, its serial line.
  const std::set<std::string>& model_places;
};

// `endpoint = "NAME"` in `t`: one of the topology's endpoints, checked and worded as the loader
// checks its own ([[mapping]], [[model]]). nullopt when absent and not required.
std::optional<std::string> read_endpoint(const toml_input::TomlReader& in, const toml::table& t, const std::string& path,
                                         bool required, bool has_topology, const std::set<std::string>& endpoints);

// A name that makes a new place (a USB port, a serial line), `name` read from `at`: a name (an
// identifier, as `example` is) and never a topology endpoint's, worded as the loader words it.
void check_place_name(const toml_input::TomlReader& in, const toml::node& at, const std::string& path,
                      const std::string& name, std::string_view noun, std::string_view example,
                      const std::set<std::string>& endpoints);

class SectionPlugin {
 public:
  virtual ~SectionPlugin() = default;
  virtual std::string_view key() const = 0;      // the top-level key it owns: "usb_device"
  virtual std::string_view summary() const = 0;  // one line for `dexthil list --sections`
  // Reads the section; any problem goes through `in.fail(node, path, what)` (a file:line:col error).
  virtual std::shared_ptr<const SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                  const SectionScope& scope) const = 0;
};

// A section in a loaded scenario.
struct LoadedSection {
  std::string key;
  std::shared_ptr<const SectionData> data;
};

}  // namespace dexthil::scenario
