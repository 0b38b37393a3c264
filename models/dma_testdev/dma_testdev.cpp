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
  register_bus_.clear();  // reads in flight are never answered: the host's completion timeout ends them
  host_->reset();
  reset_cycles(*top_);
  irq_was_high_ = top_->irq;
}

void DmaTestdev::queue_access(RegisterAccess access) {
  register_bus_.push_back(std::move(access));
  sim_.wake(*this);
}

void DmaTestdev::mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) {
  if (bar != 0 || offset + size > 0x100) {
    done(0);  // outside the register block: reads 0, as unmapped registers do
    return;
  }
  if (size == 8) {
    // Two register reads, the low one first, answered together.
    auto low = std::make_shared<std::uint32_t>(0);
    queue_access({false, static_cast<std::uint8_t>(offset), 0xf, 0, [low](std::uint32_t v) { *low = v; }});
    queue_access({false, static_cast<std::uint8_t>(offset + 4), 0xf, 0,
                  [low, done](std::uint32_t high) { done(std::uint64_t{high} << 32 | *low); }});
    return;
  }
  const unsigned lane = offset & 3;
  const std::uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
  queue_access({false, static_cast<std::uint8_t>(offset & ~std::uint64_t{3}), static_cast<std::uint8_t>(((1u << size) - 1) << lane),
                0, [done, lane, mask](std::uint32_t v) { done((v >> (8 * lane)) & mask); }});
}

void DmaTestdev::mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != 0 || offset + size > 0x100) return;
  if (size == 8) {
    queue_access({true, static_cast<std::uint8_t>(offset), 0xf, static_cast<std::uint32_t>(value), nullptr});
    queue_access({true, static_cast<std::uint8_t>(offset + 4), 0xf, static_cast<std::uint32_t>(value >> 32), nullptr});
    return;
  }
  const unsigned lane = offset & 3;
  queue_access({true, static_cast<std::uint8_t>(offset & ~std::uint64_t{3}), static_cast<std::uint8_t>(((1u << size) - 1) << lane),
                static_cast<std::uint32_t>(value << (8 * lane)), nullptr});
}

sim::NextActivity DmaTestdev::on_clock_edge(sim::SimTime now) {
  // One register access per edge: reg_valid must be high for exactly one rising edge.
  std::optional<RegisterAccess> access;
  if (!register_bus_.empty()) {
    access = std::move(register_bus_.front());
    register_bus_.pop_front();
  }
  top_->reg_valid = access.has_value();
  if (access) {
    top_->reg_write = access->write;
    top_->reg_addr = access->address;
    top_->reg_wdata = access->data;
    top_->reg_be = access->byte_enables;
  }
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
  if (access && !access->write && access->done) access->done(read_data);

  // irq is a level; an MSI is an edge: signal once per rising irq.
  if (top_->irq && !irq_was_high_ && fabric_.signal_msi(endpoint_)) ++msis_sent_;
  irq_was_high_ = top_->irq;

  if (!register_bus_.empty() || host_->has_work(*top_)) return sim::NextActivity::next_edge();
  if (!top_->busy) return sim::NextActivity::on_input();
  // Busy, but only waiting for a request the fabric holds: its completion wakes the model. With
  // nothing in flight the engine is about to issue its next request, which no host-side signal
  // shows yet, so keep clocking.
  return host_->in_flight() > 0 ? sim::NextActivity::on_input() : sim::NextActivity::next_edge();
}

}  // namespace dexthil::models
