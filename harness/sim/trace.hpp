#pragma once
// The event trace: what models, the fabric and checkers observed, in order. Its hash is the
// run's fingerprint: the same seed must give the same hash, and skipping idle clock edges must
// not change it. Records can also be kept for trace files.
#include <cstdint>
#include <initializer_list>
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

  // For hot paths (every DMA, MMIO access, queue switch): the record is its `fields`, hashed as
  // they are; `text()` makes the readable message only when records are kept. The first field
  // says what kind of record it is, so two kinds with equal numbers hash apart.
  template <class Text>
  void record_fields(SimTime time, std::string_view source, std::initializer_list<std::uint64_t> fields, Text&& text) {
    hash_fields(time, source, fields.begin(), fields.size());
    if (keep_records_) records_.push_back({time, std::string(source), text()});
  }
  bool keeps_records() const { return keep_records_; }

  std::uint64_t hash() const { return hash_; }
  std::uint64_t count() const { return count_; }
  const std::vector<TraceRecord>& records() const { return records_; }

 private:
  void hash_fields(SimTime time, std::string_view source, const std::uint64_t* fields, std::size_t count);
  bool keep_records_;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
  std::vector<TraceRecord> records_;
};

}  // namespace dexthil::sim
