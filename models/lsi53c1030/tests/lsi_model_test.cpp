// The "lsi53c1030" scenario model type: a scenario places the function behind an endpoint with
// its disks, it runs and reports its figures, and a parameter the loader cannot check gives an
// error that names the file, the model and the parameter.
#include <gtest/gtest.h>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::models {
namespace {

const runner::ModelCatalog& catalog() {
  static const runner::ModelCatalog c = builtin_catalog();
  return c;
}

scenario::Scenario parse(const std::string& text) {
  std::string error;
  auto s = scenario::ScenarioLoader(catalog().infos(), catalog().sections())
               .load_text(text, "models/lsi53c1030/tests/inline.toml", &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

std::string scenario_text(const std::string& service) {
  return R"(
[scenario]
name = "lsi-model"
duration = "1ms"
topology = "../../../fixtures/topologies/direct.toml"
[[model]]
name = "lsi0"
type = "lsi53c1030"
endpoint = "dev"
clock = "66MHz"
[model.params]
disks = 2
service = ")" + service + R"("
[[expect]]
stat = "lsi0.requests_fetched"
equals = 0
)";
}

TEST(LsiModel, AScenarioPlacesTheFunctionAndItReportsItsFigures) {
  const runner::ScenarioResult r = runner::run_scenario(parse(scenario_text("ssd")), catalog(), {});
  EXPECT_EQ(r.outcome, runner::Outcome::kPass) << (r.failures.empty() ? "" : r.failures[0]);
  ASSERT_EQ(r.models.size(), 1u);
  std::vector<std::string> names;
  for (const auto& [name, value] : r.models[0].values) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"requests_fetched", "replies_posted", "scsi_ios", "interrupts", "bus_busy"}));
}

TEST(LsiModel, AnUnknownServiceKindIsAnErrorThatNamesWhere) {
  const runner::ScenarioResult r = runner::run_scenario(parse(scenario_text("tape")), catalog(), {});
  EXPECT_EQ(r.outcome, runner::Outcome::kHarnessError);
  ASSERT_EQ(r.failures.size(), 1u);
  // At the value itself, not at [[model]].
  EXPECT_EQ(r.failures[0], "harness error: models/lsi53c1030/tests/inline.toml:13:11: error: model \"lsi0\": service: "
                           "\"tape\" is not fixed, mechanical or ssd");
}

}  // namespace
}  // namespace dexthil::models
