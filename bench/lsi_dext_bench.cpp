// I/O through the whole simulated Mac per wall second: dexts/lsi_mpt on its fibers, the SCSI
// family's tasks prepared on the DART, the block front end generating and verifying every block,
// and the LSI53C1030 model, as a scenario runs them. Each iteration is one scenario run (the
// disk's probe included, which is cheap in wall time); the bytes counted are those the front end
// moved and verified. bench/lsi_bench.cpp has the model alone.
#include <benchmark/benchmark.h>

#include <string>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace {

using namespace dexthil;

std::string scenario_text(std::int64_t io_bytes, std::int64_t depth, bool bundled) {
  const bool small = io_bytes < 65536;
  return std::string(R"([scenario]
name = "bench-lsi-dext"
seed = 1
topology = ")") + DEXTHIL_SOURCE_DIR + R"(/fixtures/topologies/lsi-direct.toml"
duration = "4s"
[[model]]
name = "chan_a"
type = "lsi53c1030"
endpoint = "lsi0"
clock = "66MHz"
[model.params]
service = "ssd"
media_mb_per_s = 400
disk_mib = 256
[[model]]
name = "chan_b"
type = "lsi53c1030"
endpoint = "lsi1"
clock = "66MHz"
[model.params]
channel = 1
disks = 0
[[dext]]
name = ")" + (bundled ? "LsiMpt-bundled" : "LsiMpt") + R"("
[[disk]]
endpoint = "lsi0"
pattern = ")" + (small ? "random" : "sequential") + R"("
io_size = ")" + std::to_string(io_bytes) + R"(B"
read_percent = 50
region = "32MiB"
total = ")" + (small ? "16MiB" : "256MiB") + R"("
queue_depth = )" + std::to_string(depth) + R"(
fresh_media_zeroed = true
[[expect]]
stat = "disk@lsi0.t0.workload"
equals = "done"
)";
}

std::uint64_t figure(const runner::ScenarioResult& r, const std::string& owner, const std::string& name) {
  for (const runner::ModelStats& m : r.models) {
    if (m.model != owner) continue;
    for (const auto& [k, v] : m.values) {
      if (k == name) return std::stoull(v);
    }
  }
  return 0;
}

void BM_LsiDextIo(benchmark::State& state) {
  const runner::ModelCatalog catalog = models::builtin_catalog();
  std::string error;
  const auto scenario = scenario::ScenarioLoader(catalog.infos(), catalog.sections())
                            .load_text(scenario_text(state.range(0), state.range(1), state.range(2) != 0),
                                       DEXTHIL_SOURCE_DIR "/bench/bench-lsi-dext.toml", &error);
  if (!scenario) {
    state.SkipWithError(error.c_str());
    return;
  }
  runner::RunOptions options;
  options.dext_dirs = {DEXTHIL_DEXT_DIR};
  std::uint64_t bytes = 0, commands = 0;
  for (auto _ : state) {
    const runner::ScenarioResult r = runner::run_scenario(*scenario, catalog, options);
    if (r.outcome != runner::Outcome::kPass) {
      state.SkipWithError(("the scenario did not pass: " + (r.failures.empty() ? "" : r.failures[0])).c_str());
      return;
    }
    bytes += figure(r, "disk@lsi0.t0", "bytes_read") + figure(r, "disk@lsi0.t0", "bytes_written");
    commands += figure(r, "disk@lsi0.t0", "reads") + figure(r, "disk@lsi0.t0", "writes");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["simulated_iops"] = benchmark::Counter(static_cast<double>(commands), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LsiDextIo)
    ->ArgNames({"bytes", "qd", "bundled"})
    ->Args({4096, 32, 0})
    ->Args({4096, 32, 1})
    ->Args({524288, 1, 0})
    ->Args({524288, 8, 0})
    ->Unit(benchmark::kMillisecond);

}  // namespace
