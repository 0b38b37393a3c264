// The SCSI family's tasks under macOS's storage stack (harness/storage's block front end), on
// dexts/scsiprobe, whose targets are RAM disks executing each task at once: the probe sequence
// the stack sends, verified I/O at a queue depth, an fio iolog recorded with Debian's fio and
// replayed, and one build of the dext per planted mistake with the finding's exact words.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/driverkit/kernel/tests/dext_test_support.hpp"
#include "harness/pcie/tests/machine.hpp"
#include "harness/storage/block_front_end.hpp"
#include "harness/storage/fio_iolog.hpp"

namespace dexthil::driverkit {
namespace {

using storage::BlockFrontEnd;

// A machine with scsiprobe (or a variant) and a front end on each target it creates.
struct StorageMachine {
  explicit StorageMachine(const std::string& variant, storage::FrontEndOptions options = {})
      : m("direct"), checkers(monitor, m.findings, m.sim.trace()), kernel(m.sim, m.memory, m.buffers, monitor) {
    kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
    auto scsi = std::make_unique<ScsiFamily>(kernel);
    family = scsi.get();
    family->on_target([this, options](ScsiTargetPort& port) {
      disks.push_back(std::make_unique<BlockFrontEnd>(m.sim, monitor, port, options));
      BlockFrontEnd* disk = disks.back().get();
      disk->probe([this, disk](bool ok) { probed.push_back(ok ? disk : nullptr); });
    });
    kernel.add_family(std::move(scsi));
    const std::string target = variant.empty() ? "ScsiProbeController" : "ScsiProbeController-" + variant;
    std::string error;
    EXPECT_TRUE(kernel.load_dext(testing::dext_library(target), "dexts/scsiprobe/Info.plist", &error)) << error;
    kernel.start_matching();
  }
  // Runs until both targets' probes ended (or `limit` passes).
  void probe_all(sim::SimTime limit = 60 * sim::kSecond) {
    const sim::SimTime end = m.sim.now() + limit;
    while (probed.size() < 2 && m.sim.now() < end) m.sim.run_until(m.sim.now() + 100 * sim::kMillisecond);
  }
  // Runs `workload` on the first disk to its end.
  bool run(BlockFrontEnd& disk, std::unique_ptr<storage::WorkloadSource> workload, sim::SimTime limit = 60 * sim::kSecond) {
    bool done = false;
    disk.run(std::move(workload), [&done] { done = true; });
    const sim::SimTime end = m.sim.now() + limit;
    while (!done && m.sim.now() < end) m.sim.run_until(m.sim.now() + 10 * sim::kMillisecond);
    return done;
  }
  std::string findings() const { return testing::findings_text(m.findings); }
  std::size_t count(const std::string& check) const {
    std::size_t n = 0;
    for (const checks::Finding& f : m.findings.all()) n += f.check == check;
    return n;
  }

