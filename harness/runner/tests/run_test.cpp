#include <gtest/gtest.h>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::runner {
namespace {

const ModelCatalog& catalog() {
  static const ModelCatalog c = models::builtin_catalog();
  return c;
}

scenario::Scenario parse(const std::string& text) {
  std::string error;
  auto s = scenario::ScenarioLoader(catalog().infos(), catalog().sections()).load_text(text, "harness/runner/tests/inline.toml", &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

const std::string kBase = R"(
[scenario]
name = "t"
duration = "1ms"
seed = 9
[[model]]
name = "dma0"
type = "dma_exerciser"
[model.params]
transactions = 20
[[expect]]
stat = "dma0.requests_completed"
equals = 40
)";

const std::string kUrFault = R"(
[[fault]]
kind = "dma-completion-status"
model = "dma0"
request = 2
status = "UR"
)";

TEST(Runner, CleanScenarioPasses) {
  ScenarioResult r = run_scenario(parse(kBase), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.seed, 9u);
  EXPECT_EQ(r.simulated, sim::kMillisecond);
  ASSERT_EQ(r.models.size(), 1u);
  EXPECT_EQ(r.models[0].values[2], (std::pair<std::string, std::string>{"requests_completed", "40"}));
}

TEST(Runner, UnexpectedFindingFails) {
  ScenarioResult r = run_scenario(parse(kBase + kUrFault), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kFail);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_FALSE(r.findings[0].expected);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].rfind("unexpected finding dma.completion-status on dma0 at ", 0), 0u) << r.failures[0];
}

TEST(Runner, ExpectedFindingPassesOnlyWhenItOccurs) {
  const std::string expect = "[[expect]]\nfinding = \"dma.completion-status\"\nmodel = \"dma0\"\ncount = 1\n";
  EXPECT_EQ(run_scenario(parse(kBase + kUrFault + expect), catalog(), {}).outcome, Outcome::kPass);
  ScenarioResult missing = run_scenario(parse(kBase + expect), catalog(), {});
  EXPECT_EQ(missing.outcome, Outcome::kFail);
  ASSERT_EQ(missing.failures.size(), 1u);
  EXPECT_EQ(missing.failures[0],
            "harness/runner/tests/inline.toml:14:1: expected 1 finding \"dma.completion-status\" on dma0, saw 0");
  const std::string twice = kUrFault + "[[fault]]\nkind = \"dma-completion-status\"\nmodel = \"dma0\"\nrequest = 6\nstatus = \"CA\"\n";
  EXPECT_EQ(run_scenario(parse(kBase + twice + expect), catalog(), {}).outcome, Outcome::kFail);
  const std::string at_least_one = "[[expect]]\nfinding = \"dma.completion-status\"\n";
  EXPECT_EQ(run_scenario(parse(kBase + twice + at_least_one), catalog(), {}).outcome, Outcome::kPass);
}

TEST(Runner, FigureExpectationsSayWhatWasMissingOrOff) {
  auto failures_with = [](const std::string& expect) {
    return run_scenario(parse(kBase + expect), catalog(), {}).failures;
  };
  EXPECT_TRUE(failures_with("[[expect]]\nstat = \"dma0.requests_completed\"\nat_least = 40\nat_most = 40\n").empty());
  EXPECT_EQ(failures_with("[[expect]]\nstat = \"dma0.requests_completed\"\nat_least = 41\n"),
            std::vector<std::string>{"harness/runner/tests/inline.toml:14:1: expected dma0.requests_completed at least 41, was 40"});
  EXPECT_EQ(failures_with("[[expect]]\nstat = \"dma0.requests_completed\"\nat_most = 39\n"),
            std::vector<std::string>{"harness/runner/tests/inline.toml:14:1: expected dma0.requests_completed at most 39, was 40"});
  EXPECT_EQ(failures_with("[[expect]]\nstat = \"dma0.requests_completed\"\nequals = 41\n"),
            std::vector<std::string>{"harness/runner/tests/inline.toml:14:1: expected dma0.requests_completed to be 41, was 40"});
  EXPECT_EQ(failures_with("[[expect]]\nstat = \"dma0.max_latency\"\nat_least = 1\n"),
            std::vector<std::string>{"harness/runner/tests/inline.toml:14:1: expected dma0.max_latency to be a number, was \"628 ns\""});
  EXPECT_EQ(failures_with("[[expect]]\nstat = \"dma0.reads\"\nat_least = 1\n"),
            std::vector<std::string>{"harness/runner/tests/inline.toml:14:1: expected dma0.reads, but dma0 has no figure reads "
                                     "(it has: pairs_planned, requests_issued, requests_completed, bytes_checked, max_latency)"});
}

