#include "harness/util/hex.hpp"
#include "harness/hostmem/page_allocator.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <stdexcept>

namespace dexthil::hostmem {
namespace {

std::string pages(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " page" : " pages"); }

}  // namespace

PageAllocator::PageAllocator(std::uint64_t base, std::uint64_t size, std::uint64_t page_size)
    : base_(base), size_(size), page_size_(page_size) {
  if (page_size == 0) throw std::invalid_argument("page allocator with a page size of zero");
  // Unaligned bounds would hand out unaligned "pages", which no page table could point at.
  if (base % page_size != 0 || size % page_size != 0) {
    throw std::invalid_argument("page allocator region base " + util::hex(base) + " size " + util::hex(size) +
                                " is not a multiple of the page size " + util::hex(page_size));
  }
  if (size > UINT64_MAX - base) {
    throw std::invalid_argument("page allocator region base " + util::hex(base) + " size " + util::hex(size) +
                                " wraps around the address space");
  }
  if (size != 0) free_runs_.emplace(base, page_count());
}

std::string PageAllocator::describe_region() const {
  return "host memory region [" + util::hex(base_) + ", " + util::hex(base_ + size_) + ")";
}

std::uint64_t PageAllocator::allocate(std::uint64_t count) {
  if (count == 0) throw std::invalid_argument("allocation of zero pages from " + describe_region());
  std::uint64_t largest = 0;
  for (auto it = free_runs_.begin(); it != free_runs_.end(); ++it) {
    const auto [start, length] = *it;
    if (length < count) {
      if (length > largest) largest = length;
      continue;
    }
    // Take the front of the run, so what stays free is as low as possible for the next request.
    free_runs_.erase(it);
    if (length > count) free_runs_.emplace(start + count * page_size_, length - count);
    in_use_ += count;
    return start;
  }
  const std::uint64_t free_pages = page_count() - in_use_;
  std::string wanted = pages(count) + " of " + std::to_string(page_size_) + " bytes";
  if (count <= UINT64_MAX / page_size_) wanted += " (" + std::to_string(count * page_size_) + " bytes)";
  throw std::runtime_error(describe_region() + " exhausted: " + wanted + " requested contiguously, " +
                           pages(free_pages) + " of " + pages(page_count()) + " free, largest free run " +
                           pages(largest));
}

void PageAllocator::free(std::uint64_t address, std::uint64_t count) {
  const std::string what = pages(count) + " at " + util::hex(address);
  if (count == 0) throw std::invalid_argument("free of zero pages at " + util::hex(address));
  if (address < base_ || (address - base_) % page_size_ != 0) {
    throw std::invalid_argument("free of " + what + ": not a page boundary in " + describe_region());
  }
  const std::uint64_t first_page = (address - base_) / page_size_;
  if (count > page_count() - std::min(first_page, page_count())) {
    throw std::invalid_argument("free of " + what + ": runs past the end of " + describe_region());
  }
  const std::uint64_t end = address + count * page_size_;

  // Every page being returned must be allocated now, i.e. overlap no free run.
  auto next = free_runs_.lower_bound(address);
  if (next != free_runs_.end() && next->first < end) {
    throw std::invalid_argument("free of " + what + ": page " + util::hex(next->first) + " is not allocated");
  }
  if (next != free_runs_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second * page_size_ > address) {
      throw std::invalid_argument("free of " + what + ": page " + util::hex(address) + " is not allocated");
    }
  }

  // Merge with the neighbours so the run list stays minimal and first-fit finds long runs.
  std::uint64_t start = address;
  std::uint64_t length = count;
  if (next != free_runs_.end() && next->first == end) {
    length += next->second;
    next = free_runs_.erase(next);
  }
  if (next != free_runs_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second * page_size_ == address) {
      start = prev->first;
      length += prev->second;
      free_runs_.erase(prev);
    }
  }
  free_runs_.emplace(start, length);
  in_use_ -= count;
}

}  // namespace dexthil::hostmem
