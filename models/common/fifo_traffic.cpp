#include "models/common/fifo_traffic.hpp"

#include "Vsync_fifo.h"
#include "models/common/verilated_clock.hpp"
#include "models/common/verilated_top.hpp"

namespace dexthil::models {

// The word pushed n-th is a function of n, so the popping side can check order without a copy.
static std::uint32_t word_for(std::uint64_t n) { return static_cast<std::uint32_t>(n * 2654435761u + 1); }

FifoTraffic::FifoTraffic(std::string name, sim::Simulator& sim, const FifoTrafficConfig& config)
    : name_(std::move(name)), sim_(sim), config_(config), random_(sim.random_stream(name_)),
      top_(make_verilated_top<Vsync_fifo>(context_, sim.seed(), name_)) {
  top_->push = 0;
  top_->pop = 0;
  reset_cycles(*top_);
}

FifoTraffic::~FifoTraffic() { top_->final(); }

bool FifoTraffic::sticky_error() const { return top_->overflow || top_->underflow; }

sim::NextActivity FifoTraffic::on_clock_edge(sim::SimTime now) {
  // Random draws happen only on edges with work, so evaluating idle edges (SimulatorOptions::
  // skip_idle = false) changes nothing but the cost: the two modes must give the same trace.
  const bool pushing = burst_ < config_.bursts && burst_pushed_ < config_.words_per_burst &&
                       now >= burst_ * config_.burst_interval;
  const bool active = pushing || !top_->empty;
  top_->push = active && pushing && random_.chance(config_.push_probability) && !top_->full;
  top_->push_data = word_for(pushed_);
  top_->pop = active && random_.chance(config_.pop_probability) && !top_->empty;
  top_->clk = 0;
  top_->eval();
  if (top_->pop) {
    if (top_->pop_data != word_for(popped_)) ++order_errors_;
    ++popped_;
  }
  if (top_->push) {
    ++pushed_;
    ++burst_pushed_;
  }
  top_->clk = 1;
  top_->eval();
  if (top_->count > max_count_) max_count_ = top_->count;

  if (!top_->empty || (burst_ < config_.bursts && burst_pushed_ < config_.words_per_burst)) {
    return sim::NextActivity::next_edge();
  }
  if (burst_ >= config_.bursts) return sim::NextActivity::on_input();
  // Burst drained: the next one starts a whole interval after this one began.
  ++burst_;
  burst_pushed_ = 0;
  sim_.trace().record(now, name_, burst_ < config_.bursts ? "burst drained" : "done");
  return sim::NextActivity::at(burst_ * config_.burst_interval);
}

}  // namespace dexthil::models
