// The LSI53C1030 firmware's message layer, driven in the orders Linux mptbase and FreeBSD mpt
// use. Requests and expected replies are written out byte by byte from the MPI layouts
// (../shared/reference/lsi-mpt.md), not built with the model's own helpers.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "models/lsi53c1030/firmware/ioc_firmware.hpp"

namespace dexthil::models::lsi {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Host memory for page buffers: sparse bytes; addresses at or above kBadAddress fail, as a DMA
// that meets a bus error.
class FakeMemory final : public HostMemory {
 public:
  static constexpr std::uint64_t kBadAddress = 0xDEAD0000;
  bool read(std::uint64_t address, std::span<std::uint8_t> bytes) override {
    if (address >= kBadAddress) return false;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = bytes_[address + i];
    return true;
  }
  bool write(std::uint64_t address, std::span<const std::uint8_t> bytes) override {
    if (address >= kBadAddress) return false;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes_[address + i] = bytes[i];
    return true;
  }
  Bytes at(std::uint64_t address, std::size_t length) {
    Bytes out;
    for (std::size_t i = 0; i < length; ++i) out.push_back(bytes_[address + i]);
    return out;
  }
  void put(std::uint64_t address, const Bytes& bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes_[address + i] = bytes[i];
  }

 private:
  std::map<std::uint64_t, std::uint8_t> bytes_;
};

struct Ioc {
  IocFirmware firmware;
  FakeMemory memory;
  Bytes send(const Bytes& request) {
    auto reply = firmware.handle(request, memory);
    return reply ? reply->frame.bytes() : Bytes{};
  }
};

// Reply fields read straight from the bytes.
std::uint16_t u16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b.at(at) | b.at(at + 1) << 8); }
std::uint32_t u32(const Bytes& b, std::size_t at) { return u16(b, at) | static_cast<std::uint32_t>(u16(b, at + 2)) << 16; }

const Bytes kIocFacts = {0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12};

// An IOCInit request (44 bytes, MPI 1.5's length): WhoInit 4 (host driver), MsgContext 2, and the
// driver's limits, reply frame size and high address dwords.
Bytes ioc_init(std::uint8_t max_devices, std::uint8_t max_buses, std::uint16_t reply_bytes,
               std::uint8_t mfa_high = 0, std::uint8_t sense_high = 0) {
  Bytes init(44, 0);
  init[0x00] = 0x04;
  init[0x03] = 0x02;
  init[0x05] = max_devices;
  init[0x06] = max_buses;
  init[0x08] = 0x02;
  init[0x0C] = static_cast<std::uint8_t>(reply_bytes);
  init[0x0D] = static_cast<std::uint8_t>(reply_bytes >> 8);
  init[0x10] = mfa_high;
  init[0x14] = sense_high;
  return init;
}

TEST(LsiFirmware, IocFactsAtPowerOnIsTheMpi12Reply) {
  Ioc ioc;
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kReady);
  const Bytes expected = {
      0x02, 0x01, 0x0F, 0x03,  // MsgVersion 1.2, MsgLength 15 dwords, Function IOCFacts
      0x00, 0x00, 0x00, 0x00,  // HeaderVersion, IOCNumber 0 (channel A), MsgFlags
      0x78, 0x56, 0x34, 0x12,  // MsgContext, copied
      0x00, 0x00, 0x00, 0x00,  // IOCExceptions, IOCStatus SUCCESS
      0x00, 0x00, 0x00, 0x00,  // IOCLogInfo
      0x03, 0x00, 0x0C, 0x00,  // MaxChainDepth 3, WhoInit none, BlockSize 12, Flags
      0x80, 0x00, 0x20, 0x00,  // ReplyQueueDepth 128, RequestFrameSize 32 dwords
      0x00, 0x00, 0x04, 0x01,  // (old FW version), ProductID 0x0104
      0x00, 0x00, 0x00, 0x00,  // CurrentHostMfaHighAddr
      0x80, 0x00, 0x01, 0x00,  // GlobalCredits 128, NumberOfPorts 1, EventState off
      0x00, 0x00, 0x00, 0x00,  // CurrentSenseBufferHighAddr
      0x00, 0x00, 0x10, 0x01,  // CurReplyFrameSize, MaxDevices 16, MaxBuses 1
      0x00, 0x00, 0x00, 0x00,  // FWImageSize
      0x00, 0x00, 0x00, 0x00,  // IOCCapabilities
      0x00, 0x00, 0x00, 0x00,  // FWVersion
  };
  EXPECT_EQ(ioc.send(kIocFacts), expected);
}

