// SCSI I/O through one LSI53C1030 function, driven as Linux mptbase and FreeBSD mpt bring it up
// and use it: both init orders reach OPERATIONAL and then scan and move data through the DART,
// every byte checked; SGLs of 32- and 64-bit simple elements and chains; autosense; a target
// nobody answers; the SPI bus's time; and the bad SGLs and malformed requests the IOC refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "harness/util/hex.hpp"
#include "models/lsi53c1030/tests/mpt_host.hpp"

namespace dexthil::models {
namespace {

using testing::add_chain;
using testing::bring_up_as_freebsd;
using testing::add_simple;
using testing::config_request;
using testing::HostBuffer;
using testing::Machine;
using testing::MptHost;
using testing::scsi_io_request;
namespace mpi = lsi::mpi;

constexpr std::uint32_t kRead = 2, kWrite = 1, kNoData = 0;
constexpr std::uint8_t kEnd = mpi::kSgeLastElement | mpi::kSgeEndOfBuffer | mpi::kSgeEndOfList;
constexpr std::uint8_t kToIoc = mpi::kSgeHostToIoc;
constexpr std::uint8_t k64 = mpi::kSgeAddress64;

std::vector<std::uint8_t> read10(std::uint32_t lba, std::uint16_t blocks) {
  return {0x28, 0, static_cast<std::uint8_t>(lba >> 24), static_cast<std::uint8_t>(lba >> 16),
          static_cast<std::uint8_t>(lba >> 8), static_cast<std::uint8_t>(lba), 0,
          static_cast<std::uint8_t>(blocks >> 8), static_cast<std::uint8_t>(blocks), 0};
}
std::vector<std::uint8_t> write10(std::uint32_t lba, std::uint16_t blocks) {
  std::vector<std::uint8_t> cdb = read10(lba, blocks);
  cdb[0] = 0x2A;
  return cdb;
}
// The findings, one per line, for a failing expectation's message.
std::string listed(const checks::FindingLog& log) {
  std::string out;
  for (const checks::Finding& f : log.all()) out += f.check + ": " + f.what + "\n";
  return out;
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 9));
  return v;
}

struct Bench {
  explicit Bench(scsi::ServiceModel service = {}, sim::SimulatorOptions options = {})
      : m("direct", 1, "", true, options), h(m) {
    h.ioc.channel().attach(0, std::make_unique<scsi::Disk>(scsi::DiskIdentity{}, 1 << 20), service);
  }
  std::vector<std::uint8_t> read_host(const HostBuffer& b, std::size_t n, std::size_t offset = 0) {
    std::vector<std::uint8_t> out(n);
    m.memory.read(b.pa + offset, out);
    return out;
  }
  Machine m;
  MptHost h;
};

// Linux mptbase: mask interrupts, MessageUnitReset, IOCFacts, PortFacts, free reply frames while
// READY, IOCInit, PortEnable (all by handshake), EventNotification through the FIFO, unmask the
// reply interrupt, read the port and device pages.
void bring_up_as_linux(MptHost& h) {
  h.write(lsi_regs::kHostInterruptMask, 0x9);
  h.write(lsi_regs::kDoorbell, 0x40u << 24);
  h.run_for(10 * sim::kMicrosecond);
  ASSERT_EQ(h.state(), 1u);
  ASSERT_EQ(h.handshake({0x03000000, 0, 1}).size(), 30u);
  ASSERT_EQ(h.handshake({0x05000000, 0, 2}).size(), 20u);
  h.allocate_queues();
  h.post_free_reply_frames();
  ASSERT_TRUE(h.ioc_init());
  const std::vector<std::uint16_t> enable = h.handshake({0x06000000, 0, 3});
  ASSERT_EQ(enable.size(), 10u);
  EXPECT_EQ(enable[7], 0u);
  ASSERT_EQ(h.state(), 2u);
  mpi::Frame events(16);
  events.set_u8(0x03, mpi::kEventNotification);
  events.set_u8(0x0C, 1);
  EXPECT_EQ(h.transact(0, events).u32(0x14), mpi::kEventChange);
  h.write(lsi_regs::kHostInterruptMask, 0x1);  // the reply interrupt on
  for (std::uint8_t page : {0, 2}) {
    EXPECT_EQ(h.transact(1, config_request(mpi::kPageHeader, mpi::kScsiPort, page, 0, 4)).u16(0x0E), mpi::kSuccess);
  }
  EXPECT_EQ(h.transact(1, config_request(mpi::kPageHeader, mpi::kScsiDevice, 0, 0, 5)).u16(0x0E), mpi::kSuccess);
}

