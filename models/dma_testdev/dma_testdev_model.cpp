// The "dma_testdev" scenario model type: the RTL DMA test device behind a topology endpoint,
// for a dext to drive (it does nothing on its own).
#include <memory>
#include <stdexcept>

#include "models/builtin_models.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/dma_testdev/dma_testdev.hpp"

namespace dexthil::models {
namespace {

class DmaTestdevModel final : public runner::ScenarioModel {
 public:
  explicit DmaTestdevModel(runner::ModelContext& ctx) : name_(ctx.spec.name), findings_(ctx.findings), device_(make(ctx)) {
    ctx.sim.attach(*device_, *ctx.clock);
  }

  void finish(sim::SimTime now) override { halted(now); }
  void halted(sim::SimTime) override { rtl_assertions::report(name_, findings_); }
  void removed() override { device_->unplug(); }
  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"msis_sent", std::to_string(device_->msis_sent())}};
  }

 private:
  static std::unique_ptr<DmaTestdev> make(runner::ModelContext& ctx) {
    // Its PCIe function port is required: the loader refused a scenario without the endpoint.
    return std::make_unique<DmaTestdev>(ctx.spec.name, ctx.sim, *ctx.fabric, *ctx.endpoint, ctx.waves);
  }
  std::string name_;
  checks::FindingLog& findings_;
  std::unique_ptr<DmaTestdev> device_;
};

}  // namespace

void register_dma_testdev(runner::ModelCatalog& catalog) {
  catalog.add({scenario::ModelTypeInfo{"dma_testdev",
                                       "the RTL DMA test device behind a topology endpoint, for a dext to drive "
                                       "(models/dma_testdev; needs endpoint)",
                                       {},
                                       {{scenario::PortKind::kPcieFunction, true}, {scenario::PortKind::kClock, true}},
                                       {}},
               [](runner::ModelContext& ctx) -> std::unique_ptr<runner::ScenarioModel> {
                 return std::make_unique<DmaTestdevModel>(ctx);
               }});
}

}  // namespace dexthil::models
