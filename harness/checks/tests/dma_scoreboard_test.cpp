#include <gtest/gtest.h>

#include "harness/checks/dma_scoreboard.hpp"

namespace dexthil::checks {
namespace {

dma::DmaRequest request(std::uint8_t tag, bool write, std::uint64_t address, std::vector<std::uint8_t> data,
                        sim::SimTime at, std::uint32_t length = 0) {
  dma::DmaRequest r;
  r.requester = "dev";
  r.tag = tag;
  r.write = write;
  r.address = address;
  r.length = length ? length : static_cast<std::uint32_t>(data.size());
  r.data = std::move(data);
  r.issued_at = at;
  return r;
}

dma::DmaCompletion completion(std::uint8_t tag, std::vector<std::uint8_t> data = {},
                              dma::CompletionStatus status = dma::CompletionStatus::kSuccessful) {
  return dma::DmaCompletion{tag, status, std::move(data)};
}

TEST(DmaScoreboard, WriteThenMatchingReadIsClean) {
  FindingLog log;
  DmaScoreboard sb("dev", log, {});
  sb.on_request(request(1, true, 0x1000, {1, 2, 3}, 0));
  sb.on_completion(completion(1), 100);
  sb.on_request(request(2, false, 0x1000, {}, 200, 3));
  sb.on_completion(completion(2, {1, 2, 3}), 300);
  sb.finish(400);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(sb.completed(), 2u);
  EXPECT_EQ(sb.bytes_checked(), 3u);
}

TEST(DmaScoreboard, ReportsTheFirstWrongByte) {
  FindingLog log;
  DmaScoreboard sb("dev", log, {});
  sb.on_request(request(1, true, 0x1000, {1, 2, 3}, 0));
  sb.on_completion(completion(1), 100);
  sb.on_request(request(2, false, 0x1000, {}, 200, 3));
  sb.on_completion(completion(2, {1, 9, 7}), 300);
  ASSERT_EQ(log.all().size(), 1u);
  const Finding& f = log.all()[0];
  EXPECT_EQ(f.check, "dma.data-mismatch");
  EXPECT_EQ(f.where, "dev");
  EXPECT_EQ(f.time, 300u);
  EXPECT_EQ(f.what, "DMA read tag 2 of 3 bytes at 0x0000000000001000: byte at 0x0000000000001001 read 0x09, expected 0x02");
}

TEST(DmaScoreboard, ErrorStatusIsAFindingAndAFailedWriteChangesNothing) {
  FindingLog log;
  DmaScoreboard sb("dev", log, {});
  sb.on_request(request(1, true, 0x1000, {5}, 0));
  sb.on_completion(completion(1, {}, dma::CompletionStatus::kUnsupportedRequest), 10);
  ASSERT_EQ(log.all().size(), 1u);
  EXPECT_EQ(log.all()[0].check, "dma.completion-status");
  EXPECT_EQ(log.all()[0].what,
            "DMA write tag 1 of 1 bytes at 0x0000000000001000 completed with UR (unsupported request)");
  // Memory still holds zero there: a read of zero is right, not a mismatch.
  sb.on_request(request(2, false, 0x1000, {}, 20, 1));
  sb.on_completion(completion(2, {0}), 30);
  EXPECT_EQ(log.all().size(), 1u);
}

TEST(DmaScoreboard, StrayAndMissingCompletions) {
  FindingLog log;
  DmaScoreboard sb("dev", log, {});
  sb.on_completion(completion(7), 5);
  sb.on_request(request(3, false, 0x2000, {}, 10, 4));
  sb.finish(1000);
  ASSERT_EQ(log.all().size(), 2u);
  EXPECT_EQ(log.all()[0].check, "dma.unexpected-completion");
  EXPECT_EQ(log.all()[1].check, "dma.incomplete");
  EXPECT_EQ(log.all()[1].what, "DMA read tag 3 of 4 bytes at 0x0000000000002000 issued at 10 ps never completed");
}

TEST(DmaScoreboard, LatencyBudget) {
  FindingLog log;
  DmaScoreboard sb("dev", log, DmaScoreboardOptions{true, 1000});
  sb.on_request(request(1, false, 0, {}, 0, 1));
  sb.on_completion(completion(1, {0}), 1000);  // exactly at the budget: fine
  sb.on_request(request(2, false, 0, {}, 2000, 1));
  sb.on_completion(completion(2, {0}), 3001);
  ASSERT_EQ(log.all().size(), 1u);
  EXPECT_EQ(log.all()[0].check, "budget.dma-latency");
  EXPECT_EQ(log.all()[0].what, "DMA read tag 2 of 1 bytes at 0x0000000000000000 took 1.001 ns, over the budget of 1 ns");
  EXPECT_EQ(sb.max_latency(), 1001u);
}

}  // namespace
}  // namespace dexthil::checks