TEST(LsiFirmware, LinuxMptbaseOrderReachesOperational) {
  // mptbase: IOCFacts, PortFacts, IOCInit, PortEnable, EventNotification.
  Ioc ioc;
  ASSERT_EQ(ioc.send(kIocFacts).size(), 60u);
  const Bytes port_facts = {0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
  const Bytes expected_port = {
      0x00, 0x00, 0x0A, 0x05, 0x00, 0x00, 0x00, 0x00,  // MsgLength 10, PortNumber 0
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // MsgContext 1, IOCStatus SUCCESS
      0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00,  // IOCLogInfo; PortType SCSI, MaxDevices 16
      0x07, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,  // PortSCSIID 7, ProtocolFlags initiator + LBA
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  EXPECT_EQ(ioc.send(port_facts), expected_port);
  // IOCInit as Linux sends it: MaxDevices 255, MaxBuses 1, 80-byte reply frames, high addresses 0.
  const Bytes init = ioc_init(0xFF, 1, 80);
  const Bytes expected_init = {0x04, 0x00, 0x05, 0x02, 0x00, 0xFF, 0x01, 0x00, 0x02, 0x00,
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(ioc.send(init), expected_init);
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kOperational);
  EXPECT_EQ(ioc.firmware.who_init(), mpi::kHostDriver);
  EXPECT_EQ(ioc.firmware.reply_frame_bytes(), 80u);
  // IOCFacts now shows what IOCInit set.
  const Bytes facts = ioc.send(kIocFacts);
  EXPECT_EQ(facts.at(0x15), 0x04);
  EXPECT_EQ(u16(facts, 0x2C), 80u);
  EXPECT_EQ(facts.at(0x2E), 0xFF);
  const Bytes enable = {0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00};
  const Bytes enabled = ioc.send(enable);
  ASSERT_EQ(enabled.size(), 20u);
  EXPECT_EQ(enabled.at(0x02), 5);
  EXPECT_EQ(u16(enabled, 0x0E), mpi::kSuccess);
  // EventNotification, on: an EventChange report, continuation set, data 1.
  const Bytes notify = {0x01, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00};
  const Bytes expected_event = {
      0x01, 0x00, 0x08, 0x07, 0x00, 0x00, 0x00, 0x80,  // EventDataLength 1, MsgLength 8, MsgFlags 0x80
      0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // MsgContext 4, IOCStatus SUCCESS
      0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00,  // IOCLogInfo; Event EventChange
      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // EventContext 0; Data[0]: events on
  };
  EXPECT_EQ(ioc.send(notify), expected_event);
  EXPECT_TRUE(ioc.firmware.events_enabled());
  EXPECT_EQ(ioc.send(kIocFacts).at(0x27), 1);  // EventState
}

TEST(LsiFirmware, FreeBsdMptValuesAreAcceptedToo) {
  // mpt: IOCInit with MaxDevices 0, MaxBuses 16, 256-byte replies, high addresses set.
  Ioc ioc;
  const Bytes init = ioc_init(0, 16, 256, /*mfa_high=*/1, /*sense_high=*/2);
  const Bytes reply = ioc.send(init);
  ASSERT_EQ(reply.size(), 20u);
  EXPECT_EQ(u16(reply, 0x0E), mpi::kSuccess);
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kOperational);
  EXPECT_EQ(ioc.firmware.reply_frame_bytes(), 256u);
  EXPECT_EQ(ioc.firmware.host_mfa_high(), 1u);
  EXPECT_EQ(ioc.firmware.sense_buffer_high(), 2u);
  EXPECT_EQ(u32(ioc.send(kIocFacts), 0x20), 1u);  // CurrentHostMfaHighAddr
  // A second IOCInit needs a reset first; MessageUnitReset makes the IOC READY again.
  EXPECT_EQ(u16(ioc.send(init), 0x0E), mpi::kInvalidState);
  ioc.firmware.message_unit_reset();
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kReady);
  EXPECT_EQ(ioc.firmware.host_mfa_high(), 0u);
  EXPECT_EQ(u16(ioc.send(init), 0x0E), mpi::kSuccess);
}

