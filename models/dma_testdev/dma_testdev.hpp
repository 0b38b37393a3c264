#pragma once
// The DMA test device (rtl/dma_testdev.sv) behind a fabric endpoint: BAR0 holds its registers,
// its DMA goes through the fabric (and so through bridges, the RID-to-SID table and the DART),
// and its irq becomes an MSI. Tests and, later, dexts drive it like a real PCI function.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "dma_testdev_registers.h"
#include "harness/pcie/fabric.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/sim/wave_request.hpp"
#include "models/common/register_bus.hpp"
#include "models/common/rtl_assertions.hpp"

class Vdma_testdev;

namespace dexthil::models {
class WaveWriter;
}  // namespace dexthil::models
class VerilatedContext;

namespace dexthil::models {

template <class Top>
class DmaHostSide;

// Register offsets, values and fields in BAR0: generated from registers.toml (dexthil-regs).
namespace testdev {
using namespace ::testdev_registers;
enum class Result : std::uint32_t { kOk = 0, kCompletionError = 1, kDataMismatch = 2, kDoorbellWhileBusy = 3, kBadLength = 4 };
inline Result result(std::uint32_t status) { return static_cast<Result>((status & kStatusResultMask) >> kStatusResultShift); }
inline std::uint32_t error_completion_status(std::uint32_t status) {
  return (status & kStatusErrorStatusMask) >> kStatusErrorStatusShift;
}
}  // namespace testdev

class DmaTestdev final : public sim::ClockedModel, public pcie::MmioDevice {
 public:
  // `waves`: write the model's signals to an FST file (models/common/waves.hpp); none by default.
  DmaTestdev(std::string name, sim::Simulator& sim, pcie::Fabric& fabric, const pcie::Node& endpoint,
             const sim::WaveRequest* waves = nullptr);
  ~DmaTestdev() override;

  std::string_view name() const override { return name_; }
  sim::NextActivity on_clock_edge(sim::SimTime now) override;

  // BAR0's registers on the RTL's register bus: one access per clock edge, in arrival order; a
  // read is answered after its edge, a 64-bit access is two register accesses.
  void mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) override;
  void mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

  std::uint64_t msis_sent() const { return msis_sent_; }
  // What a reset of the function does to the device (the fabric calls it; see Fabric::on_reset).
  void reset();
  // Unplugged: no more clock edges; what is still on its way to it is dropped.
  void unplug() { sim_.detach(*this); }

 private:
  std::string name_;
  sim::Simulator& sim_;
  pcie::Fabric& fabric_;
  const pcie::Node& endpoint_;
  rtl_assertions::SimulatorLink assertions_;  // its RTL's assertion failures know when and where
  std::unique_ptr<VerilatedContext> context_;  // the top's own (verilated_top.hpp); outlives it
  std::unique_ptr<Vdma_testdev> top_;
  std::unique_ptr<WaveWriter> waves_;
  std::unique_ptr<DmaHostSide<Vdma_testdev>> host_;
  RegisterBus registers_{0x100};  // BAR0's register block, one access per edge
  bool irq_was_high_ = false;
  std::uint64_t msis_sent_ = 0;
};

}  // namespace dexthil::models
