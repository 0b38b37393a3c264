#pragma once
// Machine-readable results of a run: JUnit XML for CI engines and summary.json for tools.
// Both carry every scenario's seed, so any failure can be rerun exactly. Schema: docs/reports.md.
#include <optional>
#include <string>
#include <vector>

#include "harness/runner/run.hpp"

namespace dexthil::report {

struct RunInfo {
  std::string version;
  std::optional<std::uint64_t> seed_override;  // --seed, when given
};

std::string junit_xml(const RunInfo& info, const std::vector<runner::ScenarioResult>& results);
std::string summary_json(const RunInfo& info, const std::vector<runner::ScenarioResult>& results);

// Writes both into `dir` (created if missing). Returns false with *error set on failure.
bool write_reports(const std::string& dir, const RunInfo& info, const std::vector<runner::ScenarioResult>& results,
                   std::string* error);

}  // namespace dexthil::report
