#include "models/lsi53c1030/lsi53c1030.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "harness/util/hex.hpp"

#include "Vlsi_function.h"
#include "models/common/verilated_clock.hpp"
#include "models/common/verilated_top.hpp"

namespace dexthil::models {
namespace {

using util::hex;

// What each SGL result means, for findings (rtl/lsi_dma.sv's R_* codes).
const char* sgl_problem(Lsi53c1030Function::DmaResult result) {
  using R = Lsi53c1030Function::DmaResult;
  switch (result) {
    case R::kOk: return "moved";
    case R::kBusError: return "a DMA request completed with an error";
    case R::kPastEnd: return "an element runs past the end of its frame or chain segment (a length beyond the frame)";
    case R::kZeroLength: return "a zero-length element while bytes remain to be moved";
    case R::kChainDepth: return "more chain elements than IOCFacts' MaxChainDepth allows";
    case R::kChainLoop: return "a chain element leads back to a chain segment already walked (a chain loop)";
    case R::kBadType: return "an element that is neither a simple nor a chain element";
    case R::kDirection: return "a simple element's direction flag (0x04, host to IOC) contradicts the transfer";
    case R::kShort: return "the list ended (end-of-list flag) before the transfer's bytes were described";
  }
  return "?";
}

const char* function_name(std::uint8_t function) {
  switch (function) {
    case lsi::mpi::kScsiIo: return "SCSI_IO";
    case lsi::mpi::kScsiTaskMgmt: return "SCSI_TASK_MGMT";
    case lsi::mpi::kIocInit: return "IOC_INIT";
    case lsi::mpi::kIocFacts: return "IOC_FACTS";
    case lsi::mpi::kConfig: return "CONFIG";
    case lsi::mpi::kPortFacts: return "PORT_FACTS";
    case lsi::mpi::kPortEnable: return "PORT_ENABLE";
    case lsi::mpi::kEventNotification: return "EVENT_NOTIFICATION";
    case lsi::mpi::kEventAck: return "EVENT_ACK";
    default: return "an unknown function";
  }
}

// Host memory as the firmware sees it while it answers a config request: the page buffer, which
// the SGL engine brought into local memory (a write) or will take out of it (a read).
class StagedPageBuffer final : public lsi::HostMemory {
 public:
  StagedPageBuffer(std::span<std::uint8_t> staging, std::size_t fetched) : staging_(staging), fetched_(fetched) {}
  bool read(std::uint64_t, std::span<std::uint8_t> bytes) override {
    if (bytes.size() > fetched_) return false;
    std::memcpy(bytes.data(), staging_.data(), bytes.size());
    return true;
  }
  bool write(std::uint64_t, std::span<const std::uint8_t> bytes) override {
    if (bytes.size() > staging_.size()) return false;
    std::memcpy(staging_.data(), bytes.data(), bytes.size());
    written_ = bytes.size();
    return true;
  }
  std::size_t written() const { return written_; }

