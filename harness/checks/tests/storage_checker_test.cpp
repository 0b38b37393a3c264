// StorageChecker fed the block front end's events directly: the words of each finding, and a
// failure the storage stack retries is worth knowing but not an error until its last attempt.
#include "harness/checks/storage_checker.hpp"

#include <gtest/gtest.h>

#include "harness/monitor/storage_events.hpp"

namespace dexthil::checks {
namespace {

TEST(StorageChecker, ARetriedFailureIsInformationalAndTheLastAttemptIsTheError) {
  monitor::Monitor monitor;
  FindingLog findings;
  sim::Trace trace{true};
  StorageChecker checker{monitor, findings, trace};
  monitor::BlockIoFailed e;
  e.time = 5 * sim::kMillisecond;
  e.device = "LsiMpt@lsi0 target 0";
  e.command = "WRITE(10)";
  e.lba = 2048;
  e.blocks = 8;
  e.failure.response = 1;  // SERVICE_DELIVERY_OR_TARGET_FAILURE
  e.failure.status = 0x05;
  e.attempt = 1;
  e.retries_left = 4;
  monitor.emit(e);
  e.attempt = 5;
  e.retries_left = 0;
  monitor.emit(e);

  const std::vector<Finding>& all = findings.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].check, "storage.io-retried");
  EXPECT_TRUE(all[0].informational);
  EXPECT_EQ(all[0].what,
            "WRITE(10) of 8 blocks at LBA 2048 ended kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE, "
            "kSCSITaskStatus_DeliveryFailure after 0 bytes (attempt 1): sent again, retry 1 of 4");
  EXPECT_EQ(all[1].check, "storage.io-error");
  EXPECT_FALSE(all[1].informational);
  EXPECT_EQ(all[1].what,
            "WRITE(10) of 8 blocks at LBA 2048 ended kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE, "
            "kSCSITaskStatus_DeliveryFailure after 0 bytes on attempt 5, the last: kIOReturnIOError");
  EXPECT_EQ(all[1].where, "LsiMpt@lsi0 target 0");
}

}  // namespace
}  // namespace dexthil::checks
