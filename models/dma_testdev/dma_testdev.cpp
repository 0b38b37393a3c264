#include "models/dma_testdev/dma_testdev.hpp"

#include "Vdma_testdev.h"
#include "models/common/dma_host_side.hpp"
#include "models/common/verilated_clock.hpp"

namespace dexthil::models {

DmaTestdev::DmaTestdev(std::string name, sim::Simulator& sim, pcie::Fabric& fabric, const pcie::Node& endpoint)
    : name_(std::move(name)),
      sim_(sim),
      fabric_(fabric),
      endpoint_(endpoint),
      top_(std::make_unique<Vdma_testdev>()),
      host_(std::make_unique<DmaHostSide<Vdma_testdev>>(sim, *this, fabric.upstream(endpoint), name_)) {
  top_->reg_valid = 0;
  top_->reg_write = 0;
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
  register_writes_.clear();
  host_->reset();
  reset_cycles(*top_);
  irq_was_high_ = top_->irq;
}

std::uint32_t DmaTestdev::mmio_read32(std::size_t bar, std::uint64_t offset) {
  if (bar != 0 || offset > 0xff) return 0;
  // reg_rdata decodes reg_addr against the state of the last edge and has no side effects, so
  // a read is answered between edges by settling the low phase.
  top_->reg_valid = 0;
  top_->reg_addr = static_cast<std::uint8_t>(offset);
  top_->clk = 0;
  top_->eval();
  return top_->reg_rdata;
}

void DmaTestdev::mmio_write32(std::size_t bar, std::uint64_t offset, std::uint32_t value) {
  if (bar != 0 || offset > 0xff) return;
  register_writes_.emplace_back(static_cast<std::uint8_t>(offset), value);
  sim_.wake(*this);
}

sim::NextActivity DmaTestdev::on_clock_edge(sim::SimTime) {
  // One register write per edge: reg_valid must be high for exactly one rising edge.
  const bool writing = !register_writes_.empty();
  top_->reg_valid = writing;
  top_->reg_write = writing;
  if (writing) {
    top_->reg_addr = register_writes_.front().first;
    top_->reg_wdata = register_writes_.front().second;
    register_writes_.pop_front();
  }
  host_->drive(*top_);
  top_->clk = 0;
  top_->eval();
  host_->sample(*top_);
  top_->clk = 1;
  top_->eval();
  top_->reg_valid = 0;

  // irq is a level; an MSI is an edge: signal once per rising irq.
  if (top_->irq && !irq_was_high_ && fabric_.signal_msi(endpoint_)) ++msis_sent_;
  irq_was_high_ = top_->irq;

  if (!register_writes_.empty() || host_->has_work(*top_)) return sim::NextActivity::next_edge();
  if (!top_->busy) return sim::NextActivity::on_input();
  // Busy, but only waiting for a request the fabric holds: its completion wakes the model. With
  // nothing in flight the engine is about to issue its next request, which no host-side signal
  // shows yet, so keep clocking.
  return host_->in_flight() > 0 ? sim::NextActivity::on_input() : sim::NextActivity::next_edge();
}

}  // namespace dexthil::models