 private:
  std::span<std::uint8_t> staging_;
  std::size_t fetched_;
  std::size_t written_ = 0;
};

}  // namespace

Lsi53c1030Function::Lsi53c1030Function(std::string name, sim::Simulator& sim, pcie::Fabric& fabric,
                                       const pcie::Node& endpoint, std::size_t register_bar, lsi::IocIdentity identity,
                                       checks::FindingLog* findings)
    : name_(std::move(name)),
      sim_(sim),
      fabric_(fabric),
      endpoint_(endpoint),
      register_bar_(register_bar),
      findings_(findings),
      assertions_(sim),
      top_(make_verilated_top<Vlsi_function>(context_, sim.seed(), name_, false)),
      dma_host_(sim, *this, fabric.upstream(endpoint), name_, this),
      firmware_(identity),
      local_(lsi_local::kSize, 0),
      window_of_(lsi_local::kFifoSlots),
      channel_(sim, name_ + ".scsi") {
  top_->reg_valid = 0;
  top_->reg_write = 0;
  top_->reg_be = 0;
  top_->hs_reply_valid = 0;
  top_->hs_reply_none = 0;
  top_->rpost_push = 0;
  top_->rfree_pop = 0;
  top_->cmd_valid = 0;
  top_->slot_release = 0;
  top_->fetch_enable = 0;
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
  reset_cycles(*top_);
  forget_in_flight();
  hard_reset_ioc();
  irq_was_high_ = top_->irq;
}

void Lsi53c1030Function::hard_reset_ioc() {
  firmware_.hard_reset();
  channel_.reset_negotiation();  // the IOC resets its SCSI bus as it comes up
}

void Lsi53c1030Function::forget_in_flight() {
  dma_host_.reset();
  free_frames_.clear();  // the reset emptied the free FIFO
  frames_with_host_.clear();
  ios_.clear();
  window_of_.assign(lsi_local::kFifoSlots, nullptr);
  close_handshake_ = false;
  handshake_request_.clear();
  handshake_reply_.clear();
  dma_queue_.clear();
  dma_in_flight_ = false;
  replies_waiting_.clear();
  to_post_.clear();
  slots_to_release_.clear();
  ++generation_;
}

std::span<std::uint8_t> Lsi53c1030Function::local_bytes(std::uint32_t laddr, std::size_t length) {
  if (laddr & lsi_local::kDataWindow) {
    const std::shared_ptr<ScsiIo>& owner = window_of_[(laddr >> 24) & 0x7F];
    if (!owner) return {};
    std::vector<std::uint8_t>& window = data_of(*owner);
    const std::uint32_t offset = laddr & (lsi_local::kDataWindowBytes - 1);
    if (offset > window.size() || length > window.size() - offset) return {};
    return std::span<std::uint8_t>(window).subspan(offset, length);
  }
  if (laddr > local_.size() || length > local_.size() - laddr) return {};
  return std::span<std::uint8_t>(local_).subspan(laddr, length);
}

std::span<const std::uint8_t> Lsi53c1030Function::frame_of(const Request& request) const {
  return std::span<const std::uint8_t>(local_).subspan(lsi_local::frame(request.slot), request.bytes);
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
  if (offset == lsi_regs::kReplyFifo && size == 4) reply_frame_returned(static_cast<std::uint32_t>(value));
  // The PCIe core cuts DMA into TLPs within the request size limits software set (a PCI-X
  // function has none). Read here because no DMA starts without a register write first, and
  // Device Control is config space, which a driver sets up before.
  dma_host_.set_tlp_limits(pcie::Fabric::max_payload(endpoint_).value_or(4096),
                           pcie::Fabric::max_read_request(endpoint_).value_or(4096));
  registers_.write(offset, size, value);
  sim_.wake(*this);
}

// ------------------------------------------------------------------------------------------ DMA

void Lsi53c1030Function::dma(DmaCommand command) {
  dma_queue_.push_back(std::move(command));
  sim_.wake(*this);
}

void Lsi53c1030Function::walk(const Request& request, std::size_t offset, bool to_host, std::uint32_t laddr,
                              std::uint32_t length, std::function<void(const DmaDone&)> done) {
  DmaCommand c;
  c.walk = true;
  c.to_host = to_host;
  c.laddr = laddr;
  c.length = length;
  c.sgl_laddr = lsi_local::frame(request.slot) + static_cast<std::uint32_t>(offset);
  c.sgl_end = lsi_local::frame(request.slot) + static_cast<std::uint32_t>(request.bytes);
  c.done = std::move(done);
  dma(std::move(c));
}

std::string Lsi53c1030Function::describe(const Request& request) const {
  const lsi::mpi::Frame frame(frame_of(request));
  return std::string(function_name(frame.u8(lsi::mpi::kOffsetFunction))) + " request (MsgContext " +
         hex(frame.u32(lsi::mpi::kOffsetMsgContext)) + ", " +
         (request.by_handshake() ? std::string("by doorbell handshake") : "frame at MFA " + hex(request.mfa)) + ")";
}

std::uint16_t Lsi53c1030Function::dma_failure(const Request& request, const char* what, const DmaDone& done) {
  const std::string request_text = describe(request);
  if (done.result == DmaResult::kBusError) {
    // The fabric's own checks (the DART, the path) say why the completion failed.
    if (findings_) {
      findings_->add({"lsi.dma-error", name_, sim_.now(),
                      std::string(what) + " of a " + request_text + " failed at " + hex(done.host_addr) + ": " +
                          dma::describe(static_cast<dma::CompletionStatus>(done.status)),
                      "the IOC answers with IOCStatus INVALID_SGL (0x0003); the reason the host bus refused the "
                      "access is in the DART or PCIe finding at the same time",
                      {}, {{"address", hex(done.host_addr)}, {"status", std::to_string(done.status)}}});
    }
    return lsi::mpi::kInvalidSgl;
  }
  if (findings_) {
    const bool in_frame = done.depth == 0;
    const std::uint32_t at = in_frame ? done.element - lsi_local::frame(request.slot) : done.element - lsi_local::kChainBuffer;
    const std::string where = in_frame ? "at byte " + hex(at) + " of the request frame"
                                       : "at byte " + hex(at) + " of chain segment " + std::to_string(done.depth) +
                                             " (at " + hex(done.host_addr) + ")";
    findings_->add({"lsi.bad-sgl", name_, sim_.now(),
                    "bad scatter-gather list in the " + request_text + ": " + sgl_problem(done.result) + ", " + where,
                    "the IOC cannot move the data a list like this describes, so it answers IOCStatus INVALID_SGL "
                    "(0x0003) and moves nothing further; MPI 1.x SGE rules: FlagsLength is flags 31:24 and length "
                    "23:0, a chain element's length is 15:0, every element lies inside its frame or chain segment",
                    {},
                    {{"result", sgl_problem(done.result)}, {"offset", hex(at)}, {"chain_depth", std::to_string(done.depth)},
                     {"moved", std::to_string(done.moved)}}});
  }
  return lsi::mpi::kInvalidSgl;
}

// ------------------------------------------------------------------------------------ requests

void Lsi53c1030Function::handle(const Request& request) {
  const std::uint8_t function = frame_of(request)[lsi::mpi::kOffsetFunction];
  if (function == lsi::mpi::kConfig) {
    handle_config(request);
    return;
  }
  if (function == lsi::mpi::kScsiIo && !request.by_handshake()) {
    handle_scsi_io(request);
    return;
  }
  if (function == lsi::mpi::kScsiTaskMgmt) {
    handle_task_management(request);
    return;
  }
  StagedPageBuffer none({}, 0);
  answer(request, firmware_.handle(frame_of(request), none));
}

// A config request's page buffer moves through the SGL engine: a write's data is brought in
// before the firmware sees the request, a read's page goes out after it answered.
void Lsi53c1030Function::handle_config(const Request& request) {
  const lsi::mpi::Frame frame(frame_of(request));
  const std::uint8_t action = frame.u8(0x00);
  const std::uint32_t length =
      std::min<std::uint32_t>(frame.u32(0x1C) & 0x00FFFFFF, lsi_local::kPageBufferBytes);
  const bool has_data = action != lsi::mpi::kPageHeader && action != lsi::mpi::kDefault && action <= lsi::mpi::kReadNvram;
  const bool write = action == lsi::mpi::kWriteCurrent || action == lsi::mpi::kWriteNvram;
  const std::span<std::uint8_t> staging = local_bytes(lsi_local::kPageBuffer, lsi_local::kPageBufferBytes);
  const std::uint64_t generation = generation_;
  auto respond = [this, request, staging, has_data, write, generation](std::size_t fetched) {
    StagedPageBuffer buffer(staging, fetched);
    std::optional<lsi::IocFirmware::Reply> reply = firmware_.handle(frame_of(request), buffer);
    if (!reply || !has_data || write || buffer.written() == 0) {
      answer(request, std::move(reply));
      return;
    }
    walk(request, 0x1C, true, lsi_local::kPageBuffer, static_cast<std::uint32_t>(buffer.written()),
         [this, request, reply, generation](const DmaDone& done) mutable {
           if (generation != generation_) return;
           if (done.result != DmaResult::kOk) {
             reply->frame.set_u16(lsi::mpi::kOffsetIocStatus, dma_failure(request, "the page buffer write", done));
           }
           answer(request, std::move(reply));
         });
  };
  if (!write || length == 0) {
    respond(0);
    return;
  }
  walk(request, 0x1C, false, lsi_local::kPageBuffer, length, [this, request, respond, generation](const DmaDone& done) {
    if (generation != generation_) return;
    if (done.result != DmaResult::kOk) {
      // The firmware finds nothing to read and answers INVALID_SGL itself.
      dma_failure(request, "the page buffer read", done);
      respond(0);
      return;
    }
    respond(done.moved);
  });
}

void Lsi53c1030Function::answer(const Request& request, std::optional<lsi::IocFirmware::Reply> reply) {
  if (reply && !reply->problem.empty() && findings_) {
    const std::uint16_t status = reply->frame.u16(lsi::mpi::kOffsetIocStatus);
    findings_->add({"lsi.config-write", name_, sim_.now(),
                    "refused page write in the " + describe(request) + ": " + reply->problem,
                    "the IOC keeps the page as it was and answers IOCStatus " + hex(status) +
                        (status == lsi::mpi::kConfigCantCommit ? " (CONFIG_CANT_COMMIT)" : " (CONFIG_INVALID_DATA)") +
                        "; a page write carries the whole page, its header as the PAGE_HEADER action returned it",
                    {}, {{"status", hex(status)}}});
  }
  finished(request);
  if (!reply) return;  // the IOC faulted: Doorbell says why
  if (request.by_handshake() && !reply->via_reply_fifo) {
    // The reply goes out as 16-bit words, low half of each dword first: 2 x MsgLength of them.
    const std::vector<std::uint8_t>& bytes = reply->frame.bytes();
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
      handshake_reply_.push_back(static_cast<std::uint16_t>(bytes[i] | bytes[i + 1] << 8));
    }
    sim_.wake(*this);
    return;
  }
  post_address_reply(reply->frame.bytes());
}

