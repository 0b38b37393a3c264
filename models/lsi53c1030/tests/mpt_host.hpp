#pragma once
// A host driver for one LSI53C1030 function in tests, doing what Linux mptbase and FreeBSD mpt
// do through the registers: the Doorbell handshake step by step, request frames in DMA memory
// posted to the request FIFO, free reply frames returned to the reply FIFO, replies popped from
// it. Host memory goes through the DART as a dext's would (prepared under the function's own SID).
// A step that goes wrong throws std::runtime_error saying which: a test fails with it, and the
// benchmark (bench/lsi_bench.cpp), which drives the IOC the same way, stops with it.
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "harness/pcie/config_space.hpp"
#include "harness/pcie/tests/machine.hpp"
#include "models/lsi53c1030/firmware/mpi.hpp"
#include "models/lsi53c1030/lsi53c1030.hpp"

namespace dexthil::models::testing {

namespace mpi = lsi::mpi;

using pcie::testing::Machine;

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("MptHost: " + what);
}

// Host memory the device reaches: physical address for the test, IOVA for the device.
struct HostBuffer {
  std::uint64_t pa = 0;
  std::uint64_t iova = 0;
  std::uint64_t bytes = 0;
  std::uint64_t pa_of(std::uint64_t iova_in) const { return pa + (iova_in - iova); }
};

struct MptHost {
  static constexpr std::uint32_t kHandshake = 0x42u << 24;
  static constexpr std::uint32_t kFrameBytes = 128;
  static constexpr std::uint32_t kFrames = 128;
  static constexpr std::uint32_t kReplyBytes = 128;
  static constexpr std::uint32_t kReplyFrames = 32;

  explicit MptHost(Machine& machine, const std::string& endpoint = "dev")
      : m(machine),
        node(machine.node(endpoint)),
        ioc("lsi", machine.sim, *machine.fabric, node, 0, {}, &machine.findings) {
    m.sim.attach(ioc, m.sim.add_clock("lsi.clk", 15'152));  // 66 MHz, the chip's PCI-X clock
    bar = node.bar_addresses.at(0);
    // Bus mastering and MSI on, so DMA flows and every rising interrupt reaches the host.
    const std::uint16_t command = static_cast<std::uint16_t>(m.fabric->config_read(node.bdf, 0x04, 2));
    m.fabric->config_write(node.bdf, 0x04, 2, command | 0x6);
    const std::uint16_t msi = node.config.find_capability(pcie::cfg::kCapMsi);
    m.fabric->config_write(node.bdf, msi + 4, 4, 0xFFFF'F000u);
    m.fabric->config_write(node.bdf, msi + 12, 2, 0x41);
    m.fabric->config_write(node.bdf, msi + 2, 2, 1);
    m.fabric->set_msi_handler([this](const pcie::Node&, std::uint64_t, std::uint32_t) { ++msis; });
  }

  HostBuffer allocate(std::uint64_t bytes) {
    HostBuffer b;
    const std::uint64_t pages = (bytes + iommu::Dart::kPageSize - 1) / iommu::Dart::kPageSize;
    b.pa = m.buffers.allocate(pages);
    b.bytes = bytes;
    const std::vector<std::uint32_t> sids = {m.fabric->sid_for(m.root_of("dev"), node.bdf.rid())};
    std::string error;
    auto prepared = m.mapper_of("dev").prepare("dev", sids, b.pa, bytes, {}, 64, m.sim.now(), &error);
    if (!prepared) throw std::runtime_error(error);
    b.iova = prepared->iova;
    return b;
  }

  // ---------------------------------------------------------------- registers
  std::uint32_t read(std::uint32_t reg) {
    const pcie::MmioResult r = m.mmio_read(bar + reg, 4);
    require(r.ok(), "register read failed: " + r.why);
    return static_cast<std::uint32_t>(r.value);
  }
  void write(std::uint32_t reg, std::uint32_t value) {
    require(m.fabric->mmio_write(bar + reg, 4, value).ok(), "register write failed");
  }
  void run_for(sim::SimTime t) { m.sim.run_until(m.sim.now() + t); }
  // Polls HOST_INTERRUPT_STATUS until (status & mask) == want, as the drivers do; false after 1 ms.
  bool wait_status(std::uint32_t mask, std::uint32_t want) {
    for (int i = 0; i < 1000; ++i) {
      if ((read(lsi_regs::kHostInterruptStatus) & mask) == want) return true;
      run_for(sim::kMicrosecond);
    }
    return false;
  }
  std::uint32_t state() { return read(lsi_regs::kDoorbell) >> lsi_regs::kDoorbellStateShift; }

  // mpt_handshake_req_reply_wait, step by step: the request's dwords in, the reply's words out.
  std::vector<std::uint16_t> handshake(const std::vector<std::uint32_t>& request) {
    write(lsi_regs::kHostInterruptStatus, 0);
    write(lsi_regs::kDoorbell, kHandshake | static_cast<std::uint32_t>(request.size()) << 16);
    require(wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell),
            "the handshake's start was not acknowledged");
    require(read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellActive, "the handshake is not active");
    write(lsi_regs::kHostInterruptStatus, 0);
    require(wait_status(lsi_regs::kHostInterruptStatusIocDoorbell, 0), "the IOC did not take the Doorbell write");
    for (std::uint32_t dword : request) {
      write(lsi_regs::kDoorbell, dword);
      require(wait_status(lsi_regs::kHostInterruptStatusIocDoorbell, 0), "the IOC did not take a request dword");
    }
    std::vector<std::uint16_t> words;
    std::size_t expected = 2;  // until word 1 gives MsgLength
    while (words.size() < expected) {
      require(wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell),
              "no reply word " + std::to_string(words.size()));
      words.push_back(static_cast<std::uint16_t>(read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellDataMask));
      write(lsi_regs::kHostInterruptStatus, 0);
      if (words.size() == 2) expected = 2u * (words[1] & 0xFF);
    }
    // The closing doorbell interrupt, then the handshake is over.
    require(wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell),
            "no closing doorbell interrupt");
    write(lsi_regs::kHostInterruptStatus, 0);
    run_for(sim::kMicrosecond);
    require(!(read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellActive), "the handshake is still active after it closed");
    return words;
  }

