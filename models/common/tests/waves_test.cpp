// Waveforms: a run with waves writes one FST per model that GTKWave can open. Read back here with
// the FST reader Verilator ships (gtkwave/fstapi), so the test needs no GTKWave.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "gtkwave/fstapi.h"
#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::models {
namespace {

struct FstContents {
  std::set<std::string> signals;
  std::uint64_t start = 0, end = 0;
};

FstContents read_fst(const std::string& path) {
  FstContents c;
  void* fst = fstReaderOpen(path.c_str());
  if (!fst) return c;
  c.start = fstReaderGetStartTime(fst);
  c.end = fstReaderGetEndTime(fst);
  while (fstHier* h = fstReaderIterateHier(fst)) {
    if (h->htyp == FST_HT_VAR) c.signals.insert(h->u.var.name);
  }
  fstReaderClose(fst);
  return c;
}

scenario::Scenario exerciser_scenario() {
  static const runner::ModelCatalog catalog = builtin_catalog();
  std::string error;
  auto s = scenario::ScenarioLoader(catalog.infos())
               .load_text("[scenario]\nname = \"waves\"\nduration = \"200us\"\n[[model]]\nname = \"dma0\"\n"
                          "type = \"dma_exerciser\"\n[model.params]\ntransactions = 20\n"
                          "[[expect]]\nstat = \"dma0.requests_completed\"\nequals = 40\n",
                          "models/common/tests/waves.toml", &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

TEST(Waves, ARunWithWavesWritesAnFstPerModelWithItsSignals) {
  const auto dir = std::filesystem::temp_directory_path() / "dexthil-waves-test";
  std::filesystem::remove_all(dir);
  static const runner::ModelCatalog catalog = builtin_catalog();
  runner::RunOptions options;
  options.waves_dir = dir.string();
  const runner::ScenarioResult with = runner::run_scenario(exerciser_scenario(), catalog, options);
  ASSERT_EQ(with.outcome, runner::Outcome::kPass) << (with.failures.empty() ? "" : with.failures[0]);
  const FstContents fst = read_fst((dir / "waves" / "dma0.fst").string());
  EXPECT_TRUE(fst.signals.count("clk"));
  EXPECT_TRUE(fst.signals.count("dev_req_valid"));
  EXPECT_TRUE(fst.signals.count("host_rsp [75:0]"));  // dma_pkg::dma_rsp_t, one packed signal
  EXPECT_GT(fst.end, fst.start);
  EXPECT_LE(fst.end, 200 * sim::kMicrosecond);  // picoseconds, as the simulator counts
  // Waves change nothing about the run itself.
  const runner::ScenarioResult without = runner::run_scenario(exerciser_scenario(), catalog, {});
  EXPECT_EQ(with.trace_hash, without.trace_hash);

  // A window: only the edges inside it are written.
  options.waves_dir = (dir / "window").string();
  options.waves_from = fst.end / 4;  // inside the traffic the full run recorded
  options.waves_to = fst.end / 2;
  runner::run_scenario(exerciser_scenario(), catalog, options);
  const FstContents window = read_fst((dir / "window" / "waves" / "dma0.fst").string());
  EXPECT_GE(window.end, fst.end / 4);  // the last edge written lies in the window
  EXPECT_LE(window.end, fst.end / 2);
  EXPECT_LT(std::filesystem::file_size(dir / "window" / "waves" / "dma0.fst"),
            std::filesystem::file_size(dir / "waves" / "dma0.fst"));
}

}  // namespace
}  // namespace dexthil::models
