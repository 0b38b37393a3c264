#include <gtest/gtest.h>

#include "harness/util/exception_message.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "harness/hostmem/page_allocator.hpp"
#include "harness/hostmem/sparse_memory.hpp"
#include "harness/iommu/dart.hpp"

namespace dexthil::iommu {
namespace {

constexpr std::uint64_t kPage = Dart::kPageSize;
constexpr std::uint64_t kTableBase = 0x4'0000'0000;  // where page tables live (below 2^36 for T8020)
constexpr std::uint64_t kBuffer = 0x8'0000'0000;      // a DMA buffer in host memory

// T8110 registers (the default generation).
constexpr std::uint32_t kParams1 = 0x00, kParams2 = 0x04, kParams3 = 0x08, kParams4 = 0x0c;
constexpr std::uint32_t kTlbCmd = 0x80, kError = 0x100, kErrorMask = 0x104;
constexpr std::uint32_t kErrorAddrLo = 0x170, kErrorAddrHi = 0x174, kErrorStreams = 0x1c0;
constexpr std::uint32_t kProtect = 0x200, kUnprotect = 0x204, kEnableStreams = 0xc00, kDisableStreams = 0xc20;
constexpr std::uint32_t tcr(std::uint32_t sid) { return 0x1000 + 4 * sid; }
constexpr std::uint32_t ttbr(std::uint32_t sid) { return 0x1400 + 4 * sid; }
constexpr std::uint32_t kTlbFlushAll = 0 << 8;
constexpr std::uint32_t kTlbFlushSid = 1 << 8;

// T8110 ERROR fields.
constexpr std::uint32_t kFlag = 1u << 31, kWrite = 1u << 28;
constexpr std::uint32_t kNoTtbr = 1 << 0, kNoPmd = 1 << 2, kNoPte = 1 << 3, kWriteFault = 1 << 4,
                        kReadFault = 1 << 5;
constexpr std::uint32_t sid_field(std::uint32_t sid) { return sid << 20; }

// The DART2 encodings, written out independently of the model.
constexpr std::uint64_t kDart2AddressMask = ((1ULL << 38) - 1) & ~((1ULL << 10) - 1);
std::uint64_t dart2_entry_pa(std::uint64_t entry) { return (entry & kDart2AddressMask) << 4; }
// The table a T8110 TTBR value points at: (PA >> 14) in bits 29:2.
std::uint64_t t8110_ttbr_pa(std::uint32_t value) { return std::uint64_t{(value >> 2) & 0x0fffffff} << 14; }

using util::message_of;

class DartTest : public ::testing::Test {
 protected:
  explicit DartTest(DartConfig config = {}) : dart_(config, memory_, tables_) {}

  // Where the leaf entry for (sid, iova) lives, found from the registers and memory alone.
  std::uint64_t leaf_address(std::uint32_t sid, std::uint64_t iova) const {
    const std::uint32_t t = dart_.read32(ttbr(sid));
    EXPECT_TRUE(t & 1) << "TTBR of SID " << sid << " is not valid";
    const std::uint64_t l1_entry = memory_.read_u64(t8110_ttbr_pa(t) + 8 * ((iova >> 25) & 0x7ff));
    EXPECT_TRUE(l1_entry & 1) << "no L2 table for IOVA " << iova;
    return dart2_entry_pa(l1_entry) + 8 * ((iova >> 14) & 0x7ff);
  }

