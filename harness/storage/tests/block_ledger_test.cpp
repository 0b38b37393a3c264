#include "harness/storage/block_ledger.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dexthil::storage {
namespace {

TEST(BlockLedger, KnowsOnlyWhatWasRecordedAndForgetsOnRequest) {
  BlockLedger ledger;
  EXPECT_FALSE(ledger.expected(7));
  ledger.record(7, 0xabc);
  ledger.record(5000, 0xdef);  // another chunk
  ledger.record(7, 0x123);     // a later write wins
  EXPECT_EQ(ledger.expected(7), 0x123u);
  EXPECT_EQ(ledger.expected(5000), 0xdefu);
  EXPECT_FALSE(ledger.expected(8));
  EXPECT_EQ(ledger.blocks_known(), 2u);
  ledger.forget(7);
  EXPECT_FALSE(ledger.expected(7));
  EXPECT_EQ(ledger.blocks_known(), 1u);
}

TEST(BlockLedger, PatternsDifferPerBlockAndPerWriteAndTheChecksumTellsThemApart) {
  std::vector<std::uint8_t> a(512), b(512), c(512), again(512);
  fill_block_pattern(a, 1, 10, 1);
  fill_block_pattern(b, 1, 11, 1);  // another block
  fill_block_pattern(c, 1, 10, 2);  // the same block written again
  fill_block_pattern(again, 1, 10, 1);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a, again);
  EXPECT_NE(block_checksum(a), block_checksum(b));
  EXPECT_NE(block_checksum(a), block_checksum(c));
  EXPECT_EQ(block_checksum(a), block_checksum(again));
  // One flipped bit anywhere changes it.
  for (std::size_t byte : {0u, 255u, 511u}) {
    std::vector<std::uint8_t> flipped = a;
    flipped[byte] ^= 0x10;
    EXPECT_NE(block_checksum(flipped), block_checksum(a)) << byte;
  }
}

}  // namespace
}  // namespace dexthil::storage
