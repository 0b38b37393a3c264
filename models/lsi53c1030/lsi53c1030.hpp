#pragma once
// One function (one IOC, one SCSI channel) of the LSI53C1030 behind a fabric endpoint: the
// system interface RTL (rtl/lsi_sysif.sv) with the firmware (firmware/ioc_firmware.hpp) beside
// it. Registers answer in the memory BAR given; the interrupt is signalled as an MSI.
//
// So far the firmware answers requests that arrive by Doorbell handshake. The request FIFO path
// (frames fetched by DMA), the reply FIFOs' use, page-buffer DMA and SCSI I/O come with the DMA
// engines (docs/lsi53c1030.md).
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "harness/pcie/fabric.hpp"
#include "harness/sim/simulator.hpp"
#include "lsi53c1030_registers.h"
#include "models/common/register_bus.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/lsi53c1030/firmware/ioc_firmware.hpp"

class Vlsi_sysif;
class VerilatedContext;

namespace dexthil::models {

namespace lsi_regs = ::lsi53c1030_registers;

class Lsi53c1030Function final : public sim::ClockedModel, public pcie::MmioDevice {
 public:
  Lsi53c1030Function(std::string name, sim::Simulator& sim, pcie::Fabric& fabric, const pcie::Node& endpoint,
                     std::size_t register_bar, lsi::IocIdentity identity = {});
  ~Lsi53c1030Function() override;

  std::string_view name() const override { return name_; }
  sim::NextActivity on_clock_edge(sim::SimTime now) override;
  void mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) override;
  void mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

  const lsi::IocFirmware& firmware() const { return firmware_; }
  std::uint64_t interrupts_signalled() const { return interrupts_; }
  // A reset of the function (FLR, hot reset): the chip's hard reset.
  void reset();

 private:
  // Page buffers need the DMA engines, which come later: any access fails (INVALID_SGL).
  struct NoDmaYet final : lsi::HostMemory {
    bool read(std::uint64_t, std::span<std::uint8_t>) override { return false; }
    bool write(std::uint64_t, std::span<const std::uint8_t>) override { return false; }
  };
  void handshake_request_done();

  std::string name_;
  sim::Simulator& sim_;
  pcie::Fabric& fabric_;
  const pcie::Node& endpoint_;
  std::size_t register_bar_;
  rtl_assertions::SimulatorLink assertions_;
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vlsi_sysif> top_;
  RegisterBus registers_{0x100};
  lsi::IocFirmware firmware_;
  NoDmaYet no_dma_;
  std::vector<std::uint8_t> handshake_request_;  // the dwords taken so far, as bytes
  std::deque<std::uint16_t> handshake_reply_;    // the reply's words still to offer
  bool irq_was_high_ = false;
  std::uint64_t interrupts_ = 0;
};

}  // namespace dexthil::models
