// The block front end against a small SCSI disk written here (not the SCSI family): the probe's
// failures, the queue depth it keeps, the barrier a sync is, the waits for overlapping I/O, a
// replay's times, corrupted data and bad operations.
#include "harness/storage/block_front_end.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "harness/monitor/storage_events.hpp"
#include "harness/storage/scsi_commands.hpp"

namespace dexthil::storage {
namespace {

// A disk of 512-byte blocks that answers each command `latency` after it came. It records what
// it saw; `corrupt_lba` flips a byte of that block in every read; `fail_io` fails that many of
// the next reads and writes with `fail_status` (a delivery failure), before they touch the data.
class FakeDisk final : public ScsiInitiator {
 public:
  FakeDisk(sim::Simulator& sim, std::uint64_t blocks) : sim_(sim), data_(blocks * 512, 0) {}
  std::string name() const override { return "fake target 0"; }
  std::uint64_t max_transfer() const override { return 64 * 1024; }
  void submit(ScsiCommand c, std::function<void(const ScsiOutcome&)> done) override {
    ++outstanding;
    max_outstanding = std::max(max_outstanding, outstanding);
    opcodes.push_back(c.cdb[0]);
    times.push_back(sim_.now());
    if (c.direction == ScsiCommand::Direction::kToTarget && c.fill) {
      written_data.emplace_back(c.length);
      c.fill(written_data.back());
    }
    std::vector<std::uint8_t> written = c.direction == ScsiCommand::Direction::kToTarget ? written_data.back()
                                                                                          : std::vector<std::uint8_t>{};
    sim_.after(latency, [this, c, written, done = std::move(done)] {
      --outstanding;
      ScsiOutcome o;
      o.response = ServiceResponse::kTaskComplete;
      o.status = kStatusGood;
      std::vector<std::uint8_t> reply;
      const auto be = [&](int at, int n) {
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = v << 8 | c.cdb[at + i];
        return v;
      };
      switch (c.cdb[0]) {
        case cdb::kTestUnitReady:
        case cdb::kSynchronizeCache10:
          break;
        case cdb::kInquiry:
          if (c.cdb[1] & 1) {
            o.status = kStatusCheckCondition;
          } else {
            reply.assign(36, ' ');
            reply[0] = inquiry_type;
            reply[1] = 0;
            reply[2] = 5;
            reply[3] = 2;
            reply[4] = 31;
            reply[7] = 0;
          }
          break;
        case cdb::kReadCapacity10: {
          const std::uint64_t last = data_.size() / 512 - 1;
          reply = {std::uint8_t(last >> 24), std::uint8_t(last >> 16), std::uint8_t(last >> 8), std::uint8_t(last), 0, 0, 2, 0};
          break;
        }
        case cdb::kRead10:
        case cdb::kWrite10: {
          if (fail_io > 0) {
            --fail_io;
            o.response = ServiceResponse::kServiceDeliveryOrTargetFailure;
            o.status = fail_status;
            break;
          }
          const std::uint64_t lba = be(2, 4), bytes = be(7, 2) * 512;
          if (c.cdb[0] == cdb::kWrite10) {
            std::memcpy(&data_[lba * 512], written.data(), bytes);
          } else {
            reply.assign(data_.begin() + lba * 512, data_.begin() + lba * 512 + bytes);
            if (corrupt_lba && *corrupt_lba >= lba && *corrupt_lba < lba + bytes / 512) reply[(*corrupt_lba - lba) * 512] ^= 1;
          }
          o.transferred = bytes;
          break;
        }
        default:
          o.status = kStatusCheckCondition;
          o.sense = {0x70, 0, 0x5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0};
      }
      if (!reply.empty()) {
        const std::size_t n = std::min<std::size_t>(reply.size(), c.length);
        o.transferred = n;
        reply.resize(n);
      }
      o.data = reply;
      done(o);
    });
  }

  sim::SimTime latency = 100 * sim::kMicrosecond;
  std::uint8_t inquiry_type = 0;
  std::optional<std::uint64_t> corrupt_lba;
  unsigned fail_io = 0;
  std::uint8_t fail_status = kStatusDeliveryFailure;
  unsigned outstanding = 0, max_outstanding = 0;
  std::vector<std::uint8_t> opcodes;
  std::vector<sim::SimTime> times;
  std::vector<std::vector<std::uint8_t>> written_data;  // each write's bytes, in order