// INQUIRY, then 8 blocks written and read back through 32-bit elements: every byte compared.
void scan_and_move_data(Bench& b) {
  MptHost& h = b.h;
  const HostBuffer data = h.allocate(64 * 1024);
  mpi::Frame inquiry = scsi_io_request(0, {0x12, 0, 0, 0, 36, 0}, 36, kRead, 0x10);
  add_simple(inquiry, 0x30, kEnd, 36, data.iova);
  h.post(2, inquiry);
  std::optional<std::uint32_t> entry = h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x10u);  // a context reply: all went well
  const std::vector<std::uint8_t> inq = b.read_host(data, 36);
  EXPECT_EQ(inq[0], 0x00);  // a direct-access device
  EXPECT_EQ(std::string(inq.begin() + 8, inq.begin() + 16), "DEXTHIL ");

  const std::vector<std::uint8_t> written = pattern(8 * 512, 0x31);
  b.m.memory.write(data.pa, written);
  mpi::Frame w = scsi_io_request(0, write10(100, 8), 4096, kWrite, 0x11);
  add_simple(w, 0x30, kEnd | kToIoc, 4096, data.iova);
  h.post(3, w);
  entry = h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x11u);

  mpi::Frame r = scsi_io_request(0, read10(100, 8), 4096, kRead, 0x12);
  add_simple(r, 0x30, kEnd, 4096, data.iova + 8192);
  h.post(4, r);
  entry = h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x12u);
  EXPECT_EQ(b.read_host(data, 4096, 8192), written);
}

TEST(LsiIo, LinuxInitOrderReachesOperationalAndDoesIo) {
  Bench b;
  bring_up_as_linux(b.h);
  scan_and_move_data(b);
  EXPECT_GE(b.h.msis, 3u);  // the reply interrupt, once unmasked
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
}

TEST(LsiIo, FreeBsdInitOrderReachesOperationalAndDoesIo) {
  Bench b;
  bring_up_as_freebsd(b.h);
  scan_and_move_data(b);
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
}

// The DMA engines' one-cycle results (frame_valid, done_valid) stay raised across the edges that
// idle skipping leaves out, and the firmware takes each once, at the edge that raised it: a run
// with skipping is the run a plain RTL simulator gives, edge for edge where it matters.
TEST(LsiIo, IdleSkippingGivesTheSameRunAsEveryCycle) {
  auto run = [](bool skip_idle) {
    Bench b({}, {.skip_idle = skip_idle});
    bring_up_as_linux(b.h);
    scan_and_move_data(b);
    EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
    return std::tuple{b.m.sim.trace().hash(), b.m.sim.trace().count(), b.m.sim.now(), b.h.ioc.requests_fetched(),
                      b.h.ioc.scsi_ios_completed(), b.h.ioc.edges_evaluated()};
  };
  auto [hash_skip, records_skip, end_skip, fetched_skip, ios_skip, edges_skip] = run(true);
  auto [hash_all, records_all, end_all, fetched_all, ios_all, edges_all] = run(false);
  EXPECT_EQ(hash_skip, hash_all);
  EXPECT_EQ(records_skip, records_all);
  EXPECT_EQ(end_skip, end_all);
  EXPECT_EQ(fetched_skip, fetched_all);
  EXPECT_EQ(ios_skip, 3u);
  EXPECT_EQ(ios_all, 3u);
  EXPECT_LT(edges_skip, edges_all);  // skipping did leave edges out (the bring-up polls registers, so not most)
}

