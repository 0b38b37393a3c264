// [[disk]]: the storage stack on a SCSI controller dext's target (dexts/scsiprobe's RAM disks) from a
// scenario file, and what the loader refuses with file:line:col.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::runner {
namespace {

std::optional<scenario::Scenario> parse(const std::string& text, std::string* error) {
  static const ModelCatalog catalog = models::builtin_catalog();
  return scenario::ScenarioLoader(catalog.infos(), catalog.sections())
      .load_text(text, std::string(DEXTHIL_SOURCE_DIR) + "/fixtures/scenarios/disk.toml", error);
}

const std::string kHead = R"([scenario]
name = "disk"
duration = "2500ms"
topology = "../topologies/direct.toml"
[[model]]
name = "testdev"
type = "dma_testdev"
endpoint = "dev"
[[dext]]
name = "ScsiProbeController"
)";

ScenarioResult run(const scenario::Scenario& s) {
  RunOptions options;
  options.dext_dirs = {DEXTHIL_DEXT_DIR};
  return run_scenario(s, models::builtin_catalog(), options);
}

std::string error_of(const std::string& disk) {
  std::string error;
  EXPECT_FALSE(parse(kHead + disk, &error));
  return error.substr(error.find("disk.toml"));
}

TEST(DiskSection, ATargetNoControllerCreatedIsAProbeFailure) {
  std::string error;
  auto s = parse(kHead + "[[disk]]\nendpoint = \"dev\"\ntarget = 1\ntotal = \"64KiB\"\n"
                         "[[expect]]\nfinding = \"storage.probe-failed\"\n[[expect]]\nstat = \"disk@dev.t1.probe\"\n"
                         "equals = \"not found\"\n",
                 &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run(*s);
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].finding.what,
            "the target never appeared: no SCSI controller dext on dev created target 1: macOS would publish no media "
            "for this disk");
}

TEST(DiskSection, SequentialWriteThenReadVerifiesEveryBlock) {
  std::string error;
  auto s = parse(kHead + "[[disk]]\nendpoint = \"dev\"\npattern = \"sequential\"\nio_size = \"64KiB\"\n"
                         "read_percent = 50\nwrite_then_read = true\nregion = \"2MiB\"\ntotal = \"4MiB\"\nqueue_depth = 4\n"
                         "[[expect]]\nstat = \"disk@dev.t0.blocks_verified\"\nequals = 4096\n",
                 &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run(*s);
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  EXPECT_TRUE(r.findings.empty());
}

TEST(DiskSection, AReplayTheDiskCannotTakeIsRefusedNotDone) {
  const std::string log = ::testing::TempDir() + "dexthil-unaligned.iolog";
  {
    std::ofstream out(log);
    out << "fio version 2 iolog\n/f add\n/f open\n/f write 0 4096\n/f read 100 512\n/f close\n";
  }
  std::string error;
  auto s = parse(kHead + "[[disk]]\nendpoint = \"dev\"\niolog = \"" + log + "\"\n" +
                     "[[expect]]\nstat = \"disk@dev.t0.workload\"\nequals = \"refused\"\n" +
                     "[[expect]]\nstat = \"disk@dev.t0.workload_error\"\nequals = \"line 5: a read of 512 bytes at "
                     "offset 100 is not whole 512-byte blocks\"\n",
                 &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run(*s);
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  std::remove(log.c_str());
}

TEST(DiskSection, BadSectionsAreRefusedWithTheirPlace) {
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\n"),
            "disk.toml:11:1: error: disk[0]: a [[disk]] needs a workload: \"total\" (with \"pattern\", \"io_size\", "
            "...) or \"iolog\"");
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\ntotal = \"1MiB\"\nqueue_depth = 129\n"),
            "disk.toml:14:15: error: disk[0].queue_depth: 129 is out of range (1 to 128)");
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\ntotal = \"1MiB\"\nio_size = \"1000B\"\n"),
            "disk.toml:14:11: error: disk[0].io_size: must be a whole number of 512-byte blocks");
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\niolog = \"../iologs/randrw-1m-4k.v3.iolog\"\ntotal = \"1MiB\"\n"),
            "disk.toml:14:9: error: disk[0].total: a replayed \"iolog\" is the workload: leave \"total\" out");
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\ntotal = \"1MiB\"\n[[disk]]\nendpoint = \"dev\"\ntotal = \"1MiB\"\n"),
            "disk.toml:15:12: error: disk[1].endpoint: target 0 on \"dev\" already has a [[disk]]");
  EXPECT_EQ(error_of("[[disk]]\nendpoint = \"dev\"\ntotal = \"1MiB\"\npattern = \"zigzag\"\n"),
            "disk.toml:14:11: error: disk[0].pattern: \"zigzag\" is not one of: sequential, random");
}

}  // namespace
}  // namespace dexthil::runner
