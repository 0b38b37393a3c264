#include "models/dma_testdev/dma_testdev.hpp"

#include <memory>
#include <optional>

#include "Vdma_testdev.h"
#include "models/common/dma_host_side.hpp"
#include "models/common/verilated_clock.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/common/verilated_top.hpp"
#include "models/common/waves.hpp"

namespace dexthil::models {

DmaTestdev::DmaTestdev(std::string name, sim::Simulator& sim, pcie::Fabric& fabric, const pcie::Node& endpoint,
                       const sim::WaveRequest* waves)
    : name_(std::move(name)),
      sim_(sim),
      fabric_(fabric),
      endpoint_(endpoint),
      assertions_(sim),
      top_(make_verilated_top<Vdma_testdev>(context_, sim.seed(), name_, waves != nullptr)),
      waves_(waves ? std::make_unique<WaveWriter>(*top_, *waves) : nullptr),
      host_(std::make_unique<DmaHostSide<Vdma_testdev>>(sim, *this, fabric.upstream(endpoint), name_)) {
  top_->reg_valid = 0;
  top_->reg_write = 0;
  top_->reg_be = 0;
  reset_cycles(*top_);
  fabric_.attach_mmio(endpoint_, this);
  fabric_.on_reset(endpoint_, [this] { reset(); });
}

DmaTestdev::~DmaTestdev() {
  fabric_.on_reset(endpoint_, nullptr);
  fabric_.attach_mmio(endpoint_, nullptr);
  top_->final();
}

void DmaTestdev::reset() {
  // A function level or hot reset: rst_n low for two cycles puts every register back to its
  // power-on value; register writes not yet applied are lost with it.
  registers_.clear();  // reads in flight are never answered: the host's completion timeout ends them
  host_->reset();
  reset_cycles(*top_);
  irq_was_high_ = top_->irq;
}

void DmaTestdev::mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) {
  if (bar != 0) {
    done(0);
    return;
  }
  registers_.read(offset, size, std::move(done));
  sim_.wake(*this);
}

void DmaTestdev::mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != 0) return;
  registers_.write(offset, size, value);
  sim_.wake(*this);
}

sim::NextActivity DmaTestdev::on_clock_edge(sim::SimTime now) {
  // One register access per edge: reg_valid must be high for exactly one rising edge.
  const std::optional<RegisterBus::Access> access = registers_.drive(*top_);
  host_->drive(*top_);
  top_->clk = 0;
  top_->eval();
  if (waves_) waves_->low_phase(now);
  host_->sample(*top_);
  const std::uint32_t read_data = top_->reg_rdata;  // the register as the read's edge finds it
  top_->clk = 1;
  top_->eval();
  if (waves_) waves_->rising_edge(now);
  top_->reg_valid = 0;
  RegisterBus::finish(access, read_data);

  // irq is a level; an MSI is an edge: signal once per rising irq.
  if (top_->irq && !irq_was_high_ && fabric_.signal_msi(endpoint_)) ++msis_sent_;
  irq_was_high_ = top_->irq;

  if (!registers_.idle() || host_->has_work(*top_)) return sim::NextActivity::next_edge();
  if (!top_->busy) return sim::NextActivity::on_input();
  // Busy, but only waiting for a request the fabric holds: its completion wakes the model. With
  // nothing in flight the engine is about to issue its next request, which no host-side signal
  // shows yet, so keep clocking.
  return host_->in_flight() > 0 ? sim::NextActivity::on_input() : sim::NextActivity::next_edge();
}

}  // namespace dexthil::models
