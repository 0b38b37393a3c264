#pragma once
// One function (one IOC, one SCSI channel) of the LSI53C1030 behind a fabric endpoint: the RTL
// (rtl/lsi_function.sv: the system interface and the DMA engines) with the firmware
// (firmware/ioc_firmware.hpp) and the IOC's local memory beside it. Registers answer in the memory
// BAR given; the interrupt is signalled as an MSI.
//
// Requests come by Doorbell handshake (the dwords go into the handshake frame slot) or through
// the request FIFO (the RTL fetches each frame into a slot of local memory). The firmware answers
// them; a reply to a FIFO request is written by DMA into a free reply frame the host returned and
// posted to the reply FIFO as an address reply. Page buffers and scatter-gather lists are walked
// by the RTL's SGL engine. docs/lsi53c1030.md describes all of it.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/sim/simulator.hpp"
#include "lsi53c1030_registers.h"
#include "models/common/dma_host_side.hpp"
#include "models/common/register_bus.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/lsi53c1030/firmware/ioc_firmware.hpp"
#include "models/lsi53c1030/scsi_channel.hpp"

class Vlsi_function;
class VerilatedContext;

namespace dexthil::models {

namespace lsi_regs = ::lsi53c1030_registers;

// The IOC's local memory map (rtl/lsi_dma.sv uses the first two).
namespace lsi_local {
inline constexpr std::uint32_t kFrameBytes = lsi::IocFirmware::kRequestFrameDwords * 4;
inline constexpr std::uint32_t kFifoSlots = lsi::IocFirmware::kQueueDepth;
inline constexpr std::uint32_t kHandshakeSlot = kFifoSlots;  // past the fetched ones
inline constexpr std::uint32_t kChainBuffer = 0x0001'0000;   // 64 KiB: a chain element's length is 16 bits
inline constexpr std::uint32_t kReplyStaging = 0x0002'0000;  // reply frames on their way out, a ring
inline constexpr std::uint32_t kReplyStagingEntries = 256;
inline constexpr std::uint32_t kReplyStagingBytes = 128;
inline constexpr std::uint32_t kPageBuffer = 0x0002'8000;  // a config page on its way in or out
inline constexpr std::uint32_t kPageBufferBytes = 0x1000;
inline constexpr std::uint32_t kSenseStaging = 0x0003'0000;  // a SCSI_IO's sense data, per frame slot
inline constexpr std::uint32_t kSenseBytes = 0x100;          // SenseBufferLength is one byte
inline constexpr std::uint32_t kSize = kSenseStaging + kFifoSlots * kSenseBytes;
// A SCSI_IO's data, per frame slot: bit 31 set, the slot in 30:24, the offset in 23:0.
inline constexpr std::uint32_t kDataWindow = 0x8000'0000;
inline constexpr std::uint32_t kDataWindowBytes = 0x0100'0000;  // 16 MiB: the most one SCSI_IO moves here
inline constexpr std::uint32_t frame(std::uint32_t slot) { return slot * kFrameBytes; }
inline constexpr std::uint32_t data_window(std::uint32_t slot) { return kDataWindow | slot << 24; }
inline constexpr std::uint32_t sense(std::uint32_t slot) { return kSenseStaging + slot * kSenseBytes; }
}  // namespace lsi_local

class Lsi53c1030Function final : public sim::ClockedModel, public pcie::MmioDevice, private LocalMemory {
 public:
  Lsi53c1030Function(std::string name, sim::Simulator& sim, pcie::Fabric& fabric, const pcie::Node& endpoint,
                     std::size_t register_bar, lsi::IocIdentity identity = {}, checks::FindingLog* findings = nullptr);
  ~Lsi53c1030Function() override;

  std::string_view name() const override { return name_; }
  sim::NextActivity on_clock_edge(sim::SimTime now) override;
  void mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) override;
  void mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

