// Scenarios in processes of their own: results come back whole, in file order, the same for any
// number of jobs, and a harness that dies in a scenario's process is a harness error for that
// scenario alone, never a finding and never the end of the run.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <new>

#include <unistd.h>

#include "harness/runner/determinism.hpp"
#include "harness/runner/isolation.hpp"
#include "harness/runner/result_codec.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::runner {
namespace {

// The built-in models, plus ones that fail the way a harness bug would, inside the scenario's
// process: a segfault, an allocation failure, and an exit without a result.
ModelCatalog catalog_with_broken_models() {
  ModelCatalog c = models::builtin_catalog();
  auto broken = [&c](const char* type, void (*fail)()) {
    ModelType t;
    t.info = {type, "fails while it is built (test only)", {}, {}, {}};
    t.create = [fail](ModelContext&) -> std::unique_ptr<ScenarioModel> {
      fail();
      return nullptr;
    };
    c.add(std::move(t));
  };
  broken("segfaults", [] { std::raise(SIGSEGV); });
  broken("out_of_memory", [] { throw std::bad_alloc(); });
  broken("exits", [] { std::_Exit(0); });
  broken("hangs", [] {
    for (;;) pause();  // stuck for good, as a harness whose heap a dext corrupted can be
  });
  // A model that leaks something outside the seed into the trace: the process id.
  struct LeaksThePid final : ScenarioModel {
    void finish(sim::SimTime) override {}
    std::vector<std::pair<std::string, std::string>> stats() const override { return {{"records", "2"}}; }
  };
  ModelType pid;
  pid.info = {"records_its_pid", "records the process id in the trace (test only)", {}, {}, {}};
  pid.create = [](ModelContext& context) -> std::unique_ptr<ScenarioModel> {
    context.sim.trace().record(0, "m", "steady");
    context.sim.trace().record(0, "m", "pid " + std::to_string(getpid()));
    return std::make_unique<LeaksThePid>();
  };
  c.add(std::move(pid));
  return c;
}

const ModelCatalog& catalog() {
  static const ModelCatalog c = catalog_with_broken_models();
  return c;
}

scenario::Scenario scenario_with(const std::string& name, const std::string& type, int transactions = 20) {
  const std::string params =
      (type == "dma_exerciser" ? "[model.params]\ntransactions = " + std::to_string(transactions) + "\n" : std::string()) +
      "[[expect]]\nstat = \"m." + std::string(type == "dma_exerciser" ? "requests_completed" : "records") +
      "\"\nat_least = 1\n";
  const std::string text = "[scenario]\nname = \"" + name + "\"\nduration = \"1ms\"\nseed = 4\n[[model]]\nname = \"m\"\ntype = \"" +
                           type + "\"\n" + params;
  std::string error;
  auto s = scenario::ScenarioLoader(catalog().infos(), catalog().sections()).load_text(text, "harness/runner/tests/" + name + ".toml", &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

TEST(Isolation, ResultsComeBackInFileOrderAndMatchAnInProcessRun) {
  const std::vector<scenario::Scenario> scenarios = {scenario_with("a", "dma_exerciser", 10),
                                                     scenario_with("b", "dma_exerciser", 30),
                                                     scenario_with("c", "dma_exerciser", 5)};
  std::vector<std::size_t> order;
  auto results = run_isolated(scenarios, catalog(), {}, 2, [&](std::size_t i, const ScenarioResult&) { order.push_back(i); });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(order.size(), 3u);
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const ScenarioResult direct = run_scenario(scenarios[i], catalog(), {});
    EXPECT_EQ(results[i].name, scenarios[i].name);
    EXPECT_EQ(results[i].outcome, Outcome::kPass);
    EXPECT_EQ(results[i].trace_hash, direct.trace_hash);
    EXPECT_EQ(results[i].events, direct.events);
    EXPECT_EQ(results[i].models[0].values, direct.models[0].values);
  }
}

TEST(Isolation, AHarnessCrashIsAHarnessErrorForThatScenarioAlone) {
  const std::vector<scenario::Scenario> scenarios = {scenario_with("before", "dma_exerciser"),
                                                     scenario_with("crashes", "segfaults"),
                                                     scenario_with("after", "dma_exerciser")};
  auto results = run_isolated(scenarios, catalog(), {}, 1, {});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].outcome, Outcome::kPass);
  EXPECT_EQ(results[2].outcome, Outcome::kPass);
  EXPECT_EQ(results[1].outcome, Outcome::kHarnessError);
  EXPECT_TRUE(results[1].findings.empty());  // a harness fault is never reported as the dext's
  ASSERT_EQ(results[1].failures.size(), 1u);
#ifdef DEXTHIL_SANITIZE
  // AddressSanitizer's own SIGSEGV handler reports the harness's fault, with its stack, and exits.
  const char* expected = "harness error: the scenario's process exited with status 1 before it reported a result.";
#else
  const char* expected = "harness error: the scenario's process died of SIGSEGV (signal 11) before it reported a result.";
#endif
  EXPECT_EQ(results[1].failures[0].rfind(expected, 0), 0u) << results[1].failures[0];
  EXPECT_EQ(results[1].seed, 4u);  // enough to rerun it
}

