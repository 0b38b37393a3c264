#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::scenario {
namespace {

namespace fs = std::filesystem;

ScenarioLoader loader() {
  const runner::ModelCatalog catalog = models::builtin_catalog();
  return ScenarioLoader(catalog.infos(), catalog.sections());
}

TEST(ScenarioLoader, ReadsEveryPartOfAFullScenario) {
  const std::string text = R"(
# comments are allowed anywhere
[scenario]
name = "full"
description = "every section"
labels = ["a", "b"]
seed = 42
duration = "1.5ms"
topology = "../../../fixtures/topologies/direct.toml"

[kernel]
profile = "field"
dart_fault = "continue"

[host]
dma_latency = "1us"

[[model]]
name = "dma0"
type = "dma_exerciser"
clock = "125MHz"
[model.params]
transactions = 10
gap = "3us"

[[dext]]
name = "self"
path = "."

[[fault]]
kind = "dma-completion-status"
model = "dma0"
request = 4
status = "CA"

[checks]
"dma.data-mismatch" = false

[budgets]
dma_latency = "20us"

[[expect]]
finding = "dma.completion-status"
model = "dma0"
count = 1
)";
  std::string error;
  auto s = loader().load_text(text, "harness/scenario/tests/inline.toml", &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->name, "full");
  EXPECT_EQ(s->labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->duration, 1'500'000'000u);
  EXPECT_EQ(s->host_dma_latency, sim::kMicrosecond);
  ASSERT_EQ(s->models.size(), 1u);
  EXPECT_EQ(s->models[0].clock, sim::Period::of(8000));
  EXPECT_EQ(s->models[0].integer("transactions"), 10);
  EXPECT_EQ(s->models[0].integer("max_length"), 256);  // default filled in
  EXPECT_EQ(s->models[0].duration("gap"), 3 * sim::kMicrosecond);
  EXPECT_EQ(s->models[0].pos.line, 18u);
  ASSERT_EQ(s->dexts.size(), 1u);
  EXPECT_EQ(s->dexts[0].path, "harness/scenario/tests");
  EXPECT_EQ(s->kernel_profile, "field");
  EXPECT_FALSE(s->dart_fault_panics);
  ASSERT_EQ(s->faults.size(), 1u);
  EXPECT_EQ(s->faults[0].status, "CA");
  EXPECT_EQ(s->faults[0].request, 4u);
  EXPECT_FALSE(s->check_enabled("dma.data-mismatch"));
  EXPECT_TRUE(s->check_enabled("dma.completion-status"));
  EXPECT_EQ(s->dma_latency_budget, 20 * sim::kMicrosecond);
  ASSERT_EQ(s->expectations.size(), 1u);
  EXPECT_EQ(s->expectations[0].count, 1u);
  EXPECT_EQ(s->expectations[0].where, "dma0");
}

TEST(ScenarioLoader, ADartFaultPanicsUnlessTheScenarioSaysContinue) {
  const std::string head = "[scenario]\nname = \"p\"\nduration = \"1ms\"\n[[expect]]\nstat = \"m.x\"\nequals = 1\n"
                           "[[model]]\nname = \"m\"\ntype = \"dma_exerciser\"\n";
  std::string error;
  auto by_default = loader().load_text(head, "harness/scenario/tests/inline.toml", &error);
  ASSERT_TRUE(by_default) << error;
  EXPECT_TRUE(by_default->dart_fault_panics);
  auto panics = loader().load_text(head + "[kernel]\ndart_fault = \"panic\"\n", "harness/scenario/tests/inline.toml", &error);
  ASSERT_TRUE(panics) << error;
  EXPECT_TRUE(panics->dart_fault_panics);
  EXPECT_FALSE(loader().load_text(head + "[kernel]\ndart_fault = \"ignore\"\n", "x.toml", &error));
  EXPECT_EQ(error, "x.toml:11:14: error: kernel.dart_fault: \"ignore\" is not one of: panic, continue") << error;
}

// Every file under fixtures/invalid/scenarios/ names, on its first line, the one error it must
// produce: "# expect-error: LINE:COLUMN: error: KEY: MESSAGE".
TEST(ScenarioLoader, EachMalformedFileGivesItsOnePreciseError) {
  const std::string dir = "fixtures/invalid/scenarios";
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    const std::string prefix = "# expect-error: ";
    ASSERT_EQ(first.rfind(prefix, 0), 0u) << path << " does not start with " << prefix;
    std::string error;
    auto s = loader().load(path, &error);
    EXPECT_FALSE(s) << path << " loaded without error";
    EXPECT_EQ(error, path + ":" + first.substr(prefix.size())) << path;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line per problem: " << error;
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

// A model gets the ports its type declares, and the loader refuses a scenario that asks for
// another: here a model type with no ports at all, and one check id of its own.
TEST(ScenarioLoader, AModelCanUseOnlyThePortsItsTypeDeclares) {
  std::vector<ModelTypeInfo> types = models::builtin_catalog().infos();
  types.push_back({"uart", "a serial line (test only)", {}, {}, {{"uart.framing", "a character with a bad stop bit"}}});
  ScenarioLoader loader(types);
  const std::string head = "[scenario]\nname = \"p\"\nduration = \"1ms\"\ntopology = \"../../../fixtures/topologies/direct.toml\"\n"
                           "[[model]]\nname = \"u\"\ntype = \"uart\"\n";
  const std::string expect = "[[expect]]\nfinding = \"uart.framing\"\n";  // the type's own id is known
  std::string error;
  EXPECT_TRUE(loader.load_text(head + expect, "harness/scenario/tests/p.toml", &error)) << error;
  EXPECT_FALSE(loader.load_text(head + "endpoint = \"dev\"\n" + expect, "harness/scenario/tests/p.toml", &error));
  EXPECT_EQ(error, "harness/scenario/tests/p.toml:8:12: error: model[0].endpoint: model type uart has no PCIe function "
                   "port, so it cannot sit behind an endpoint (its ports: none)");
  EXPECT_FALSE(loader.load_text(head + "[[fault]]\nkind = \"dma-stall\"\nmodel = \"u\"\nrequest = 0\nstall = \"1us\"\n" + expect,
                                "harness/scenario/tests/p.toml", &error));
  EXPECT_EQ(error, "harness/scenario/tests/p.toml:10:9: error: fault[0].model: model \"u\" (uart) has no host-memory DMA "
                   "port for a DMA fault to hit");
  // No clock port: no clock domain, and a clock rate is refused rather than ignored.
  ASSERT_TRUE(loader.load_text(head + expect, "harness/scenario/tests/p.toml", &error)) << error;
  EXPECT_FALSE(loader.load_text(head + expect, "harness/scenario/tests/p.toml", &error)->models[0].clock);
  EXPECT_FALSE(loader.load_text(head + "clock = \"10MHz\"\n" + expect, "harness/scenario/tests/p.toml", &error));
  EXPECT_EQ(error, "harness/scenario/tests/p.toml:8:9: error: model[0].clock: model type uart has no clock port, so it "
                   "takes no clock (its ports: none)");
}

// A section a plug-in owns: the loader knows nothing of it, yet the key is accepted, the
// plug-in's errors carry the file position, and the places it declares may be named by [[expect]].
class SerialLineSection final : public SectionPlugin {
 public:
  struct Data final : SectionData {
    std::string port;
    void apply(runner::RunContext&) const override {}
    std::vector<std::string> places() const override { return {port}; }
  };
  std::string_view key() const override { return "serial_line"; }
  std::string_view summary() const override { return "a serial line (test only)"; }
  std::shared_ptr<const SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                          const SectionScope& scope) const override {
    const toml::table& t = in.as_table(section, "serial_line");
    in.allow_keys(t, "serial_line", {"port", "baud"});
    auto data = std::make_shared<Data>();
    data->port = in.string(t, "port", "serial_line", true).value();
    in.integer(t, "baud", "serial_line", 50, 4'000'000);
    EXPECT_EQ(scope.scenario.name, "s");  // the parts before sections are read
    return data;
  }
};

TEST(ScenarioLoader, ASectionPlugInOwnsItsKeyItsErrorsAndItsPlaces) {
  const std::string text = "[scenario]\nname = \"s\"\nduration = \"1ms\"\n"
                           "[serial_line]\nport = \"tty0\"\nbaud = 2400\n"
                           "[[expect]]\nfinding = \"dext.crashed\"\nendpoint = \"tty0\"\ncount = 0\n"
                           "[[expect]]\nstat = \"Ups@tty0.stage\"\nequals = \"started\"\n";
  std::string error;
  const runner::ModelCatalog catalog = models::builtin_catalog();
  EXPECT_FALSE(loader().load_text(text, "harness/scenario/tests/s.toml", &error));
  EXPECT_EQ(error.rfind("harness/scenario/tests/s.toml:4:1: error: serial_line: unknown key \"serial_line\"", 0), 0u)
      << error;
  auto sections = catalog.sections();
  sections.push_back(std::make_shared<SerialLineSection>());
  const ScenarioLoader with(catalog.infos(), sections);
  auto s = with.load_text(text, "harness/scenario/tests/s.toml", &error);
  ASSERT_TRUE(s) << error;
  ASSERT_EQ(s->sections.size(), 1u);
  EXPECT_EQ(s->sections[0].key, "serial_line");
  EXPECT_EQ(dynamic_cast<const SerialLineSection::Data&>(*s->sections[0].data).port, "tty0");
  EXPECT_EQ(s->expectations[0].where, "tty0");
  EXPECT_FALSE(with.load_text("[scenario]\nname = \"s\"\nduration = \"1ms\"\n[serial_line]\nport = \"tty0\"\nbaud = 1\n"
                              "[[expect]]\nstat = \"Ups@tty0.stage\"\nequals = \"started\"\n",
                              "harness/scenario/tests/s.toml", &error));
  EXPECT_EQ(error, "harness/scenario/tests/s.toml:6:8: error: serial_line.baud: 1 is out of range (50 to 4000000)");
}

TEST(ScenarioLoader, DuplicateScenarioNamesAcrossFilesAreRefused) {
  std::vector<std::string> errors;
  auto files = collect_scenario_files({"fixtures/invalid/duplicate-names"}, &errors);
  ASSERT_EQ(files.size(), 2u);
  std::vector<Scenario> scenarios;
  for (const auto& f : files) {
    std::string error;
    auto s = loader().load(f, &error);
    ASSERT_TRUE(s) << error;
    scenarios.push_back(*s);
  }
  check_unique_names(scenarios, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "fixtures/invalid/duplicate-names/b.toml:2:1: error: scenario.name: \"same-name\" is already the name of "
            "the scenario in fixtures/invalid/duplicate-names/a.toml");
}

TEST(ScenarioLoader, MissingPathsAndEmptyFoldersAreErrors) {
  std::vector<std::string> errors;
  const fs::path empty = fs::temp_directory_path() / "dexthil-empty-scenarios";
  fs::create_directories(empty);
  auto files = collect_scenario_files({"no/such/place.toml", empty.string(), "fixtures/scenarios"}, &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "no/such/place.toml: error: no such scenario file or folder");
  EXPECT_EQ(errors[1], empty.string() + ": error: folder holds no scenario files (*.toml)");
  EXPECT_FALSE(files.empty());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  std::string error;
  EXPECT_FALSE(loader().load("no/such/file.toml", &error));
  EXPECT_EQ(error, "no/such/file.toml: error: no such scenario file");
}

TEST(ScenarioLoader, EveryShippedScenarioLoads) {
  std::vector<std::string> errors;
  auto files = collect_scenario_files({"fixtures/scenarios"}, &errors);
  EXPECT_TRUE(errors.empty());
  for (const auto& f : files) {
    std::string error;
    EXPECT_TRUE(loader().load(f, &error)) << error;
  }
}

}  // namespace
}  // namespace dexthil::scenario