  const lsi::IocFirmware& firmware() const { return firmware_; }
  std::uint64_t interrupts_signalled() const { return interrupts_; }
  // How long the interrupt may stay raised after its MSI before lsi.interrupt-left-raised.
  static constexpr sim::SimTime kInterruptLeftRaised = 100 * sim::kMillisecond;
  std::uint64_t requests_fetched() const { return frames_fetched_; }
  std::uint64_t replies_posted() const { return replies_posted_; }
  std::uint64_t scsi_ios_completed() const { return scsi_ios_completed_; }
  std::uint64_t edges_evaluated() const { return edges_; }
  // The channel's bus and targets: attach disks here before the host scans.
  lsi::ScsiChannel& channel() { return channel_; }
  // A reset of the function (FLR, hot reset): the chip's hard reset.
  void reset();
  // The run ends: replies still waiting for a free reply frame are a finding.
  void finish_run();
  // The device was pulled out ([[hotplug]]): it stops being clocked.
  void unplug() { sim_.detach(*this); }

  // What the DMA engine reports for a command (rtl/lsi_dma.sv's done_* outputs).
  enum class DmaResult : std::uint8_t {
    kOk = 0,
    kBusError = 1,
    kPastEnd = 2,
    kZeroLength = 3,
    kChainDepth = 4,
    kChainLoop = 5,
    kBadType = 6,
    kDirection = 7,
    kShort = 8,
  };
  struct DmaDone {
    DmaResult result = DmaResult::kOk;
    std::uint8_t status = 0;       // kBusError: the completion's status
    std::uint32_t moved = 0;       // bytes moved
    std::uint64_t host_addr = 0;   // kBusError: the failing address; SGL errors: the chain segment's (0: the frame)
    std::uint32_t element = 0;     // SGL errors: the element's local address
    std::uint8_t depth = 0;        // chain segments followed
  };

 private:
  struct DmaCommand {
    bool walk = false;
    bool to_host = false;
    std::uint64_t host_addr = 0;
    std::uint32_t laddr = 0;
    std::uint32_t length = 0;
    std::uint32_t sgl_laddr = 0;
    std::uint32_t sgl_end = 0;
    std::function<void(const DmaDone&)> done;
  };
  // A request in the firmware's hands: where it came from and its frame in local memory.
  struct Request {
    std::uint32_t slot = 0;  // lsi_local::kHandshakeSlot for a handshake request
    std::uint32_t mfa = 0;   // FIFO requests: the frame's address, low half
    std::size_t bytes = 0;   // the frame's length
    bool by_handshake() const { return slot == lsi_local::kHandshakeSlot; }
  };

  std::span<std::uint8_t> local_bytes(std::uint32_t laddr, std::size_t length) override;
  std::span<const std::uint8_t> frame_of(const Request& request) const;

  void dma(DmaCommand command);
  // An SGL walk of the list at `offset` in the request's frame.
  void walk(const Request& request, std::size_t offset, bool to_host, std::uint32_t laddr, std::uint32_t length,
            std::function<void(const DmaDone&)> done);
  void handle(const Request& request);
  void handle_config(const Request& request);
  // SCSI_IO (lsi53c1030_scsi_io.cpp): checked, its data-out fetched, run on the channel, its
  // data-in moved while the bus carries it, sense written, and answered.
  struct ScsiIo;
  void handle_scsi_io(const Request& request);
  void run_on_bus(const std::shared_ptr<ScsiIo>& io);
  void complete_scsi_io(const std::shared_ptr<ScsiIo>& io);
  void reply_scsi_io(const std::shared_ptr<ScsiIo>& io, std::uint16_t ioc_status, std::uint8_t scsi_state,
                     std::uint32_t sense_count);
  // SCSI_TASK_MGMT: abort a task or a task set, reset a logical unit, a target or the bus. The
  // tasks it ends are answered SCSI_TASK_TERMINATED first, then the request, always through the
  // reply FIFO.
  void handle_task_management(const Request& request);
  // A SCSI_IO whose callbacks must do nothing: reset, or ended by task management.
  bool stale(const ScsiIo& io) const;
  static std::vector<std::uint8_t>& data_of(ScsiIo& io);
  // A request the firmware refuses as malformed: the finding, and the reply with `ioc_status`.
  void malformed(const std::shared_ptr<ScsiIo>& io, const std::string& what, std::uint16_t ioc_status);
  // What the host asked for with `target` (SCSI Device page 1, else Port page 2), for the channel;
  // and what it agreed, into Device page 0.
  void ask_for_agreement(std::uint8_t target);
  void report_agreement(std::uint8_t target);
  void answer(const Request& request, std::optional<lsi::IocFirmware::Reply> reply);
  void post_address_reply(std::vector<std::uint8_t> frame);
  void finished(const Request& request);
  // "CONFIG request (MsgContext 0x5, frame at MFA 0x80000100)", for findings.
  std::string describe(const Request& request) const;
  // A Doorbell write the handshake protocol does not allow (rtl/lsi_sysif.sv's codes).
  void doorbell_violation(std::uint8_t code, std::uint32_t written);
  // The host wrote a frame's address to REPLY_FIFO.
  void reply_frame_returned(std::uint32_t frame);
  // A reset: requests, replies and DMA in progress are gone.
  void forget_in_flight();
  // The IOC's own hard reset: the firmware's pages back to defaults, the SCSI bus's agreements gone.
  void hard_reset_ioc();
  // Reports lsi.interrupt-left-raised if the line is still up kInterruptLeftRaised after this MSI.
  void watch_raised_interrupt();
  void arm_interrupt_watch();  // for kInterruptLeftRaised after the latest MSI
  void check_raised_interrupt();
  void write_oldest_reply(std::uint32_t free_frame);
  // A walk that failed: the finding (SGL errors are the driver's) and the IOCStatus to answer with.
  std::uint16_t dma_failure(const Request& request, const char* what, const DmaDone& done);