// The data of a 4 KiB read leaves the function as its PCIe core sends it: one train of posted
// write TLPs at the Max Payload Size (128 bytes after reset), not one 4 KiB TLP, and not 32
// transfers the fabric handles one by one.
TEST(LsiIo, AReadsDataGoesUpAsOneTrainOfTlpsAtTheMaxPayloadSize) {
  struct Writes : pcie::DmaPathObserver {
    std::vector<dma::DmaRequest> seen;
    void on_dma(const pcie::DmaPath& path, const pcie::Fabric&) override {
      if (path.request.write) seen.push_back(path.request);
    }
  } writes;
  Bench b;
  b.m.fabric->add_observer(&writes);
  bring_up_as_freebsd(b.h);
  scan_and_move_data(b);
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
  const auto data_in = std::find_if(writes.seen.begin(), writes.seen.end(), [](const dma::DmaRequest& r) { return r.length == 4096; });
  ASSERT_NE(data_in, writes.seen.end());
  EXPECT_EQ(data_in->tlp_payload, 128u);
  EXPECT_EQ(data_in->tlps(), 32u);
  EXPECT_EQ(data_in->tlp_length(31), 128u);
  EXPECT_EQ(std::count_if(writes.seen.begin(), writes.seen.end(), [](const dma::DmaRequest& r) { return r.length == 128; }), 0)
      << "the read's data went up TLP by TLP";
}

TEST(LsiIo, ATargetNobodyAnswersIsDeviceNotThereAfterTheSelectionTimeout) {
  Bench b;
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(4096);
  mpi::Frame inquiry = scsi_io_request(3, {0x12, 0, 0, 0, 36, 0}, 36, kRead, 0x20);
  add_simple(inquiry, 0x30, kEnd, 36, data.iova);
  const sim::SimTime start = b.m.sim.now();
  b.h.post(2, inquiry);
  const std::optional<std::uint32_t> entry = b.h.next_reply(sim::kSecond);
  ASSERT_TRUE(entry);
  EXPECT_GE(b.m.sim.now() - start, lsi::ScsiChannel::kSelectionTimeout);
  const mpi::Frame r = b.h.reply_frame(*entry);
  EXPECT_EQ(r.u8(0x00), 3);
  EXPECT_EQ(r.u8(0x02), 9);  // MsgLength
  EXPECT_EQ(r.u32(0x08), 0x20u);
  EXPECT_EQ(r.u16(0x0E), mpi::kScsiDeviceNotThere);
  EXPECT_EQ(r.u8(0x0D), 0x08);  // SCSIState: terminated
  EXPECT_EQ(r.u32(0x14), 0u);
}

TEST(LsiIo, ACheckConditionWritesAutosenseAndAnswersWithAFrame) {
  Bench b;
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(8192);
  // READ(10) past the end of a disk of 2^20 blocks.
  mpi::Frame r = scsi_io_request(0, read10(1u << 20, 1), 512, kRead, 0x30, 32, static_cast<std::uint32_t>(data.iova + 4096));
  add_simple(r, 0x30, kEnd, 512, data.iova);
  b.h.post(2, r);
  const std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  const mpi::Frame reply = b.h.reply_frame(*entry);
  EXPECT_EQ(reply.u16(0x0E), mpi::kSuccess);
  EXPECT_EQ(reply.u8(0x0C), 0x02);  // CHECK CONDITION
  EXPECT_EQ(reply.u8(0x0D), 0x01);  // autosense valid
  EXPECT_EQ(reply.u32(0x14), 0u);
  EXPECT_EQ(reply.u32(0x18), 18u);  // fixed-format sense, all of it
  const std::vector<std::uint8_t> sense = b.read_host(data, 18, 4096);
  EXPECT_EQ(sense[0], 0x70);
  EXPECT_EQ(sense[2] & 0x0F, 0x5);  // ILLEGAL REQUEST
  EXPECT_EQ(sense[12], 0x21);       // LOGICAL BLOCK ADDRESS OUT OF RANGE
}

