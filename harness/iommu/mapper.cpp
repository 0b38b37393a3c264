#include "harness/util/hex.hpp"
#include "harness/iommu/mapper.hpp"

#include <algorithm>
#include <cstdio>

namespace dexthil::iommu {

DartMapper::DartMapper(Dart& dart, std::uint64_t iova_base)
    : dart_(dart), base_(iova_base), limit_(std::uint64_t{1} << dart.config().va_bits) {
  if (base_ % Dart::kPageSize || base_ >= limit_) {
    throw std::invalid_argument("IOVA base " + util::hex(base_) + " is not a 16 KiB-aligned address below the DART's " +
                                std::to_string(dart.config().va_bits) + "-bit space");
  }
  free_[base_] = (limit_ - base_) / Dart::kPageSize;
}

std::optional<std::uint64_t> DartMapper::allocate(std::uint64_t pages) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < pages) continue;
    const std::uint64_t iova = it->first;
    const std::uint64_t left = it->second - pages;
    free_.erase(it);
    if (left) free_[iova + pages * Dart::kPageSize] = left;
    return iova;
  }
  return std::nullopt;
}

void DartMapper::release(std::uint64_t iova, std::uint64_t pages) {
  auto [it, inserted] = free_.emplace(iova, pages);
  (void)inserted;
  auto next = std::next(it);
  if (next != free_.end() && it->first + it->second * Dart::kPageSize == next->first) {
    it->second += next->second;
    free_.erase(next);
  }
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second * Dart::kPageSize == it->first) {
      prev->second += it->second;
      free_.erase(it);
    }
  }
}

std::optional<std::uint64_t> DartMapper::prepare(const std::string& owner, const std::vector<std::uint32_t>& sids,
                                                 std::uint64_t pa, std::uint64_t length, DmaDirection direction,
                                                 std::uint32_t max_address_bits, sim::SimTime now, std::string* error) {
  const std::uint64_t offset = pa % Dart::kPageSize;
  const std::uint64_t pages = (offset + length + Dart::kPageSize - 1) / Dart::kPageSize;
  auto iova = allocate(pages);
  if (!iova) {
    *error = "no free IOVA range of " + std::to_string(pages) + " pages left in the DART's address space";
    return std::nullopt;
  }
  const std::uint64_t last = *iova + offset + length - 1;
  if (max_address_bits < 64 && (last >> max_address_bits) != 0) {
    release(*iova, pages);
    *error = "IOVA " + util::hex(*iova + offset) + " + " + std::to_string(length) + " bytes needs more than the " +
             std::to_string(max_address_bits) + " address bits the device can drive (IOVAs start at " + util::hex(base_) + ")";
    return std::nullopt;
  }
  for (std::uint32_t sid : sids) {
    dart_.enable_translation(sid);  // keeps existing tables; gives an alias's SID its first ones
    dart_.map(sid, *iova, pa - offset, pages * Dart::kPageSize, DartProt{direction.device_reads, direction.device_writes});
  }
  PreparedMapping m;
  m.id = next_id_++;
  m.owner = owner;
  m.iova = *iova + offset;
  m.length = length;
  m.direction = direction;
  m.sids = sids;
  m.prepared_at = now;
  live_[m.iova] = mappings_.size();
  longest_ = std::max(longest_, length);
  mappings_.push_back(std::move(m));
  return *iova + offset;
}

bool DartMapper::complete(std::uint64_t iova, sim::SimTime now) {
  auto it = live_.find(iova);
  if (it == live_.end()) return false;
  PreparedMapping& m = mappings_[it->second];
  const std::uint64_t start = m.iova - m.iova % Dart::kPageSize;
  const std::uint64_t pages = (m.iova % Dart::kPageSize + m.length + Dart::kPageSize - 1) / Dart::kPageSize;
  for (std::uint32_t sid : m.sids) dart_.unmap(sid, start, pages * Dart::kPageSize);
  release(start, pages);
  m.completed_at = now;
  last_completed_[iova] = it->second;
  live_.erase(it);
  return true;
}

const PreparedMapping* DartMapper::live_containing(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const {
  auto it = live_.upper_bound(address);
  if (it == live_.begin()) return nullptr;
  const PreparedMapping& m = mappings_[std::prev(it)->second];
  return m.owner == owner && m.contains(address, bytes) ? &m : nullptr;
}

const PreparedMapping* DartMapper::live_overlapping(const std::string& owner, std::uint64_t address, std::uint64_t bytes) const {
  auto it = live_.upper_bound(address);
  if (it != live_.begin()) --it;  // the one starting at or below the address may reach into it
  for (; it != live_.end() && it->first < address + bytes; ++it) {
    const PreparedMapping& m = mappings_[it->second];
    if (m.owner == owner && m.overlaps(address, bytes)) return &m;
  }
  return nullptr;
}

const PreparedMapping* DartMapper::completed_overlapping(const std::string& owner, std::uint64_t address,
                                                         std::uint64_t bytes) const {
  const PreparedMapping* latest = nullptr;
  auto it = last_completed_.lower_bound(address > longest_ ? address - longest_ : 0);
  for (; it != last_completed_.end() && it->first < address + bytes; ++it) {
    const PreparedMapping& m = mappings_[it->second];
    if (m.owner != owner || !m.overlaps(address, bytes)) continue;
    if (!latest || *m.completed_at > *latest->completed_at || (*m.completed_at == *latest->completed_at && m.id > latest->id)) {
      latest = &m;
    }
  }
  return latest;
}

}  // namespace dexthil::iommu
