#include <gtest/gtest.h>

#include "harness/iommu/mapper.hpp"

namespace dexthil::iommu {
namespace {

struct MapperRig {
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables{0x10'0000'0000, 64 << 20};
  Dart dart{DartConfig{}, memory, tables};
  DartMapper mapper{dart};
};

TEST(DartMapper, HandsOutIovasFromTheBaseAndMapsThem) {
  MapperRig s;
  std::string error;
  auto a = s.mapper.prepare("dev", {1}, 0x20'0000'0100, 100, {}, 64, 0, &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(*a, 0x8000'0100u);  // the page offset of the buffer carries over into the IOVA
  EXPECT_EQ(s.dart.lookup(1, *a), 0x20'0000'0100u);
  auto b = s.mapper.prepare("dev", {1}, 0x20'0010'0000, 40000, {}, 64, 0, &error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(*b, 0x8000'4000u);  // next free page; 40000 bytes span three pages
  EXPECT_TRUE(s.dart.lookup(1, *b + 39999));
  EXPECT_FALSE(s.dart.lookup(2, *b));  // only under the SIDs it was given
}

TEST(DartMapper, ThirtyOneBitDevicesFailBecauseIovasStartAt2GiB) {
  MapperRig s;
  std::string error;
  EXPECT_FALSE(s.mapper.prepare("dev", {1}, 0x20'0000'0000, 4096, {}, 31, 0, &error));
  EXPECT_EQ(error, "IOVA 0x80000000 + 4096 bytes needs more than the 31 address bits the device can drive (IOVAs start at 0x80000000)");
  EXPECT_TRUE(s.mapper.prepare("dev", {1}, 0x20'0000'0000, 4096, {}, 32, 0, &error));
}

TEST(DartMapper, CompleteUnmapsAndKeepsTheRecord) {
  MapperRig s;
  std::string error;
  auto a = s.mapper.prepare("dev", {1, 0}, 0x20'0000'0000, 4096, DmaDirection{true, false}, 64, 10, &error);
  ASSERT_TRUE(a);
  EXPECT_EQ(s.dart.sids_mapping(*a), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_NE(s.mapper.live_containing("dev", *a, 4096), nullptr);
  EXPECT_EQ(s.mapper.live_containing("dev", *a, 4097), nullptr);
  EXPECT_EQ(s.mapper.live_containing("other", *a, 16), nullptr);
  EXPECT_TRUE(s.mapper.complete(*a, 20));
  EXPECT_FALSE(s.mapper.complete(*a, 30));
  EXPECT_TRUE(s.dart.sids_mapping(*a).empty());
  const PreparedMapping* done = s.mapper.completed_overlapping("dev", *a + 100, 8);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->completed_at, 20u);
  // The freed range is handed out again.
  auto again = s.mapper.prepare("dev", {1}, 0x20'0000'4000, 16, {}, 64, 40, &error);
  EXPECT_EQ(again, 0x8000'0000u);
}

}  // namespace
}  // namespace dexthil::iommu
