// The request FIFO path of one LSI53C1030 function: frames fetched by the RTL's DMA engine
// through the DART, config page buffers moved by its SGL engine, replies written into the free
// reply frames the host returned and posted as address replies; and what a bad page buffer SGE or
// an unmapped frame gives. Expected bytes are written out from the MPI layouts, not taken from the
// model.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/util/hex.hpp"
#include "models/lsi53c1030/tests/mpt_host.hpp"

namespace dexthil::models {
namespace {

using testing::bring_up_as_freebsd;
using testing::config_request;
using testing::Machine;
using testing::MptHost;
namespace mpi = lsi::mpi;

constexpr std::uint32_t kSimpleRead = 0xD1u << 24;   // last, end of buffer, simple, end of list; IOC to host
constexpr std::uint32_t kSimpleWrite = 0xD5u << 24;  // the same, host to IOC

std::vector<std::uint8_t> host_bytes(MptHost& h, const testing::HostBuffer& b, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  h.m.memory.read(b.pa, out);
  return out;
}

TEST(LsiFifo, ConfigPagesThroughTheRequestFifoWithPageBuffersByDma) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  const testing::HostBuffer page = h.allocate(4096);

  // SCSI Port page 1's header, then the page itself read into the page buffer.
  mpi::Frame r = h.transact(0, config_request(mpi::kPageHeader, mpi::kScsiPort, 1, 0, 0x100));
  EXPECT_EQ(r.u8(0x03), mpi::kConfig);
  EXPECT_EQ(r.u8(0x02), 6);  // MsgLength
  EXPECT_EQ(r.u32(0x08), 0x100u);
  EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
  const std::uint32_t header = r.u32(0x14);
  EXPECT_EQ(header >> 24, 0x13u);          // changeable, SCSI port
  EXPECT_EQ((header >> 16) & 0xFF, 1u);    // page 1
  const std::uint32_t page_bytes = ((header >> 8) & 0xFF) * 4;
  ASSERT_GE(page_bytes, 8u);