 private:
  sim::Simulator& sim_;
  std::vector<std::uint8_t> data_;
};

struct Bench {
  explicit Bench(FrontEndOptions options = {}, std::uint8_t type = 0) : disk(sim, 4096), front(sim, monitor, disk, options) {
    disk.inquiry_type = type;
    monitor.subscribe<monitor::BlockProbeFailed>([this](const monitor::BlockProbeFailed& e) {
      problems.push_back(std::string(e.command) + ": " + std::string(e.why));
    });
    monitor.subscribe<monitor::BlockIoFailed>([this](const monitor::BlockIoFailed& e) {
      failures.push_back(std::string(e.command) + " attempt " + std::to_string(e.attempt) + ", " +
                         std::to_string(e.retries_left) + " left");
    });
    monitor.subscribe<monitor::BlockDataMismatch>([this](const monitor::BlockDataMismatch& e) {
      problems.push_back("mismatch at " + std::to_string(e.lba));
    });
    front.probe([this](bool ok) { probed = ok; });
    sim.run_until(sim.now() + 10 * sim::kSecond);
  }
  bool run(std::unique_ptr<WorkloadSource> w) {
    bool done = false;
    front.run(std::move(w), [&done] { done = true; });
    sim.run_until(sim.now() + 10 * sim::kSecond);
    return done;
  }
  std::vector<std::uint8_t> io_opcodes() const {
    std::vector<std::uint8_t> io;
    for (std::size_t i = front.figures().probe_commands; i < disk.opcodes.size(); ++i) io.push_back(disk.opcodes[i]);
    return io;
  }