void Lsi53c1030Function::post_address_reply(std::vector<std::uint8_t> frame) {
  replies_waiting_.push_back(std::move(frame));
  sim_.wake(*this);
}

void Lsi53c1030Function::doorbell_violation(std::uint8_t code, std::uint32_t written) {
  if (!findings_) return;
  char value[16];
  std::snprintf(value, sizeof value, "0x%08x", written);
  std::string what = "Doorbell write " + std::string(value);
  std::string why;
  switch (code) {
    case 1:
      what += " outside a handshake: function " + hex(written >> 24) + " is not a Doorbell function";
      why = "the IOC ignores it; the Doorbell takes MessageUnitReset (0x40), IO_UNIT_RESET (0x41) and HANDSHAKE "
            "(0x42 << 24 | dwords << 16), and requests come by a handshake or through the request FIFO";
      break;
    case 2:
      what += ": a HANDSHAKE of " + std::to_string(written >> 16 & 0xFF) + " dwords, longer than a request frame (" +
              std::to_string(lsi::IocFirmware::kRequestFrameDwords) + " dwords, IOCFacts RequestFrameSize)";
      why = "the IOC ignores it and stays idle, so the request's dwords that follow are Doorbell writes outside a "
            "handshake";
      break;
    case 3:
      what += " before the host acknowledged the handshake's start";
      why = "after HANDSHAKE the host waits for the doorbell interrupt and clears it (any write to "
            "HOST_INTERRUPT_STATUS) before the first request dword; the IOC ignores this write, so the request "
            "arrives without it";
      break;
    default:
      what += " while the IOC is sending its reply";
      why = "the host reads each reply word from Doorbell[15:0] and clears its doorbell interrupt, and writes "
            "Doorbell again only after the handshake's closing interrupt; the IOC ignores this write";
      break;
  }
  findings_->add({"lsi.doorbell-protocol", name_, sim_.now(), what, why, {}, {{"written", value}}});
}