// A Config request: action, page type (with whatever attribute bits), number, address, and a
// 32-bit simple SGE for the page buffer (flags 0xD1: last, end of buffer, simple, end of list;
// 0xD5 adds host-to-IOC for a write).
Bytes config(std::uint8_t action, std::uint8_t type, std::uint8_t number, std::uint32_t address,
             std::uint8_t sge_flags = 0, std::uint32_t length = 0, std::uint32_t buffer = 0) {
  Bytes r(40, 0);
  r[0x00] = action;
  r[0x03] = 0x04;
  r[0x08] = 0x55;  // MsgContext
  r[0x16] = number;
  r[0x17] = type;
  for (int i = 0; i < 4; ++i) r[0x18 + i] = static_cast<std::uint8_t>(address >> (8 * i));
  const std::uint32_t flags_length = static_cast<std::uint32_t>(sge_flags) << 24 | length;
  for (int i = 0; i < 4; ++i) r[0x1C + i] = static_cast<std::uint8_t>(flags_length >> (8 * i));
  for (int i = 0; i < 4; ++i) r[0x20 + i] = static_cast<std::uint8_t>(buffer >> (8 * i));
  return r;
}

TEST(LsiFirmware, ConfigPagesHaveTheirHeadersAndFreeBsdsPortPage1WriteSticks) {
  Ioc ioc;
  // The header of SCSI Port page 1, asked for with its attribute bits set as FreeBSD does.
  const Bytes header = ioc.send(config(0x00, 0x13, 1, 0));
  const Bytes expected = {0x00, 0x00, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x03, 0x04, 0x01, 0x13};  // version 3, 4 dwords, page 1, changeable SCSI Port
  EXPECT_EQ(header, expected);
  // READ_CURRENT: the port's SCSI ID 7, answering selection at ID 7 only.
  ASSERT_EQ(u16(ioc.send(config(0x01, 0x03, 1, 0, 0xD1, 16, 0x1000)), 0x0E), mpi::kSuccess);
  EXPECT_EQ(ioc.memory.at(0x1000, 16), (Bytes{0x03, 0x04, 0x01, 0x13, 0x07, 0x00, 0x80, 0x00, 0x00, 0x00,
                                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
  // WRITE_CURRENT a different ID with a header that is not the page's: refused, nothing kept.
  ioc.memory.put(0x2000, {0xAA, 0xBB, 0xCC, 0xDD, 0x06, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00});
  ASSERT_EQ(u16(ioc.send(config(0x02, 0x13, 1, 0, 0xD5, 16, 0x2000)), 0x0E), mpi::kConfigInvalidData);
  // With the page's header, as FreeBSD writes the page it read: kept, read back. PageVersion is
  // not checked.
  ioc.memory.put(0x2000, {0x00, 0x04, 0x01, 0x13, 0x06, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00});
  ASSERT_EQ(u16(ioc.send(config(0x02, 0x13, 1, 0, 0xD5, 16, 0x2000)), 0x0E), mpi::kSuccess);
  ASSERT_EQ(u16(ioc.send(config(0x01, 0x03, 1, 0, 0xD1, 16, 0x3000)), 0x0E), mpi::kSuccess);
  EXPECT_EQ(ioc.memory.at(0x3000, 8), (Bytes{0x03, 0x04, 0x01, 0x13, 0x06, 0x00, 0x40, 0x00}));
  // A message-unit reset keeps written pages; a hard reset restores the defaults.
  ioc.firmware.message_unit_reset();
  ioc.send(config(0x01, 0x03, 1, 0, 0xD1, 8, 0x3000));
  EXPECT_EQ(ioc.memory.at(0x3004, 4), (Bytes{0x06, 0x00, 0x40, 0x00}));
  ioc.firmware.hard_reset();
  ioc.send(config(0x01, 0x03, 1, 0, 0xD1, 8, 0x3000));
  EXPECT_EQ(ioc.memory.at(0x3004, 4), (Bytes{0x07, 0x00, 0x80, 0x00}));
}

TEST(LsiFirmware, EveryPageTheDriversAskForExists) {
  // Linux and FreeBSD fail attach if any of these header requests fails.
  Ioc ioc;
  for (std::uint8_t number : {0, 1, 2}) {
    EXPECT_EQ(u16(ioc.send(config(0x00, 0x03, number, 0)), 0x0E), mpi::kSuccess) << "port page " << int(number);
  }
  for (std::uint32_t target = 0; target < 16; ++target) {
    for (std::uint8_t number : {0, 1}) {
      EXPECT_EQ(u16(ioc.send(config(0x00, 0x04, number, target)), 0x0E), mpi::kSuccess)
          << "device page " << int(number) << " target " << target;
    }
  }
  for (auto [type, number] : {std::pair{0x00, 0}, {0x00, 1}, {0x00, 2}, {0x01, 0}, {0x01, 1}, {0x01, 2}, {0x01, 3},
                              {0x01, 4}, {0x09, 0}}) {
    EXPECT_EQ(u16(ioc.send(config(0x00, static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(number), 0)),
                  0x0E),
              mpi::kSuccess)
        << "type " << type << " page " << number;
  }
  // Manufacturing page 0 names the chip.
  ioc.send(config(0x01, 0x09, 0, 0, 0xD1, 0x4C, 0x4000));
  const Bytes chip = ioc.memory.at(0x4004, 16);
  EXPECT_EQ(std::string(chip.begin(), chip.begin() + 10), "LSI53C1030");
  // IOC page 0: the PCI identity, the class code as a whole dword.
  ioc.send(config(0x01, 0x01, 0, 0, 0xD1, 28, 0x5000));
  const Bytes ioc0 = ioc.memory.at(0x5000, 28);
  EXPECT_EQ(u16(ioc0, 0x0C), 0x1000u);
  EXPECT_EQ(u16(ioc0, 0x0E), 0x0030u);
  EXPECT_EQ(ioc0.at(0x10), 0x08);
  EXPECT_EQ(u32(ioc0, 0x14), 0x00010000u);
  EXPECT_EQ(u16(ioc0, 0x1A), 0x8000u);
}

TEST(LsiFirmware, BadConfigRequestsGetTheirIocStatus) {
  Ioc ioc;
  // A page that does not exist: CONFIG_INVALID_PAGE, the request's header echoed.
  const Bytes missing = ioc.send(config(0x00, 0x05, 0, 0));  // an FC port page, on a SCSI chip
  EXPECT_EQ(u16(missing, 0x0E), mpi::kConfigInvalidPage);
  EXPECT_EQ(missing.at(0x17), 0x05);
  EXPECT_EQ(u16(ioc.send(config(0x00, 0x04, 0, 16)), 0x0E), mpi::kConfigInvalidPage);       // target 16
  EXPECT_EQ(u16(ioc.send(config(0x00, 0x04, 0, 0x0100)), 0x0E), mpi::kConfigInvalidPage);   // bus 1
  EXPECT_EQ(u16(ioc.send(config(0x00, 0x03, 0, 1)), 0x0E), mpi::kConfigInvalidPage);        // port 1
  EXPECT_EQ(u16(ioc.send(config(0x07, 0x03, 0, 0)), 0x0E), mpi::kConfigInvalidAction);      // no action 7
  // A page buffer the DMA cannot reach.
  EXPECT_EQ(u16(ioc.send(config(0x01, 0x03, 0, 0, 0xD1, 12, FakeMemory::kBadAddress)), 0x0E), mpi::kInvalidSgl);
  // A 64-bit SGE: the address's upper dword follows.
  Bytes wide = config(0x01, 0x03, 0, 0, 0xD3, 12, 0x6000);
  wide.resize(0x28, 0);
  ASSERT_EQ(u16(ioc.send(wide), 0x0E), mpi::kSuccess);
  EXPECT_EQ(ioc.memory.at(0x6000, 4), (Bytes{0x02, 0x03, 0x00, 0x03}));
}

TEST(LsiFirmware, AnUnknownFunctionAndAFaultedIocAnswerWithTheirStatus) {
  Ioc ioc;
  const Bytes unknown = {0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00};
  const Bytes reply = ioc.send(unknown);
  ASSERT_EQ(reply.size(), 20u);
  EXPECT_EQ(reply.at(0x02), 5);
  EXPECT_EQ(reply.at(0x03), 0x33);
  EXPECT_EQ(u16(reply, 0x0E), mpi::kInvalidFunction);
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kReady);  // no fault for it
  ioc.firmware.fault(0x8111);
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kFault);
  EXPECT_EQ(ioc.firmware.fault_code(), 0x8111u);
  EXPECT_EQ(u16(ioc.send(kIocFacts), 0x0E), mpi::kInvalidState);
  ioc.firmware.message_unit_reset();
  EXPECT_EQ(ioc.firmware.state(), mpi::IocState::kReady);
  EXPECT_EQ(u16(ioc.send(kIocFacts), 0x0E), mpi::kSuccess);
}

}  // namespace
}  // namespace dexthil::models::lsi
