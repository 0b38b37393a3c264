#pragma once
// Drives the Verilated sync_fifo (32 bits x 16) as a clocked model: bursts of pushes and pops
// with seeded random back-pressure, checking that words come out in order. Between bursts it
// sleeps, which makes it the mostly-idle workload for measuring idle skipping.
#include <cstdint>
#include <memory>
#include <string>

#include "harness/sim/simulator.hpp"

class Vsync_fifo;
class VerilatedContext;

namespace dexthil::models {

struct FifoTrafficConfig {
  std::uint64_t words_per_burst = 64;
  sim::SimTime burst_interval = 0;  // 0: one burst after another, never idle
  std::uint64_t bursts = 1;
  double push_probability = 0.7;
  double pop_probability = 0.6;
};

class FifoTraffic final : public sim::ClockedModel {
 public:
  FifoTraffic(std::string name, sim::Simulator& sim, const FifoTrafficConfig& config);
  ~FifoTraffic() override;

  std::string_view name() const override { return name_; }
  sim::NextActivity on_clock_edge(sim::SimTime now) override;

  std::uint64_t pushed() const { return pushed_; }
  std::uint64_t popped() const { return popped_; }
  std::uint64_t order_errors() const { return order_errors_; }
  std::uint64_t max_count() const { return max_count_; }
  bool sticky_error() const;

 private:
  std::string name_;
  sim::Simulator& sim_;
  FifoTrafficConfig config_;
  sim::Random random_;
  std::unique_ptr<VerilatedContext> context_;  // the top's own (verilated_top.hpp); outlives it
  std::unique_ptr<Vsync_fifo> top_;
  std::uint64_t burst_ = 0;
  std::uint64_t burst_pushed_ = 0;
  std::uint64_t pushed_ = 0;
  std::uint64_t popped_ = 0;
  std::uint64_t order_errors_ = 0;
  std::uint64_t max_count_ = 0;
};

}  // namespace dexthil::models