  // ---------------------------------------------------------------- queues
  // The request frame pool and the reply frame pool in DMA memory, as both drivers allocate them.
  void allocate_queues() {
    requests = allocate(kFrames * kFrameBytes);
    replies = allocate(kReplyFrames * kReplyBytes);
  }
  // IOCInit by handshake with the pools' upper address halves; true when it succeeded.
  bool ioc_init(std::uint8_t who_init = 4) {
    const std::vector<std::uint16_t> r = handshake({0x02000000u | who_init, 0x0001'1000u, 0x1234'0000u, kReplyBytes,
                                                   static_cast<std::uint32_t>(requests.iova >> 32),
                                                   static_cast<std::uint32_t>(requests.iova >> 32), 0, 0, 0, 0, 0});
    return r.size() == 10 && r[7] == 0;
  }
  void post_free_reply_frames() {
    for (std::uint32_t i = 0; i < kReplyFrames; ++i) write(lsi_regs::kReplyFifo, reply_iova(i));
  }
  std::uint32_t reply_iova(std::uint32_t i) const {
    return static_cast<std::uint32_t>(replies.iova + static_cast<std::uint64_t>(i) * kReplyBytes);
  }
  std::uint64_t frame_iova(std::uint32_t slot) const { return requests.iova + static_cast<std::uint64_t>(slot) * kFrameBytes; }

  // Writes `frame` into request slot `slot` and posts it.
  void post(std::uint32_t slot, const lsi::mpi::Frame& frame) {
    std::vector<std::uint8_t> bytes = frame.bytes();
    bytes.resize(kFrameBytes, 0);
    post_bytes(slot, bytes);
  }
  // The same with the frame's kFrameBytes bytes as they are, as a driver that keeps its frames
  // built and changes only what differs between I/Os posts them.
  void post_bytes(std::uint32_t slot, std::span<const std::uint8_t> bytes) {
    m.memory.write(requests.pa_of(frame_iova(slot)), bytes);
    write(lsi_regs::kRequestFifo, static_cast<std::uint32_t>(frame_iova(slot)));
  }

