// Target service times: each kind's figures worked out by hand, and the same seed giving the same
// mechanical delays.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/scsi/service_time.hpp"

namespace dexthil::models::scsi {
namespace {

constexpr std::uint64_t kBlocks = 1'000'000;

TEST(ServiceTime, FixedAndSolidState) {
  ServiceModel fixed;
  ServiceTime f(fixed, kBlocks, 512, sim::Random(1));
  EXPECT_EQ(f.command(0, 4096, false), 100 * sim::kMicrosecond);
  EXPECT_EQ(f.command(999, 65536, true), 100 * sim::kMicrosecond);
  ServiceModel ssd;
  ssd.kind = ServiceModel::Kind::kSolidState;
  ServiceTime s(ssd, kBlocks, 512, sim::Random(1));
  // 4 KiB at 250 MB/s is 16.384 us, after a 50 us read or 20 us write latency.
  EXPECT_EQ(s.command(0, 4096, false), 66'384 * sim::kNanosecond);
  EXPECT_EQ(s.command(0, 4096, true), 36'384 * sim::kNanosecond);
}

TEST(ServiceTime, AMechanicalDiskSeeksRotatesAndReads) {
  ServiceModel disk;
  disk.kind = ServiceModel::Kind::kMechanical;
  ServiceTime d(disk, kBlocks, 512, sim::Random(7));
  const sim::SimTime revolution = 4 * sim::kMillisecond;  // 15,000 rpm
  const sim::SimTime media = static_cast<sim::SimTime>(std::ceil(4096 * 1e12 / 90e6));  // 45.512 us
  // At the head's position: no seek, only rotation and the media.
  const sim::SimTime here = d.command(0, 4096, false);
  EXPECT_GE(here, media);
  EXPECT_LT(here, media + revolution);
  // Sequential: the head rests after the 8 blocks just read, so again no seek.
  const sim::SimTime next = d.command(8, 4096, false);
  EXPECT_LT(next, media + revolution);
  // Across the whole disk: track-to-track plus the rest of full stroke times sqrt(distance).
  const double distance = static_cast<double>(kBlocks - 1 - 16) / kBlocks;
  const sim::SimTime seek = 200 * sim::kMicrosecond + static_cast<sim::SimTime>(6.8e9 * std::sqrt(distance));
  const sim::SimTime far = d.command(kBlocks - 1, 512, false);
  const sim::SimTime media_one = static_cast<sim::SimTime>(std::ceil(512 * 1e12 / 90e6));
  EXPECT_GE(far, seek + media_one);
  EXPECT_LT(far, seek + media_one + revolution);
}

TEST(ServiceTime, TheSameSeedGivesTheSameDelays) {
  ServiceModel disk;
  disk.kind = ServiceModel::Kind::kMechanical;
  auto run = [&disk](std::uint64_t seed) {
    ServiceTime d(disk, kBlocks, 512, sim::Random(seed));
    std::vector<sim::SimTime> times;
    for (std::uint64_t lba : {0u, 500'000u, 1'000u, 999'000u}) times.push_back(d.command(lba, 4096, false));
    return times;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

}  // namespace
}  // namespace dexthil::models::scsi