  std::string name_;
  sim::Simulator& sim_;
  pcie::Fabric& fabric_;
  const pcie::Node& endpoint_;
  std::size_t register_bar_;
  checks::FindingLog* findings_;
  rtl_assertions::SimulatorLink assertions_;
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vlsi_function> top_;
  DmaHostSide<Vlsi_function> dma_host_;
  RegisterBus registers_{0x100};
  lsi::IocFirmware firmware_;
  // What the host's pages ask of each target, remembered per pages_version (ask_for_agreement).
  struct WantedAgreement {
    std::uint64_t pages_version = ~std::uint64_t{0};  // the firmware's pages they were read from
    scsi::Agreement agreement;
  };
  std::array<WantedAgreement, lsi::ScsiChannel::kIds> wanted_{};
  std::vector<std::uint8_t> local_;  // lsi_local's map
  std::vector<std::shared_ptr<ScsiIo>> window_of_;  // whose data lsi_local::data_window(slot) is
  lsi::ScsiChannel channel_;
  std::vector<std::shared_ptr<ScsiIo>> ios_;  // SCSI_IOs not answered yet
  bool close_handshake_ = false;              // end the handshake without reply words (task management)

  std::vector<std::uint8_t> handshake_request_;  // the dwords taken so far, as bytes
  std::deque<std::uint16_t> handshake_reply_;    // the reply's words still to offer
  std::deque<DmaCommand> dma_queue_;             // front: offered to the RTL, or in its hands
  bool dma_in_flight_ = false;
  std::deque<std::vector<std::uint8_t>> replies_waiting_;  // address replies waiting for a free frame
  std::deque<std::uint32_t> to_post_;                      // reply FIFO entries ready to push
  std::deque<std::uint32_t> slots_to_release_;
  std::multiset<std::uint32_t> free_frames_;  // reply frames the host returned and the IOC has not used
  std::set<std::uint32_t> frames_with_host_;  // reply frames holding a reply the host has not returned
  std::uint32_t staging_next_ = 0;
  std::uint64_t generation_ = 0;  // bumped by every reset: DMA callbacks of an older one are void
  bool irq_was_high_ = false;
  std::uint64_t irq_rises_ = 0;  // times the line rose: a check sees whether it fell since
  sim::SimTime last_msi_at_ = 0;
  std::uint64_t last_msi_rise_ = 0;  // irq_rises_ at the latest MSI
  bool interrupt_watch_armed_ = false;
  std::uint64_t interrupts_ = 0;
  std::uint64_t frames_fetched_ = 0;
  std::uint64_t replies_posted_ = 0;
  std::uint64_t scsi_ios_completed_ = 0;
  std::uint64_t edges_ = 0;
};

}  // namespace dexthil::models