TEST(LsiIo, AShortReadIsAnUnderrunWithTheTransferCount) {
  Bench b;
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(4096);
  // INQUIRY's standard data is shorter than the 255 bytes asked for.
  mpi::Frame inquiry = scsi_io_request(0, {0x12, 0, 0, 0, 255, 0}, 255, kRead, 0x40);
  add_simple(inquiry, 0x30, kEnd, 255, data.iova);
  b.h.post(2, inquiry);
  const std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  const mpi::Frame reply = b.h.reply_frame(*entry);
  EXPECT_EQ(reply.u16(0x0E), mpi::kScsiDataUnderrun);
  EXPECT_EQ(reply.u8(0x0C), 0x00);
  EXPECT_GT(reply.u32(0x14), 35u);
  EXPECT_LT(reply.u32(0x14), 255u);
}

// 64 KiB read into sixteen 4 KiB buffers scattered in host memory: two in the frame, the rest
// behind a chain of 64-bit elements; then written back from a different scatter and compared.
TEST(LsiIo, ChainedSglsOf64BitElementsScatterAndGatherEveryByte) {
  Bench b;
  bring_up_as_freebsd(b.h);
  const HostBuffer pool = b.h.allocate(64 * 4096);  // buffers at every other 16 KiB page, reversed
  const HostBuffer chain = b.h.allocate(4096);
  auto piece = [&](int i) { return pool.iova + static_cast<std::uint64_t>(15 - i) * 16384; };
  const std::vector<std::uint8_t> written = pattern(65536, 0x5C);
  for (int i = 0; i < 16; ++i) {
    b.m.memory.write(pool.pa_of(piece(i)), std::span<const std::uint8_t>(written).subspan(i * 4096, 4096));
  }
  auto sgl = [&](mpi::Frame& f, std::uint8_t dir) {
    std::size_t at = add_simple(f, 0x30, k64 | dir, 4096, piece(0));
    at = add_simple(f, at, k64 | dir, 4096, piece(1));
    add_chain(f, at, 14 * 12, 0, chain.iova);
    mpi::Frame segment(14 * 12);
    std::size_t c = 0;
    for (int i = 2; i < 16; ++i) c = add_simple(segment, c, static_cast<std::uint8_t>(k64 | dir | (i == 15 ? kEnd : 0)), 4096, piece(i));
    b.m.memory.write(chain.pa, segment.bytes());
  };
  mpi::Frame w = scsi_io_request(0, write10(2048, 128), 65536, kWrite, 0x50);
  sgl(w, kToIoc);
  b.h.post(2, w);
  std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x50u);
  std::vector<std::uint8_t> zeros(64 * 4096, 0);
  b.m.memory.write(pool.pa, zeros);
  mpi::Frame r = scsi_io_request(0, read10(2048, 128), 65536, kRead, 0x51);
  sgl(r, 0);
  b.h.post(3, r);
  entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0x51u);
  std::vector<std::uint8_t> read_back;
  for (int i = 0; i < 16; ++i) {
    std::vector<std::uint8_t> part(4096);
    b.m.memory.read(pool.pa_of(piece(i)), part);
    read_back.insert(read_back.end(), part.begin(), part.end());
  }
  EXPECT_EQ(read_back, written);
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
}

// The bad lists the IOC refuses, each with the finding's exact words and IOCStatus INVALID_SGL.
struct BadSgl {
  const char* name;
  std::function<void(mpi::Frame&, MptHost&, const HostBuffer&)> build;
  std::function<std::string(const HostBuffer&)> expected_what_tail;
};

