#pragma once
// Hands out physical pages of simulated host memory: for DART page tables now, for DriverKit's
// buffers later. Deterministic (lowest free page first) so a seed gives the same addresses.
#include <cstdint>
#include <map>
#include <string>

namespace dexthil::hostmem {

class PageAllocator {
 public:
  // Pages of `page_size` bytes in [base, base + size).
  PageAllocator(std::uint64_t base, std::uint64_t size, std::uint64_t page_size = 16 * 1024);

  // Returns the physical address of `count` contiguous pages; throws std::runtime_error when
  // the region is exhausted.
  std::uint64_t allocate(std::uint64_t count = 1);
  void free(std::uint64_t address, std::uint64_t count = 1);
  std::uint64_t page_size() const { return page_size_; }
  std::uint64_t pages_in_use() const { return in_use_; }

 private:
  std::uint64_t page_count() const { return size_ / page_size_; }
  std::string describe_region() const;

  std::uint64_t base_, size_, page_size_;
  // Free runs keyed by start address, valued in pages; neighbours are always merged, so two runs
  // never touch and the first run long enough is the lowest address that fits.
  std::map<std::uint64_t, std::uint64_t> free_runs_;
  std::uint64_t in_use_ = 0;
};

}  // namespace dexthil::hostmem
