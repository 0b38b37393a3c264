#pragma once
// A test device built around the shared DMA port RTL: C++ stimulus on the device side writes
// random data to a region and reads it back, through the Verilated port, to whatever upstream
// the harness gives it. It proves the DMA interface, the kernel's idle skipping and the DMA
// checks end to end before the real device models exist.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/dma/transaction.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/sim/wave_request.hpp"
#include "models/common/rtl_assertions.hpp"

class Vdma_port;

namespace dexthil::models {
class WaveWriter;
}  // namespace dexthil::models
class VerilatedContext;

namespace dexthil::models {

template <class Top>
class DmaHostSide;

struct DmaExerciserConfig {
  std::uint64_t transactions = 64;  // write-then-read-back pairs
  std::uint32_t max_length = 256;   // bytes, 1..4096; a transfer never crosses a 4 KiB page
  sim::SimTime mean_gap = sim::kMicrosecond;  // idle time between pairs, uniform in [0, 2 * mean]
  std::uint32_t max_outstanding = 4;          // requests in flight at once, 1..32
  std::uint64_t address_base = 0x80000000;
};

class DmaExerciser final : public sim::ClockedModel {
 public:
  // `waves`: write the port's signals to an FST file (models/common/waves.hpp); none by default.
  DmaExerciser(std::string name, sim::Simulator& sim, dma::DmaUpstream& upstream, dma::DmaObserver* observer,
               const DmaExerciserConfig& config, const sim::WaveRequest* waves = nullptr);
  ~DmaExerciser() override;

  std::string_view name() const override { return name_; }
  sim::NextActivity on_clock_edge(sim::SimTime now) override;

  std::uint64_t issued() const { return issued_; }
  std::uint64_t completed() const { return completed_; }
  std::uint64_t pairs_planned() const { return ops_planned_; }
  bool port_error() const;

 private:
  struct Op {
    bool write;
    std::uint64_t address;
    std::uint32_t length;
    sim::SimTime not_before;
    std::vector<std::uint8_t> data;  // writes
  };
  void plan_next_pair();  // pairs are planned as they are needed: a long run keeps little state
  bool head_ready(sim::SimTime now) const;
  void drive_device_side(sim::SimTime now);
  void sample_device_side(sim::SimTime now);
  void complete(std::uint8_t tag, std::uint8_t status, sim::SimTime now);

  std::string name_;
  sim::Simulator& sim_;
  dma::DmaObserver* observer_;
  rtl_assertions::SimulatorLink assertions_;  // its RTL's assertion failures know when and where
  std::unique_ptr<VerilatedContext> context_;  // the top's own (verilated_top.hpp); outlives it
  std::unique_ptr<Vdma_port> top_;
  std::unique_ptr<WaveWriter> waves_;
  std::unique_ptr<DmaHostSide<Vdma_port>> host_;
  std::uint32_t max_outstanding_;
  DmaExerciserConfig config_;
  sim::Random stimulus_;
  std::uint64_t ops_planned_ = 0;
  sim::SimTime next_pair_at_ = 0;

  std::deque<Op> ops_;            // not yet issued, in order
  std::deque<std::uint64_t> wdata_;  // write beats still to hand to the port
  struct InFlight {
    bool write;
    std::uint32_t length;
    std::vector<std::uint8_t> data;  // read data assembled from beats
  };
  std::optional<InFlight> in_flight_[256];  // by tag
  std::uint32_t outstanding_ = 0;
  std::optional<std::uint8_t> pending_write_tag_;  // a pair's read-back waits for its write
  std::uint8_t next_tag_ = 0;
  std::uint64_t issued_ = 0;
  std::uint64_t completed_ = 0;
};

}  // namespace dexthil::models
