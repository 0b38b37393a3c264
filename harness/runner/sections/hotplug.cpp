#include "harness/runner/sections/hotplug.hpp"

#include <string>
#include <vector>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/runner/run_context.hpp"
#include "harness/runner/usb_host.hpp"

namespace dexthil::runner {
namespace {

// A device pulled out: the card behind a topology endpoint, or the cable of a model's USB port.
struct Removal {
  std::string endpoint;
  std::string usb_port;
  sim::SimTime at = 0;
};

class HotplugData final : public scenario::SectionData {
 public:
  explicit HotplugData(std::vector<Removal> removals) : removals_(std::move(removals)) {}

  void apply(RunContext& run) const override {
    for (const Removal& r : removals_) {
      std::vector<ScenarioModel*> behind;
      for (const auto& [spec, model] : run.models) {
        if (r.usb_port.empty() ? spec->endpoint == r.endpoint : spec->usb_port == r.usb_port) behind.push_back(model);
      }
      if (!r.usb_port.empty()) {
        // The USB host sees the device detach; the kernel terminates its nubs and their services.
        run.sim.at(r.at, [port = &run.usb_host.port(r.usb_port), behind] {
          for (ScenarioModel* m : behind) m->removed();
          port->disconnect();
        });
        continue;
      }
      run.sim.at(r.at, [fabric = run.fabric, kernel = run.kernel, endpoint = r.endpoint, behind] {
        fabric->surprise_remove(*fabric->node(endpoint));
        for (ScenarioModel* m : behind) m->removed();
        if (kernel) kernel->device_removed(endpoint);
      });
    }
  }

 private:
  std::vector<Removal> removals_;
};

class HotplugSection final : public scenario::SectionPlugin {
 public:
  std::string_view key() const override { return "hotplug"; }
  std::string_view summary() const override {
    return "surprise removal of the device behind a topology endpoint, or of a model's USB cable (endpoint or "
           "usb_port, remove_at)";
  }
  std::shared_ptr<const scenario::SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                    const scenario::SectionScope& scope) const override {
    std::vector<Removal> removals;
    in.for_each_table(section, "hotplug", [&](const toml::table& t, const std::string& path) {
      in.allow_keys(t, path, {"endpoint", "usb_port", "remove_at"});
      Removal r;
      if (const toml::node* port = t.get("usb_port")) {
        if (t.get("endpoint")) in.fail(*port, path + ".usb_port", "give either endpoint or usb_port, not both");
        r.usb_port = in.string(t, "usb_port", path, true).value();
        if (!scope.usb_ports.count(r.usb_port)) {
          in.fail(*port, path + ".usb_port", "no [[model]] is plugged into USB port \"" + r.usb_port + "\"");
        }
      } else {
        r.endpoint = scenario::read_endpoint(in, t, path, true, scope.has_topology, scope.endpoints).value();
      }
      r.at = in.duration(t, "remove_at", path, true, 0, scope.scenario.duration).value();
      removals.push_back(std::move(r));
    });
    return std::make_shared<HotplugData>(std::move(removals));
  }
};

}  // namespace

std::shared_ptr<const scenario::SectionPlugin> hotplug_section() { return std::make_shared<HotplugSection>(); }

}  // namespace dexthil::runner