  // The next reply-FIFO entry (none after `timeout`), as an interrupt handler pops it.
  std::optional<std::uint32_t> next_reply(sim::SimTime timeout = sim::kMillisecond) {
    const sim::SimTime until = m.sim.now() + timeout;
    while (m.sim.now() < until) {
      const std::uint32_t v = read(lsi_regs::kReplyFifo);
      if (v != 0xFFFF'FFFFu) return v;
      run_for(sim::kMicrosecond);
    }
    return std::nullopt;
  }
  // An address reply's frame, read from host memory, then returned to the free FIFO.
  lsi::mpi::Frame reply_frame(std::uint32_t entry, bool give_back = true) {
    require(entry & 0x8000'0000u, "a context reply, not an address reply");
    const std::uint32_t address = entry << 1;
    std::vector<std::uint8_t> bytes(kReplyBytes);
    m.memory.read(replies.pa_of(address), bytes);
    lsi::mpi::Frame f(bytes);
    if (give_back) write(lsi_regs::kReplyFifo, address);
    return f;
  }
  // Posts `request` and waits for its address reply.
  lsi::mpi::Frame transact(std::uint32_t slot, const lsi::mpi::Frame& request) {
    post(slot, request);
    const std::optional<std::uint32_t> entry = next_reply();
    require(entry.has_value(), "no reply");
    return reply_frame(*entry);
  }

  Machine& m;
  pcie::Node& node;
  Lsi53c1030Function ioc;
  std::uint64_t bar = 0;
  std::uint64_t msis = 0;
  HostBuffer requests, replies;
};

// FreeBSD mpt's order: IOCFacts and PortFacts by handshake, IOCInit, wait for OPERATIONAL, the
// free reply frames, then EventNotification and PortEnable through the request FIFO.
inline void bring_up_as_freebsd(MptHost& h) {
  require(h.handshake({0x03000000, 0, 1}).size() == 30, "IOCFacts");
  require(h.handshake({0x05000000, 0, 2}).size() == 20, "PortFacts");
  h.allocate_queues();
  require(h.ioc_init(), "IOCInit");
  require(h.state() == 2, "not OPERATIONAL after IOCInit");
  h.post_free_reply_frames();
  mpi::Frame events(16);
  events.set_u8(0x03, mpi::kEventNotification);
  events.set_u8(0x0C, 1);
  require(h.transact(0, events).u8(0x03) == mpi::kEventNotification, "EventNotification");
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  require(h.transact(1, enable).u16(0x0E) == mpi::kSuccess, "PortEnable");
}

// A SCSI_IO request (MPI 1.x MSG_SCSI_IO_REQUEST); the SGL, from byte 0x30, is the caller's.
inline lsi::mpi::Frame scsi_io_request(std::uint8_t target, const std::vector<std::uint8_t>& cdb,
                                       std::uint32_t data_length, std::uint32_t direction, std::uint32_t context,
                                       std::uint8_t sense_length = 0, std::uint32_t sense_address = 0) {
  lsi::mpi::Frame f(0x30);
  f.set_u8(0x00, target);
  f.set_u8(0x03, lsi::mpi::kScsiIo);
  f.set_u8(0x04, static_cast<std::uint8_t>(cdb.size()));
  f.set_u8(0x05, sense_length);
  f.set_u32(0x08, context);
  f.set_u32(0x14, direction << 24);  // simple queue tag
  f.set_bytes(0x18, cdb);
  f.set_u32(0x28, data_length);
  f.set_u32(0x2C, sense_address);
  return f;
}

// Appends a simple element at `at` (32- or 64-bit address); returns the offset after it.
inline std::size_t add_simple(lsi::mpi::Frame& f, std::size_t at, std::uint8_t flags, std::uint32_t length,
                              std::uint64_t address) {
  const bool wide = flags & lsi::mpi::kSgeAddress64;
  f.set_u32(at, static_cast<std::uint32_t>(flags | lsi::mpi::kSgeTypeSimple) << 24 | length);
  f.set_u32(at + 4, static_cast<std::uint32_t>(address));
  if (wide) f.set_u32(at + 8, static_cast<std::uint32_t>(address >> 32));
  return at + (wide ? 12 : 8);
}
// Appends a chain element: `length` bytes of elements at `address`, its next chain at `next` dwords.
inline std::size_t add_chain(lsi::mpi::Frame& f, std::size_t at, std::uint16_t length, std::uint8_t next,
                             std::uint64_t address, bool wide = true) {
  const std::uint8_t flags = lsi::mpi::kSgeTypeChain | (wide ? lsi::mpi::kSgeAddress64 : 0);
  f.set_u32(at, static_cast<std::uint32_t>(flags) << 24 | static_cast<std::uint32_t>(next) << 16 | length);
  f.set_u32(at + 4, static_cast<std::uint32_t>(address));
  if (wide) f.set_u32(at + 8, static_cast<std::uint32_t>(address >> 32));
  return at + (wide ? 12 : 8);
}

// A Config request: action, page type and number, page address, and a page buffer SGE.
inline lsi::mpi::Frame config_request(std::uint8_t action, std::uint8_t type, std::uint8_t number, std::uint32_t address,
                                      std::uint32_t context, std::uint32_t sge_flags_length = 0,
                                      std::uint64_t buffer = 0) {
  lsi::mpi::Frame f(40);
  f.set_u8(0x00, action);
  f.set_u8(0x03, lsi::mpi::kConfig);
  f.set_u32(0x08, context);
  f.set_u8(0x16, number);
  f.set_u8(0x17, type);
  f.set_u32(0x18, address);
  f.set_u32(0x1C, sge_flags_length);
  f.set_u32(0x20, static_cast<std::uint32_t>(buffer));
  if (sge_flags_length & (lsi::mpi::kSgeAddress64 << 24)) f.set_u32(0x24, static_cast<std::uint32_t>(buffer >> 32));
  return f;
}

}  // namespace dexthil::models::testing
