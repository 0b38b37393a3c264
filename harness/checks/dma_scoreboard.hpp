#pragma once
// Checks one device's DMA as the device sees it: every request gets exactly one completion,
// completions are successful, reads return what the device last wrote, and each request
// completes within the latency budget. It keeps its own reference copy of memory, so it judges
// the path (fabric, IOMMU, faults) without trusting it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "harness/checks/finding.hpp"
#include "harness/dma/transaction.hpp"
#include "harness/hostmem/sparse_memory.hpp"

namespace dexthil::checks {

struct DmaScoreboardOptions {
  bool check_data = true;
  std::optional<sim::SimTime> latency_budget;  // request issue to last response beat
};

class DmaScoreboard final : public dma::DmaObserver {
 public:
  DmaScoreboard(std::string device, FindingLog& log, DmaScoreboardOptions options)
      : device_(std::move(device)), log_(log), options_(options) {}

  void on_request(const dma::DmaRequest& request) override;
  void on_completion(const dma::DmaCompletion& completion, sim::SimTime now) override;
  // Reports requests still in flight; call once when the run ends.
  void finish(sim::SimTime now);

  std::uint64_t completed() const { return completed_; }
  std::uint64_t bytes_checked() const { return bytes_checked_; }
  sim::SimTime max_latency() const { return max_latency_; }

 private:
  std::string device_;
  FindingLog& log_;
  DmaScoreboardOptions options_;
  hostmem::SparseMemory reference_;
  std::map<std::uint8_t, dma::DmaRequest> in_flight_;  // by tag
  std::uint64_t completed_ = 0;
  std::uint64_t bytes_checked_ = 0;
  sim::SimTime max_latency_ = 0;
};

}  // namespace dexthil::checks
