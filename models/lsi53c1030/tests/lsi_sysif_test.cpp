// One LSI53C1030 function behind the fabric, driven through its registers as Linux mptbase does:
// the Doorbell handshake step by step, MessageUnitReset, the diagnostic key and reset, and the
// reply FIFO's empty read. The expected reply words are the IOCFacts reply written out by hand.
#include <gtest/gtest.h>

#include <vector>

#include "models/lsi53c1030/tests/mpt_host.hpp"

namespace dexthil::models {
namespace {

using testing::Machine;
using Driver = testing::MptHost;

TEST(LsiSysif, AfterResetTheIocIsReadyWithInterruptsMasked) {
  Machine m("direct");
  Driver d(m);
  EXPECT_EQ(d.state(), 1u);  // READY
  EXPECT_EQ(d.read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellActive, 0u);
  EXPECT_EQ(d.read(lsi_regs::kHostInterruptMask), 0x9u);
  EXPECT_EQ(d.read(lsi_regs::kHostInterruptStatus), 0u);
  // An empty reply FIFO reads all ones.
  EXPECT_EQ(d.read(lsi_regs::kReplyFifo), 0xFFFFFFFFu);
}

TEST(LsiSysif, IocFactsAndIocInitByHandshakeAsLinuxDoesThem) {
  Machine m("direct");
  Driver d(m);
  // IOCFacts: three dwords (Function 3 in byte 3; MsgContext 0x12345678).
  const std::vector<std::uint16_t> facts = d.handshake({0x03000000, 0x00000000, 0x12345678});
  const std::vector<std::uint16_t> expected = {
      0x0102, 0x030F,  // MsgVersion 1.2; MsgLength 15, Function IOCFacts
      0x0000, 0x0000,  // HeaderVersion; IOCNumber, MsgFlags
      0x5678, 0x1234,  // MsgContext
      0x0000, 0x0000,  // IOCExceptions; IOCStatus
      0x0000, 0x0000,  // IOCLogInfo
      0x0003, 0x000C,  // MaxChainDepth 3, WhoInit 0; BlockSize 12, Flags 0
      0x0080, 0x0020,  // ReplyQueueDepth 128; RequestFrameSize 32
      0x0000, 0x0104,  // (old FW version); ProductID
      0x0000, 0x0000,  // CurrentHostMfaHighAddr
      0x0080, 0x0001,  // GlobalCredits 128; NumberOfPorts 1, EventState 0
      0x0000, 0x0000,  // CurrentSenseBufferHighAddr
      0x0000, 0x0110,  // CurReplyFrameSize; MaxDevices 16, MaxBuses 1
      0x0000, 0x0000,  // FWImageSize
      0x0000, 0x0000,  // IOCCapabilities
      0x0000, 0x0000,  // FWVersion
  };
  EXPECT_EQ(facts, expected);
  EXPECT_EQ(d.state(), 1u);
  // IOCInit: WhoInit 4, MaxDevices 255, MaxBuses 1, 80-byte reply frames; 11 dwords.
  const std::vector<std::uint16_t> init =
      d.handshake({0x02000004, 0x0001FF00, 0x00000002, 0x00000050, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_EQ(init.size(), 10u);
  EXPECT_EQ(init[1], 0x0205);  // MsgLength 5, Function IOCInit
  EXPECT_EQ(init[7], 0x0000);  // IOCStatus SUCCESS
  EXPECT_EQ(d.state(), 2u);    // OPERATIONAL
  EXPECT_EQ((d.read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellWhoInitMask) >> lsi_regs::kDoorbellWhoInitShift, 4u);
  // The doorbell interrupt was masked throughout: nothing signalled.
  EXPECT_EQ(d.ioc.interrupts_signalled(), 0u);
  EXPECT_EQ(d.msis, 0u);
}

TEST(LsiSysif, MessageUnitResetMakesTheIocReadyAgain) {
  Machine m("direct");
  Driver d(m);
  d.handshake({0x02000004, 0x00011000, 0x00000001, 0x00000050, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_EQ(d.state(), 2u);
  d.write(lsi_regs::kDoorbell, 0x40u << 24);
  d.m.sim.run_until(d.m.sim.now() + sim::kMicrosecond);
  EXPECT_EQ(d.state(), 1u);
  EXPECT_EQ(d.ioc.firmware().reply_frame_bytes(), 0u);  // IOCInit's settings are gone
}

TEST(LsiSysif, TheDiagnosticKeyThenResetAdapterIsAHardReset) {
  Machine m("direct");
  Driver d(m);
  d.handshake({0x02000004, 0x00011000, 0x00000001, 0x00000050, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_EQ(d.state(), 2u);
  // Without the key, HOST_DIAGNOSTIC ignores writes.
  d.write(lsi_regs::kHostDiagnostic, lsi_regs::kHostDiagnosticResetAdapter);
  d.m.sim.run_until(d.m.sim.now() + sim::kMicrosecond);
  EXPECT_EQ(d.state(), 2u);
  for (std::uint32_t key : {0x0u, 0x4u, 0xBu, 0x2u, 0x7u, 0xDu}) d.write(lsi_regs::kWriteSequence, key);
  EXPECT_EQ(d.read(lsi_regs::kHostDiagnostic) & lsi_regs::kHostDiagnosticWriteEnable,
            lsi_regs::kHostDiagnosticWriteEnable);
  d.write(lsi_regs::kHostDiagnostic, lsi_regs::kHostDiagnosticResetAdapter);
  d.m.sim.run_until(d.m.sim.now() + sim::kMicrosecond);
  EXPECT_EQ(d.state(), 1u);
  // What Linux checks after its reset: RESET_ADAPTER, DISABLE_ARM and the bad flash signature
  // read 0; the reset history is set, and it clears when written 0 (the key again first).
  const std::uint32_t diag = d.read(lsi_regs::kHostDiagnostic);
  EXPECT_EQ(diag & 0x46u, 0u);
  EXPECT_EQ(diag & lsi_regs::kHostDiagnosticResetHistory, lsi_regs::kHostDiagnosticResetHistory);
  EXPECT_EQ(diag & lsi_regs::kHostDiagnosticWriteEnable, 0u);
  for (std::uint32_t key : {0x4u, 0xBu, 0x2u, 0x7u, 0xDu}) d.write(lsi_regs::kWriteSequence, key);
  d.write(lsi_regs::kHostDiagnostic, 0);
  EXPECT_EQ(d.read(lsi_regs::kHostDiagnostic) & lsi_regs::kHostDiagnosticResetHistory, 0u);
  EXPECT_EQ(d.read(lsi_regs::kHostInterruptMask), 0x9u);
}

TEST(LsiSysif, AnUnmaskedDoorbellInterruptIsSignalled) {
  Machine m("direct");
  Driver d(m);
  d.write(lsi_regs::kHostInterruptMask, 0x8);  // doorbell interrupt on
  d.handshake({0x03000000, 0x00000000, 0x00000001});
  // One per handshake event: the function taken, 30 reply words, and the closing one.
  EXPECT_EQ(d.ioc.interrupts_signalled(), 32u);
  EXPECT_EQ(d.msis, 32u);
}

}  // namespace
}  // namespace dexthil::models