  r = h.transact(1, config_request(mpi::kReadCurrent, mpi::kScsiPort, 1, 0, 0x101, kSimpleRead | page_bytes, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
  std::vector<std::uint8_t> bytes = host_bytes(h, page, page_bytes);
  EXPECT_EQ(mpi::Frame(bytes).u32(0), header);
  EXPECT_EQ(mpi::Frame(bytes).u32(4), 0x0080'0007u);  // SCSI ID 7, answering selection at 7

  // Written back with another ID and read again: the write is kept.
  mpi::Frame changed(bytes);
  changed.set_u32(4, 0x0040'0006u);
  m.memory.write(page.pa, changed.bytes());
  r = h.transact(2, config_request(mpi::kWriteCurrent, mpi::kScsiPort, 1, 0, 0x102, kSimpleWrite | page_bytes, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
  std::vector<std::uint8_t> zeros(page_bytes, 0);
  m.memory.write(page.pa, zeros);
  r = h.transact(3, config_request(mpi::kReadCurrent, mpi::kScsiPort, 1, 0, 0x103, kSimpleRead | page_bytes, page.iova));
  EXPECT_EQ(mpi::Frame(host_bytes(h, page, page_bytes)).u32(4), 0x0040'0006u);

  // PortEnable and EventNotification through the FIFO, as FreeBSD sends them.
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  enable.set_u32(0x08, 0x104);
  r = h.transact(4, enable);
  EXPECT_EQ(r.u8(0x03), mpi::kPortEnable);
  EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
  mpi::Frame events(16);
  events.set_u8(0x03, mpi::kEventNotification);
  events.set_u32(0x08, 0x105);
  events.set_u8(0x0C, 1);  // Switch: on
  r = h.transact(5, events);
  EXPECT_EQ(r.u8(0x03), mpi::kEventNotification);
  EXPECT_EQ(r.u32(0x08), 0x105u);
  EXPECT_EQ(r.u32(0x14), mpi::kEventChange);

  // Two requests in the bring-up, six here.
  EXPECT_EQ(h.ioc.requests_fetched(), 8u);
  EXPECT_EQ(h.ioc.replies_posted(), 8u);
  EXPECT_TRUE(m.findings.empty());
}

TEST(LsiFifo, TheReplyInterruptRisesWhenUnmaskedAndClearsWhenTheFifoReadsEmpty) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  // Drained as a driver drains it: the read that finds it empty clears the reply interrupt.
  EXPECT_EQ(h.read(lsi_regs::kReplyFifo), 0xFFFF'FFFFu);
  EXPECT_EQ(h.read(lsi_regs::kHostInterruptStatus) & lsi_regs::kHostInterruptStatusReply, 0u);
  h.write(lsi_regs::kHostInterruptMask, 0x1);  // reply interrupt on
  const std::uint64_t before = h.msis;
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  h.post(0, enable);
  ASSERT_TRUE(h.wait_status(lsi_regs::kHostInterruptStatusReply, lsi_regs::kHostInterruptStatusReply));
  EXPECT_EQ(h.msis, before + 1);
  const std::uint32_t entry = h.read(lsi_regs::kReplyFifo);
  // The bring-up's two replies used frames 0 and 1 and gave them back behind the others.
  EXPECT_EQ(entry, 0x8000'0000u | h.reply_iova(2) >> 1);
  EXPECT_EQ(h.read(lsi_regs::kHostInterruptStatus) & lsi_regs::kHostInterruptStatusReply,
            lsi_regs::kHostInterruptStatusReply);
  EXPECT_EQ(h.read(lsi_regs::kReplyFifo), 0xFFFF'FFFFu);
  EXPECT_EQ(h.read(lsi_regs::kHostInterruptStatus) & lsi_regs::kHostInterruptStatusReply, 0u);
}

// Nothing but the REQUEST_FIFO write: the IOC fetches, answers and posts on its own clock, and
// the reply interrupt is what tells the host (no polling register reads keep the model awake).
TEST(LsiFifo, APostedRequestIsFetchedAndAnsweredWithoutFurtherRegisterAccess) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  EXPECT_EQ(h.read(lsi_regs::kReplyFifo), 0xFFFF'FFFFu);
  h.write(lsi_regs::kHostInterruptMask, 0x1);
  const std::uint64_t msis = h.msis;
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  h.post(2, enable);
  h.run_for(100 * sim::kMicrosecond);
  EXPECT_EQ(h.ioc.requests_fetched(), 3u);
  EXPECT_EQ(h.ioc.replies_posted(), 3u);
  EXPECT_EQ(h.msis, msis + 1);
}

TEST(LsiFifo, AReplyWaitsForAFreeReplyFrame) {
  Machine m("direct");
  MptHost h(m);
  ASSERT_EQ(h.handshake({0x03000000, 0, 1}).size(), 30u);
  h.allocate_queues();
  ASSERT_TRUE(h.ioc_init());
  mpi::Frame enable(12);
  enable.set_u8(0x03, mpi::kPortEnable);
  enable.set_u32(0x08, 7);
  h.post(0, enable);
  EXPECT_FALSE(h.next_reply(100 * sim::kMicrosecond));
  EXPECT_EQ(h.ioc.requests_fetched(), 1u);
  h.write(lsi_regs::kReplyFifo, h.reply_iova(3));
  const std::optional<std::uint32_t> entry = h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x8000'0000u | h.reply_iova(3) >> 1);
  EXPECT_EQ(h.reply_frame(*entry).u32(0x08), 7u);
}

TEST(LsiFifo, APageBufferWhoseDirectionFlagContradictsTheActionIsABadSgl) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  const testing::HostBuffer page = h.allocate(4096);
  // A read whose element says host to IOC.
  const mpi::Frame r =
      h.transact(0, config_request(mpi::kReadCurrent, mpi::kScsiPort, 1, 0, 0x200, kSimpleWrite | 16, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kInvalidSgl);
  ASSERT_EQ(m.findings.all().size(), 1u);
  const checks::Finding& f = m.findings.all()[0];
  EXPECT_EQ(f.check, "lsi.bad-sgl");
  EXPECT_EQ(f.what,
            "bad scatter-gather list in the CONFIG request (MsgContext 0x200, frame at MFA " +
                util::hex(h.frame_iova(0) & 0xFFFFFFFF) + "): a simple element's direction flag (0x04, host to IOC) contradicts the transfer, at byte 0x1c of the request frame");
}

TEST(LsiFifo, A64BitPageBufferElementAndAShorterOneAreMovedAsFarAsTheyReach) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  const testing::HostBuffer page = h.allocate(4096);
  std::vector<std::uint8_t> fill(64, 0xEE);
  m.memory.write(page.pa, fill);
  // Manufacturing page 0 (76 bytes) through a 64-bit element of 12 bytes: the header and the
  // chip name's first 8 bytes land, nothing past them.
  const mpi::Frame r = h.transact(
      0, config_request(mpi::kReadCurrent, mpi::kManufacturing, 0, 0, 9, kSimpleRead | (0x02u << 24) | 12, page.iova));
  EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
  const std::vector<std::uint8_t> bytes = host_bytes(h, page, 16);
  EXPECT_EQ(std::string(bytes.begin() + 4, bytes.begin() + 12), "LSI53C10");
  EXPECT_EQ(bytes[12], 0xEE);
  EXPECT_TRUE(m.findings.empty());
}

TEST(LsiFifo, AFrameOutsideEveryMappingFaultsInTheDartAndTheRequestIsLost) {
  Machine m("direct");
  MptHost h(m);
  bring_up_as_freebsd(h);
  // An MFA the dext never prepared.
  h.write(lsi_regs::kRequestFifo, static_cast<std::uint32_t>(h.requests.iova + 0x100000));
  EXPECT_FALSE(h.next_reply(100 * sim::kMicrosecond));
  bool dart = false, lsi = false;
  for (const checks::Finding& f : m.findings.all()) {
    dart |= f.check == "dart.fault";
    if (f.check == "lsi.dma-error") {
      lsi = true;
      EXPECT_NE(f.what.find("fetching the request frame at MFA"), std::string::npos) << f.what;
    }
  }
  EXPECT_TRUE(dart);
  EXPECT_TRUE(lsi);
}

}  // namespace
}  // namespace dexthil::models
