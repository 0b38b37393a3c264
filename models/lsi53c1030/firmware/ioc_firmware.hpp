#pragma once
// The LSI53C1030's firmware, as the host sees it through MPI messages: one IOC per PCI function
// (one per SCSI channel). The system interface (Doorbell handshake, request and reply FIFOs,
// interrupts, DMA engines) is RTL beside it; this is the message layer above it: a request frame
// in, a reply frame out, IOC state, and the config pages (kept across message-unit resets,
// back to their defaults at a hard reset).
//
// The values a request reads back (IOCFacts, PortFacts, the pages) are in docs/lsi53c1030.md
// with where each came from. SCSI_IO and task management come with the SCSI bus model.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "models/lsi53c1030/firmware/mpi.hpp"

namespace dexthil::models::lsi {

// Host memory as the IOC's DMA engines reach it (a page buffer's SGE): false when the access
// fails (a bus error), which the firmware reports as IOCStatus, never as a crash.
class HostMemory {
 public:
  virtual bool read(std::uint64_t address, std::span<std::uint8_t> bytes) = 0;
  virtual bool write(std::uint64_t address, std::span<const std::uint8_t> bytes) = 0;

 protected:
  ~HostMemory() = default;
};

// What distinguishes one IOC from another: which function (SCSI channel) of the chip it is, and
// the chip's PCI identity (as config space shows it).
struct IocIdentity {
  std::uint8_t function = 0;          // 0: channel A, 1: channel B
  std::uint16_t vendor_id = 0x1000;   // LSI Logic
  std::uint16_t device_id = 0x0030;   // 53C1030
  std::uint8_t revision_id = 0x08;    // C0
  std::uint32_t class_code = 0x010000;  // mass storage, SCSI
  std::uint16_t subsystem_vendor_id = 0x1000;
  std::uint16_t subsystem_id = 0x8000;
};

class IocFirmware {
 public:
  static constexpr std::uint16_t kMsgVersion = 0x0102;  // MPI 1.2, as the 1030's firmware speaks it
  static constexpr std::uint16_t kProductId = 0x0104;   // SCSI initiator, 1030 C0 (MPI's encoding)
  // 128 bytes. No source gives the real firmware's value; FreeBSD's mpt, which drives real 1030s,
  // puts chain lists and page buffers right after the frame in a 512-byte slot, which a
  // 512-byte frame would overrun, and Linux uses at most 128 bytes whatever is reported.
  static constexpr std::uint16_t kRequestFrameDwords = 32;
  static constexpr std::uint16_t kQueueDepth = 128;  // request credits, and reply queue entries
  static constexpr std::uint8_t kMaxChainDepth = 3;
  static constexpr std::uint8_t kScsiIoRequestDwords = 12;  // IOCFacts BlockSize
  static constexpr std::uint8_t kTargets = 16;             // a wide SPI bus
  static constexpr std::uint8_t kInitiatorId = 7;

  explicit IocFirmware(IocIdentity identity = {});

  mpi::IocState state() const { return state_; }
  std::uint16_t fault_code() const { return fault_code_; }
  std::uint8_t who_init() const { return who_init_; }
  bool events_enabled() const { return events_enabled_; }
  // What IOCInit set (the upper halves of 64-bit frame and sense addresses, the reply frame size).
  std::uint32_t host_mfa_high() const { return host_mfa_high_; }
  std::uint32_t sense_buffer_high() const { return sense_buffer_high_; }
  std::uint16_t reply_frame_bytes() const { return reply_frame_bytes_; }

  // A hard reset (power-on, diagnostic RESET_ADAPTER, PCI reset): the pages back to defaults,
  // IOCInit's settings gone, READY.
  void hard_reset();
  // MessageUnitReset (Doorbell function 0x40): READY, IOCInit's settings gone; pages kept.
  void message_unit_reset();
  // The firmware stops: FAULT with `code` in Doorbell bits 15:0 until a reset.
  void fault(std::uint16_t code);

  struct Reply {
    mpi::Frame frame;             // MsgLength dwords
    bool via_reply_fifo = false;  // answered through the reply FIFO even if it came by doorbell
    // What was wrong with the request, for a finding (empty: nothing); the IOCStatus says it too.
    std::string problem = {};
  };
  // A config page as the firmware itself sees it (nullptr: no such page), header included: the
  // SCSI core reads what the host asked for (SCSI Device page 1, Port page 2) and reports what
  // negotiation agreed (Device page 0).
  const mpi::Frame* find_page(std::uint8_t type, std::uint8_t number, std::uint8_t target = 0) const;
  // Moves whenever the host writes a page or a reset restores them: what was read from the
  // pages before still holds while it stays.
  std::uint64_t pages_version() const { return pages_version_; }
  mpi::Frame* find_page(std::uint8_t type, std::uint8_t number, std::uint8_t target = 0);

  // A request frame. No reply (nullopt) means the IOC faulted: fault_code() says why.
  std::optional<Reply> handle(std::span<const std::uint8_t> request, HostMemory& memory);

 private:
  Reply ioc_facts(const mpi::Frame& request) const;
  Reply port_facts(const mpi::Frame& request) const;
  Reply ioc_init(const mpi::Frame& request);
  Reply port_enable(const mpi::Frame& request) const;
  Reply event_notification(const mpi::Frame& request);
  Reply event_ack(const mpi::Frame& request) const;
  Reply config(const mpi::Frame& request, HostMemory& memory);
  // Why a page write cannot be taken (status kSuccess: it can): a read-only page
  // (CONFIG_CANT_COMMIT), a header that is not the page's or a value out of range
  // (CONFIG_INVALID_DATA). No source gives the real firmware's answers; these are MPI's codes
  // for the two cases.
  struct Refusal {
    std::uint16_t status = mpi::kSuccess;
    std::string why;
  };
  static Refusal refuse_write(const mpi::Frame& stored, std::span<const std::uint8_t> data);
  static Reply reply_to(const mpi::Frame& request, std::uint8_t dwords, std::uint16_t status = mpi::kSuccess);

  // Config pages: (type, number, target) -> the page, its 4-byte header included. Target is 0
  // except for SCSI Device pages.
  using PageKey = std::tuple<std::uint8_t, std::uint8_t, std::uint8_t>;
  void default_pages();
  void add_page(mpi::PageType type, mpi::PageAttribute attributes, std::uint8_t number, std::uint8_t version,
                std::size_t bytes, std::uint8_t target = 0);
  mpi::Frame& page(std::uint8_t type, std::uint8_t number, std::uint8_t target = 0);

  IocIdentity identity_;
  mpi::IocState state_ = mpi::IocState::kReady;
  std::uint16_t fault_code_ = 0;
  std::uint8_t who_init_ = mpi::kNoOne;
  bool events_enabled_ = false;
  std::uint32_t event_context_ = 0;
  std::uint8_t max_devices_ = kTargets;
  std::uint8_t max_buses_ = 1;
  std::uint16_t reply_frame_bytes_ = 0;
  std::uint32_t host_mfa_high_ = 0;
  std::uint32_t sense_buffer_high_ = 0;
  std::map<PageKey, mpi::Frame> pages_;
  std::uint64_t pages_version_ = 0;
};

}  // namespace dexthil::models::lsi
