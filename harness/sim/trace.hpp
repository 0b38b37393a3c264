#pragma once
// The event trace: what models, the fabric and checkers observed, in order. Its hash is the
// run's fingerprint: the same seed must give the same hash, and skipping idle clock edges must
// not change it. Records can also be kept for trace files.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::sim {

struct TraceRecord {
  SimTime time;
  std::string source;  // who observed it: a model or checker name
  std::string message;
};

class Trace {
 public:
  explicit Trace(bool keep_records = false) : keep_records_(keep_records) {}

  void record(SimTime time, std::string_view source, std::string_view message);

  std::uint64_t hash() const { return hash_; }
  std::uint64_t count() const { return count_; }
  const std::vector<TraceRecord>& records() const { return records_; }

 private:
  bool keep_records_;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
  std::vector<TraceRecord> records_;
};

}  // namespace dexthil::sim
