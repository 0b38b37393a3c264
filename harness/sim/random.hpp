#pragma once
// Seeded randomness. Every run has one seed; each user of randomness takes its own named stream
// derived from it, so adding a model or a fault does not shift the numbers another one sees.
// The generator and the range reductions are written out here rather than taken from <random>,
// whose distributions differ between standard libraries: a seed must mean the same run everywhere.
#include <cstdint>
#include <string_view>

namespace dexthil::sim {

class Random {
 public:
  explicit Random(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [lo, hi], both inclusive, without modulo bias.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi);
  // Uniform in [0, 1).
  double uniform_unit();
  bool chance(double probability) { return uniform_unit() < probability; }

  // An independent stream for `name`, fixed by this stream's seed and the name only.
  Random stream(std::string_view name) const;
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::uint64_t state_[4];
};

// FNV-1a, used to fold names into seeds and records into trace hashes.
std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t hash = 0xcbf29ce484222325ULL);

}  // namespace dexthil::sim
