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
