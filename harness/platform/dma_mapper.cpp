#include "harness/platform/dma_mapper.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "harness/util/hex.hpp"

namespace dexthil::platform {

DmaMapper::DmaMapper(iommu::Dart* dart, std::uint64_t iova_base) : dart_(dart), base_(iova_base) {
  if (!dart_) return;  // physical addresses: nothing to allocate
  limit_ = std::uint64_t{1} << dart_->config().va_bits;
  if (base_ % iommu::Dart::kPageSize || base_ >= limit_) {
    throw std::invalid_argument("IOVA base " + util::hex(base_) + " is not a 16 KiB-aligned address below the DART's " +
                                std::to_string(dart_->config().va_bits) + "-bit space");
  }
  free_[base_] = (limit_ - base_) / iommu::Dart::kPageSize;
}

std::optional<std::uint64_t> DmaMapper::allocate(std::uint64_t pages) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < pages) continue;
    const std::uint64_t iova = it->first;
    const std::uint64_t left = it->second - pages;
    free_.erase(it);
    if (left) free_[iova + pages * iommu::Dart::kPageSize] = left;
    return iova;
  }
  return std::nullopt;
}

void DmaMapper::release(std::uint64_t iova, std::uint64_t pages) {
  auto [it, inserted] = free_.emplace(iova, pages);
  (void)inserted;
  auto next = std::next(it);
  if (next != free_.end() && it->first + it->second * iommu::Dart::kPageSize == next->first) {
    it->second += next->second;
    free_.erase(next);
  }
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second * iommu::Dart::kPageSize == it->first) {
      prev->second += it->second;
      free_.erase(it);
    }
  }
}

std::optional<Prepared> DmaMapper::prepare(const std::string& owner, const std::vector<std::uint32_t>& sids,
                                           std::uint64_t pa, std::uint64_t length, DmaDirection direction,
                                           std::uint32_t max_address_bits, sim::SimTime now, std::string* error) {
  // Whether [start, start + length) needs address bits the device does not drive.
  const auto beyond_reach = [&](std::uint64_t start) {
    return max_address_bits < 64 && ((start + length - 1) >> max_address_bits) != 0;
  };
  std::uint64_t address = pa;
  if (dart_) {
    const std::uint64_t offset = pa % iommu::Dart::kPageSize;
    const std::uint64_t pages = (offset + length + iommu::Dart::kPageSize - 1) / iommu::Dart::kPageSize;
    auto iova = allocate(pages);
    if (!iova) {
      *error = "no free IOVA range of " + std::to_string(pages) + " pages left in the DART's address space";
      return std::nullopt;
    }
    address = *iova + offset;
    if (beyond_reach(address)) {
      release(*iova, pages);
      *error = "IOVA " + util::hex(address) + " + " + std::to_string(length) + " bytes needs more than the " +
               std::to_string(max_address_bits) + " address bits the device can drive (IOVAs start at " + util::hex(base_) + ")";
      return std::nullopt;
    }
    for (std::uint32_t sid : sids) {
      dart_->enable_translation(sid);  // keeps existing tables; gives an alias's SID its first ones
      dart_->map(sid, *iova, pa - offset, pages * iommu::Dart::kPageSize, iommu::DartProt{direction.device_reads, direction.device_writes});
    }
  } else if (beyond_reach(pa)) {
    // DriverKit has no bounce buffers: memory the device cannot address is simply refused.
    *error = "physical address " + util::hex(pa) + " + " + std::to_string(length) + " bytes needs more than the " +
             std::to_string(max_address_bits) + " address bits the device can drive, and there is no IOMMU to remap it";
    return std::nullopt;
  }
  PreparedMapping m;
  m.id = next_id_++;
  m.owner = owner;
  m.iova = address;
  m.length = length;
  m.direction = direction;
  m.sids = sids;
  m.prepared_at = now;
  longest_ = std::max(longest_, length);
  by_iova_.emplace(address, m.id);
  const Prepared result{address, m.id};
  live_.emplace(m.id, std::move(m));
  return result;
}

bool DmaMapper::complete(std::uint64_t id, sim::SimTime now) {
  auto it = live_.find(id);
  if (it == live_.end()) return false;
  PreparedMapping& m = it->second;
  if (dart_) {
    const std::uint64_t start = m.iova - m.iova % iommu::Dart::kPageSize;
    const std::uint64_t pages = (m.iova % iommu::Dart::kPageSize + m.length + iommu::Dart::kPageSize - 1) / iommu::Dart::kPageSize;
    for (std::uint32_t sid : m.sids) dart_->unmap(sid, start, pages * iommu::Dart::kPageSize);
    release(start, pages);
  }
  auto [first, last] = by_iova_.equal_range(m.iova);
  for (auto i = first; i != last; ++i) {
    if (i->second == id) {
      by_iova_.erase(i);
      break;
    }
  }
  m.completed_at = now;
  completed_.insert_or_assign(m.iova, std::move(m));
  live_.erase(it);
  return true;
}

template <typename F>
const PreparedMapping* DmaMapper::first_live(std::uint64_t address, std::uint64_t bytes, F f) const {
  // Live mappings may overlap one another only without an IOMMU. Behind a DART their IOVAs are
  // disjoint, so the only one starting below the range that can reach it is the last to start
  // at or below `address`; otherwise any that reaches it starts at most `longest_` bytes below.
  // (Scanning from `longest_` below visited every small mapping under a large one, per TLP.)
  auto it = dart_ ? by_iova_.upper_bound(address) : by_iova_.lower_bound(address > longest_ ? address - longest_ : 0);
  if (dart_ && it != by_iova_.begin()) --it;
  for (; it != by_iova_.end() && it->first < address + std::max<std::uint64_t>(bytes, 1); ++it) {
    const PreparedMapping& m = live_.at(it->second);
    if (f(m)) return &m;
  }
  return nullptr;
}

const PreparedMapping* DmaMapper::live_containing(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const {
  return first_live(address, bytes, [&](const PreparedMapping& m) { return m.owner == owner && m.contains(address, bytes); });
}

const PreparedMapping* DmaMapper::live_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const {
  return first_live(address, bytes, [&](const PreparedMapping& m) { return m.owner == owner && m.overlaps(address, bytes); });
}

const PreparedMapping* DmaMapper::completed_overlapping(const std::string& owner, std::uint64_t address,
                                                        std::uint64_t bytes) const {
  const PreparedMapping* latest = nullptr;
  auto it = completed_.lower_bound(address > longest_ ? address - longest_ : 0);
  for (; it != completed_.end() && it->first < address + bytes; ++it) {
    const PreparedMapping& m = it->second;
    if (m.owner != owner || !m.overlaps(address, bytes)) continue;
    if (!latest || *m.completed_at > *latest->completed_at || (*m.completed_at == *latest->completed_at && m.id > latest->id)) {
      latest = &m;
    }
  }
  return latest;
}

}  // namespace dexthil::platform
