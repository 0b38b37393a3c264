#pragma once
// Runs every scenario in a process of its own, forked from this one after all scenario files
// were loaded and checked. Nothing one scenario does (a dext it loads, the kernel it starts, the
// objects its dext leaks, a fault that kills its process) can change another's result, so
// results do not depend on order and `jobs` scenarios can run side by side with exactly the
// results of one at a time.
//
// The child sends its ScenarioResult back through an anonymous file (result_codec.hpp). A child
// that dies without a result is a harness fault: its scenario gets Outcome::kHarnessError with
// how it died. Dext faults never get that far: the fault guard turns them into findings.
#include <cstddef>
#include <functional>
#include <vector>

#include "harness/runner/run.hpp"

namespace dexthil::runner {

// Called in the parent as each scenario ends, in the order they end.
using ResultCallback = std::function<void(std::size_t index, const ScenarioResult& result)>;

// Results in the order of `scenarios`. `jobs` is how many run at once (at least 1).
std::vector<ScenarioResult> run_isolated(const std::vector<scenario::Scenario>& scenarios, const ModelCatalog& catalog,
                                         const RunOptions& options, unsigned jobs, const ResultCallback& on_result);

}  // namespace dexthil::runner