void Lsi53c1030Function::reply_frame_returned(std::uint32_t frame) {
  if (frames_with_host_.erase(frame) == 0 && free_frames_.contains(frame) && findings_) {
    findings_->add({"lsi.reply-frame-returned-twice", name_, sim_.now(),
                    "the driver returned the reply frame at " + hex(frame) +
                        " to REPLY_FIFO while it was already free (never used for a reply since)",
                    "the IOC will write two replies into the same frame, and the driver will read one of them "
                    "twice or lose one; return a frame once, after reading the reply in it",
                    {}, {{"frame", hex(frame)}}});
  }
  free_frames_.insert(frame);
}

// An MSI goes out only when the interrupt line rises: a line still up long after its message
// means the driver will hear nothing more from this function. Only the latest MSI can be the one
// left unanswered (a newer one means the line rose again), so one timer watches it: at a busy
// function's interrupt rate, a timer per MSI kept hundreds of events in the simulator's queue.
void Lsi53c1030Function::watch_raised_interrupt() {
  last_msi_at_ = sim_.now();
  last_msi_rise_ = irq_rises_;
  if (!interrupt_watch_armed_) arm_interrupt_watch();
}

void Lsi53c1030Function::arm_interrupt_watch() {
  interrupt_watch_armed_ = true;
  sim_.at(last_msi_at_ + kInterruptLeftRaised, [this] { check_raised_interrupt(); });
}

