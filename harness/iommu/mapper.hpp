#pragma once
// The kernel's side of DMA mapping on Apple silicon: what PrepareForDMA and CompleteDMA do to a
// DART. It allocates IOVAs from a base (0x80000000 on the field machine) within the DART's
// address width, maps the buffer's pages under the SIDs it is told (macOS: the SID of the
// device's own RID only), and keeps a record of every prepared mapping, live or completed, so
// checks can say whether a DMA hit a live mapping, the wrong direction, or one already completed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/iommu/dart.hpp"
#include "harness/sim/time.hpp"

namespace dexthil::iommu {

// Which way the device may move data, in DriverKit's terms.
struct DmaDirection {
  bool device_reads = true;   // kIOMemoryDirectionOut: the device reads memory
  bool device_writes = true;  // kIOMemoryDirectionIn: the device writes memory
};

struct PreparedMapping {
  std::uint64_t id = 0;
  std::string owner;  // the endpoint it was prepared for
  std::uint64_t iova = 0;
  std::uint64_t length = 0;  // bytes the driver prepared; the DART maps whole 16 KiB pages
  DmaDirection direction;
  std::vector<std::uint32_t> sids;
  sim::SimTime prepared_at = 0;
  std::optional<sim::SimTime> completed_at;

  bool contains(std::uint64_t address, std::uint64_t bytes) const {
    return address >= iova && bytes <= length && address - iova <= length - bytes;
  }
  bool overlaps(std::uint64_t address, std::uint64_t bytes) const {
    return address < iova + length && iova < address + bytes;
  }
};

class DartMapper {
 public:
  static constexpr std::uint64_t kDefaultIovaBase = 0x8000'0000;

  DartMapper(Dart& dart, std::uint64_t iova_base = kDefaultIovaBase);

  // Maps `length` bytes of physical memory starting at `pa` (any alignment) under each SID, at
  // an IOVA from the allocator. Returns the IOVA of `pa`, or nullopt with *error naming the
  // reason (address space exhausted, or the result would exceed `max_address_bits`).
  std::optional<std::uint64_t> prepare(const std::string& owner, const std::vector<std::uint32_t>& sids,
                                       std::uint64_t pa, std::uint64_t length, DmaDirection direction,
                                       std::uint32_t max_address_bits, sim::SimTime now, std::string* error);
  // Unmaps and frees the IOVA range; the record stays, marked completed. False if not live.
  bool complete(std::uint64_t iova, sim::SimTime now);

  // The live mapping of `owner` that holds [address, address + bytes), if any.
  const PreparedMapping* live_containing(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;
  // The most recently completed mapping of `owner` overlapping the range, if any.
  const PreparedMapping* completed_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;
  // Any live mapping of `owner` overlapping the range (for "partly outside" messages).
  const PreparedMapping* live_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;

  const std::vector<PreparedMapping>& mappings() const { return mappings_; }
  Dart& dart() { return dart_; }

 private:
  std::optional<std::uint64_t> allocate(std::uint64_t pages);
  void release(std::uint64_t iova, std::uint64_t pages);

  Dart& dart_;
  std::uint64_t base_;
  std::uint64_t limit_;
  std::map<std::uint64_t, std::uint64_t> free_;  // IOVA -> pages, first fit, lowest first
  std::vector<PreparedMapping> mappings_;
  // Indexes into mappings_, so a long run's history does not make each lookup slower.
  std::map<std::uint64_t, std::size_t> live_;            // by IOVA; live mappings never overlap
  std::map<std::uint64_t, std::size_t> last_completed_;  // by IOVA: the latest completed mapping there
  std::uint64_t longest_ = 0;                            // bounds the search for overlaps
  std::uint64_t next_id_ = 1;
};

}  // namespace dexthil::iommu
