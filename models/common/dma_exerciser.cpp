#include "models/common/dma_exerciser.hpp"

#include <cstdio>

#include "Vdma_port.h"
#include "models/common/dma_host_side.hpp"
#include "models/common/verilated_clock.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/common/verilated_top.hpp"
#include "models/common/waves.hpp"

namespace dexthil::models {
namespace {
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kRegionPages = 64;  // pairs in flight together never share a page
}  // namespace

DmaExerciser::DmaExerciser(std::string name, sim::Simulator& sim, dma::DmaUpstream& upstream,
                           dma::DmaObserver* observer, const DmaExerciserConfig& config, const sim::WaveRequest* waves)
    : name_(std::move(name)),
      sim_(sim),
      observer_(observer),
      assertions_(sim),
      top_(make_verilated_top<Vdma_port>(context_, sim.seed(), name_, waves != nullptr)),
      waves_(waves ? std::make_unique<WaveWriter>(*top_, *waves) : nullptr),
      host_(std::make_unique<DmaHostSide<Vdma_port>>(sim, *this, upstream, name_)),
      max_outstanding_(config.max_outstanding),
      config_(config),
      stimulus_(sim.random_stream(name_ + "/stimulus")) {
  reset_cycles(*top_);
  plan_next_pair();
}

DmaExerciser::~DmaExerciser() { top_->final(); }

bool DmaExerciser::port_error() const { return top_->error; }

void DmaExerciser::plan_next_pair() {
  if (ops_planned_ >= config_.transactions) return;
  const std::uint64_t pair = ops_planned_++;
  next_pair_at_ += stimulus_.uniform(0, 2 * config_.mean_gap);
  const auto length = static_cast<std::uint32_t>(stimulus_.uniform(1, config_.max_length));
  const std::uint64_t address =
      config_.address_base + (pair % kRegionPages) * kPage + stimulus_.uniform(0, kPage - length);
  Op write{true, address, length, next_pair_at_, {}};
  write.data.resize(length);
  for (auto& b : write.data) b = static_cast<std::uint8_t>(stimulus_.next_u64());
  ops_.push_back(std::move(write));
  ops_.push_back(Op{false, address, length, next_pair_at_, {}});
}

bool DmaExerciser::head_ready(sim::SimTime now) const {
  if (ops_.empty() || outstanding_ >= max_outstanding_ || in_flight_[next_tag_]) return false;
  const Op& op = ops_.front();
  if (!op.write && pending_write_tag_) return false;
  return op.not_before <= now;
}

void DmaExerciser::drive_device_side(sim::SimTime now) {
  const bool ready = head_ready(now);
  top_->dev_req_valid = ready;
  if (ready) {
    const Op& op = ops_.front();
    pack_req({op.write, op.address, static_cast<std::uint16_t>(op.length), next_tag_}, top_->dev_req);
  }
  top_->dev_wdata_valid = !wdata_.empty();
  if (!wdata_.empty()) top_->dev_wdata = wdata_.front();
  top_->dev_rsp_ready = 1;
}

void DmaExerciser::sample_device_side(sim::SimTime now) {
  if (top_->dev_wdata_valid && top_->dev_wdata_ready) wdata_.pop_front();
  if (top_->dev_rsp_valid && top_->dev_rsp_ready) {
    const DmaRspFields beat = unpack_rsp(top_->dev_rsp);
    auto& slot = in_flight_[beat.tag];
    if (slot && !slot->write && beat.status == 0) unpack_beat(beat.data, slot->length, &slot->data);
    if (beat.last) complete(beat.tag, beat.status, now);
  }
  if (top_->dev_req_valid && top_->dev_req_ready) {
    Op op = std::move(ops_.front());
    ops_.pop_front();
    const std::uint8_t tag = next_tag_++;
    if (op.write) {
      for (std::size_t i = 0; i < beats_for(op.length); ++i) wdata_.push_back(pack_beat(op.data, i));
      pending_write_tag_ = tag;
    }
    char note[96];
    std::snprintf(note, sizeof note, "%s tag %u len %u addr 0x%llx", op.write ? "write" : "read", tag, op.length,
                  static_cast<unsigned long long>(op.address));
    sim_.trace().record(now, name_, note);
    if (observer_) {
      dma::DmaRequest r{name_, op.address, op.length, tag, op.write, std::move(op.data), now};
      observer_->on_request(r);
    }
    in_flight_[tag] = InFlight{op.write, op.length, {}};
    ++outstanding_;
    ++issued_;
    if (ops_.empty()) plan_next_pair();
  }
}

void DmaExerciser::complete(std::uint8_t tag, std::uint8_t status, sim::SimTime now) {
  char note[64];
  std::snprintf(note, sizeof note, "complete tag %u status %u", tag, status);
  sim_.trace().record(now, name_, note);
  dma::DmaCompletion c{tag, static_cast<dma::CompletionStatus>(status), {}};
  auto& slot = in_flight_[tag];
  if (slot) {
    c.data = std::move(slot->data);
    slot.reset();
    --outstanding_;
    ++completed_;
  }
  if (pending_write_tag_ == tag) pending_write_tag_.reset();
  if (observer_) observer_->on_completion(c, now);  // the observer judges stray tags too
}

sim::NextActivity DmaExerciser::on_clock_edge(sim::SimTime now) {
  host_->drive(*top_);
  drive_device_side(now);
  top_->clk = 0;
  top_->eval();
  if (waves_) waves_->low_phase(now);
  host_->sample(*top_);
  sample_device_side(now);
  top_->clk = 1;
  top_->eval();
  if (waves_) waves_->rising_edge(now);

  if (host_->has_work(*top_) || top_->dev_rsp_valid || !wdata_.empty() || top_->dev_req_valid) {
    return sim::NextActivity::next_edge();
  }
  if (head_ready(sim::kNever - 1)) return sim::NextActivity::at(ops_.front().not_before);
  return sim::NextActivity::on_input();  // waiting for completions, or done
}

}  // namespace dexthil::models