  hostmem::SparseMemory memory_;
  hostmem::PageAllocator tables_{kTableBase, 256 * kPage};
  Dart dart_;
};

TEST_F(DartTest, FieldReportReadBySid0WithoutTtbr) {
  // The panic: "SID 0 ERROR_STATUS 0x80000001 ERROR_ADDRESS 0x0000000080000000".
  dart_.write32(tcr(0), 1);  // translation on, but no table base: what macOS leaves for an unused SID
  const DartTranslation t = dart_.translate(0, 0x8000'0000, /*write=*/false);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.fault, DartFaultKind::kNoTtbr);
  EXPECT_STREQ(to_string(t.fault), "NO_TTBR");
  EXPECT_EQ(t.error_status, 0x80000001u);
  EXPECT_EQ(t.error_address, 0x80000000u);
  EXPECT_EQ(dart_.error_status(), 0x80000001u);
  EXPECT_EQ(dart_.error_address(), 0x0000000080000000u);
  EXPECT_EQ(dart_.read32(kError), 0x80000001u);
  EXPECT_EQ(dart_.read32(kErrorAddrLo), 0x80000000u);
  EXPECT_EQ(dart_.read32(kErrorAddrHi), 0u);
  EXPECT_EQ(dart_.read32(kErrorStreams), 1u);  // SID 0 is marked as having faulted
}

TEST_F(DartTest, TranslationOffIsReportedAsNoTtbr) {
  // Out of reset every TCR is 0: DMA is blocked, and the status is the same as the field report.
  const DartTranslation t = dart_.translate(0, 0x8000'0000, false);
  EXPECT_EQ(t.fault, DartFaultKind::kTranslationOff);
  EXPECT_EQ(t.error_status, 0x80000001u);
  EXPECT_EQ(dart_.error_status(), 0x80000001u);
}

TEST_F(DartTest, MapThenTranslateReadAndWrite) {
  dart_.enable_translation(1);
  dart_.map(1, 0x8000'0000, kBuffer, 4 * kPage, {});
  const DartTranslation r = dart_.translate(1, 0x8000'0000 + kPage + 0x123, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.pa, kBuffer + kPage + 0x123);
  EXPECT_EQ(r.fault, DartFaultKind::kNone);
  EXPECT_EQ(r.error_status, 0u);
  const DartTranslation w = dart_.translate(1, 0x8000'0000 + 3 * kPage + kPage - 1, true);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.pa, kBuffer + 4 * kPage - 1);
  EXPECT_EQ(dart_.error_status(), 0u);
  EXPECT_EQ(dart_.lookup(1, 0x8000'0000 + 2 * kPage + 8), kBuffer + 2 * kPage + 8);
  EXPECT_EQ(dart_.lookup(1, 0x8000'0000 + 4 * kPage), std::nullopt);
}

TEST_F(DartTest, LeafAndTableEntriesUseTheDart2Format) {
  dart_.enable_translation(1);
  dart_.map(1, 0x8000'0000, kBuffer, kPage, {.read = true, .write = false});
  const std::uint64_t leaf = memory_.read_u64(leaf_address(1, 0x8000'0000));
  EXPECT_EQ(leaf & 1, 1u);                           // valid
  EXPECT_EQ(dart2_entry_pa(leaf), kBuffer);          // (pa >> 4) in 37:10
  EXPECT_EQ(leaf & (1 << 2), 1u << 2);               // NO_WRITE
  EXPECT_EQ(leaf & (1 << 3), 0u);                    // reads allowed
  EXPECT_EQ(leaf >> 40 & 0xfff, 0xfffu);             // subpage range: whole page
  EXPECT_EQ(t8110_ttbr_pa(dart_.read32(ttbr(1))), kTableBase);  // the first table page is the L1
}

TEST_F(DartTest, NoPmdWhenNoL2TableCoversTheIova) {
  dart_.enable_translation(2);
  dart_.map(2, 0x8000'0000, kBuffer, kPage, {});
  const DartTranslation t = dart_.translate(2, 0x8000'0000 + (32 << 20), true);  // next L1 slot
  EXPECT_EQ(t.fault, DartFaultKind::kNoPmd);
  EXPECT_STREQ(to_string(t.fault), "NO_PMD");
  EXPECT_EQ(t.error_status, kFlag | sid_field(2) | kWrite | kNoPmd);
  EXPECT_EQ(t.error_status, 0x90200004u);
}

TEST_F(DartTest, NoPteWhenTheLeafIsMissing) {
  dart_.enable_translation(5);
  dart_.map(5, 0x8000'0000, kBuffer, kPage, {});
  const DartTranslation t = dart_.translate(5, 0x8000'0000 + kPage, false);
  EXPECT_EQ(t.fault, DartFaultKind::kNoPte);
  EXPECT_EQ(t.error_status, kFlag | sid_field(5) | kNoPte);
  EXPECT_EQ(t.error_status, 0x80500008u);
  EXPECT_EQ(t.error_address, 0x8000'0000 + kPage);
}

TEST_F(DartTest, WriteToAReadOnlyPageIsAWriteFault) {
  dart_.enable_translation(3);
  dart_.map(3, 0x4000'0000, kBuffer, kPage, {.read = true, .write = false});
  EXPECT_TRUE(dart_.translate(3, 0x4000'0010, false).ok);
  const DartTranslation t = dart_.translate(3, 0x4000'0010, true);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.fault, DartFaultKind::kWriteFault);
  EXPECT_EQ(t.error_status, 0x90300010u);
  EXPECT_EQ(dart_.error_status(), 0x90300010u);
  EXPECT_EQ(dart_.error_address(), 0x4000'0010u);
}

TEST_F(DartTest, ReadOfAWriteOnlyPageIsAReadFault) {
  dart_.enable_translation(4);
  dart_.map(4, 0x4000'0000, kBuffer, kPage, {.read = false, .write = true});
  EXPECT_TRUE(dart_.translate(4, 0x4000'0000, true).ok);
  const DartTranslation t = dart_.translate(4, 0x4000'0000, false);
  EXPECT_EQ(t.fault, DartFaultKind::kReadFault);
  EXPECT_EQ(t.error_status, kFlag | sid_field(4) | kReadFault);
  EXPECT_EQ(t.error_status, 0x80400020u);
  EXPECT_TRUE(t.tlb_hit);  // the permission check used the entry the write cached
}

TEST_F(DartTest, ErrorLatchesTheFirstFaultUntilCleared) {
  dart_.write32(tcr(0), 1);
  dart_.translate(0, 0x8000'0000, false);
  const DartTranslation second = dart_.translate(3, 0x1234'4000, true);
  // The second fault still says what it would have written...
  EXPECT_EQ(second.error_status, kFlag | sid_field(3) | kWrite | kNoTtbr);
  EXPECT_EQ(second.error_address, 0x1234'4000u);
  // ...but the registers keep the first.
  EXPECT_EQ(dart_.error_status(), 0x80000001u);
  EXPECT_EQ(dart_.error_address(), 0x80000000u);
  EXPECT_EQ(dart_.read32(kErrorStreams), 0b1001u);  // both SIDs are marked

  dart_.write32(kError, 0x1);  // without the flag bit nothing is cleared
  EXPECT_EQ(dart_.error_status(), 0x80000001u);
  dart_.write32(kError, dart_.read32(kError));  // how Asahi's handler acknowledges
  dart_.write32(kErrorStreams, 0xffffffff);
  EXPECT_EQ(dart_.error_status(), 0u);
  EXPECT_EQ(dart_.error_address(), 0u);
  EXPECT_EQ(dart_.read32(kErrorStreams), 0u);

  dart_.translate(3, 0x1234'4000, true);
  EXPECT_EQ(dart_.error_status(), 0x90300001u);
  EXPECT_EQ(dart_.error_address(), 0x1234'4000u);
}

TEST_F(DartTest, ErrorMaskKeepsAMaskedCodeOutOfTheRegisters) {
  dart_.write32(kErrorMask, kNoTtbr);
  EXPECT_EQ(dart_.read32(kErrorMask), kNoTtbr);
  const DartTranslation t = dart_.translate(0, 0x8000'0000, false);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error_status, 0x80000001u);
  EXPECT_EQ(dart_.error_status(), 0u);
  EXPECT_EQ(dart_.read32(kErrorStreams), 0u);
}

TEST_F(DartTest, BypassPassesIovaThrough) {
  dart_.write32(tcr(6), (1 << 1) | (1 << 2));  // bypass DART and DAPF, as Linux's identity domain
  const DartTranslation t = dart_.translate(6, 0xdead'4000, true);
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.pa, 0xdead'4000u);
  EXPECT_EQ(dart_.error_status(), 0u);
  EXPECT_EQ(dart_.tlb_hits() + dart_.tlb_misses(), 0u);  // no table, no TLB
}

TEST_F(DartTest, DisabledStreamBlocksDma) {
  dart_.enable_translation(1);
  dart_.map(1, 0, kBuffer, kPage, {});
  EXPECT_EQ(dart_.read32(kEnableStreams), 0xffffu);  // 16 SIDs, all enabled out of reset
  dart_.write32(kDisableStreams, 1 << 1);
  EXPECT_EQ(dart_.read32(kEnableStreams), 0xfffdu);
  EXPECT_EQ(dart_.read32(kDisableStreams), 0xfffdu);
  const DartTranslation t = dart_.translate(1, 0, false);
  EXPECT_EQ(t.fault, DartFaultKind::kTranslationOff);
  EXPECT_EQ(t.error_status, kFlag | sid_field(1) | kNoTtbr);
  dart_.write32(kEnableStreams, 1 << 1);
  EXPECT_TRUE(dart_.translate(1, 0, false).ok);
}

TEST_F(DartTest, IovaBeyondVaBitsIsTooWide) {
  dart_.enable_translation(1);
  const DartTranslation t = dart_.translate(1, 1ULL << 36, false);
  EXPECT_EQ(t.fault, DartFaultKind::kAddressTooWide);
  EXPECT_EQ(t.error_status, kFlag | sid_field(1) | kNoTtbr);
  EXPECT_EQ(t.error_address, 1ULL << 36);
  EXPECT_EQ(dart_.lookup(1, 1ULL << 36), std::nullopt);
}

TEST_F(DartTest, TlbHitsAndMisses) {
  dart_.enable_translation(1);
  dart_.map(1, 0, kBuffer, 2 * kPage, {});
  EXPECT_FALSE(dart_.translate(1, 0, false).tlb_hit);
  EXPECT_TRUE(dart_.translate(1, 8, true).tlb_hit);  // same page, other offset
  EXPECT_FALSE(dart_.translate(1, kPage, false).tlb_hit);
  EXPECT_TRUE(dart_.translate(1, kPage + 64, false).tlb_hit);
  dart_.translate(1, 5 * kPage, false);  // a faulting walk is a miss too
  EXPECT_EQ(dart_.tlb_hits(), 2u);
  EXPECT_EQ(dart_.tlb_misses(), 3u);
}

TEST(DartTlb, FifoReplacementEvictsTheOldestEntry) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 16 * kPage);
  Dart dart({.tlb_entries = 2}, memory, tables);
  dart.enable_translation(0);
  dart.map(0, 0, kBuffer, 3 * kPage, {});
  dart.translate(0, 0, false);          // fill A
  dart.translate(0, kPage, false);      // fill B
  EXPECT_TRUE(dart.translate(0, 0, false).tlb_hit);  // a hit does not refresh A's age
  dart.translate(0, 2 * kPage, false);  // fill C, evicts A
  EXPECT_FALSE(dart.translate(0, 0, false).tlb_hit);  // refill A, evicts B
  EXPECT_TRUE(dart.translate(0, 2 * kPage, false).tlb_hit);
  EXPECT_FALSE(dart.translate(0, kPage, false).tlb_hit);
}

TEST(DartTlb, ZeroEntriesMeansEveryAccessWalks) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 16 * kPage);
  Dart dart({.tlb_entries = 0}, memory, tables);
  dart.enable_translation(0);
  dart.map(0, 0, kBuffer, kPage, {});
  EXPECT_TRUE(dart.translate(0, 0, false).ok);
  EXPECT_FALSE(dart.translate(0, 0, false).tlb_hit);
  EXPECT_EQ(dart.tlb_misses(), 2u);
}

TEST_F(DartTest, StaleTlbEntrySurvivesUntilFlushAll) {
  dart_.enable_translation(1);
  dart_.map(1, 0x8000'0000, kBuffer, kPage, {});
  ASSERT_TRUE(dart_.translate(1, 0x8000'0000, false).ok);  // fills the TLB

  // Clear the leaf behind the DART's back, as a driver that forgets to flush would.
  memory_.write_u64(leaf_address(1, 0x8000'0000), 0);
  EXPECT_EQ(dart_.lookup(1, 0x8000'0000), std::nullopt);  // memory says unmapped...
  const DartTranslation stale = dart_.translate(1, 0x8000'0000, false);
  EXPECT_TRUE(stale.ok);  // ...but the DART still translates from its TLB
  EXPECT_TRUE(stale.tlb_hit);
  EXPECT_EQ(stale.pa, kBuffer);

  dart_.write32(kTlbCmd, kTlbFlushAll);
  EXPECT_EQ(dart_.read32(kTlbCmd) >> 31, 0u);  // never busy
  const DartTranslation after = dart_.translate(1, 0x8000'0000, false);
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.fault, DartFaultKind::kNoPte);
  EXPECT_EQ(after.error_status, kFlag | sid_field(1) | kNoPte);
}

TEST_F(DartTest, FlushingOneSidKeepsTheOthers) {
  dart_.enable_translation(1);
  dart_.enable_translation(2);
  dart_.map(1, 0x8000'0000, kBuffer, kPage, {});
  dart_.map(2, 0x8000'0000, kBuffer + kPage, kPage, {});
  dart_.translate(1, 0x8000'0000, false);
  dart_.translate(2, 0x8000'0000, false);
  memory_.write_u64(leaf_address(1, 0x8000'0000), 0);
  memory_.write_u64(leaf_address(2, 0x8000'0000), 0);

  dart_.write32(kTlbCmd, kTlbFlushSid | 2);
  EXPECT_EQ(dart_.translate(2, 0x8000'0000, false).fault, DartFaultKind::kNoPte);
  const DartTranslation one = dart_.translate(1, 0x8000'0000, false);
  EXPECT_TRUE(one.ok);  // SID 1's entry was not flushed and is still stale
  EXPECT_TRUE(one.tlb_hit);
  dart_.write32(kTlbCmd, kTlbFlushSid | 1);
  EXPECT_EQ(dart_.translate(1, 0x8000'0000, false).fault, DartFaultKind::kNoPte);
}

TEST_F(DartTest, UnmapFlushesSoTheNextAccessFaults) {
  dart_.enable_translation(1);
  dart_.map(1, 0x8000'0000, kBuffer, 2 * kPage, {});
  ASSERT_TRUE(dart_.translate(1, 0x8000'0000, false).ok);
  dart_.unmap(1, 0x8000'0000, kPage);
  EXPECT_EQ(dart_.translate(1, 0x8000'0000, false).fault, DartFaultKind::kNoPte);
  EXPECT_TRUE(dart_.translate(1, 0x8000'0000 + kPage, false).ok);
  dart_.unmap(1, 0x8000'0000, kPage);             // already unmapped: fine
  dart_.unmap(1, (1ULL << 36) - kPage, kPage);    // never had an L2 table: fine
  dart_.unmap(7, 0, kPage);                       // SID without a TTBR: fine
  // A new mapping replaces a stale TLB entry because map flushes too.
  dart_.map(1, 0x8000'0000, kBuffer + 8 * kPage, kPage, {});
  EXPECT_EQ(dart_.translate(1, 0x8000'0000, false).pa, kBuffer + 8 * kPage);
}

TEST_F(DartTest, MapAcrossAnL1BoundaryAllocatesTwoL2Tables) {
  dart_.enable_translation(1);
  EXPECT_EQ(tables_.pages_in_use(), 1u);  // the L1 table
  const std::uint64_t boundary = 0x8000'0000 + (32 << 20);
  dart_.map(1, boundary - 2 * kPage, kBuffer, 4 * kPage, {});
  EXPECT_EQ(tables_.pages_in_use(), 3u);  // plus one L2 table on each side
  for (std::uint64_t i = 0; i < 4; ++i) {
    const DartTranslation t = dart_.translate(1, boundary - 2 * kPage + i * kPage + 4, false);
    ASSERT_TRUE(t.ok) << i;
    EXPECT_EQ(t.pa, kBuffer + i * kPage + 4);
  }
  EXPECT_NE(leaf_address(1, boundary - kPage) / kPage, leaf_address(1, boundary) / kPage);
  // Mapping more inside the same 32 MiB reuses the tables.
  dart_.map(1, boundary + 8 * kPage, kBuffer, kPage, {});
  EXPECT_EQ(tables_.pages_in_use(), 3u);
}

TEST_F(DartTest, TablePagesComeFromTheAllocator) {
  dart_.enable_translation(0);
  dart_.enable_translation(1);
  EXPECT_EQ(tables_.pages_in_use(), 2u);
  EXPECT_EQ(dart_.read32(ttbr(0)), (kTableBase >> 14) << 2 | 1);  // valid, (PA >> 14) << 2
  EXPECT_EQ(t8110_ttbr_pa(dart_.read32(ttbr(1))), kTableBase + kPage);
  dart_.enable_translation(1);  // again: keeps its table
  EXPECT_EQ(tables_.pages_in_use(), 2u);
  dart_.map(0, 0, kBuffer, kPage, {});
  EXPECT_EQ(tables_.pages_in_use(), 3u);
  EXPECT_EQ(leaf_address(0, 0), kTableBase + 2 * kPage);  // the L2 table is the next page
}

TEST(DartTables, ATablePageIsZeroedEvenIfTheAllocatorReusesIt) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 16 * kPage);
  const std::uint64_t used = tables.allocate();
  memory.write_u64(used + 8 * 4, 0xffff'ffff'ffff'ffff);  // garbage a valid-looking entry
  tables.free(used);
  Dart dart({}, memory, tables);
  dart.enable_translation(0);
  EXPECT_EQ(dart.translate(0, 4ULL << 25, false).fault, DartFaultKind::kNoPmd);
}

TEST(DartTables, AFullAllocatorFailsMapWithoutChangingTheTables) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 2 * kPage);
  Dart dart({}, memory, tables);
  dart.enable_translation(0);
  // Needs two L2 tables, only one page left.
  EXPECT_THROW(dart.map(0, (32 << 20) - kPage, kBuffer, 2 * kPage, {}), std::runtime_error);
  EXPECT_EQ(tables.pages_in_use(), 1u);
  EXPECT_EQ(dart.translate(0, (32 << 20) - kPage, false).fault, DartFaultKind::kNoPmd);
  dart.map(0, 0, kBuffer, kPage, {});  // one table still fits
  EXPECT_EQ(tables.pages_in_use(), 2u);
}

TEST_F(DartTest, SidsMappingListsEverySidWithALeaf) {
  dart_.enable_translation(1);
  dart_.enable_translation(3);
  dart_.enable_translation(4);
  dart_.map(1, 0x8000'0000, kBuffer, kPage, {});
  dart_.map(4, 0x8000'0000, kBuffer, kPage, {.read = true, .write = false});
  dart_.map(3, 0x9000'0000, kBuffer, kPage, {});
  EXPECT_EQ(dart_.sids_mapping(0x8000'0000 + 100), (std::vector<std::uint32_t>{1, 4}));
  EXPECT_EQ(dart_.sids_mapping(0x9000'0000), (std::vector<std::uint32_t>{3}));
  EXPECT_TRUE(dart_.sids_mapping(0xa000'0000).empty());
  EXPECT_EQ(dart_.lookup(4, 0x8000'0000), kBuffer);  // permissions do not matter to lookup
}

TEST_F(DartTest, MapRejectsBadArgumentsNamingThem) {
  dart_.enable_translation(1);
  std::string msg = message_of<std::invalid_argument>([&] { dart_.map(1, 0x8000'1000, kBuffer, kPage, {}); });
  EXPECT_NE(msg.find("IOVA 0x80001000 is not 16 KiB aligned"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SID 1"), std::string::npos) << msg;
  msg = message_of<std::invalid_argument>([&] { dart_.map(1, 0x8000'0000, kBuffer + 0x200, kPage, {}); });
  EXPECT_NE(msg.find("PA 0x800000200 is not 16 KiB aligned"), std::string::npos) << msg;
  msg = message_of<std::invalid_argument>([&] { dart_.map(1, 0x8000'0000, kBuffer, 0x1000, {}); });
  EXPECT_NE(msg.find("size 0x1000 is not a multiple of 16 KiB"), std::string::npos) << msg;
  msg = message_of<std::out_of_range>([&] { dart_.map(16, 0x8000'0000, kBuffer, kPage, {}); });
  EXPECT_NE(msg.find("SID 16 is out of range (the DART has 16 SIDs)"), std::string::npos) << msg;
  EXPECT_THROW(dart_.map(1, (1ULL << 36) - kPage, kBuffer, 2 * kPage, {}), std::invalid_argument);
  EXPECT_THROW(dart_.map(1, 0, (1ULL << 42) - kPage, 2 * kPage, {}), std::invalid_argument);
  EXPECT_THROW(dart_.map(1, 0, 0, UINT64_MAX - kPage + 1, {}), std::invalid_argument);
  EXPECT_THROW(dart_.map(2, 0, kBuffer, kPage, {}), std::logic_error);  // no enable_translation
  dart_.map(1, 0, kBuffer, kPage, {});
  msg = message_of<std::invalid_argument>([&] { dart_.map(1, 0, kBuffer, 2 * kPage, {}); });
  EXPECT_NE(msg.find("IOVA 0x0 is already mapped"), std::string::npos) << msg;
  EXPECT_EQ(dart_.lookup(1, kPage), std::nullopt);  // the rejected map wrote nothing
  EXPECT_THROW(dart_.unmap(1, 0x2000, kPage), std::invalid_argument);
  EXPECT_THROW(dart_.unmap(99, 0, kPage), std::out_of_range);
}

TEST_F(DartTest, SidOutOfRangeThrowsEverywhere) {
  EXPECT_THROW(dart_.translate(16, 0, false), std::out_of_range);
  EXPECT_THROW(dart_.enable_translation(16), std::out_of_range);
  EXPECT_THROW((void)dart_.lookup(16, 0), std::out_of_range);
}

TEST_F(DartTest, ParamsReportTheConfiguration) {
  EXPECT_EQ(dart_.read32(kParams1) >> 24 & 0xf, 14u);  // 16 KiB pages
  EXPECT_EQ(dart_.read32(kParams2) & 1, 1u);           // bypass supported
  const std::uint32_t p3 = dart_.read32(kParams3);
  EXPECT_EQ(p3 >> 24 & 0x3f, 42u);
  EXPECT_EQ(p3 >> 16 & 0x3f, 36u);
  EXPECT_EQ(dart_.read32(kParams4) & 0x1ff, 16u);
}

TEST(DartParams, UsbFourDartWith64Sids) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 16 * kPage);
  Dart dart({.num_sids = 64, .va_bits = 32, .pa_bits = 40}, memory, tables);
  EXPECT_EQ(dart.read32(kParams4) & 0x1ff, 64u);
  EXPECT_EQ(dart.read32(kParams3), 40u << 24 | 32u << 16);
  EXPECT_EQ(dart.read32(kEnableStreams), 0xffffffffu);
  EXPECT_EQ(dart.read32(kEnableStreams + 4), 0xffffffffu);
  EXPECT_EQ(dart.read32(kEnableStreams + 8), 0u);
  dart.write32(tcr(63), 1);
  EXPECT_EQ(dart.translate(63, 1ULL << 32, true).fault, DartFaultKind::kAddressTooWide);
  EXPECT_EQ(dart.error_status(), kFlag | sid_field(63) | kWrite | kNoTtbr);
}

TEST(DartConfigCheck, RejectsWhatTheHardwareCannotBe) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 16 * kPage);
  EXPECT_THROW(Dart({.num_sids = 0}, memory, tables), std::invalid_argument);
  EXPECT_THROW(Dart({.num_sids = 257}, memory, tables), std::invalid_argument);
  EXPECT_THROW(Dart({.va_bits = 37}, memory, tables), std::invalid_argument);
  EXPECT_THROW(Dart({.pa_bits = 43}, memory, tables), std::invalid_argument);
  EXPECT_THROW(Dart({.generation = DartGeneration::kT8020, .num_sids = 17}, memory, tables),
               std::invalid_argument);
  EXPECT_THROW(Dart({.generation = DartGeneration::kT8020, .va_bits = 39}, memory, tables), std::invalid_argument);
  hostmem::PageAllocator small_pages(kTableBase, 16 * kPage, 4096);
  EXPECT_THROW(Dart({}, memory, small_pages), std::invalid_argument);
}

TEST_F(DartTest, ProtectLocksTcrAndTtbr) {
  dart_.write32(kProtect, 1);
  EXPECT_EQ(dart_.read32(kProtect), 1u);
  dart_.write32(tcr(2), 1);
  EXPECT_EQ(dart_.read32(tcr(2)), 0u);
  EXPECT_THROW(dart_.enable_translation(2), std::runtime_error);
  EXPECT_EQ(tables_.pages_in_use(), 0u);
  dart_.write32(kUnprotect, 1);
  dart_.enable_translation(2);
  EXPECT_EQ(dart_.read32(tcr(2)), 1u);
}

TEST_F(DartTest, UnalignedRegisterAccessIsAHarnessBug) {
  EXPECT_THROW((void)dart_.read32(0x102), std::invalid_argument);
  EXPECT_THROW(dart_.write32(0x1001, 0), std::invalid_argument);
  EXPECT_EQ(dart_.read32(0x3ffc), 0u);  // unmodelled registers read zero
}

// ---- T8020 (M1) layout ----

constexpr std::uint32_t k8020StreamCommand = 0x20, k8020StreamSelect = 0x34, k8020Error = 0x40;
constexpr std::uint32_t k8020ErrorAddrLo = 0x50, k8020ErrorAddrHi = 0x54, k8020StreamsEnable = 0xfc;
constexpr std::uint32_t tcr8020(std::uint32_t sid) { return 0x100 + 4 * sid; }
constexpr std::uint32_t ttbr8020(std::uint32_t sid, std::uint32_t idx) { return 0x200 + 16 * sid + 4 * idx; }
// T8020 ERROR as m1n1's dart8020.py R_ERROR has it: FLAG 31, STREAM 27:24, CODE 23:0 with
// NO_DAPF_MATCH 11, WRITE 10, SUBPAGE_PROT 7, PTE_READ_FAULT 6, READ_FAULT 4, WRITE_FAULT 3,
// NO_PTE 2, NO_PMD 1, NO_TTBR 0.
constexpr std::uint32_t stream8020(std::uint32_t sid) { return sid << 24; }
constexpr std::uint32_t k8020Write = 1u << 10;
constexpr std::uint32_t k8020NoTtbr = 1 << 0, k8020NoPmd = 1 << 1, k8020NoPte = 1 << 2, k8020WriteFault = 1 << 3,
                        k8020ReadFault = 1 << 4, k8020PteReadFault = 1 << 6, k8020SubpageProt = 1 << 7,
                        k8020NoDapfMatch = 1 << 11;
// PTE_T8020 (m1n1): SP_START 63:52, SP_END 51:40, OFFSET 39:14 (the PA in place), SP_PROT_DIS 1,
// VALID 0; the permission bits are Linux's io-pgtable-dart.c APPLE_DART1: NO_READ 8, NO_WRITE 7.
constexpr std::uint64_t k8020PteOffset = ((1ULL << 40) - 1) & ~((1ULL << 14) - 1);
constexpr std::uint64_t k8020PteNoRead = 1ULL << 8, k8020PteNoWrite = 1ULL << 7, k8020PteSpProtDis = 1ULL << 1;

class DartT8020Test : public DartTest {
 protected:
  // Only the generation changes: the default pa_bits (42) is capped by DART1's 36-bit entries.
  DartT8020Test() : DartTest({.generation = DartGeneration::kT8020, .instance = "dart-pcie0"}) {}

  std::uint64_t leaf_address_8020(std::uint32_t sid, std::uint64_t iova) const {
    const std::uint32_t t = dart_.read32(ttbr8020(sid, static_cast<std::uint32_t>(iova >> 36)));
    EXPECT_TRUE(t >> 31) << "TTBR not valid";
    const std::uint64_t l1 = std::uint64_t{t & 0x7fffffff} << 12;
    const std::uint64_t l1_entry = memory_.read_u64(l1 + 8 * ((iova >> 25) & 0x7ff));
    return (l1_entry & k8020PteOffset) + 8 * ((iova >> 14) & 0x7ff);
  }
};

TEST_F(DartT8020Test, NoTtbrUsesTheT8020Encoding) {
  dart_.write32(tcr8020(0), 1 << 7);
  const DartTranslation t = dart_.translate(0, 0x8000'0000, false);
  EXPECT_EQ(t.fault, DartFaultKind::kNoTtbr);
  EXPECT_EQ(t.error_status, 0x80000001u);
  EXPECT_EQ(dart_.read32(k8020Error), 0x80000001u);
  EXPECT_EQ(dart_.read32(k8020ErrorAddrLo), 0x80000000u);
  EXPECT_EQ(dart_.read32(k8020ErrorAddrHi), 0u);
  dart_.translate(5, 0x8000'0000, true);  // TCR 0: blocked, not latched over the first
  EXPECT_EQ(dart_.read32(k8020Error), 0x80000001u);
  dart_.write32(k8020Error, dart_.read32(k8020Error));
  EXPECT_EQ(dart_.error_status(), 0u);
  EXPECT_EQ(dart_.translate(5, 0x8000'0000, true).error_status, kFlag | stream8020(5) | k8020Write | k8020NoTtbr);
  EXPECT_EQ(dart_.read32(k8020Error), 0x85000401u);  // a write: m1n1's WRITE, bit 10
}

TEST_F(DartT8020Test, RegistersAndPteFormat) {
  dart_.enable_translation(2);
  EXPECT_EQ(dart_.read32(tcr8020(2)), 1u << 7);
  const std::uint32_t t = dart_.read32(ttbr8020(2, 0));
  EXPECT_EQ(t, (1u << 31) | static_cast<std::uint32_t>(kTableBase >> 12));
  EXPECT_EQ(dart_.read32(ttbr8020(2, 1)), 0u);  // 36-bit IOVAs need one TTBR
  EXPECT_EQ(dart_.read32(k8020StreamsEnable), 0xffffu);

  dart_.map(2, 0x4000'0000, kBuffer, kPage, {.read = true, .write = false});
  const std::uint64_t leaf = memory_.read_u64(leaf_address_8020(2, 0x4000'0000));
  EXPECT_EQ(leaf & 1, 1u);
  EXPECT_EQ(leaf & k8020PteOffset, kBuffer);  // PA in place, 39:14
  EXPECT_EQ(leaf & k8020PteNoWrite, k8020PteNoWrite);
  EXPECT_EQ(leaf & k8020PteNoRead, 0u);
  EXPECT_EQ(leaf & k8020PteSpProtDis, k8020PteSpProtDis);  // subpage protection disabled
  EXPECT_EQ(leaf >> 52, 0u);                               // SP_START 0
  EXPECT_EQ(leaf >> 40 & 0xfff, 0xfffu);                   // SP_END 0xfff: the whole page
  const DartTranslation r = dart_.translate(2, 0x4000'0000 + 0x40, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.pa, kBuffer + 0x40);
}

TEST_F(DartT8020Test, NoPmdNoPteAndWriteFault) {
  dart_.enable_translation(3);
  dart_.map(3, 0x4000'0000, kBuffer, kPage, {.read = true, .write = false});
  EXPECT_EQ(dart_.translate(3, 0x4000'0000 + kPage, false).error_status, kFlag | stream8020(3) | k8020NoPte);
  EXPECT_EQ(dart_.translate(3, 0x6000'0000, false).error_status, kFlag | stream8020(3) | k8020NoPmd);
  const DartTranslation w = dart_.translate(3, 0x4000'0000, true);
  EXPECT_EQ(w.fault, DartFaultKind::kWriteFault);
  EXPECT_EQ(w.error_status, kFlag | stream8020(3) | k8020Write | k8020WriteFault);
  EXPECT_EQ(w.error_status, 0x83000408u);
  dart_.map(3, 0x5000'0000, kBuffer, kPage, {.read = false, .write = true});
  EXPECT_EQ(dart_.translate(3, 0x5000'0000, false).error_status, kFlag | stream8020(3) | k8020ReadFault);
  EXPECT_EQ(dart_.translate(3, 0x6000'0000, true).error_status, kFlag | stream8020(3) | k8020Write | k8020NoPmd);
  EXPECT_EQ(dart_.error_status(), 0x83000004u);  // the first of them, NO_PTE on a read
}

TEST_F(DartT8020Test, StreamCommandInvalidatesTheSelectedStreams) {
  dart_.enable_translation(1);
  dart_.enable_translation(2);
  dart_.map(1, 0, kBuffer, kPage, {});
  dart_.map(2, 0, kBuffer, kPage, {});
  dart_.translate(1, 0, false);
  dart_.translate(2, 0, false);
  memory_.write_u64(leaf_address_8020(1, 0), 0);
  memory_.write_u64(leaf_address_8020(2, 0), 0);
  dart_.write32(k8020StreamSelect, 1 << 2);
  dart_.write32(k8020StreamCommand, 1 << 20);
  EXPECT_EQ(dart_.read32(k8020StreamCommand) & (1 << 2), 0u);  // never busy
  EXPECT_EQ(dart_.translate(2, 0, false).fault, DartFaultKind::kNoPte);
  EXPECT_TRUE(dart_.translate(1, 0, false).tlb_hit);
  dart_.write32(k8020StreamSelect, 0xffff);
  dart_.write32(k8020StreamCommand, 1 << 20);
  EXPECT_EQ(dart_.translate(1, 0, false).fault, DartFaultKind::kNoPte);
}

TEST_F(DartT8020Test, PteT8020HoldsA40BitAddress) {
  dart_.enable_translation(1);
  const std::string msg =
      message_of<std::invalid_argument>([&] { dart_.map(1, 0, 1ULL << 40, kPage, {}); });
  EXPECT_NE(msg.find("exceeds the 40-bit physical address space"), std::string::npos) << msg;
  // A PA above Linux's 36-bit DART1 mask (35:12) but within m1n1's OFFSET 39:14.
  const std::uint64_t high = (1ULL << 39) | (1ULL << 36) | 5 * kPage;
  dart_.map(1, 0, high, kPage, {});
  EXPECT_EQ(memory_.read_u64(leaf_address_8020(1, 0)) & k8020PteOffset, high);
  EXPECT_EQ(dart_.translate(1, 0x10, false).pa, high + 0x10);
  dart_.map(1, kPage, (1ULL << 40) - kPage, kPage, {});
  EXPECT_EQ(dart_.translate(1, kPage, false).pa, (1ULL << 40) - kPage);
  EXPECT_EQ(dart_.read32(0x08), 0u);  // no PARAMS3 on this generation
}

TEST(DartT8020Tables, TablesAbove40BitsAreRefused) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(1ULL << 40, 4 * kPage);
  Dart dart({.generation = DartGeneration::kT8020}, memory, tables);
  EXPECT_THROW(dart.enable_translation(0), std::runtime_error);
  EXPECT_EQ(tables.pages_in_use(), 0u);  // the unusable page went back
}

TEST_F(DartT8020Test, ConfigLockBit15LocksTcrAndTtbrUntilReset) {
  constexpr std::uint32_t kConfig = 0x60;
  dart_.write32(kConfig, 1 << 15);
  dart_.write32(kConfig, 0);  // cannot be unlocked
  EXPECT_EQ(dart_.read32(kConfig), 1u << 15);
  dart_.write32(tcr8020(1), 1 << 7);
  EXPECT_EQ(dart_.read32(tcr8020(1)), 0u);
  EXPECT_THROW(dart_.enable_translation(1), std::runtime_error);
}

TEST_F(DartT8020Test, BypassBit8) {
  dart_.write32(tcr8020(4), (1 << 8) | (1 << 12));
  const DartTranslation t = dart_.translate(4, 0x1234'5678, true);
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.pa, 0x1234'5678u);
}

TEST(DartT8020, FourTtbrsCoverA38BitSpace) {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables(kTableBase, 32 * kPage);
  Dart dart({.generation = DartGeneration::kT8020, .va_bits = 38}, memory, tables);
  dart.enable_translation(1);
  EXPECT_EQ(tables.pages_in_use(), 4u);  // one L1 table per TTBR, as Linux allocates them
  for (std::uint32_t idx = 0; idx < 4; ++idx) {
    EXPECT_EQ(dart.read32(ttbr8020(1, idx)) >> 31, 1u) << idx;
  }
  const std::uint64_t high = (3ULL << 36) + 0x8000'0000;
  dart.map(1, high, kBuffer, kPage, {});
  EXPECT_EQ(dart.translate(1, high + 4, false).pa, kBuffer + 4);
  EXPECT_EQ(dart.lookup(1, 0x8000'0000), std::nullopt);  // same low bits, other TTBR
  dart.write32(ttbr8020(1, 3), 0);
  dart.write32(k8020StreamSelect, 1 << 1);
  dart.write32(k8020StreamCommand, 1 << 20);
  EXPECT_EQ(dart.translate(1, high, false).fault, DartFaultKind::kNoTtbr);
}

// ---- ERROR in words ----

TEST(DartErrorWords, T8110StatusesOfThePublicPanicsDecode) {
  // The field report's PCIe panic: a read by SID 0 with no valid TTBR.
  EXPECT_EQ(describe_error(DartGeneration::kT8110, 0x80000001),
            "FLAG (an error is latched), read, SID 0, NO_TTBR (no valid translation table base for the stream at this "
            "IOVA)");
  // zed-industries/zed#9493 (M3 Pro): "SID 0 PTE invalid exception on write ... ERROR_STATUS 0x90000008".
  EXPECT_EQ(describe_error(DartGeneration::kT8110, 0x90000008),
            "FLAG (an error is latched), write, SID 0, NO_PTE (no valid page table entry for this IOVA)");
  const DartErrorFields f = decode_error(DartGeneration::kT8110, kFlag | kWrite | sid_field(0x4b) | kNoPmd);
  EXPECT_TRUE(f.flag);
  EXPECT_TRUE(f.write);
  EXPECT_EQ(f.sid, 0x4bu);
  EXPECT_EQ(f.codes, std::vector<std::string>{"NO_PMD"});
  // Every code bit m1n1's dart8110.py names, and the ones it does not.
  const std::vector<std::pair<unsigned, std::string>> names = {
      {0, "NO_TTBR"},          {1, "NO_PGD"},        {2, "NO_PMD"},     {3, "NO_PTE"},      {4, "WRITE_FAULT"},
      {5, "READ_FAULT"},       {6, "AXI_DECODE"},    {7, "AXI_ERROR"},  {8, "CTRR_WRITE_PROTECT"},
      {9, "DROP_PROTECT"},     {10, "APF_REJECT"},   {11, "STT_MISMATCH"}, {12, "STT_FLUSH"}, {13, "EXTERNAL"},
      {14, "BPF_REJECT"},      {15, "bit 15"},       {18, "FILL_REGION"}, {19, "SECONDARY"}, {29, "REGION_PROTECT"},
      {30, "SMMU"}};
  for (const auto& [bit, name] : names) {
    EXPECT_EQ(decode_error(DartGeneration::kT8110, kFlag | (1u << bit)).codes, std::vector<std::string>{name}) << bit;
  }
}

TEST(DartErrorWords, T8020StatusesDecodeAsM1n1NamesTheBits) {
  // signalapp/Signal-Desktop#5442 (M1): "SID 0 PTE invalid exception on read ... ERROR_STATUS 0x80000004".
  EXPECT_EQ(describe_error(DartGeneration::kT8020, 0x80000004),
            "FLAG (an error is latched), read, SID 0, NO_PTE (no valid page table entry for this IOVA)");
  EXPECT_EQ(describe_error(DartGeneration::kT8020, kFlag | stream8020(3) | k8020Write | k8020WriteFault),
            "FLAG (an error is latched), write, SID 3, WRITE_FAULT (the page table entry forbids writes)");
  const DartErrorFields f =
      decode_error(DartGeneration::kT8020, kFlag | stream8020(15) | k8020PteReadFault | k8020SubpageProt | k8020NoDapfMatch);
  EXPECT_FALSE(f.write);
  EXPECT_EQ(f.sid, 15u);
  EXPECT_EQ(f.codes, (std::vector<std::string>{"PTE_READ_FAULT", "SUBPAGE_PROT", "NO_DAPF_MATCH"}));
  EXPECT_EQ(decode_error(DartGeneration::kT8020, k8020NoTtbr).codes, std::vector<std::string>{"NO_TTBR"});
  EXPECT_EQ(decode_error(DartGeneration::kT8020, k8020NoPmd | k8020ReadFault).codes,
            (std::vector<std::string>{"NO_PMD", "READ_FAULT"}));
  EXPECT_EQ(decode_error(DartGeneration::kT8020, 1u << 5 | 1u << 23).codes, (std::vector<std::string>{"bit 5", "bit 23"}));
  EXPECT_EQ(describe_error(DartGeneration::kT8020, 0), "no FLAG (nothing latched), read, SID 0, no code bit set");
}

TEST_F(DartT8020Test, TheModelsFaultsDecodeToTheirOwnCodes) {
  dart_.enable_translation(2);
  dart_.map(2, 0, kBuffer, kPage, {.read = false, .write = false});
  const DartTranslation r = dart_.translate(2, 0, false);
  EXPECT_EQ(decode_error(DartGeneration::kT8020, r.error_status).codes, std::vector<std::string>{"READ_FAULT"});
  const DartTranslation w = dart_.translate(2, 0, true);
  const DartErrorFields f = decode_error(DartGeneration::kT8020, w.error_status);
  EXPECT_TRUE(f.write);
  EXPECT_EQ(f.sid, 2u);
  EXPECT_EQ(f.codes, std::vector<std::string>{"WRITE_FAULT"});
}

TEST_F(DartTest, TcrAndStreamEnableReadBackForExplanations) {
  EXPECT_EQ(dart_.tcr(3), 0u);
  EXPECT_TRUE(dart_.stream_is_enabled(3));
  dart_.enable_translation(3);
  EXPECT_EQ(dart_.tcr(3), 1u);
  dart_.write32(kDisableStreams, 1 << 3);
  EXPECT_FALSE(dart_.stream_is_enabled(3));
  EXPECT_THROW((void)dart_.tcr(16), std::out_of_range);
}

}  // namespace
}  // namespace dexthil::iommu