void Lsi53c1030Function::check_raised_interrupt() {
  interrupt_watch_armed_ = false;
  if (!irq_was_high_ || last_msi_rise_ != irq_rises_) return;  // it fell since the latest MSI
  if (sim_.now() < last_msi_at_ + kInterruptLeftRaised) {
    arm_interrupt_watch();  // a later MSI: watch it for its own 100 ms
    return;
  }
  if (!findings_) return;
  findings_->add({"lsi.interrupt-left-raised", name_, sim_.now(),
                  "the interrupt has stayed raised since its MSI at " + sim::format_time(last_msi_at_) + " (" +
                      sim::format_time(kInterruptLeftRaised) + "), so no further MSI is sent",
                  "MSI is edge-like: the function sends a message when its interrupt line rises, and the line is "
                  "HostInterruptStatus & ~HostInterruptMask. The reply interrupt clears only when a ReplyFifo read "
                  "finds the FIFO empty, and a reply posted in the cycle of that read keeps it raised; the doorbell "
                  "interrupt clears with a write to HostInterruptStatus. A handler that returns while either is "
                  "still set (it read the FIFO empty but did not check HostInterruptStatus, or never read it "
                  "empty) is not interrupted again, and the replies behind it wait."});
}

void Lsi53c1030Function::finish_run() {
  if (replies_waiting_.empty() || !findings_) return;
  std::string frames;
  std::size_t listed = 0;
  for (std::uint32_t f : frames_with_host_) {
    if (listed++ == 8) {
      frames += ", ...";
      break;
    }
    frames += (frames.empty() ? "" : ", ") + hex(f);
  }
  findings_->add({"lsi.reply-frame-not-returned", name_, sim_.now(),
                  std::to_string(replies_waiting_.size()) + " replies waited for a free reply frame until the end: " +
                      std::to_string(frames_with_host_.size()) + " frames hold replies the driver never returned (" +
                      (frames.empty() ? std::string("none: it never posted any") : frames) + ")",
                  "the IOC writes every address reply into a frame the driver gave it through REPLY_FIFO; a driver "
                  "that reads a reply must write the frame's address back, or the IOC runs out and its replies stop",
                  {}, {{"waiting", std::to_string(replies_waiting_.size())},
                       {"not_returned", std::to_string(frames_with_host_.size())}}});
}