TEST(Runner, RepeatedFindingsAreCountedInFullButListedOnlyTenTimes) {
  std::string faults;
  for (int request = 1; request < 30; request += 2) {  // 15 read-backs, each with a flipped bit
    faults += "[[fault]]\nkind = \"dma-corrupt-read\"\nmodel = \"dma0\"\nrequest = " + std::to_string(request) + "\n";
  }
  const std::string expect = "[[expect]]\nfinding = \"dma.data-mismatch\"\nmodel = \"dma0\"\ncount = 15\n";
  ScenarioResult r = run_scenario(parse(kBase + faults + expect), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass) << (r.failures.empty() ? "" : r.failures[0]);
  EXPECT_EQ(r.findings.size(), 10u);
  ASSERT_EQ(r.held_back.size(), 1u);
  EXPECT_EQ(r.held_back[0].held.count, 5u);
  EXPECT_EQ(r.finding_count(), 15u);
  EXPECT_EQ(r.expected_count(), 15u);
  // Unexpected, they fail the scenario with the ten listed and the rest counted.
  ScenarioResult unexpected = run_scenario(parse(kBase + faults), catalog(), {});
  EXPECT_EQ(unexpected.outcome, Outcome::kFail);
  ASSERT_EQ(unexpected.failures.size(), 11u);
  EXPECT_EQ(unexpected.failures.back(), "and 5 more unexpected dma.data-mismatch on dma0 (not listed)");
}

TEST(Runner, DisabledCheckDropsItsFindings) {
  const std::string off = "[checks]\n\"dma.completion-status\" = false\n";
  ScenarioResult r = run_scenario(parse(kBase + kUrFault + off), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass);
  EXPECT_TRUE(r.findings.empty());
}

TEST(Runner, TooShortARunReportsRequestsStillInFlight) {
  std::string text = kBase;
  text.replace(text.find("\"1ms\""), 5, "\"2us\"");
  text += "[host]\ndma_latency = \"5us\"\n";
  ScenarioResult r = run_scenario(parse(text), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kFail);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0].finding.check, "dma.incomplete");
}

TEST(Runner, SeedDecidesTheRun) {
  const scenario::Scenario s = parse(kBase);
  ScenarioResult a = run_scenario(s, catalog(), {});
  ScenarioResult b = run_scenario(s, catalog(), {});
  RunOptions seed10;
  seed10.seed = 10;
  ScenarioResult c = run_scenario(s, catalog(), seed10);
  RunOptions every_cycle;
  every_cycle.skip_idle = false;
  ScenarioResult every = run_scenario(s, catalog(), every_cycle);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.trace_records, 80u);  // one record per request and per completion
  EXPECT_EQ(c.seed, 10u);
  EXPECT_NE(a.trace_hash, c.trace_hash);
  EXPECT_EQ(a.trace_hash, every.trace_hash);
  EXPECT_GT(every.clock_edges, 10 * a.clock_edges);
}

TEST(Runner, PartsThisBuildCannotRunAreErrorsNotPasses) {
  const std::string capture = "[[capture]]\npath = \"run_test.cpp\"\nformat = \"pcapng\"\n";
  ScenarioResult r = run_scenario(parse(kBase + capture), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kError);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("capture"), std::string::npos) << r.failures[0];
}

// The field report's chain, the LSI's buffer mapped the macOS way (own RID only): every DMA
// arrives as 04:00.0 under SID 0, where nothing is mapped.
const std::string kFieldChain = R"(
[scenario]
name = "panics"
duration = "200us"
topology = "../../../fixtures/topologies/field-chain.toml"
[[model]]
name = "lsi-dma"
type = "dma_exerciser"
endpoint = "lsi"
[model.params]
transactions = 2
gap = "10us"
[[mapping]]
endpoint = "lsi"
size = "256KiB"
)";

