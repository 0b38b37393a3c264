#include <gtest/gtest.h>

#include "harness/util/exception_message.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "harness/hostmem/page_allocator.hpp"

namespace dexthil::hostmem {
namespace {

constexpr std::uint64_t kBase = 0x8'0000'0000;
constexpr std::uint64_t kPage = 16 * 1024;

using util::message_of;

TEST(PageAllocator, HandsOutTheLowestFreePagesFirst) {
  PageAllocator a(kBase, 8 * kPage);
  EXPECT_EQ(a.page_size(), kPage);
  EXPECT_EQ(a.allocate(), kBase);
  EXPECT_EQ(a.allocate(2), kBase + kPage);
  EXPECT_EQ(a.allocate(), kBase + 3 * kPage);
  EXPECT_EQ(a.pages_in_use(), 4u);
}

TEST(PageAllocator, SameRequestsGiveSameAddresses) {
  auto run = [] {
    PageAllocator a(kBase, 64 * kPage);
    const std::uint64_t x = a.allocate(3), y = a.allocate(5);
    a.free(x, 3);
    const std::uint64_t z = a.allocate(2);
    return std::vector<std::uint64_t>{x, y, z};
  };
  EXPECT_EQ(run(), run());
  EXPECT_EQ(run(), (std::vector<std::uint64_t>{kBase, kBase + 3 * kPage, kBase}));
}

TEST(PageAllocator, FreedPagesAreReusedLowestFirst) {
  PageAllocator a(kBase, 8 * kPage);
  const std::uint64_t p0 = a.allocate(), p1 = a.allocate(), p2 = a.allocate();
  a.free(p1);
  a.free(p0);
  EXPECT_EQ(a.pages_in_use(), 1u);
  EXPECT_EQ(a.allocate(), p0);
  EXPECT_EQ(a.allocate(), p1);
  EXPECT_EQ(a.allocate(), p2 + kPage);
}

TEST(PageAllocator, FreeMergesNeighboursIntoOneRun) {
  PageAllocator a(kBase, 4 * kPage);
  const std::uint64_t p0 = a.allocate(), p1 = a.allocate(), p2 = a.allocate(), p3 = a.allocate();
  // Free the outer pages, then the middle ones: only merging both ways gives back 4 contiguous pages.
  a.free(p0);
  a.free(p3);
  a.free(p2);
  a.free(p1);
  EXPECT_EQ(a.pages_in_use(), 0u);
  EXPECT_EQ(a.allocate(4), kBase);
}

TEST(PageAllocator, ContiguousRequestSkipsRunsThatAreTooShort) {
  PageAllocator a(kBase, 8 * kPage);
  const std::uint64_t p0 = a.allocate();
  a.allocate();
  a.free(p0);  // a one-page hole at the bottom
  EXPECT_EQ(a.allocate(2), kBase + 2 * kPage);
  EXPECT_EQ(a.allocate(), p0);  // the hole is still the lowest single page
}

TEST(PageAllocator, ExhaustionNamesTheRegionAndTheSizes) {
  PageAllocator a(kBase, 4 * kPage);
  a.allocate();
  a.allocate(2);
  a.free(kBase);  // 2 pages free, but not contiguous
  const std::string msg = message_of<std::runtime_error>([&] { a.allocate(2); });
  EXPECT_NE(msg.find("host memory region [0x800000000, 0x800010000) exhausted: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 pages of 16384 bytes (32768 bytes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 pages of 4 pages free"), std::string::npos) << msg;
  EXPECT_NE(msg.find("largest free run 1 page"), std::string::npos) << msg;
  EXPECT_EQ(a.pages_in_use(), 2u);  // a failed request changes nothing
  EXPECT_EQ(a.allocate(), kBase);
  EXPECT_EQ(a.allocate(), kBase + 3 * kPage);
  EXPECT_THROW(a.allocate(), std::runtime_error);
}

TEST(PageAllocator, AHugeRequestIsExhaustionNotOverflow) {
  PageAllocator a(kBase, 4 * kPage);
  EXPECT_THROW(a.allocate(UINT64_MAX), std::runtime_error);
  EXPECT_THROW(a.allocate(0), std::invalid_argument);
}

TEST(PageAllocator, FreeingWhatIsNotAllocatedIsRejected) {
  PageAllocator a(kBase, 8 * kPage);
  const std::uint64_t p = a.allocate(2);
  EXPECT_THROW(a.free(p + 2 * kPage), std::invalid_argument);  // never allocated
  EXPECT_THROW(a.free(p, 3), std::invalid_argument);           // runs into free pages
  EXPECT_THROW(a.free(p + 1), std::invalid_argument);          // misaligned
  EXPECT_THROW(a.free(kBase - kPage), std::invalid_argument);  // below the region
  EXPECT_THROW(a.free(kBase + 8 * kPage), std::invalid_argument);  // past the end
  EXPECT_THROW(a.free(p, UINT64_MAX), std::invalid_argument);
  EXPECT_THROW(a.free(p, 0), std::invalid_argument);
  a.free(p + kPage);  // part of an allocation may go back on its own
  const std::string msg = message_of<std::invalid_argument>([&] { a.free(p + kPage); });  // double free
  EXPECT_NE(msg.find("0x800004000 is not allocated"), std::string::npos) << msg;
  a.free(p);
  EXPECT_EQ(a.pages_in_use(), 0u);
}

TEST(PageAllocator, RegionMustBePageAligned) {
  EXPECT_THROW(PageAllocator(kBase + 1, 4 * kPage), std::invalid_argument);
  EXPECT_THROW(PageAllocator(kBase, 4 * kPage + 1), std::invalid_argument);
  EXPECT_THROW(PageAllocator(kBase, 4 * kPage, 0), std::invalid_argument);
  EXPECT_THROW(PageAllocator(UINT64_MAX - kPage + 1, 2 * kPage), std::invalid_argument);
  PageAllocator empty(kBase, 0);
  EXPECT_THROW(empty.allocate(), std::runtime_error);
}

TEST(PageAllocator, OtherPageSizes) {
  PageAllocator a(0x1000, 0x4000, 0x1000);
  EXPECT_EQ(a.allocate(), 0x1000u);
  EXPECT_EQ(a.allocate(3), 0x2000u);
  EXPECT_THROW(a.allocate(), std::runtime_error);
}

}  // namespace
}  // namespace dexthil::hostmem