  sim::Simulator sim{1};
  monitor::Monitor monitor;
  FakeDisk disk;
  BlockFrontEnd front;
  std::optional<bool> probed;
  std::vector<std::string> problems;
  std::vector<std::string> failures;  // BlockIoFailed events
};

TEST(BlockFrontEnd, ADiskThatIsNotDirectAccessIsAProbeFailure) {
  Bench b({}, 0x05);  // a CD/DVD device
  EXPECT_EQ(b.probed, false);
  EXPECT_EQ(b.problems, (std::vector<std::string>{"INQUIRY: reported a peripheral device type other than 0 (direct access)"}));
}

TEST(BlockFrontEnd, KeepsTheQueueDepthAndVerifiesWhatItWrote) {
  FrontEndOptions options;
  options.queue_depth = 16;
  Bench b(options);
  ASSERT_EQ(b.probed, true) << b.problems.size();
  EXPECT_EQ(b.front.identity().blocks, 4096u);
  SyntheticWorkload w;
  w.io_bytes = 4096;
  w.write_then_read = true;
  w.read_percent = 50;
  w.region_bytes = 256 * 1024;
  w.total_bytes = 512 * 1024;
  ASSERT_TRUE(b.run(make_synthetic(w, sim::Random(3))));
  EXPECT_EQ(b.disk.max_outstanding, 16u);
  EXPECT_EQ(b.front.figures().writes, 64u);
  EXPECT_EQ(b.front.figures().reads, 64u);
  EXPECT_EQ(b.front.figures().blocks_verified, 512u);
  EXPECT_TRUE(b.problems.empty());
  // 128 commands of 100 us, 16 at a time: 8 rounds.
  EXPECT_EQ(b.front.figures().workload_end - b.front.figures().workload_start, 800 * sim::kMicrosecond);
}

TEST(BlockFrontEnd, ACorruptedReadIsReportedAtItsFirstBadBlock) {
  Bench b;
  ASSERT_EQ(b.probed, true);
  b.disk.corrupt_lba = 17;
  ASSERT_TRUE(b.run(make_replay({{BlockOp::Kind::kWrite, 0, 16384}, {BlockOp::Kind::kRead, 0, 16384}})));
  EXPECT_EQ(b.problems, (std::vector<std::string>{"mismatch at 17"}));
  EXPECT_EQ(b.front.figures().blocks_verified, 31u);
  EXPECT_EQ(b.front.figures().mismatches, 1u);
}

TEST(BlockFrontEnd, OverlappingIoWaitsAndASyncIsABarrier) {
  FrontEndOptions options;
  options.queue_depth = 8;
  Bench b(options);
  ASSERT_EQ(b.probed, true);
  ASSERT_TRUE(b.run(make_replay({{BlockOp::Kind::kWrite, 0, 4096},
                                 {BlockOp::Kind::kWrite, 8192, 4096},
                                 {BlockOp::Kind::kRead, 0, 512},  // overlaps the first: waits for it
                                 {BlockOp::Kind::kWrite, 16384, 4096},
                                 {BlockOp::Kind::kSync},
                                 {BlockOp::Kind::kRead, 8192, 4096}})));
  EXPECT_EQ(b.io_opcodes(), (std::vector<std::uint8_t>{cdb::kWrite10, cdb::kWrite10, cdb::kRead10, cdb::kWrite10,
                                                       cdb::kSynchronizeCache10, cdb::kRead10}));
  const std::size_t first = b.front.figures().probe_commands;
  const std::vector<sim::SimTime>& t = b.disk.times;
  EXPECT_EQ(t[first + 1], t[first]);                            // both writes at once
  EXPECT_EQ(t[first + 2], t[first] + 100 * sim::kMicrosecond);  // the read after the first write
  EXPECT_EQ(t[first + 3], t[first + 2]);                        // the next write does not wait for the read
  EXPECT_EQ(t[first + 4], t[first + 3] + 100 * sim::kMicrosecond);  // the sync after all of them
  EXPECT_EQ(t[first + 5], t[first + 4] + 100 * sim::kMicrosecond);  // and the read after the sync
  EXPECT_EQ(b.front.figures().syncs, 1u);
  EXPECT_EQ(b.front.figures().blocks_verified, 9u);
}

TEST(BlockFrontEnd, AReplayKeepsItsTimesAndStopsAtAnOperationTheDiskCannotTake) {
  Bench b;
  ASSERT_EQ(b.probed, true);
  BlockOp late{BlockOp::Kind::kWrite, 0, 512, 5 * sim::kMillisecond, 3};
  BlockOp odd{BlockOp::Kind::kRead, 100, 512, 6 * sim::kMillisecond, 4};
  BlockOp never{BlockOp::Kind::kRead, 0, 512, 7 * sim::kMillisecond, 5};
  ASSERT_TRUE(b.run(make_replay({late, odd, never})));
  const std::size_t first = b.front.figures().probe_commands;
  ASSERT_EQ(b.disk.times.size(), first + 1);  // only the first
  EXPECT_EQ(b.disk.times[first], b.front.figures().workload_start + 5 * sim::kMillisecond);
  EXPECT_EQ(b.front.workload_error(), "line 4: a read of 512 bytes at offset 100 is not whole 512-byte blocks");
}

TEST(BlockFrontEnd, ACommandStillOutstandingAtTheEndIsReported) {
  Bench b;
  ASSERT_EQ(b.probed, true);
  b.disk.latency = 20 * sim::kSecond;
  std::vector<std::string> incomplete;
  b.monitor.subscribe<monitor::BlockIoIncomplete>([&](const monitor::BlockIoIncomplete& e) {
    incomplete.push_back(std::string(e.command) + " at " + std::to_string(e.lba));
  });
  EXPECT_FALSE(b.run(make_replay({{BlockOp::Kind::kWrite, 4096, 512}})));
  b.front.finish();
  EXPECT_EQ(incomplete, (std::vector<std::string>{"WRITE(10) at 8"}));
}

TEST(BlockFrontEnd, AFailedWriteIsSentAgainWithTheSameContentAndThenVerifies) {
  Bench b;
  ASSERT_EQ(b.probed, true);
  b.disk.fail_io = 2;
  ASSERT_TRUE(b.run(make_replay({{BlockOp::Kind::kWrite, 4096, 1024}, {BlockOp::Kind::kRead, 4096, 1024}})));
  EXPECT_EQ(b.failures, (std::vector<std::string>{"WRITE(10) attempt 1, 4 left", "WRITE(10) attempt 2, 3 left"}));
  EXPECT_EQ(b.io_opcodes(), (std::vector<std::uint8_t>{cdb::kWrite10, cdb::kWrite10, cdb::kWrite10, cdb::kRead10}));
  ASSERT_EQ(b.disk.written_data.size(), 3u);
  EXPECT_EQ(b.disk.written_data[0], b.disk.written_data[2]);  // the retry carries the first attempt's bytes
  EXPECT_EQ(b.front.figures().retries, 2u);
  EXPECT_EQ(b.front.figures().errors, 0u);
  EXPECT_EQ(b.front.figures().writes, 1u);
  EXPECT_EQ(b.front.figures().blocks_verified, 2u);
  EXPECT_TRUE(b.problems.empty());
}

TEST(BlockFrontEnd, AReadFailingFiveTimesIsAnErrorAndAGoneDiskIsNotRetried) {
  Bench b;
  ASSERT_EQ(b.probed, true);
  b.disk.fail_io = 5;
  ASSERT_TRUE(b.run(make_replay({{BlockOp::Kind::kRead, 0, 512}})));
  EXPECT_EQ(b.failures, (std::vector<std::string>{"READ(10) attempt 1, 4 left", "READ(10) attempt 2, 3 left",
                                                  "READ(10) attempt 3, 2 left", "READ(10) attempt 4, 1 left",
                                                  "READ(10) attempt 5, 0 left"}));
  EXPECT_EQ(b.front.figures().retries, 4u);
  EXPECT_EQ(b.front.figures().errors, 1u);
  EXPECT_EQ(b.front.figures().reads, 0u);

  b.failures.clear();
  b.disk.fail_io = 1;
  b.disk.fail_status = kStatusDeviceNotPresent;
  const std::size_t sent = b.disk.opcodes.size();
  b.run(make_replay({{BlockOp::Kind::kRead, 0, 512}, {BlockOp::Kind::kRead, 512, 512}}));
  EXPECT_EQ(b.failures, (std::vector<std::string>{"READ(10) attempt 1, 0 left"}));
  EXPECT_TRUE(b.front.device_gone());
  EXPECT_EQ(b.disk.opcodes.size(), sent + 1);  // nothing more went to a gone disk
}

}  // namespace
}  // namespace dexthil::storage
