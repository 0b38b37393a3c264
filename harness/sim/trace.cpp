#include "harness/sim/trace.hpp"

#include "harness/sim/random.hpp"

namespace dexthil::sim {

void Trace::record(SimTime time, std::string_view source, std::string_view message) {
  // Lengths are folded in so that ("ab","c") and ("a","bc") hash differently.
  const std::uint64_t header[3] = {time, source.size(), message.size()};
  hash_ = fnv1a(header, sizeof header, hash_);
  hash_ = fnv1a(source.data(), source.size(), hash_);
  hash_ = fnv1a(message.data(), message.size(), hash_);
  ++count_;
  if (keep_records_) records_.push_back({time, std::string(source), std::string(message)});
}

}  // namespace dexthil::sim

namespace dexthil::sim {

namespace {
// One 64-bit word into the hash: a multiply-rotate-multiply round (as in xxHash64), so every
// bit of the word reaches every bit of the hash. A word at a time, because byte-wise FNV over a
// DMA record's ten fields cost more than the DMA itself.
std::uint64_t mix(std::uint64_t hash, std::uint64_t word) {
  word *= 0xc2b2ae3d27d4eb4fULL;
  word = (word << 31) | (word >> 33);
  word *= 0x9e3779b97f4a7c15ULL;
  hash ^= word;
  return ((hash << 27) | (hash >> 37)) * 0x9e3779b97f4a7c15ULL + 0x85ebca77c2b2ae63ULL;
}
}  // namespace

void Trace::hash_fields(SimTime time, std::string_view source, const std::uint64_t* fields, std::size_t count) {
  // The top bit keeps a fields record from ever hashing like a text record.
  std::uint64_t h = mix(hash_, time);
  h = mix(h, (std::uint64_t{1} << 63) | count);
  h = fnv1a(source.data(), source.size(), h);
  for (std::size_t i = 0; i < count; ++i) h = mix(h, fields[i]);
  hash_ = h;
  ++count_;
}

}  // namespace dexthil::sim