TEST(Runner, ADartFaultPanicsTheMacAndTheRunEndsThere) {
  const std::string expect = R"(
[[expect]]
finding = "dart.fault"
endpoint = "lsi"
count = 1
[[expect]]
finding = "kernel.panic"
endpoint = "lsi"
count = 1
)";
  ScenarioResult r = run_scenario(parse(kFieldChain + expect), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass) << (r.failures.empty() ? "" : r.failures[0]);
  ASSERT_EQ(r.findings.size(), 2u);
  const checks::Finding& fault = r.findings[0].finding;
  const checks::Finding& panic = r.findings[1].finding;
  EXPECT_EQ(fault.check, "dart.fault");
  EXPECT_EQ(panic.check, "kernel.panic");
  // The exerciser writes first: a write by SID 0 with no valid TTBR, somewhere in its buffer.
  const std::string prefix = "DART dart-apciec0 exception SID 0 ERROR_STATUS 0x90000001 ERROR_ADDRESS 0x00000000800";
  ASSERT_EQ(fault.what.rfind(prefix, 0), 0u) << fault.what;
  const std::string address = fault.what.substr(fault.what.size() - 18);  // "0x" and 16 digits
  EXPECT_EQ(panic.what, "panic: " + fault.what + " [dexthil's wording of xnu's DART panic]");
  EXPECT_EQ(panic.where, "lsi (04:08.0, 1000:0030)");
  EXPECT_GT(panic.time, fault.time);  // the fault is dated at issue, the panic at arrival
  EXPECT_EQ(r.simulated, panic.time);  // the run ended with the machine
  EXPECT_LT(r.simulated, 200 * sim::kMicrosecond);
  const std::string at = sim::format_time(panic.time);
  EXPECT_NE(panic.why.find("DART dart-apciec0 (T8110) behind root port tb0 latched ERROR_STATUS 0x90000001, which reads: "
                           "FLAG (an error is latched), write, SID 0, NO_TTBR (no valid translation table base for the "
                           "stream at this IOVA); ERROR_ADDRESS " + address + ", the IOVA."),
            std::string::npos)
      << panic.why;
  EXPECT_NE(panic.why.find("arriving as requester ID 04:00.0"), std::string::npos) << panic.why;
  EXPECT_NE(panic.why.find("The run stopped there: nothing after " + at + " was simulated"), std::string::npos) << panic.why;
  EXPECT_EQ(panic.data, (std::vector<std::pair<std::string, std::string>>{{"dart", "dart-apciec0"},
                                                                          {"sid", "0"},
                                                                          {"error_status", "0x90000001"},
                                                                          {"error_address", address},
                                                                          {"time", at}}));
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "the machine panicked at " + at +
                            " (DART dart-apciec0 error, see kernel.panic): the run stopped there and its later events "
                            "were not simulated");
  // What a panicked machine never does: the refused request never completes (no UR reaches the
  // device), and the requests still in flight are no "dma.incomplete".
  for (const auto& m : r.models) {
    if (m.model == "lsi-dma") {
      EXPECT_EQ(m.values[2], (std::pair<std::string, std::string>{"requests_completed", "0"}));
    }
  }
}

TEST(Runner, DartFaultContinueRunsOnAsBeforeForDiagnosis) {
  const std::string expect = R"(
[kernel]
dart_fault = "continue"
[[expect]]
finding = "dart.fault"
endpoint = "lsi"
count = 4
[[expect]]
finding = "dma.completion-status"
model = "lsi-dma"
count = 4
)";
  ScenarioResult r = run_scenario(parse(kFieldChain + expect), catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass) << (r.failures.empty() ? "" : r.failures[0]);
  EXPECT_EQ(r.simulated, 200 * sim::kMicrosecond);
  EXPECT_TRUE(r.notes.empty());
  // Unexpected, the panic is a failure like any finding.
  ScenarioResult unexpected = run_scenario(parse(kFieldChain + "[[expect]]\nfinding = \"dart.fault\"\n"), catalog(), {});
  EXPECT_EQ(unexpected.outcome, Outcome::kFail);
  ASSERT_EQ(unexpected.failures.size(), 1u);
  EXPECT_EQ(unexpected.failures[0].rfind("unexpected finding kernel.panic on lsi (04:08.0, 1000:0030) at ", 0), 0u)
      << unexpected.failures[0];
}

TEST(Runner, AMissingDextBundleIsAnErrorSayingWhereItLooked) {
  const std::string text = R"(
[scenario]
name = "t"
duration = "1ms"
topology = "../../../fixtures/topologies/direct.toml"
[[dext]]
name = "Nope"
[[expect]]
stat = "Nope@dev.stage"
equals = "started"
)";
  RunOptions options;
  options.dext_dirs = {"/nonexistent"};
  ScenarioResult r = run_scenario(parse(text), catalog(), options);
  EXPECT_EQ(r.outcome, Outcome::kError);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0], "harness/runner/tests/inline.toml:6:1: dext Nope: no bundle Nope.dext (looked in "
                           "/nonexistent/Nope.dext; give its path, or --dexts DIR)");
}

}  // namespace
}  // namespace dexthil::runner
