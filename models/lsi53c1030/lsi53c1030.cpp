#include "models/lsi53c1030/lsi53c1030.hpp"

#include "Vlsi_sysif.h"
#include "models/common/verilated_clock.hpp"
#include "models/common/verilated_top.hpp"

namespace dexthil::models {

Lsi53c1030Function::Lsi53c1030Function(std::string name, sim::Simulator& sim, pcie::Fabric& fabric,
                                       const pcie::Node& endpoint, std::size_t register_bar, lsi::IocIdentity identity)
    : name_(std::move(name)),
      sim_(sim),
      fabric_(fabric),
      endpoint_(endpoint),
      register_bar_(register_bar),
      assertions_(sim),
      top_(make_verilated_top<Vlsi_sysif>(context_, sim.seed(), name_, false)),
      firmware_(identity) {
  top_->reg_valid = 0;
  top_->reg_write = 0;
  top_->reg_be = 0;
  top_->hs_reply_valid = 0;
  top_->reqf_pop = 0;
  top_->rpost_push = 0;
  top_->rfree_pop = 0;
  reset_cycles(*top_);
  fabric_.attach_mmio(endpoint_, this);
  fabric_.on_reset(endpoint_, [this] { reset(); });
}

Lsi53c1030Function::~Lsi53c1030Function() {
  fabric_.on_reset(endpoint_, nullptr);
  fabric_.attach_mmio(endpoint_, nullptr);
  top_->final();
}

void Lsi53c1030Function::reset() {
  registers_.clear();
  handshake_request_.clear();
  handshake_reply_.clear();
  firmware_.hard_reset();
  reset_cycles(*top_);
  irq_was_high_ = top_->irq;
}

void Lsi53c1030Function::mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) {
  if (bar != register_bar_) {
    done(0);
    return;
  }
  registers_.read(offset, size, std::move(done));
  sim_.wake(*this);
}

void Lsi53c1030Function::mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != register_bar_) return;
  registers_.write(offset, size, value);
  sim_.wake(*this);
}

void Lsi53c1030Function::handshake_request_done() {
  const std::optional<lsi::IocFirmware::Reply> reply = firmware_.handle(handshake_request_, no_dma_);
  handshake_request_.clear();
  if (!reply) return;
  // The reply goes out as 16-bit words, low half of each dword first: 2 x MsgLength of them.
  const std::vector<std::uint8_t>& bytes = reply->frame.bytes();
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    handshake_reply_.push_back(static_cast<std::uint16_t>(bytes[i] | bytes[i + 1] << 8));
  }
}

sim::NextActivity Lsi53c1030Function::on_clock_edge(sim::SimTime now) {
  (void)now;
  const std::optional<RegisterBus::Access> access = registers_.drive(*top_);
  // The firmware's side, as it stands before this edge.
  top_->fw_state = static_cast<std::uint8_t>(firmware_.state());
  top_->fw_who_init = firmware_.who_init() & 0x7;
  top_->fw_fault_code = firmware_.fault_code();
  top_->hs_reply_valid = !handshake_reply_.empty();
  if (!handshake_reply_.empty()) {
    top_->hs_reply_word = handshake_reply_.front();
    top_->hs_reply_last = handshake_reply_.size() == 1;
  }
  top_->clk = 0;
  top_->eval();
  const std::uint32_t read_data = top_->reg_rdata;
  // What this edge hands the firmware.
  const bool hard_reset = top_->fw_hard_reset;
  const bool unit_reset = top_->fw_msg_unit_reset;
  const bool reply_taken = top_->hs_reply_ready;
  const bool request_dword = top_->hs_req_valid;
  const std::uint32_t dword = top_->hs_req_data;
  const bool request_last = top_->hs_req_last;
  top_->clk = 1;
  top_->eval();
  top_->reg_valid = 0;
  RegisterBus::finish(access, read_data);

  if (reply_taken) handshake_reply_.pop_front();
  if (request_dword) {
    for (int i = 0; i < 4; ++i) handshake_request_.push_back(static_cast<std::uint8_t>(dword >> (8 * i)));
    if (request_last) handshake_request_done();
  }
  if (unit_reset) {
    handshake_request_.clear();
    handshake_reply_.clear();
    firmware_.message_unit_reset();
  }
  if (hard_reset) {
    handshake_request_.clear();
    handshake_reply_.clear();
    firmware_.hard_reset();
  }

  if (top_->irq && !irq_was_high_ && fabric_.signal_msi(endpoint_)) ++interrupts_;
  irq_was_high_ = top_->irq;
  // Nothing moves without a register access, except a reply word on its way out.
  return registers_.idle() && handshake_reply_.empty() ? sim::NextActivity::on_input() : sim::NextActivity::next_edge();
}

}  // namespace dexthil::models