  pcie::testing::Machine m;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
  ScsiFamily* family = nullptr;
  std::vector<std::unique_ptr<BlockFrontEnd>> disks;
  std::vector<BlockFrontEnd*> probed;  // in the order the probes ended; nullptr: failed
};

TEST(ScsiTasks, EachTargetIsProbedWithTheCommandsMacOSSends) {
  StorageMachine s("");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u) << s.findings();
  ASSERT_NE(s.probed[0], nullptr) << s.findings();
  const BlockFrontEnd& disk = *s.disks[0];
  // docs/research/macos-scsi-probe-sequence.md, A1 to D17, for a fixed SPC-3 disk with VPD
  // pages 0x00 and 0x80, its write cache on, and no geometry pages.
  const std::vector<std::string> expected = {
      "TEST UNIT READY", "INQUIRY", "INQUIRY",                                   // A1-A3
      "INQUIRY (VPD)", "INQUIRY (VPD)", "INQUIRY (VPD)", "INQUIRY (VPD)",        // A4: 0x00, 0x80
      "REPORT LUNS", "REPORT LUNS",                                              // A5
      "INQUIRY (VPD)", "INQUIRY (VPD)", "INQUIRY (VPD)", "INQUIRY (VPD)",        // A6: LUN 0 again
      "TEST UNIT READY", "INQUIRY",                                              // B7, B8
      "TEST UNIT READY", "INQUIRY",                                              // C9, C10
      "MODE SENSE(6)", "MODE SENSE(6)",                                          // C11: write cache on
      "TEST UNIT READY", "READ CAPACITY(10)",                                    // D14, D16
      "MODE SENSE(10)", "MODE SENSE(10)", "MODE SENSE(6)", "MODE SENSE(6)",      // D17: page 3 refused
      "MODE SENSE(10)", "MODE SENSE(10)", "MODE SENSE(6)", "MODE SENSE(6)"};     // D17: page 4 refused
  EXPECT_EQ(disk.probe_log(), expected);
  EXPECT_EQ(disk.identity().vendor, "DEXTHIL");
  EXPECT_EQ(disk.identity().product, "RAM DISK");
  EXPECT_EQ(disk.identity().serial, "RAMDISK 0");
  EXPECT_EQ(disk.identity().block_size, 512u);
  EXPECT_EQ(disk.identity().blocks, 16384u);
  EXPECT_TRUE(disk.identity().write_cache);
  EXPECT_TRUE(disk.identity().command_queuing);
  EXPECT_EQ(s.disks[1]->identity().serial, "RAMDISK 2");
  EXPECT_TRUE(s.m.findings.empty()) << s.findings();
}

TEST(ScsiTasks, RandomMixedIoAtQueueDepth8IsVerifiedBlockByBlock) {
  storage::FrontEndOptions options;
  options.queue_depth = 8;
  options.fresh_media_zeroed = true;
  StorageMachine s("", options);
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  BlockFrontEnd& disk = *s.disks[0];
  storage::SyntheticWorkload w;
  w.pattern = storage::SyntheticWorkload::Pattern::kRandom;
  w.io_bytes = 16 * 1024;
  w.read_percent = 50;
  w.total_bytes = 4 << 20;
  w.region_bytes = 1 << 20;  // small, so reads find what was written
  ASSERT_TRUE(s.run(disk, storage::make_synthetic(w, s.m.sim.random_stream("io"))));
  const storage::FrontEndFigures& f = disk.figures();
  EXPECT_EQ(f.reads + f.writes, 256u);
  EXPECT_EQ(f.bytes_read + f.bytes_written, 4u << 20);
  EXPECT_GT(f.blocks_verified, 3000u);  // every block read was either written or fresh
  EXPECT_EQ(f.blocks_unverified, 0u);
  EXPECT_EQ(f.mismatches, 0u);
  EXPECT_EQ(f.errors, 0u);
  EXPECT_EQ(f.max_outstanding, 8u);  // the controller's 4 tasks, and the rest waiting for one
  EXPECT_GT(f.simulated_mb_per_s(), 0.0);
  const ScsiFamily::Controller* c = s.family->controller(testing::last_service(s.kernel)->service);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->counts.tasks_sent, c->counts.tasks_completed);
  EXPECT_TRUE(s.m.findings.empty()) << s.findings();
}

TEST(ScsiTasks, AnFioIologRecordedWithDebiansFioReplaysAndVerifies) {
  // Record: fio's own random read/write on a scratch file, logged as version 3.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "dexthil-fio-test";
  std::filesystem::create_directories(dir);
  const std::string scratch = (dir / "scratch").string(), log_path = (dir / "iolog").string();
  std::filesystem::remove(log_path);
  const std::string command = "fio --name=rec --filename=" + scratch +
                              " --size=1M --bs=4k --rw=randrw --rwmixread=50 --norandommap --ioengine=sync "
                              "--number_ios=256 "
                              "--randseed=11 --write_iolog=" + log_path + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "Debian's fio must be installed (ci/lib.sh installs it): " << command;
  const storage::FioIolog log = storage::read_fio_iolog(log_path);
  EXPECT_EQ(log.version, 3);
  EXPECT_EQ(log.reads + log.writes, 256u);  // one pass over the 1 MiB file

  StorageMachine s("");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  BlockFrontEnd& disk = *s.disks[0];
  ASSERT_TRUE(s.run(disk, storage::make_replay(log.ops)));
  const storage::FrontEndFigures& f = disk.figures();
  EXPECT_EQ(f.reads, log.reads);
  EXPECT_EQ(f.writes, log.writes);
  EXPECT_EQ(f.errors, 0u);
  EXPECT_EQ(f.mismatches, 0u);
  EXPECT_GT(f.blocks_verified, 0u) << f.blocks_unverified;  // reads of blocks the log wrote earlier
  // The replay keeps the log's times: it cannot end before the log's last operation was due.
  EXPECT_GE(f.workload_end - f.workload_start, log.ops.back().not_before);
  EXPECT_TRUE(s.m.findings.empty()) << s.findings();
  std::filesystem::remove_all(dir);
}

