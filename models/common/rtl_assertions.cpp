#include "models/common/rtl_assertions.hpp"

#include <verilated.h>


namespace dexthil::models::rtl_assertions {
namespace {

struct Log {
  std::vector<RtlAssertionFailure> failures;
  const sim::Simulator* sim = nullptr;
  int links = 0;
};
Log& log() {
  static Log l;
  return l;
}

}  // namespace

SimulatorLink::SimulatorLink(const sim::Simulator& sim) {
  log().sim = &sim;
  ++log().links;
}

SimulatorLink::~SimulatorLink() {
  if (--log().links == 0) log().sim = nullptr;
}

std::vector<RtlAssertionFailure> take(const std::string& model) {
  std::vector<RtlAssertionFailure> mine, rest;
  // A failure outside any edge (a reset at construction, an FLR) names no model; the first model
  // to report takes it rather than let it be lost.
  for (RtlAssertionFailure& f : log().failures) {
    (f.model == model || f.model.empty() ? mine : rest).push_back(std::move(f));
  }
  log().failures = std::move(rest);
  return mine;
}

}  // namespace dexthil::models::rtl_assertions

// Verilator calls this for $stop, and for a failing assertion once the context's error limit
// (1 by default) is reached; its own version ends the simulation. Here the failure is recorded
// and the simulation goes on. In dexthil_rtl, beside verilated.cpp, which is built with
// VL_USER_STOP.
void vl_stop(const char* filename, int linenum, const char*) {
  auto& l = dexthil::models::rtl_assertions::log();
  const dexthil::sim::ClockedModel* model = l.sim ? l.sim->evaluating() : nullptr;
  l.failures.push_back({filename ? filename : "", linenum, model ? std::string(model->name()) : std::string(),
                        l.sim ? l.sim->now() : 0});
}