TEST(Isolation, AllocationFailureAndAMissingResultAreHarnessErrors) {
  auto results = run_isolated({scenario_with("oom", "out_of_memory"), scenario_with("exits", "exits")}, catalog(), {}, 2, {});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, Outcome::kHarnessError);
  EXPECT_EQ(results[0].failures, std::vector<std::string>{"harness error: out of memory"});
  EXPECT_EQ(results[1].outcome, Outcome::kHarnessError);
  ASSERT_EQ(results[1].failures.size(), 1u);
  EXPECT_EQ(results[1].failures[0],
            "harness error: the scenario's process returned a garbled result: the result ends at byte 0 of 0 where a "
            "number should be");
}

TEST(Determinism, ADeterministicScenarioPassesAndALeakyOneNamesTheFirstDifferingRecord) {
  const std::vector<scenario::Scenario> scenarios = {scenario_with("steady", "dma_exerciser"),
                                                     scenario_with("leaky", "records_its_pid")};
  auto results = run_isolated(scenarios, catalog(), {}, 2, {});
  ASSERT_EQ(results[1].outcome, Outcome::kPass);
  check_determinism(scenarios, catalog(), {}, 2, &results);
  EXPECT_EQ(results[0].outcome, Outcome::kPass);
  EXPECT_TRUE(results[0].failures.empty());
  EXPECT_EQ(results[1].outcome, Outcome::kFail);
  ASSERT_EQ(results[1].failures.size(), 1u);  // the idle-skipping run differs too, but says so only once
  const std::string& why = results[1].failures[0];
  EXPECT_EQ(why.rfind("not deterministic: the same seed gave trace hash 0x", 0), 0u) << why;
  EXPECT_NE(why.find("; trace record #1 differs: one run at 0 ps m: pid "), std::string::npos) << why;
}

TEST(Determinism, LongRunsAreComparedWithoutTheEveryEdgeRun) {
  scenario::Scenario s = scenario_with("long", "dma_exerciser");
  s.duration = 10 * sim::kSecond;  // 2.5 G edges at 250 MHz
  EXPECT_GT(edges_without_skipping(s), kMaxCheckedEdges);
  EXPECT_EQ(edges_without_skipping(scenario_with("short", "dma_exerciser")), 250'000u);
}

TEST(Isolation, AScenarioProcessThatNeverEndsIsEndedAtItsWallClockLimit) {
  RunOptions options;
  options.scenario_limit_seconds = 0.3;
  const auto started = std::chrono::steady_clock::now();
  auto results = run_isolated({scenario_with("stuck", "hangs"), scenario_with("fine", "dma_exerciser")}, catalog(), options,
                              2, {});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_EQ(results[1].outcome, Outcome::kPass);  // the other one ran and finished
  EXPECT_EQ(results[0].outcome, Outcome::kHarnessError);
  ASSERT_EQ(results[0].failures.size(), 1u);
  EXPECT_EQ(results[0].failures[0].rfind("harness error: the scenario's process was still running after 0 s of "
                                         "wall-clock time (dexthil run --scenario-limit) and was ended.",
                                         0),
            0u)
      << results[0].failures[0];
}

TEST(ResultCodec, RoundTripsEveryFieldAndRefusesTruncatedBytes) {
  ScenarioResult r;
  r.name = "n";
  r.file = "f.toml";
  r.labels = {"x", "y"};
  r.seed = 77;
  r.outcome = Outcome::kFail;
  r.findings.push_back({{"dext.signal", "A@dev", 5, "what", "why", "dev", {{"signal", "SIGSEGV"}, {"address", "0x0"}}}, true});
  r.failures = {"one", "two"};
  r.simulated = 123;
  r.wall_seconds = 0.5;
  r.trace_hash = 0xabcdef;
  r.trace_records = 9;
  r.events = 10;
  r.clock_edges = 11;
  r.models.push_back({"m", {{"k", "v"}}});
  r.trace.push_back({42, "src", "msg"});
  const std::string bytes = encode_result(r);
  std::string error;
  auto back = decode_result(bytes, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(encode_result(*back), bytes);
  EXPECT_EQ(back->findings[0].finding.subject, "dev");
  EXPECT_EQ(back->findings[0].finding.data,
            (std::vector<std::pair<std::string, std::string>>{{"signal", "SIGSEGV"}, {"address", "0x0"}}));
  EXPECT_TRUE(back->findings[0].expected);
  EXPECT_EQ(back->trace[0].message, "msg");
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(decode_result(bytes.substr(0, cut), &error)) << cut;
  }
  EXPECT_FALSE(decode_result(bytes + "x", &error));
  EXPECT_EQ(error, "bytes follow the end of the result");
}

}  // namespace
}  // namespace dexthil::runner
