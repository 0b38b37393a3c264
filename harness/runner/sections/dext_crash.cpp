#include "harness/runner/sections/dext_crash.hpp"

#include <string>
#include <vector>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/runner/run_context.hpp"

namespace dexthil::runner {
namespace {

struct Kill {
  std::string endpoint;
  sim::SimTime at = 0;
};

class DextCrashData final : public scenario::SectionData {
 public:
  explicit DextCrashData(std::vector<Kill> kills) : kills_(std::move(kills)) {}

  void apply(RunContext& run) const override {
    if (!run.kernel) return;  // no [[dext]]: nothing to crash, and the scenario's expectations say so
    for (const Kill& k : kills_) {
      run.sim.at(k.at, [kernel = run.kernel, k] {
        // Nothing started there (yet, or any more): the trace says so, and the scenario's
        // expectations of the crash are not met.
        if (!kernel->kill_process(k.endpoint, "[[dext_crash]] at " + sim::format_time(k.at))) {
          kernel->trace(k.endpoint, "[[dext_crash]]: no started dext service to kill");
        }
      });
    }
  }

 private:
  std::vector<Kill> kills_;
};

class DextCrashSection final : public scenario::SectionPlugin {
 public:
  std::string_view key() const override { return "dext_crash"; }
  std::string_view summary() const override {
    return "fault injection: the process of the dext on a topology endpoint is killed at a time, as a crash (endpoint, "
           "at)";
  }
  std::shared_ptr<const scenario::SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                    const scenario::SectionScope& scope) const override {
    std::vector<Kill> kills;
    in.for_each_table(section, "dext_crash", [&](const toml::table& t, const std::string& path) {
      in.allow_keys(t, path, {"endpoint", "at"});
      Kill k;
      k.endpoint = scenario::read_endpoint(in, t, path, true, scope.has_topology, scope.endpoints).value();
      k.at = in.duration(t, "at", path, true, 0, scope.scenario.duration).value();
      kills.push_back(std::move(k));
    });
    return std::make_shared<DextCrashData>(std::move(kills));
  }
};

}  // namespace

std::shared_ptr<const scenario::SectionPlugin> dext_crash_section() { return std::make_shared<DextCrashSection>(); }

}  // namespace dexthil::runner
