#pragma once
// Simulated host memory: sparse and paged, so a 16 MiB ring or gigabytes of disk traffic cost
// only the pages that are touched. Untouched memory reads as zero.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

namespace dexthil::hostmem {

class SparseMemory {
 public:
  static constexpr std::uint64_t kPageSize = 16 * 1024;  // Apple silicon's page size

  void read(std::uint64_t address, std::span<std::uint8_t> out) const;
  void write(std::uint64_t address, std::span<const std::uint8_t> data);
  std::uint64_t read_u64(std::uint64_t address) const;
  void write_u64(std::uint64_t address, std::uint64_t value);

  // Lets host bytes stand for [address, address + size) (page aligned, whole pages): a buffer a
  // driver maps and the device DMAs into is then one set of bytes. detach() hands the range back
  // to ordinary pages, keeping what it holds.
  void attach(std::uint64_t address, std::uint8_t* host, std::uint64_t size);
  void detach(std::uint64_t address, std::uint64_t size);

  std::size_t resident_pages() const { return pages_.size(); }
  std::uint64_t resident_bytes() const { return pages_.size() * kPageSize; }

 private:
  struct Page {
    std::unique_ptr<std::uint8_t[]> owned;  // null when attached host bytes back the page
    std::uint8_t* data = nullptr;
  };
  std::unordered_map<std::uint64_t, Page> pages_;  // keyed by address / kPageSize
  // Pages found once are found again without the map: DMA touches the same few pages over and
  // over (a 4 KiB transfer in 512-byte TLPs looks one page up eight times). A direct-mapped
  // cache of page numbers; its entries point at the map's nodes, which stay where they are as
  // the map grows, and pages are never erased.
  Page* find(std::uint64_t number) const;
  static constexpr std::size_t kCachedPages = 64;
  struct CachedPage {
    std::uint64_t number = ~std::uint64_t{0};
    Page* page = nullptr;
  };
  mutable std::array<CachedPage, kCachedPages> cache_;
};

}  // namespace dexthil::hostmem
