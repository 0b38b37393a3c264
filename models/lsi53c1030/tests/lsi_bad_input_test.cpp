// What a misbehaving driver gets from one LSI53C1030 function: a finding that names what it did
// and where, in the words of the protocol it broke, and an IOC that goes on working. One planted
// mistake per test: Doorbell protocol violations, refused config page writes, a reply frame
// returned twice and reply frames never returned.
#include <gtest/gtest.h>

#include "harness/util/hex.hpp"
#include "models/lsi53c1030/tests/mpt_host.hpp"

namespace dexthil::models {
namespace {

using testing::bring_up_as_freebsd;
using testing::config_request;
using testing::HostBuffer;
using testing::Machine;
using testing::MptHost;
namespace mpi = lsi::mpi;

// The findings' ids and texts, in order.
std::vector<std::string> whats(const checks::FindingLog& log) {
  std::vector<std::string> out;
  for (const checks::Finding& f : log.all()) out.push_back(f.check + ": " + f.what);
  return out;
}

TEST(LsiBadInput, DoorbellProtocolViolationsAreNamedAndIgnored) {
  Machine m("direct");
  MptHost h(m);
  // A request dword without a handshake.
  h.write(lsi_regs::kDoorbell, 0x03000000);
  // A handshake longer than a request frame.
  h.write(lsi_regs::kDoorbell, MptHost::kHandshake | 40u << 16);
  // The first request dword before the handshake's start was acknowledged.
  h.write(lsi_regs::kDoorbell, MptHost::kHandshake | 3u << 16);
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
  h.write(lsi_regs::kDoorbell, 0x03000000);
  h.write(lsi_regs::kHostInterruptStatus, 0);
  for (std::uint32_t d : {0x03000000u, 0u, 7u}) h.write(lsi_regs::kDoorbell, d);
  // A write while the reply's words are waiting to be read.
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
  h.write(lsi_regs::kDoorbell, 0x12345678);
  h.run_for(sim::kMicrosecond);  // a posted write reaches the device after the link's latency
  EXPECT_EQ(whats(m.findings),
            (std::vector<std::string>{
                "lsi.doorbell-protocol: Doorbell write 0x03000000 outside a handshake: function 0x3 is not a Doorbell "
                "function",
                "lsi.doorbell-protocol: Doorbell write 0x42280000: a HANDSHAKE of 40 dwords, longer than a request "
                "frame (32 dwords, IOCFacts RequestFrameSize)",
                "lsi.doorbell-protocol: Doorbell write 0x03000000 before the host acknowledged the handshake's start",
                "lsi.doorbell-protocol: Doorbell write 0x12345678 while the IOC is sending its reply",
            }));
  // The IOC ignored all of it: the IOCFacts reply comes out whole, and the next handshake works.
  std::vector<std::uint16_t> words;
  std::size_t expected = 2;
  while (words.size() < expected) {
    ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
    words.push_back(static_cast<std::uint16_t>(h.read(lsi_regs::kDoorbell)));
    h.write(lsi_regs::kHostInterruptStatus, 0);
    if (words.size() == 2) expected = 2u * (words[1] & 0xFF);
  }
  EXPECT_EQ(words[1], 0x030F);  // IOCFacts, MsgLength 15
  EXPECT_EQ(words[4], 7u);      // its MsgContext
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
  h.write(lsi_regs::kHostInterruptStatus, 0);
  EXPECT_EQ(h.handshake({0x05000000, 0, 8}).size(), 20u);
  EXPECT_EQ(m.findings.all().size(), 4u);
}

TEST(LsiBadInput, ARefusedPageWriteNamesWhyAndLeavesThePageAsItWas) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  const HostBuffer page = h.allocate(4096);
  constexpr std::uint32_t kRead = 0xD1u << 24, kWrite = 0xD5u << 24;
  // SCSI Port page 1, read, then written back with its PageNumber changed to 2.
  mpi::Frame r = h.transact(2, config_request(mpi::kReadCurrent, mpi::kScsiPort, 1, 0, 0x10, kRead | 16, page.iova));
  ASSERT_EQ(r.u16(0x0E), mpi::kSuccess);
  std::vector<std::uint8_t> bytes(16);
  m.memory.read(page.pa, bytes);
  mpi::Frame corrupt(bytes);
  corrupt.set_u8(2, 2);
  corrupt.set_u32(4, 0x00400006);
  m.memory.write(page.pa, corrupt.bytes());
  r = h.transact(3, config_request(mpi::kWriteCurrent, mpi::kScsiPort, 1, 0, 0x11, kWrite | 16, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kConfigInvalidData);
  // IOC page 0 is read-only.
  r = h.transact(4, config_request(mpi::kWriteCurrent, mpi::kIoc, 0, 0, 0x12, kWrite | 16, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kConfigCantCommit);
  // Port page 1 with SCSI ID 20.
  mpi::Frame far(bytes);
  far.set_u32(4, 20);
  m.memory.write(page.pa, far.bytes());
  r = h.transact(5, config_request(mpi::kWriteCurrent, mpi::kScsiPort, 1, 0, 0x13, kWrite | 16, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kConfigInvalidData);
  const std::string mfa = util::hex(h.frame_iova(3) & 0xFFFFFFFF);
  EXPECT_EQ(whats(m.findings),
            (std::vector<std::string>{
                "lsi.config-write: refused page write in the CONFIG request (MsgContext 0x11, frame at MFA " + mfa +
                    "): a corrupt page header: the data's PageLength 4, PageNumber 2, PageType 3 (bytes 1-3) are not "
                    "the page's 4, 1, 3",
                "lsi.config-write: refused page write in the CONFIG request (MsgContext 0x12, frame at MFA " +
                    util::hex(h.frame_iova(4) & 0xFFFFFFFF) +
                    "): a read-only page (type 1, page 0: attributes 0x00 in its header)",
                "lsi.config-write: refused page write in the CONFIG request (MsgContext 0x13, frame at MFA " +
                    util::hex(h.frame_iova(5) & 0xFFFFFFFF) +
                    "): SCSI Port page 1 Configuration (0x04) gives SCSI ID 20; a wide bus has IDs 0-15",
            }));
  // The page is as it was.
  r = h.transact(6, config_request(mpi::kReadCurrent, mpi::kScsiPort, 1, 0, 0x14, kRead | 16, page.iova));
  m.memory.read(page.pa, bytes);
  EXPECT_EQ(mpi::Frame(bytes).u32(4), 0x00800007u);
}

TEST(LsiBadInput, AReplyFrameReturnedTwiceIsNamed) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  // Frame 5 has been free since the bring-up; returning it again puts it in the FIFO twice.
  h.write(lsi_regs::kReplyFifo, h.reply_iova(5));
  h.run_for(sim::kMicrosecond);
  ASSERT_EQ(m.findings.all().size(), 1u);
  EXPECT_EQ(m.findings.all()[0].check, "lsi.reply-frame-returned-twice");
  EXPECT_EQ(m.findings.all()[0].what, "the driver returned the reply frame at " + util::hex(h.reply_iova(5)) +
                                          " to REPLY_FIFO while it was already free (never used for a reply since)");
}

TEST(LsiBadInput, RepliesStarvedOfFreeFramesNameTheFramesNeverReturned) {
  Machine m("direct");
  MptHost h(m);
  ASSERT_EQ(h.handshake({0x03000000, 0, 1}).size(), 30u);
  h.allocate_queues();
  ASSERT_TRUE(h.ioc_init());
  // Two free frames, both read and kept.
  h.write(lsi_regs::kReplyFifo, h.reply_iova(0));
  h.write(lsi_regs::kReplyFifo, h.reply_iova(1));
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  for (std::uint32_t i = 0; i < 3; ++i) h.post(i, enable);
  for (int i = 0; i < 2; ++i) {
    const std::optional<std::uint32_t> entry = h.next_reply();
    ASSERT_TRUE(entry);
    h.reply_frame(*entry, /*give_back=*/false);
  }
  EXPECT_FALSE(h.next_reply(100 * sim::kMicrosecond));
  EXPECT_TRUE(m.findings.empty());
  h.ioc.finish_run();
  ASSERT_EQ(m.findings.all().size(), 1u);
  EXPECT_EQ(m.findings.all()[0].check, "lsi.reply-frame-not-returned");
  EXPECT_EQ(m.findings.all()[0].what, "1 replies waited for a free reply frame until the end: 2 frames hold replies the "
                                      "driver never returned (" +
                                          util::hex(h.reply_iova(0)) + ", " + util::hex(h.reply_iova(1)) + ")");
}

TEST(LsiBadInput, AHandlerThatLeavesTheReplyInterruptRaisedIsToldNoFurtherMsiComes) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  EXPECT_EQ(h.read(lsi_regs::kReplyFifo), 0xFFFF'FFFFu);
  h.write(lsi_regs::kHostInterruptMask, 0x1);  // reply interrupt on
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);

  // A handler that drains the FIFO until it reads empty: the interrupt falls, nothing to report.
  h.post(0, enable);
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusReply, lsi_regs::kHostInterruptStatusReply));
  while (h.read(lsi_regs::kReplyFifo) != 0xFFFF'FFFFu) {
  }
  h.run_for(Lsi53c1030Function::kInterruptLeftRaised + sim::kMillisecond);
  EXPECT_TRUE(m.findings.empty());

  // One that takes the reply and leaves without the read that finds the FIFO empty.
  const std::uint64_t msis = h.msis, posted = h.ioc.replies_posted();
  h.post(1, enable);
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusReply, lsi_regs::kHostInterruptStatusReply));
  ASSERT_NE(h.read(lsi_regs::kReplyFifo), 0xFFFF'FFFFu);
  h.post(2, enable);  // its reply raises nothing: the line is still up
  h.run_for(Lsi53c1030Function::kInterruptLeftRaised + sim::kMillisecond);
  EXPECT_EQ(h.msis, msis + 1);
  EXPECT_EQ(h.ioc.replies_posted(), posted + 2);
  ASSERT_EQ(m.findings.all().size(), 1u);
  const checks::Finding& f = m.findings.all()[0];
  EXPECT_EQ(f.check, "lsi.interrupt-left-raised");
  EXPECT_EQ(f.what, "the interrupt has stayed raised since its MSI at " +
                        sim::format_time(f.time - Lsi53c1030Function::kInterruptLeftRaised) +
                        " (100 ms), so no further MSI is sent");
}

}  // namespace
}  // namespace dexthil::models
