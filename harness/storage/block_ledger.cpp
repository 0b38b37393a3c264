#include "harness/storage/block_ledger.hpp"

#include <cstring>

namespace dexthil::storage {
namespace {

constexpr std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t block_checksum(std::span<const std::uint8_t> bytes) {
  // Four independent lanes over 8-byte words, folded at the end: word order matters, and the
  // lanes keep the multiply chains short enough to run near memory speed.
  std::uint64_t lane[4] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL, 0x27d4eb2f165667c5ULL};
  const std::size_t words = bytes.size() / 8;
  std::size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (int l = 0; l < 4; ++l) {
      std::uint64_t w;
      std::memcpy(&w, bytes.data() + (i + l) * 8, 8);
      lane[l] = (lane[l] ^ w) * 0x100000001b3ULL + (lane[l] >> 29);
    }
  }
  std::uint64_t h = bytes.size();
  for (; i < words; ++i) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i * 8, 8);
    h = mix(h ^ w);
  }
  for (std::size_t b = words * 8; b < bytes.size(); ++b) h = mix(h ^ bytes[b]);
  for (std::uint64_t l : lane) h = mix(h ^ l);
  return h;
}

void fill_block_pattern(std::span<std::uint8_t> bytes, std::uint64_t seed, std::uint64_t lba, std::uint64_t generation) {
  std::uint64_t x = mix(seed ^ mix(lba ^ mix(generation + 0x51)));
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    x += 0x9e3779b97f4a7c15ULL;  // a splitmix64 stream: cheap, and no two words repeat
    const std::uint64_t w = mix(x);
    std::memcpy(bytes.data() + i, &w, 8);
  }
  for (; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(mix(x + i));
}

void BlockLedger::record(std::uint64_t lba, std::uint64_t checksum) {
  auto& chunk = chunks_[lba / kChunkBlocks];
  if (!chunk) chunk = std::make_unique<Chunk>();  // zero-initialised: nothing known
  const std::uint64_t i = lba % kChunkBlocks;
  std::uint64_t& bits = chunk->known[i / 64];
  if (!(bits & (1ULL << (i % 64)))) ++known_;
  bits |= 1ULL << (i % 64);
  chunk->checksum[i] = checksum;
}

void BlockLedger::forget(std::uint64_t lba) {
  auto it = chunks_.find(lba / kChunkBlocks);
  if (it == chunks_.end()) return;
  const std::uint64_t i = lba % kChunkBlocks;
  std::uint64_t& bits = it->second->known[i / 64];
  if (bits & (1ULL << (i % 64))) --known_;
  bits &= ~(1ULL << (i % 64));
}

std::optional<std::uint64_t> BlockLedger::expected(std::uint64_t lba) const {
  auto it = chunks_.find(lba / kChunkBlocks);
  if (it == chunks_.end()) return std::nullopt;
  const std::uint64_t i = lba % kChunkBlocks;
  if (!(it->second->known[i / 64] & (1ULL << (i % 64)))) return std::nullopt;
  return it->second->checksum[i];
}

}  // namespace dexthil::storage
