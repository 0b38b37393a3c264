#pragma once
// The macOS DART driver's side of DMA mapping (platform software, not the DART itself): what
// PrepareForDMA and CompleteDMA ask of it. Behind a DART (Apple silicon) it allocates IOVAs from
// a base (0x80000000 on the field machine) within the DART's address width and maps the buffer's
// pages under the SIDs it is told (macOS: the SID of the device's own RID only). Behind a root
// port without an IOMMU (an Intel Mac with VT-d off) nothing translates: the device gets physical
// addresses, and nothing stops a stray DMA. Either way it keeps every live mapping and the latest
// completed one at each address, so checks can say whether a DMA hit a live mapping, the wrong
// direction, or one already completed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/iommu/dart.hpp"
#include "harness/sim/time.hpp"

namespace dexthil::platform {

// Which way the device may move data, in DriverKit's terms.
struct DmaDirection {
  bool device_reads = true;   // kIOMemoryDirectionOut: the device reads memory
  bool device_writes = true;  // kIOMemoryDirectionIn: the device writes memory
};

struct PreparedMapping {
  std::uint64_t id = 0;
  std::string owner;  // the endpoint it was prepared for
  std::uint64_t iova = 0;    // the device-visible address (physical without an IOMMU)
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

// What prepare() hands back: where the device may reach the buffer, and the mapping's id for
// complete() (without an IOMMU two preparations of one buffer share an address).
struct Prepared {
  std::uint64_t iova = 0;
  std::uint64_t id = 0;
};

class DmaMapper {
 public:
  static constexpr std::uint64_t kDefaultIovaBase = 0x8000'0000;

  // Maps through `dart`; without one (nullptr) device addresses are physical addresses.
  explicit DmaMapper(iommu::Dart* dart, std::uint64_t iova_base = kDefaultIovaBase);

  // Makes `length` bytes of physical memory starting at `pa` (any alignment) reachable by the
  // device: behind a DART, mapped under each SID at an IOVA from the allocator. Returns nullopt
  // with *error naming the reason (IOVA space exhausted, or the address would need more than
  // `max_address_bits`; the error then contains "address bits").
  std::optional<Prepared> prepare(const std::string& owner, const std::vector<std::uint32_t>& sids, std::uint64_t pa,
                                  std::uint64_t length, DmaDirection direction, std::uint32_t max_address_bits,
                                  sim::SimTime now, std::string* error);
  // Unmaps and frees the IOVA range; the record stays, marked completed. False if not live.
  bool complete(std::uint64_t id, sim::SimTime now);

  // The live mapping of `owner` that holds [address, address + bytes), if any.
  const PreparedMapping* live_containing(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;
  // The most recently completed mapping of `owner` overlapping the range, if any.
  const PreparedMapping* completed_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;
  // Any live mapping of `owner` overlapping the range (for "partly outside" messages).
  const PreparedMapping* live_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const;

  std::size_t live_count() const { return live_.size(); }
  // Completed mappings on record: one per address, so a long run's history stays bounded.
  std::size_t completed_count() const { return completed_.size(); }
  iommu::Dart* dart() const { return dart_; }
  bool translates() const { return dart_ != nullptr; }

 private:
  std::optional<std::uint64_t> allocate(std::uint64_t pages);
  void release(std::uint64_t iova, std::uint64_t pages);
  // Visits the live mappings that may overlap [address, address + bytes) until `f` returns true.
  template <typename F>
  const PreparedMapping* first_live(std::uint64_t address, std::uint64_t bytes, F f) const;

  iommu::Dart* dart_;
  std::uint64_t base_;
  std::uint64_t limit_ = 0;
  std::map<std::uint64_t, std::uint64_t> free_;          // IOVA -> pages, first fit, lowest first
  std::map<std::uint64_t, PreparedMapping> live_;        // by id
  std::multimap<std::uint64_t, std::uint64_t> by_iova_;  // live: IOVA -> id
  std::map<std::uint64_t, PreparedMapping> completed_;   // by IOVA: the latest completed there
  std::uint64_t longest_ = 0;                            // bounds the search for overlaps
  std::uint64_t next_id_ = 1;
};

}  // namespace dexthil::platform
