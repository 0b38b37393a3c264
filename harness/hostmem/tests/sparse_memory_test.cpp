#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "harness/hostmem/sparse_memory.hpp"

namespace dexthil::hostmem {
namespace {

TEST(SparseMemory, UntouchedMemoryReadsZeroAndCostsNothing) {
  SparseMemory m;
  std::vector<std::uint8_t> out(64, 0xff);
  m.read(0x1234'5678'0000, out);
  EXPECT_EQ(out, std::vector<std::uint8_t>(64, 0));
  EXPECT_EQ(m.resident_pages(), 0u);
}

TEST(SparseMemory, AccessesAcrossPageBoundariesRoundTrip) {
  SparseMemory m;
  std::vector<std::uint8_t> data(3 * SparseMemory::kPageSize);
  std::iota(data.begin(), data.end(), 0);
  const std::uint64_t at = 0x8000'0000 + SparseMemory::kPageSize - 5;  // straddles four pages
  m.write(at, data);
  EXPECT_EQ(m.resident_pages(), 4u);
  std::vector<std::uint8_t> back(data.size());
  m.read(at, back);
  EXPECT_EQ(back, data);
  m.write_u64(at + 1, 0x0102030405060708ULL);
  EXPECT_EQ(m.read_u64(at + 1), 0x0102030405060708ULL);
  std::uint8_t first = 0xaa;
  m.read(at + 1, {&first, 1});
  EXPECT_EQ(first, 0x08);  // little-endian, as the host CPU stores it
}

TEST(SparseMemory, A16MiBRingTouchedSparselyStaysSmall) {
  SparseMemory m;
  const std::uint64_t ring = 16 << 20;
  for (std::uint64_t off = 0; off < ring; off += 1 << 20) m.write_u64(0x8000'0000 + off, off);
  EXPECT_EQ(m.resident_pages(), 16u);
  EXPECT_EQ(m.resident_bytes(), 16 * SparseMemory::kPageSize);
  EXPECT_EQ(m.read_u64(0x8000'0000 + (5 << 20)), std::uint64_t{5} << 20);
}

}  // namespace
}  // namespace dexthil::hostmem
