#include "harness/checks/dma_budget_checker.hpp"

#include "harness/util/hex.hpp"

namespace dexthil::checks {

void DmaBudgetChecker::on_dma(const pcie::DmaPath& path, const pcie::Fabric&) {
  const sim::SimTime took = path.latency.total();
  if (took <= budget_) return;
  const pcie::LatencyBreakdown& l = path.latency;
  std::string causes;
  auto part = [&causes](const char* what, sim::SimTime t) {
    if (t) causes += (causes.empty() ? "" : ", ") + std::string(what) + " " + sim::format_time(t);
  };
  part("link hops", l.hops);
  part("serialization", l.serialization);
  part("DART table walks", l.iotlb);
  part("ASPM exit", l.aspm);
  part("stalls", l.stall);
  part("waiting for links other transfers held", l.queueing);
  const std::string& ep = path.endpoint->name;
  log_.add({"budget.dma-latency", ep, sim_.now(),  // when it was issued
            std::string("DMA ") + (path.request.write ? "write " : "read ") + util::hex(path.request.address) + "+" +
                std::to_string(path.request.length) + " took " + sim::format_time(took) +
                " through the fabric, over the budget of " + sim::format_time(budget_),
            "The scenario's budget is the longest a request may take before the device's buffering runs dry. This one "
            "spent " + causes + ". Stalls and ASPM exits are what RequireMaxBusStall and SetASPMState exist to bound; "
            "hops and serialization are the topology's cost, and waiting for links is the cost of sharing them.",
            ep});
}

}  // namespace dexthil::checks