TEST(ScsiTasks, AWrongResponseVersionIsDroppedAndTheTaskTimesOut) {
  StorageMachine s("response-version");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u) << s.findings();
  EXPECT_EQ(s.probed[0], nullptr);
  ASSERT_GE(s.count("scsi.completion-version"), 1u) << s.findings();
  const checks::Finding& dropped = s.m.findings.all()[0];
  EXPECT_EQ(dropped.check, "scsi.completion-version");
  EXPECT_EQ(dropped.what,
            "ParallelTaskCompletion for task 1 (target 0) carried response version 0, not "
            "kScsiUserParallelTaskResponseCurrentVersion1 (1): the kernel dropped it");
  EXPECT_GE(s.count("scsi.task-timeout"), 1u);
  bool timed_out = false;
  for (const checks::Finding& f : s.m.findings.all()) {
    if (f.check == "scsi.task-timeout" && f.what == "task 1 (target 0, opcode 0x00) timed out after 10000 ms: "
                                                      "kSCSITaskStatus_TaskTimeoutOccurred") {
      timed_out = true;
      EXPECT_EQ(f.time, dropped.time + 10 * sim::kSecond - 2 * sim::kMicrosecond);  // from the submission
    }
  }
  EXPECT_TRUE(timed_out) << s.findings();
  // The abort dexthil adds at a timeout is not judged: scsiprobe answers it unsupported.
  EXPECT_EQ(s.count("scsi.tmf-response"), 0u) << s.findings();
  EXPECT_EQ(s.count("storage.probe-failed"), 2u) << s.findings();
}

TEST(ScsiTasks, ASecondCompletionOfATaskIsAFinding) {
  storage::FrontEndOptions options;
  options.fresh_media_zeroed = true;
  StorageMachine s("completes-twice", options);
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  ASSERT_NE(s.probed[0], nullptr) << s.findings();
  EXPECT_EQ(s.count("scsi.task-completed-twice"), 0u);  // the probe sends no READ
  storage::SyntheticWorkload w;
  w.io_bytes = 4096;
  w.read_percent = 100;
  w.total_bytes = 4096;
  ASSERT_TRUE(s.run(*s.disks[0], storage::make_synthetic(w, s.m.sim.random_stream("io"))));
  ASSERT_EQ(s.count("scsi.task-completed-twice"), 1u) << s.findings();
  for (const checks::Finding& f : s.m.findings.all()) {
    if (f.check != "scsi.task-completed-twice") continue;
    EXPECT_EQ(f.what.rfind("ParallelTaskCompletion for task 1 (target 0), which had completed at ", 0), 0u) << f.what;
  }
  EXPECT_EQ(s.disks[0]->figures().blocks_verified, 8u);  // the first completion still counts
}

TEST(ScsiTasks, AResponseNamingAnotherTaskIsAFinding) {
  StorageMachine s("wrong-task-id");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  ASSERT_GE(s.count("scsi.completion-mismatch"), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all()[0].what,
            "ParallelTaskCompletion on the action of task 1 (target 0) names task 2 (target 0)");
}

TEST(ScsiTasks, AWriteTheDiskLostIsADataMismatchAtItsBlock) {
  StorageMachine s("loses-writes");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  ASSERT_NE(s.probed[0], nullptr);
  storage::SyntheticWorkload w;
  w.io_bytes = 8192;
  w.read_percent = 50;
  w.write_then_read = true;
  w.region_bytes = 64 * 1024;
  w.total_bytes = 128 * 1024;  // one write pass, one read pass
  ASSERT_TRUE(s.run(*s.disks[0], storage::make_synthetic(w, s.m.sim.random_stream("io"))));
  ASSERT_EQ(s.count("storage.data-mismatch"), 1u) << s.findings();
  const checks::Finding& f = s.m.findings.all()[0];
  EXPECT_EQ(f.where, "ScsiProbeController@dev target 0");
  EXPECT_EQ(f.what.rfind("a read returned different data at LBA 8 (checksum 0x", 0), 0u) << f.what;
  EXPECT_NE(f.what.find("1 block(s) of the read differ"), std::string::npos) << f.what;
  EXPECT_EQ(s.disks[0]->figures().blocks_verified, 127u);
}