using util::hex;

TEST(LsiIo, BadSglsAreRefusedWithWhatIsWrongAndWhere) {
  const std::vector<BadSgl> cases = {
      {"zero-length element",
       [](mpi::Frame& f, MptHost&, const HostBuffer& d) {
         const std::size_t at = add_simple(f, 0x30, 0, 0, d.iova);
         add_simple(f, at, kEnd, 4096, d.iova);
       },
       [](const HostBuffer&) { return "a zero-length element while bytes remain to be moved, at byte 0x30 of the request frame"; }},
      {"past the frame",
       [](mpi::Frame& f, MptHost&, const HostBuffer& d) {
         std::size_t at = 0x30;
         for (int i = 0; i < 6; ++i) at = add_simple(f, at, k64, 16, d.iova + 16 * i);  // 6 x 12 bytes: to 0x78
         add_simple(f, at, k64 | kEnd, 4096, d.iova);  // 0x78 + 12 is past 128
       },
       [](const HostBuffer&) {
         return "an element runs past the end of its frame or chain segment (a length beyond the frame), at byte 0x78 "
                "of the request frame";
       }},
      {"chain loop",
       [](mpi::Frame& f, MptHost& h, const HostBuffer& d) {
         // The chain's segment holds one element: a chain back to itself.
         add_chain(f, 0x30, 12, 0, d.iova + 8192);
         mpi::Frame segment(12);
         add_chain(segment, 0, 12, 0, d.iova + 8192);
         h.m.memory.write(d.pa + 8192, segment.bytes());
       },
       [](const HostBuffer& d) {
         return "a chain element leads back to a chain segment already walked (a chain loop), at byte 0x0 of chain "
                "segment 1 (at " + hex(d.iova + 8192) + ")";
       }},
      {"short list",
       [](mpi::Frame& f, MptHost&, const HostBuffer& d) { add_simple(f, 0x30, kEnd, 1024, d.iova); },
       [](const HostBuffer&) {
         return "the list ended (end-of-list flag) before the transfer's bytes were described, at byte 0x30 of the "
                "request frame";
       }},
  };
  for (const BadSgl& c : cases) {
    SCOPED_TRACE(c.name);
    Bench b;
    bring_up_as_freebsd(b.h);
    const HostBuffer data = b.h.allocate(16384);
    mpi::Frame r = scsi_io_request(0, read10(0, 8), 4096, kRead, 0x60);
    c.build(r, b.h, data);
    b.h.post(2, r);
    const std::optional<std::uint32_t> entry = b.h.next_reply();
    ASSERT_TRUE(entry);
    const mpi::Frame reply = b.h.reply_frame(*entry);
    EXPECT_EQ(reply.u16(0x0E), mpi::kInvalidSgl);
    ASSERT_EQ(b.m.findings.all().size(), 1u) << listed(b.m.findings);
    const checks::Finding& f = b.m.findings.all()[0];
    EXPECT_EQ(f.check, "lsi.bad-sgl");
    const std::string head = "bad scatter-gather list in the SCSI_IO request (MsgContext 0x60, frame at MFA ";
    EXPECT_EQ(f.what.substr(0, head.size()), head) << f.what;
    EXPECT_EQ(f.what.substr(f.what.find("): ") + 3), c.expected_what_tail(data));
  }
}

TEST(LsiIo, AMalformedRequestIsRefusedWithTheFieldNamed) {
  Bench b;
  bring_up_as_freebsd(b.h);
  mpi::Frame r = scsi_io_request(0, {}, 0, kNoData, 0x70);  // CDBLength 0
  b.h.post(2, r);
  const std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  EXPECT_EQ(b.h.reply_frame(*entry).u16(0x0E), mpi::kInvalidField);
  ASSERT_EQ(b.m.findings.all().size(), 1u) << listed(b.m.findings);
  EXPECT_EQ(b.m.findings.all()[0].check, "lsi.malformed-request");
  EXPECT_NE(b.m.findings.all()[0].what.find("CDBLength 0 at byte 0x04"), std::string::npos)
      << b.m.findings.all()[0].what;
}

