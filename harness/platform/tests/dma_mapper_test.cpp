#include <gtest/gtest.h>

#include <vector>

#include "harness/platform/dma_mapper.hpp"

namespace dexthil::platform {
namespace {

struct MapperRig {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables{0x10'0000'0000, 64 << 20};
  iommu::Dart dart{iommu::DartConfig{}, memory, tables};
  DmaMapper mapper{&dart};
};

TEST(DmaMapper, HandsOutIovasFromTheBaseAndMapsThem) {
  MapperRig s;
  std::string error;
  auto a = s.mapper.prepare("dev", {1}, 0x20'0000'0100, 100, {}, 64, 0, &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->iova, 0x8000'0100u);  // the page offset of the buffer carries over into the IOVA
  EXPECT_EQ(s.dart.lookup(1, a->iova), 0x20'0000'0100u);
  auto b = s.mapper.prepare("dev", {1}, 0x20'0010'0000, 40000, {}, 64, 0, &error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->iova, 0x8000'4000u);  // next free page; 40000 bytes span three pages
  EXPECT_TRUE(s.dart.lookup(1, b->iova + 39999));
  EXPECT_FALSE(s.dart.lookup(2, b->iova));  // only under the SIDs it was given
}

TEST(DmaMapper, ThirtyOneBitDevicesFailBecauseIovasStartAt2GiB) {
  MapperRig s;
  std::string error;
  EXPECT_FALSE(s.mapper.prepare("dev", {1}, 0x20'0000'0000, 4096, {}, 31, 0, &error));
  EXPECT_EQ(error, "IOVA 0x80000000 + 4096 bytes needs more than the 31 address bits the device can drive (IOVAs start at 0x80000000)");
  EXPECT_TRUE(s.mapper.prepare("dev", {1}, 0x20'0000'0000, 4096, {}, 32, 0, &error));
}

TEST(DmaMapper, CompleteUnmapsAndKeepsTheRecord) {
  MapperRig s;
  std::string error;
  auto a = s.mapper.prepare("dev", {1, 0}, 0x20'0000'0000, 4096, DmaDirection{true, false}, 64, 10, &error);
  ASSERT_TRUE(a);
  EXPECT_EQ(s.dart.sids_mapping(a->iova), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_NE(s.mapper.live_containing("dev", a->iova, 4096), nullptr);
  EXPECT_EQ(s.mapper.live_containing("dev", a->iova, 4097), nullptr);
  EXPECT_EQ(s.mapper.live_containing("other", a->iova, 16), nullptr);
  EXPECT_TRUE(s.mapper.complete(a->id, 20));
  EXPECT_FALSE(s.mapper.complete(a->id, 30));
  EXPECT_TRUE(s.dart.sids_mapping(a->iova).empty());
  const PreparedMapping* done = s.mapper.completed_overlapping("dev", a->iova + 100, 8);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->completed_at, 20u);
  // The freed range is handed out again.
  auto again = s.mapper.prepare("dev", {1}, 0x20'0000'4000, 16, {}, 64, 40, &error);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->iova, 0x8000'0000u);
}

// Behind a DART live mappings never share IOVAs, so a lookup finds the one mapping that can hold
// an address, among small mappings above a large one, and nothing in the gaps between them.
TEST(DmaMapper, LookupsFindTheMappingThatHoldsAnAddressAndNothingBetween) {
  MapperRig s;
  std::string error;
  auto large = s.mapper.prepare("dev", {1}, 0x20'0000'0000, 1 << 20, {}, 64, 0, &error);
  ASSERT_TRUE(large) << error;
  std::vector<Prepared> small;
  for (int i = 0; i < 8; ++i) {
    auto m = s.mapper.prepare("dev", {1}, 0x20'1000'0000 + i * 0x10000 + 0x100, 512, {}, 64, 0, &error);
    ASSERT_TRUE(m) << error;
    small.push_back(*m);
  }
  EXPECT_EQ(s.mapper.live_containing("dev", large->iova + (1 << 20) - 8, 8)->id, large->id);
  for (const Prepared& m : small) {
    const PreparedMapping* found = s.mapper.live_containing("dev", m.iova + 100, 8);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->id, m.id);
    EXPECT_EQ(s.mapper.live_containing("dev", m.iova + 510, 8), nullptr);   // runs past its end
    EXPECT_EQ(s.mapper.live_containing("dev", m.iova - 0x100, 8), nullptr);  // the page's head, not prepared
  }
  // A range that starts in a gap and reaches a mapping overlaps it.
  const PreparedMapping* overlap = s.mapper.live_overlapping("dev", small[3].iova - 16, 32);
  ASSERT_NE(overlap, nullptr);
  EXPECT_EQ(overlap->id, small[3].id);
}

TEST(DmaMapper, HistoryStaysBoundedOverALongRun) {
  // A driver that prepares and completes one buffer per I/O for a whole night: IOVAs are reused
  // first fit, so only the latest completed mapping at each address stays on record.
  MapperRig s;
  std::string error;
  for (int i = 0; i < 10000; ++i) {
    auto a = s.mapper.prepare("dev", {1}, 0x20'0000'0000 + (i % 3) * 0x4000, 4096, {}, 64, i, &error);
    ASSERT_TRUE(a) << error;
    ASSERT_TRUE(s.mapper.complete(a->id, i));
  }
  EXPECT_EQ(s.mapper.live_count(), 0u);
  EXPECT_EQ(s.mapper.completed_count(), 1u);
  const PreparedMapping* last = s.mapper.completed_overlapping("dev", 0x8000'0000, 4);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->completed_at, 9999u);
}

TEST(DmaMapper, WithoutAnIommuDevicesGetPhysicalAddresses) {
  DmaMapper mapper(nullptr);
  std::string error;
  auto a = mapper.prepare("dev", {}, 0x20'0000'0100, 100, DmaDirection{true, false}, 64, 0, &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->iova, 0x20'0000'0100u);
  // The same buffer prepared twice (two DMA commands) has one address and two mappings.
  auto b = mapper.prepare("dev", {}, 0x20'0000'0100, 100, DmaDirection{false, true}, 64, 0, &error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->iova, a->iova);
  EXPECT_NE(b->id, a->id);
  EXPECT_TRUE(mapper.complete(a->id, 5));
  const PreparedMapping* left = mapper.live_containing("dev", a->iova, 100);
  ASSERT_NE(left, nullptr);
  EXPECT_EQ(left->id, b->id);  // completing one leaves the other live
  EXPECT_TRUE(left->direction.device_writes);
}

TEST(DmaMapper, WithoutAnIommuMemoryAboveTheDeviceReachIsRefused) {
  // DriverKit has no bounce buffers: a 32-bit device cannot be given memory above 4 GiB.
  DmaMapper mapper(nullptr);
  std::string error;
  EXPECT_FALSE(mapper.prepare("dev", {}, 0x20'0000'0000, 4096, {}, 32, 0, &error));
  EXPECT_EQ(error, "physical address 0x2000000000 + 4096 bytes needs more than the 32 address bits the device can drive, "
                   "and there is no IOMMU to remap it");
  EXPECT_TRUE(mapper.prepare("dev", {}, 0xf000'0000, 4096, {}, 32, 0, &error));
}

}  // namespace
}  // namespace dexthil::platform
