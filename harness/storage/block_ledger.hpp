#pragma once
// What the storage stack knows each block of a disk holds: a checksum of the content of the last
// write the disk acknowledged to it. A read is verified block by block against it; a block the
// front end never wrote (or whose write failed, so its content is unknown) is not. Sparse: a
// disk of any size costs memory only for the blocks written.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>

namespace dexthil::storage {

// A fast 64-bit checksum of a block's bytes (not cryptographic; it tells content apart).
std::uint64_t block_checksum(std::span<const std::uint8_t> bytes);

// Fills `bytes` with content unique to (seed, lba, generation), so every write of a block differs
// from every earlier one and from any other block's.
void fill_block_pattern(std::span<std::uint8_t> bytes, std::uint64_t seed, std::uint64_t lba, std::uint64_t generation);

class BlockLedger {
 public:
  void record(std::uint64_t lba, std::uint64_t checksum);
  void forget(std::uint64_t lba);  // the block's content is unknown now
  std::optional<std::uint64_t> expected(std::uint64_t lba) const;
  std::uint64_t blocks_known() const { return known_; }

 private:
  static constexpr std::uint64_t kChunkBlocks = 1024;
  struct Chunk {
    std::uint64_t checksum[kChunkBlocks];
    std::uint64_t known[kChunkBlocks / 64];  // a bit per block
  };
  std::unordered_map<std::uint64_t, std::unique_ptr<Chunk>> chunks_;
  std::uint64_t known_ = 0;
};

}  // namespace dexthil::storage