// A free reply frame came for the oldest reply waiting: stage the reply and write it into the
// frame; post it once it is there.
void Lsi53c1030Function::write_oldest_reply(std::uint32_t free_frame) {
  if (auto it = free_frames_.find(free_frame); it != free_frames_.end()) free_frames_.erase(it);
  frames_with_host_.insert(free_frame);
  std::vector<std::uint8_t> reply = std::move(replies_waiting_.front());
  replies_waiting_.pop_front();
  const std::uint32_t staging =
      lsi_local::kReplyStaging + (staging_next_++ % lsi_local::kReplyStagingEntries) * lsi_local::kReplyStagingBytes;
  const std::size_t bytes = std::min<std::size_t>(reply.size(), lsi_local::kReplyStagingBytes);
  std::memcpy(&local_[staging], reply.data(), bytes);
  DmaCommand c;
  c.to_host = true;
  c.host_addr = static_cast<std::uint64_t>(firmware_.host_mfa_high()) << 32 | free_frame;
  c.laddr = staging;
  c.length = static_cast<std::uint32_t>(bytes);
  const std::uint64_t generation = generation_;
  c.done = [this, free_frame, generation](const DmaDone& d) {
    if (generation != generation_) return;
    if (d.result != DmaResult::kOk && findings_) {
      findings_->add({"lsi.dma-error", name_, sim_.now(),
                      "writing a reply into the free reply frame at " + hex(free_frame) + " failed: " +
                          dma::describe(static_cast<dma::CompletionStatus>(d.status)),
                      "the reply is lost; the reason is in the DART or PCIe finding at the same time",
                      {}, {{"address", hex(d.host_addr)}}});
      return;
    }
    // An address reply: bit 31 set, the frame's address shifted right by one.
    to_post_.push_back(0x8000'0000u | free_frame >> 1);
  };
  dma(std::move(c));
}

void Lsi53c1030Function::finished(const Request& request) {
  if (!request.by_handshake()) slots_to_release_.push_back(request.slot);
}

// ---------------------------------------------------------------------------------- the edge

sim::NextActivity Lsi53c1030Function::on_clock_edge(sim::SimTime now) {
  (void)now;
  Vlsi_function& top = *top_;
  ++edges_;
  const std::optional<RegisterBus::Access> access = registers_.drive(top);
  // The firmware's side, as it stands before this edge.
  top.fw_state = static_cast<std::uint8_t>(firmware_.state());
  top.fw_who_init = firmware_.who_init() & 0x7;
  top.fw_fault_code = firmware_.fault_code();
  top.host_mfa_high = firmware_.host_mfa_high();
  top.fetch_enable = firmware_.state() == lsi::mpi::IocState::kOperational;
  top.hs_reply_valid = !handshake_reply_.empty();
  top.hs_reply_none = close_handshake_;
  if (!handshake_reply_.empty()) {
    top.hs_reply_word = handshake_reply_.front();
    top.hs_reply_last = handshake_reply_.size() == 1;
  }
  top.cmd_valid = !dma_queue_.empty() && !dma_in_flight_;
  if (top.cmd_valid) {
    const DmaCommand& c = dma_queue_.front();
    top.cmd_walk = c.walk;
    top.cmd_to_host = c.to_host;
    top.cmd_host_addr = c.host_addr;
    top.cmd_laddr = c.laddr;
    top.cmd_length = c.length;
    top.cmd_sgl_laddr = c.sgl_laddr;
    top.cmd_sgl_end = c.sgl_end;
  }
  // Local memory's read port: the 12 bytes at lm_raddr (a register the last edge set).
  {
    // Little-endian bytes into Verilator's 32-bit words, least significant first: on a
    // little-endian host, the bytes as they are.
    static_assert(std::endian::native == std::endian::little);
    std::uint32_t element[3] = {};
    const std::span<std::uint8_t> at = local_bytes(top.lm_raddr, 12);
    if (!at.empty()) std::memcpy(element, at.data(), 12);
    for (int i = 0; i < 3; ++i) top.lm_rdata[i] = element[i];
  }
  // A free reply frame for the oldest reply waiting, and a finished reply for the host.
  const bool take_free_frame = !replies_waiting_.empty() && top.rfree_valid;
  const std::uint32_t free_frame = top.rfree_data;
  top.rfree_pop = take_free_frame;
  const bool post = !to_post_.empty() && !top.rpost_full;
  top.rpost_push = post;
  if (post) top.rpost_data = to_post_.front();
  const bool release = !slots_to_release_.empty();
  top.slot_release = release;
  if (release) top.slot_release_index = static_cast<std::uint8_t>(slots_to_release_.front());
  dma_host_.drive(top);

  top.clk = 0;
  top.eval();
  const std::uint32_t read_data = top.reg_rdata;
  // What this edge hands the firmware.
  const bool hard_reset = top.fw_hard_reset;
  const bool unit_reset = top.fw_msg_unit_reset;
  const bool reply_taken = top.hs_reply_ready;
  const bool handshake_closed = top.hs_closed;
  const std::uint8_t violation = top.hs_violation ? top.hs_violation_code : 0;
  const std::uint32_t written = top.reg_wdata;
  const bool request_dword = top.hs_req_valid;
  const std::uint32_t dword = top.hs_req_data;
  const bool request_last = top.hs_req_last;
  const bool command_taken = top.cmd_valid && top.cmd_ready;
  dma_host_.sample(top);
  top.clk = 1;
  top.eval();
  // The engines' one-cycle results, taken in the cycle after the edge that raised them: the
  // firmware acts on them now, so the clock need not run another edge just to lower them.
  const bool frame_valid = top.frame_valid;
  const Request fetched{top.frame_slot, top.frame_mfa, lsi_local::kFrameBytes};
  const std::uint8_t frame_status = top.frame_status;
  const bool dma_done = top.done_valid;
  const DmaDone done{static_cast<DmaResult>(top.done_result), top.done_status, top.done_moved, top.done_host_addr,
                     top.done_element, top.done_depth};
  top.reg_valid = 0;
  top.cmd_valid = 0;
  top.rfree_pop = 0;
  top.rpost_push = 0;
  top.slot_release = 0;
  RegisterBus::finish(access, read_data);

  if (post) {
    to_post_.pop_front();
    ++replies_posted_;
  }
  if (release) slots_to_release_.pop_front();
  if (violation) doorbell_violation(violation, written);
  if (reply_taken) handshake_reply_.pop_front();
  if (handshake_closed) close_handshake_ = false;
  if (command_taken) dma_in_flight_ = true;
  if (request_dword) {
    for (int i = 0; i < 4; ++i) handshake_request_.push_back(static_cast<std::uint8_t>(dword >> (8 * i)));
    if (request_last) {
      // The handshake's frame slot holds the request, as a fetched frame's slot does.
      const std::size_t bytes = std::min<std::size_t>(handshake_request_.size(), lsi_local::kFrameBytes);
      std::memcpy(&local_[lsi_local::frame(lsi_local::kHandshakeSlot)], handshake_request_.data(), bytes);
      handshake_request_.clear();
      handle(Request{lsi_local::kHandshakeSlot, 0, bytes});
    }
  }
  if (take_free_frame) write_oldest_reply(free_frame);
  if (dma_done && !dma_queue_.empty()) {
    DmaCommand finished_command = std::move(dma_queue_.front());
    dma_queue_.pop_front();
    dma_in_flight_ = false;
    if (finished_command.done) finished_command.done(done);
  }
  if (frame_valid) {
    ++frames_fetched_;
    if (frame_status != 0) {
      if (findings_) {
        findings_->add({"lsi.dma-error", name_, sim_.now(),
                        "fetching the request frame at MFA " + hex(fetched.mfa) + " failed: " +
                            dma::describe(static_cast<dma::CompletionStatus>(frame_status)),
                        "the IOC never sees this request, so the driver will wait for its reply until it times out; "
                        "the reason the host bus refused the read is in the DART or PCIe finding at the same time",
                        {}, {{"mfa", hex(fetched.mfa)}}});
      }
      slots_to_release_.push_back(fetched.slot);
    } else {
      handle(fetched);
    }
  }
  if (unit_reset || hard_reset) {
    forget_in_flight();  // the RTL's engines were reset with the message unit
    if (hard_reset) {
      hard_reset_ioc();
    } else {
      firmware_.message_unit_reset();
    }
  }

  if (top.irq && !irq_was_high_) {
    ++irq_rises_;
    if (fabric_.signal_msi(endpoint_)) {
      ++interrupts_;
      watch_raised_interrupt();
    }
  }
  irq_was_high_ = top.irq;
  const bool busy = !registers_.idle() || !handshake_reply_.empty() || close_handshake_ || (!dma_queue_.empty() && !dma_in_flight_) ||
                    !to_post_.empty() || !slots_to_release_.empty() || (!replies_waiting_.empty() && top.rfree_valid) ||
                    top.active || dma_host_.has_work(top);
  return busy ? sim::NextActivity::next_edge() : sim::NextActivity::on_input();
}

}  // namespace dexthil::models