TEST(ScsiTasks, BundledTasksGoSeveralAMessageThroughTheSharedBuffers) {
  storage::FrontEndOptions options;
  options.queue_depth = 8;
  options.fresh_media_zeroed = true;
  StorageMachine s("bundled", options);
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u) << s.findings();
  ASSERT_NE(s.probed[0], nullptr) << s.findings();
  const ScsiFamily::Controller* c = s.family->controller(testing::last_service(s.kernel)->service);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->bundled);
  storage::SyntheticWorkload w;
  w.pattern = storage::SyntheticWorkload::Pattern::kRandom;
  w.io_bytes = 8192;
  w.read_percent = 50;
  w.total_bytes = 1 << 20;
  w.region_bytes = 256 * 1024;
  const std::uint64_t messages_before = c->counts.messages, tasks_before = c->counts.tasks_sent;
  ASSERT_TRUE(s.run(*s.disks[0], storage::make_synthetic(w, s.m.sim.random_stream("io"))));
  EXPECT_EQ(s.disks[0]->figures().reads + s.disks[0]->figures().writes, 128u);
  EXPECT_EQ(s.disks[0]->figures().mismatches, 0u);
  EXPECT_EQ(s.disks[0]->figures().blocks_verified, s.disks[0]->figures().reads * 16);  // every block of every read
  EXPECT_EQ(s.disks[0]->figures().blocks_unverified, 0u);
  EXPECT_EQ(c->counts.tasks_sent - tasks_before, 128u);
  // Four tasks (the controller's all) per message once the queue is full.
  EXPECT_LT(c->counts.messages - messages_before, 128u / 2);
  EXPECT_TRUE(s.m.findings.empty()) << s.findings();
}

TEST(ScsiTasks, ABundledSlotHandedBackTwiceIsAFinding) {
  StorageMachine s("bundled-twice");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u);
  ASSERT_NE(s.probed[0], nullptr) << s.findings();  // the second hand-back changes nothing the stack sees
  ASSERT_GE(s.count("scsi.task-completed-twice"), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all()[0].what.rfind(
                "BundledParallelTaskCompletion handed back the slot of task 1 (target 0), which had completed at ", 0),
            0u)
      << s.m.findings.all()[0].what;
}

TEST(ScsiTasks, TaskManagementSaysWhyItCannotBeSentAndAnUnansweredRequestIsAFinding) {
  StorageMachine s("");
  s.probe_all();
  ASSERT_EQ(s.probed.size(), 2u) << s.findings();
  const ScsiTargetPort& port = *s.family->ports()[0];
  const std::string controller = port.name().substr(0, port.name().rfind(" target"));
  using Function = ScsiFamily::TaskManagement;
  EXPECT_EQ(s.family->request_task_management("nowhere", 0, 0, Function::kTargetReset, nullptr),
            "no SCSI controller is running at nowhere");
  EXPECT_EQ(s.family->request_task_management(port.location(), 1, 0, Function::kTargetReset, nullptr),
            controller + " has no target 1");
  // The RAM disks finish each task at once: nothing is outstanding to abort.
  EXPECT_EQ(s.family->request_task_management(port.location(), 0, 0, Function::kAbortTask, nullptr),
            controller + " has no outstanding task on target 0 LUN 0 to abort");

  // scsiprobe implements no task management: the call comes back unsupported, *response unset.
  std::optional<ScsiFamily::TaskManagementAnswer> answer;
  ASSERT_EQ(s.family->request_task_management(port.location(), 0, 0, Function::kLogicalUnitReset,
                                              [&](const ScsiFamily::TaskManagementAnswer& a) { answer = a; }),
            "");
  s.m.sim.run_until(s.m.sim.now() + 10 * sim::kMillisecond);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result, kIOReturnUnsupported);
  EXPECT_FALSE(answer->response_set);
  EXPECT_EQ(answer->covered, 0u);
  ASSERT_EQ(s.count("scsi.tmf-response"), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all().back().what,
            "UserLogicalUnitResetRequest (target 0 LUN 0) returned kIOReturnUnsupported (0xe00002c7) without setting "
            "*response");
}

}  // namespace
}  // namespace dexthil::driverkit
