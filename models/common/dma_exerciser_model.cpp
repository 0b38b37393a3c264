// The "dma_exerciser" scenario model type: the exerciser, its scoreboard, and their parameters.
#include <memory>

#include "harness/checks/dma_scoreboard.hpp"
#include "models/builtin_models.hpp"
#include "models/common/dma_exerciser.hpp"
#include "models/common/rtl_assertions.hpp"

namespace dexthil::models {
namespace {

using scenario::ParamKind;
using scenario::ParamValue;

ParamValue integer(std::int64_t v) { return ParamValue::of_integer(v); }
ParamValue duration(sim::SimTime t) { return ParamValue::of_duration(t); }

class DmaExerciserModel final : public runner::ScenarioModel {
 public:
  explicit DmaExerciserModel(runner::ModelContext& ctx)
      : sim_(ctx.sim),
        name_(ctx.spec.name),
        findings_(ctx.findings),
        scoreboard_(ctx.spec.name, ctx.findings,
                    // Behind an endpoint the fabric's budget checker judges the latency (runner/run.cpp).
                    checks::DmaScoreboardOptions{ctx.scenario.check_enabled("dma.data-mismatch"),
                                                 ctx.endpoint ? std::nullopt : ctx.scenario.dma_latency_budget}),
        exerciser_(ctx.spec.name, ctx.sim, *ctx.upstream, &scoreboard_, config(ctx.spec), ctx.waves) {
    ctx.sim.attach(exerciser_, *ctx.clock);
  }

  void removed() override { sim_.detach(exerciser_); }

  void finish(sim::SimTime now) override {
    scoreboard_.finish(now);
    halted(now);
  }

  void halted(sim::SimTime now) override {
    rtl_assertions::report(name_, findings_);
    if (exerciser_.port_error()) {
      findings_.add({"dma.interface-error", name_, now, "the DMA port RTL raised its sticky error flag",
                     "rtl/dma_port.sv sets it on a FIFO overflow or underflow, or on a final response beat while "
                     "no request is outstanding: the host side broke the port's handshake rules."});
    }
  }

  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"pairs_planned", std::to_string(exerciser_.pairs_planned())},
            {"requests_issued", std::to_string(exerciser_.issued())},
            {"requests_completed", std::to_string(exerciser_.completed())},
            {"bytes_checked", std::to_string(scoreboard_.bytes_checked())},
            {"max_latency", sim::format_time(scoreboard_.max_latency())}};
  }

 private:
  static DmaExerciserConfig config(const scenario::ModelSpec& spec) {
    DmaExerciserConfig c;
    c.transactions = static_cast<std::uint64_t>(spec.integer("transactions"));
    c.max_length = static_cast<std::uint32_t>(spec.integer("max_length"));
    c.mean_gap = spec.duration("gap");
    c.max_outstanding = static_cast<std::uint32_t>(spec.integer("max_outstanding"));
    c.address_base = static_cast<std::uint64_t>(spec.integer("address_base"));
    return c;
  }

  sim::Simulator& sim_;
  std::string name_;
  checks::FindingLog& findings_;
  checks::DmaScoreboard scoreboard_;
  DmaExerciser exerciser_;
};

}  // namespace

void register_dma_exerciser(runner::ModelCatalog& catalog) {
  scenario::ModelTypeInfo info{
      "dma_exerciser",
      "writes random data through the shared DMA port RTL and reads it back (models/common)",
      {
          {"transactions", ParamKind::kInteger, "write-then-read-back pairs", integer(64), 1, 10'000'000},
          {"max_length", ParamKind::kInteger, "largest transfer in bytes (within one 4 KiB page)", integer(256), 1, 4096},
          {"gap", ParamKind::kDuration, "mean idle time between pairs", duration(sim::kMicrosecond), 0,
           static_cast<std::int64_t>(sim::kSecond)},
          {"max_outstanding", ParamKind::kInteger, "requests in flight at once", integer(4), 1, 32},
          {"address_base", ParamKind::kInteger, "bus address of the 256 KiB region it uses", integer(0x80000000), 0,
           (std::int64_t{1} << 48)},
      },
      // Its DMA goes through the fabric behind an endpoint, or else straight to host memory.
      {{scenario::PortKind::kPcieFunction, false}, {scenario::PortKind::kHostMemoryDma, false},
       {scenario::PortKind::kClock, true}},
      {{"dma.interface-error", "the DMA port RTL flagged a FIFO overflow/underflow or a stray response"}}};
  catalog.add({std::move(info), [](runner::ModelContext& ctx) -> std::unique_ptr<runner::ScenarioModel> {
                 return std::make_unique<DmaExerciserModel>(ctx);
               }});
}

}  // namespace dexthil::models
