// SPI bus timing: the rates and delays worked out by hand from the bus timing values.
#include <gtest/gtest.h>

#include "models/scsi/spi_timing.hpp"

namespace dexthil::models::scsi {
namespace {

TEST(SpiTiming, RatesFollowThePeriodFactorAndWidth) {
  const double async = BusTiming{}.asynchronous_bytes_per_second;
  EXPECT_DOUBLE_EQ((Agreement{0x08, true}.bytes_per_second(async)), 320e6);  // Ultra320: 2 B / 6.25 ns
  EXPECT_DOUBLE_EQ((Agreement{0x09, true}.bytes_per_second(async)), 160e6);  // Ultra160
  EXPECT_DOUBLE_EQ((Agreement{0x0A, true}.bytes_per_second(async)), 80e6);   // Ultra2 wide
  EXPECT_DOUBLE_EQ((Agreement{0x0C, false}.bytes_per_second(async)), 20e6);  // Fast-20 narrow
  EXPECT_DOUBLE_EQ((Agreement{0x19, true}.bytes_per_second(async)), 20e6);   // 100 ns, wide
  EXPECT_DOUBLE_EQ((Agreement{0x00, true}.bytes_per_second(async)), 5e6);    // before negotiation
}

TEST(SpiTiming, AConnectionAndItsTransfers) {
  const BusTiming bus;
  // Bus free 800 ns + arbitration 2.4 us + two bus settles of 400 ns: 4 us; with QAS 1 us + 800 ns.
  EXPECT_EQ(bus.connection(Agreement{0x08, true, false}), 4'000 * sim::kNanosecond);
  EXPECT_EQ(bus.connection(Agreement{0x08, true, true}), 1'800 * sim::kNanosecond);
  // 64 KiB at 320 MB/s: 204.8 us. A 10-byte CDB asynchronously at 5 MB/s: 2 us.
  EXPECT_EQ(bus.data(Agreement{0x08, true}, 65'536), 204'800 * sim::kNanosecond);
  EXPECT_EQ(bus.control(10), 2'000 * sim::kNanosecond);
}

}  // namespace
}  // namespace dexthil::models::scsi
