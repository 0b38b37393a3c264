#pragma once
// `dexthil run --check-determinism`: the same seed must give the same run. Every scenario runs a
// second time, and a third time with idle clock edges evaluated one by one instead of skipped
// (where that costs at most kMaxCheckedEdges edges), each in a fresh process. Any difference in
// the trace hash fails the scenario; both runs are then repeated with their records kept, and the
// failure names the first record that differs.
#include <cstdint>
#include <vector>

#include "harness/runner/isolation.hpp"

namespace dexthil::runner {

// Above this many clock edges, the run without idle skipping is left out (and the result says so).
inline constexpr std::uint64_t kMaxCheckedEdges = 20'000'000;

// `results` are the scenarios' first runs (from run_isolated with `options`); failures are added
// to them, and a passing scenario that is not deterministic becomes a failing one.
void check_determinism(const std::vector<scenario::Scenario>& scenarios, const ModelCatalog& catalog,
                       const RunOptions& options, unsigned jobs, std::vector<ScenarioResult>* results);

// The clock edges a scenario's models would see with no idle skipping.
std::uint64_t edges_without_skipping(const scenario::Scenario& scenario);

}  // namespace dexthil::runner
