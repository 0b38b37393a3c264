#pragma once
// Runs one scenario: builds the simulated machine it describes, runs it for its duration with
// its seed, collects findings and judges them against the scenario's expectations.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/runner/model_catalog.hpp"
#include "harness/scenario/scenario.hpp"

namespace dexthil::runner {

inline constexpr std::uint64_t kDefaultSeed = 1;

struct RunOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  bool skip_idle = true;
  bool keep_trace_records = false;
  std::vector<std::string> dext_dirs;  // where [[dext]] bundles without a path are looked up
  std::uint64_t callback_limit_ms = 10'000;  // wall-clock limit for one dext callback (fault_guard.hpp)
  double scenario_limit_seconds = 1800;      // wall-clock limit for a scenario's process (isolation.hpp)
  // Waveforms: each model that can writes waves_dir/<scenario>/<model>.fst for edges within
  // [waves_from, waves_to]; none when waves_dir is empty.
  std::string waves_dir;
  sim::SimTime waves_from = 0, waves_to = sim::kNever;
};

// kError: the scenario could not be set up as written (a missing dext). kHarnessError: dexthil
// itself failed (a bug, an allocation failure); never the dext's fault, which is a finding.
enum class Outcome { kPass, kFail, kError, kHarnessError };
inline constexpr int kOutcomeCount = 4;
const char* to_string(Outcome outcome);

struct JudgedFinding {
  checks::Finding finding;
  bool expected = false;  // matched by one of the scenario's [[expect]] entries
};

// Findings past the first few of their id in one place: counted, not kept (checks::FindingLog).
struct JudgedHeldBack {
  checks::HeldBack held;
  bool expected = false;
};

struct ModelStats {
  std::string model;
  std::vector<std::pair<std::string, std::string>> values;
};

struct ScenarioResult {
  std::string name;
  std::string file;
  std::vector<std::string> labels;
  std::uint64_t seed = 0;
  Outcome outcome = Outcome::kError;
  std::vector<JudgedFinding> findings;
  std::vector<JudgedHeldBack> held_back;  // counted beyond `findings`, judged like them
  // Every finding, kept or held back; and how many of them the scenario expected.
  std::uint64_t finding_count() const {
    std::uint64_t n = findings.size();
    for (const auto& h : held_back) n += h.held.count;
    return n;
  }
  std::uint64_t expected_count() const {
    std::uint64_t n = 0;
    for (const auto& f : findings) n += f.expected;
    for (const auto& h : held_back) n += h.expected ? h.held.count : 0;
    return n;
  }
  std::vector<std::string> failures;  // why it did not pass, one sentence each
  std::vector<std::string> notes;     // what a person should know that is not a failure
  sim::SimTime simulated = 0;
  double wall_seconds = 0;
  std::uint64_t trace_hash = 0;
  std::uint64_t trace_records = 0;
  std::uint64_t events = 0;
  std::uint64_t clock_edges = 0;
  std::vector<ModelStats> models;
  std::vector<sim::TraceRecord> trace;  // only with RunOptions::keep_trace_records
};

ScenarioResult run_scenario(const scenario::Scenario& scenario, const ModelCatalog& catalog, const RunOptions& options);

}  // namespace dexthil::runner
