#include "harness/hostmem/sparse_memory.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace dexthil::hostmem {

SparseMemory::Page* SparseMemory::find(std::uint64_t number) const {
  CachedPage& cached = cache_[number % kCachedPages];
  if (cached.number == number) return cached.page;
  auto it = pages_.find(number);
  if (it == pages_.end()) return nullptr;  // not cached: it may be written later
  // The map is only const here because reading is; the page itself is the map's to change.
  cached = {number, const_cast<Page*>(&it->second)};
  return cached.page;
}

void SparseMemory::read(std::uint64_t address, std::span<std::uint8_t> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint64_t at = address + done;
    const std::uint64_t offset = at % kPageSize;
    const std::size_t chunk = std::min<std::uint64_t>(out.size() - done, kPageSize - offset);
    if (const Page* page = find(at / kPageSize)) {
      std::memcpy(out.data() + done, page->data + offset, chunk);
    } else {
      std::memset(out.data() + done, 0, chunk);
    }
    done += chunk;
  }
}

void SparseMemory::write(std::uint64_t address, std::span<const std::uint8_t> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint64_t at = address + done;
    const std::uint64_t offset = at % kPageSize;
    const std::size_t chunk = std::min<std::uint64_t>(data.size() - done, kPageSize - offset);
    Page* page = find(at / kPageSize);
    if (!page) page = &pages_[at / kPageSize];
    if (!page->data) {
      page->owned = std::make_unique<std::uint8_t[]>(kPageSize);  // value-initialised: zeros
      page->data = page->owned.get();
    }
    std::memcpy(page->data + offset, data.data() + done, chunk);
    done += chunk;
  }
}

void SparseMemory::attach(std::uint64_t address, std::uint8_t* host, std::uint64_t size) {
  if (address % kPageSize || size % kPageSize) throw std::invalid_argument("SparseMemory::attach needs whole pages");
  for (std::uint64_t off = 0; off < size; off += kPageSize) {
    Page& page = pages_[(address + off) / kPageSize];
    if (page.data) std::memcpy(host + off, page.data, kPageSize);  // keep what the memory held
    page.owned.reset();
    page.data = host + off;
  }
}

void SparseMemory::detach(std::uint64_t address, std::uint64_t size) {
  for (std::uint64_t off = 0; off < size; off += kPageSize) {
    auto it = pages_.find((address + off) / kPageSize);
    if (it == pages_.end() || it->second.owned) continue;
    auto copy = std::make_unique<std::uint8_t[]>(kPageSize);
    std::memcpy(copy.get(), it->second.data, kPageSize);
    it->second.data = copy.get();
    it->second.owned = std::move(copy);
  }
}

std::uint64_t SparseMemory::read_u64(std::uint64_t address) const {
  std::uint8_t bytes[8];
  read(address, bytes);
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = value << 8 | bytes[i];
  return value;
}

void SparseMemory::write_u64(std::uint64_t address, std::uint64_t value) {
  std::uint8_t bytes[8];
  for (auto& b : bytes) {
    b = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  write(address, bytes);
}

}  // namespace dexthil::hostmem