// Negotiation to Ultra320 (the NVRAM's factor 0x08, wide) shows in Device page 0, and a 512 KiB
// read's data phase then takes its time at 320 MB/s.
TEST(LsiIo, NegotiatedUltra320SetsDevicePage0AndTheDataPhaseTakesItsTime) {
  scsi::ServiceModel instant;
  instant.fixed = 0;
  Bench b(instant);
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(512 * 1024);
  const HostBuffer page = b.h.allocate(4096);
  // The first command negotiates.
  mpi::Frame tur = scsi_io_request(0, {0x00, 0, 0, 0, 0, 0}, 0, kNoData, 0x80);
  add_simple(tur, 0x30, kEnd, 0, 0xFFFFFFFF);
  b.h.post(2, tur);
  ASSERT_EQ(b.h.next_reply(), std::optional<std::uint32_t>(0x80u));
  const mpi::Frame r0 = b.h.transact(
      3, config_request(mpi::kReadCurrent, mpi::kScsiDevice, 0, 0, 0x81, 0xD1000000u | 12, page.iova));
  EXPECT_EQ(r0.u16(0x0E), mpi::kSuccess);
  const mpi::Frame device0(b.read_host(page, 12));
  EXPECT_EQ(device0.u32(0x04), 0x2000'0000u | 0x7Fu << 16 | 0x08u << 8 | 0x7u);  // wide, offset 127, 0x08, IU DT QAS
  EXPECT_EQ(device0.u32(0x08), 0x1u);

  // 512 KiB in 128 elements would need chains; one element of the whole buffer is enough here.
  mpi::Frame r = scsi_io_request(0, read10(0, 1024), 512 * 1024, kRead, 0x82);
  add_simple(r, 0x30, kEnd | k64, 512 * 1024, data.iova);
  const sim::SimTime start = b.m.sim.now();
  b.h.post(4, r);
  ASSERT_EQ(b.h.next_reply(10 * sim::kMillisecond), std::optional<std::uint32_t>(0x82u));
  const sim::SimTime took = b.m.sim.now() - start;
  const sim::SimTime at_320 = 512 * 1024 * sim::kSecond / 320'000'000;  // 1.638 ms
  EXPECT_GE(took, at_320);
  EXPECT_LT(took, at_320 + 100 * sim::kMicrosecond);  // plus connections, messages and the host's DMA
}

// The host changes what it asks of a target (SCSI Device page 1) after the target was
// negotiated: the next command negotiates again and Device page 0 says what was agreed.
TEST(LsiIo, ADevicePage1WriteIsNegotiatedAtTheTargetsNextCommand) {
  scsi::ServiceModel instant;
  instant.fixed = 0;
  Bench b(instant);
  bring_up_as_freebsd(b.h);
  const HostBuffer page = b.h.allocate(4096);
  std::uint32_t context = 0x90;
  auto test_unit_ready = [&] {
    mpi::Frame tur = scsi_io_request(0, {0x00, 0, 0, 0, 0, 0}, 0, kNoData, context);
    add_simple(tur, 0x30, kEnd, 0, 0xFFFFFFFF);
    b.h.post(2, tur);
    ASSERT_EQ(b.h.next_reply(), std::optional<std::uint32_t>(context));
    ++context;
  };
  auto negotiated = [&] {
    const mpi::Frame r = b.h.transact(
        3, config_request(mpi::kReadCurrent, mpi::kScsiDevice, 0, 0, context++, 0xD1000000u | 12, page.iova));
    EXPECT_EQ(r.u16(0x0E), mpi::kSuccess);
    return mpi::Frame(b.read_host(page, 12)).u32(0x04);
  };
  test_unit_ready();
  EXPECT_EQ(negotiated(), 0x2000'0000u | 0x7Fu << 16 | 0x08u << 8 | 0x7u);  // Ultra320, wide
  // RequestedParameters: wide, offset 0 (asynchronous).
  b.h.transact(3, config_request(mpi::kReadCurrent, mpi::kScsiDevice, 1, 0, context++, 0xD1000000u | 16, page.iova));
  mpi::Frame device1(b.read_host(page, 16));
  device1.set_u32(0x04, 1u << 29);
  b.m.memory.write(page.pa, device1.bytes());
  const mpi::Frame w = b.h.transact(
      3, config_request(mpi::kWriteCurrent, mpi::kScsiDevice, 1, 0, context++, 0xD5000000u | 16, page.iova));
  EXPECT_EQ(w.u16(0x0E), mpi::kSuccess);
  test_unit_ready();
  EXPECT_EQ(negotiated(), 0x2000'0000u);  // wide, asynchronous
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
}

// A task management request (MPI 1.x MSG_SCSI_TASK_MGMT): 13 dwords.
mpi::Frame task_management(std::uint8_t type, std::uint8_t target, std::uint32_t context, std::uint32_t task_context) {
  mpi::Frame f(0x34);
  f.set_u8(0x00, target);
  f.set_u8(0x03, mpi::kScsiTaskMgmt);
  f.set_u8(0x05, type);
  f.set_u32(0x08, context);
  f.set_u32(0x30, task_context);
  return f;
}

// A read the disk takes 10 ms over, aborted while it is there: the read is answered
// SCSI_TASK_TERMINATED, then the abort with its TerminationCount; the next request in the same
// frame slot moves its own data, untouched by the aborted one.
TEST(LsiIo, AbortTaskEndsTheTaskFirstThenAnswersWithTheCount) {
  scsi::ServiceModel slow;
  slow.fixed = 10 * sim::kMillisecond;
  Bench b(slow);
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(16384);
  mpi::Frame r = scsi_io_request(0, read10(0, 8), 4096, kRead, 0x90);
  add_simple(r, 0x30, kEnd, 4096, data.iova);
  b.h.post(2, r);
  b.h.run_for(100 * sim::kMicrosecond);
  b.h.post(3, task_management(0x01, 0, 0x91, 0x90));
  std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  mpi::Frame reply = b.h.reply_frame(*entry);
  EXPECT_EQ(reply.u8(0x03), mpi::kScsiIo);
  EXPECT_EQ(reply.u32(0x08), 0x90u);
  EXPECT_EQ(reply.u16(0x0E), mpi::kScsiTaskTerminated);
  EXPECT_EQ(reply.u8(0x0D), 0x08);
  entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  reply = b.h.reply_frame(*entry);
  EXPECT_EQ(reply.u8(0x03), mpi::kScsiTaskMgmt);
  EXPECT_EQ(reply.u8(0x02), 6);
  EXPECT_EQ(reply.u8(0x05), 0x01);
  EXPECT_EQ(reply.u32(0x08), 0x91u);
  EXPECT_EQ(reply.u16(0x0E), mpi::kSuccess);
  EXPECT_EQ(reply.u32(0x14), 1u);

  // Slot 2 again, while the aborted read is still at the disk: a write whose bytes must land.
  const std::vector<std::uint8_t> written = pattern(4096, 0x77);
  b.m.memory.write(data.pa + 8192, written);
  mpi::Frame w = scsi_io_request(0, write10(64, 8), 4096, kWrite, 0x92);
  add_simple(w, 0x30, kEnd | kToIoc, 4096, data.iova + 8192);
  b.h.post(2, w);
  ASSERT_EQ(b.h.next_reply(100 * sim::kMillisecond), std::optional<std::uint32_t>(0x92u));
  mpi::Frame back = scsi_io_request(0, read10(64, 8), 4096, kRead, 0x93);
  add_simple(back, 0x30, kEnd, 4096, data.iova + 4096);
  b.h.post(2, back);
  ASSERT_EQ(b.h.next_reply(100 * sim::kMillisecond), std::optional<std::uint32_t>(0x93u));
  EXPECT_EQ(b.read_host(data, 4096, 4096), written);
  EXPECT_FALSE(b.h.next_reply(50 * sim::kMillisecond));  // the aborted read never answers again
  EXPECT_TRUE(b.m.findings.empty()) << listed(b.m.findings);
}

// Linux sends task management by handshake: the handshake ends with its closing doorbell
// interrupt and no reply words, and the replies come through the reply FIFO.
TEST(LsiIo, ATargetResetByHandshakeIsAnsweredThroughTheReplyFifo) {
  scsi::ServiceModel slow;
  slow.fixed = 10 * sim::kMillisecond;
  Bench b(slow);
  bring_up_as_freebsd(b.h);
  const HostBuffer data = b.h.allocate(16384);
  for (std::uint32_t i = 0; i < 3; ++i) {
    mpi::Frame r = scsi_io_request(0, read10(8 * i, 8), 4096, kRead, 0xA0 + i);
    add_simple(r, 0x30, kEnd, 4096, data.iova + 4096 * i);
    b.h.post(2 + i, r);
  }
  b.h.run_for(100 * sim::kMicrosecond);
  const mpi::Frame reset = task_management(0x03, 0, 0xA9, 0);
  std::vector<std::uint32_t> dwords(13);
  for (std::size_t i = 0; i < dwords.size(); ++i) dwords[i] = reset.u32(4 * i);
  b.h.write(lsi_regs::kHostInterruptStatus, 0);
  b.h.write(lsi_regs::kDoorbell, MptHost::kHandshake | 13u << 16);
  ASSERT_TRUE(b.h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
  b.h.write(lsi_regs::kHostInterruptStatus, 0);
  for (std::uint32_t d : dwords) {
    b.h.write(lsi_regs::kDoorbell, d);
    ASSERT_TRUE(b.h.wait_status(lsi_regs::kHostInterruptStatusIocDoorbell, 0));
  }
  // mpt_send_handshake_request waits for one more doorbell interrupt, then clears it.
  ASSERT_TRUE(b.h.wait_status(lsi_regs::kHostInterruptStatusDoorbell, lsi_regs::kHostInterruptStatusDoorbell));
  b.h.write(lsi_regs::kHostInterruptStatus, 0);
  b.h.run_for(sim::kMicrosecond);
  EXPECT_FALSE(b.h.read(lsi_regs::kDoorbell) & lsi_regs::kDoorbellActive);
  std::vector<std::uint32_t> terminated;
  for (int i = 0; i < 3; ++i) {
    const std::optional<std::uint32_t> entry = b.h.next_reply();
    ASSERT_TRUE(entry);
    const mpi::Frame r = b.h.reply_frame(*entry);
    EXPECT_EQ(r.u16(0x0E), mpi::kScsiTaskTerminated);
    terminated.push_back(r.u32(0x08));
  }
  EXPECT_EQ(terminated, (std::vector<std::uint32_t>{0xA0, 0xA1, 0xA2}));
  const std::optional<std::uint32_t> entry = b.h.next_reply();
  ASSERT_TRUE(entry);
  const mpi::Frame r = b.h.reply_frame(*entry);
  EXPECT_EQ(r.u8(0x03), mpi::kScsiTaskMgmt);
  EXPECT_EQ(r.u32(0x14), 3u);
  EXPECT_FALSE(b.h.ioc.channel().negotiated(0));  // a target reset forgets the agreement
}

}  // namespace
}  // namespace dexthil::models
