// The RTL DMA test device behind the fabric, driven as a driver would: MSI set up in config
// space, registers written through BAR0, completion signalled by MSI.
#include <gtest/gtest.h>

#include "Vdma_testdev.h"
#include "harness/pcie/tests/machine.hpp"
#include "models/common/verilated_clock.hpp"
#include "models/common/verilated_top.hpp"
#include "models/dma_testdev/dma_testdev.hpp"

namespace dexthil::models {
namespace {

using pcie::testing::Machine;
namespace td = testdev;

constexpr std::uint64_t kMsiAddress = 0xffff'f000;
constexpr std::uint32_t kMsiData = 0x41;

// The host side of the device: what a driver for it does.
struct TestdevDriver {
  TestdevDriver(Machine& machine, const std::string& endpoint)
      : m(machine), node(machine.node(endpoint)), device("testdev", machine.sim, *machine.fabric, node) {
    m.sim.attach(device, m.sim.add_clock("testdev.clk", 4000));
    bar0 = node.bar_addresses.at(0);
    const std::uint16_t msi = node.config.find_capability(pcie::cfg::kCapMsi);
    m.fabric->config_write(node.bdf, msi + 4, 4, static_cast<std::uint32_t>(kMsiAddress));
    m.fabric->config_write(node.bdf, msi + 8, 4, 0);
    m.fabric->config_write(node.bdf, msi + 12, 2, kMsiData);
    m.fabric->config_write(node.bdf, msi + 2, 2, 1);  // MSI enable
    m.fabric->set_msi_handler([this](const pcie::Node& from, std::uint64_t address, std::uint32_t data) {
      EXPECT_EQ(&from, &node);
      EXPECT_EQ(address, kMsiAddress);
      EXPECT_EQ(data, kMsiData);
      ++msis;
    });
  }
  std::uint64_t read(std::uint32_t reg, unsigned size = 4) {
    const pcie::MmioResult r = m.mmio_read(bar0 + reg, size);
    EXPECT_TRUE(r.ok()) << r.why;
    return r.value;
  }
  void write(std::uint32_t reg, std::uint64_t v, unsigned size = 4) { EXPECT_TRUE(m.fabric->mmio_write(bar0 + reg, size, v).ok()); }

  // Programs one transfer, rings the doorbell, waits for the MSI and returns STATUS.
  std::uint32_t transfer(std::uint64_t iova, std::uint32_t length, bool device_writes, std::uint32_t max_request = 128,
                         std::uint32_t extra_control = 0) {
    write(td::kIovaLo, static_cast<std::uint32_t>(iova));
    write(td::kIovaHi, static_cast<std::uint32_t>(iova >> 32));
    write(td::kLength, length);
    write(td::kPattern, 0x30);
    write(td::kMaxRequest, max_request);
    write(td::kControl, (device_writes ? td::kControlDeviceWrites : 0) | td::kControlIrqEnable | extra_control);
    write(td::kDoorbell, 1);
    const std::uint64_t before = msis;
    const sim::SimTime deadline = m.sim.now() + 10 * sim::kMillisecond;
    while (msis == before && m.sim.now() < deadline) m.sim.run_until(m.sim.now() + sim::kMicrosecond);
    EXPECT_EQ(msis, before + 1) << "no MSI within 10 ms";
    const std::uint32_t status = read(td::kStatus);
    write(td::kStatus, td::kStatusDone);  // acknowledge
    return status;
  }

  Machine& m;
  pcie::Node& node;
  DmaTestdev device;
  std::uint64_t bar0 = 0;
  std::uint64_t msis = 0;
};

TEST(DmaTestdev, RegistersAnswerThroughBar0) {
  Machine m("direct");
  TestdevDriver d(m, "dev");
  EXPECT_EQ(d.read(td::kId), td::kIdValue);
  EXPECT_EQ(d.read(td::kMaxRequest), 128u);
  EXPECT_EQ(d.read(td::kFirstMismatch), 0xffffffffu);
  const pcie::MmioResult nothing = m.mmio_read(0x1000);  // nothing decodes there
  EXPECT_EQ(nothing.status, pcie::MmioResult::Status::kUnsupportedRequest);
  EXPECT_EQ(nothing.value, 0xffffffffu);
  EXPECT_EQ(nothing.why, "no BAR or bridge window claims the read at 0x1000 (or memory decoding is off in a Command register on the way)");
}

// --x-initial unique: before reset the registers hold values drawn from the seed; after reset
// every register reads the same for every seed, so none was left without a reset.
TEST(DmaTestdev, ResetLeavesNoRegisterDependingOnThePowerOnSeed) {
  std::vector<std::vector<std::uint32_t>> before, after;
  for (std::uint64_t seed : {1, 2, 99}) {
    std::unique_ptr<VerilatedContext> context;
    auto top = make_verilated_top<Vdma_testdev>(context, seed, "testdev");
    auto registers = [&] {
      std::vector<std::uint32_t> values;
      for (std::uint8_t a = 0; a <= td::kDoneEvents; a += 4) {
        top->reg_valid = 0;
        top->reg_addr = a;
        top->clk = 0;
        top->eval();
        values.push_back(top->reg_rdata);
      }
      values.push_back(top->irq);
      values.push_back(top->busy);
      values.push_back(top->host_req_valid);
      return values;
    };
    top->rst_n = 1;
    before.push_back(registers());
    reset_cycles(*top);
    after.push_back(registers());
    top->final();
  }
  EXPECT_TRUE(before[0] != before[1] || before[1] != before[2]) << "power-on state did not depend on the seed";
  EXPECT_EQ(after[0], after[1]);
  EXPECT_EQ(after[1], after[2]);
}

TEST(DmaTestdev, NarrowWritesChangeOnlyTheirBytesAndWideAccessesSpanTwoRegisters) {
  Machine m("direct");
  TestdevDriver d(m, "dev");
  d.write(td::kPattern, 0x11223344);
  d.write(td::kPattern + 1, 0xaa, 1);
  EXPECT_EQ(d.read(td::kPattern), 0x1122aa44u);  // byte enables, not a read-modify-write
  d.write(td::kPattern + 2, 0xbbcc, 2);
  EXPECT_EQ(d.read(td::kPattern), 0xbbccaa44u);
  EXPECT_EQ(d.read(td::kPattern + 3, 1), 0xbbu);
  EXPECT_EQ(d.read(td::kPattern + 2, 2), 0xbbccu);
  d.write(td::kIovaLo, 0x0000'0004'8000'1000ull, 8);  // IOVA_LO then IOVA_HI
  EXPECT_EQ(d.read(td::kIovaHi), 4u);
  EXPECT_EQ(d.read(td::kIovaLo, 8), 0x0000'0004'8000'1000ull);
}

TEST(DmaTestdev, DoneEventsCountsSinceItsLastReadAndTheReadClearsIt) {
  Machine m("direct");
  TestdevDriver d(m, "dev");
  const std::uint64_t iova = m.prepare("dev", 16384);
  EXPECT_EQ(d.read(td::kDoneEvents), 0u);
  d.transfer(iova, 256, true);
  d.transfer(iova, 256, false);
  EXPECT_EQ(d.read(td::kDoneEvents), 2u);
  EXPECT_EQ(d.read(td::kDoneEvents), 0u);  // the first read cleared it: its side effect ran once
  EXPECT_EQ(d.read(td::kDoneCount), 2u);   // while DONE_COUNT keeps counting
}

TEST(DmaTestdev, WritesThePatternThenReadsItBackThroughTheDart) {
  Machine m("direct");
  TestdevDriver d(m, "dev");
  const std::uint64_t iova = m.prepare("dev", 16384);
  const std::uint32_t status = d.transfer(iova + 0xff8, 10000, true);
  EXPECT_EQ(td::result(status), td::Result::kOk) << std::hex << status;
  EXPECT_EQ(d.read(td::kBytesDone), 10000u);
  EXPECT_GE(d.read(td::kRequests), 10000u / 128);
  const std::uint64_t pa = *m.dart_of("dev").lookup(1, iova);
  std::vector<std::uint8_t> bytes(10000);
  m.memory.read(pa + 0xff8, bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) ASSERT_EQ(bytes[n], static_cast<std::uint8_t>(0x30 + n)) << n;
  EXPECT_EQ(td::result(d.transfer(iova + 0xff8, 10000, false)), td::Result::kOk);
  EXPECT_EQ(d.read(td::kMismatchCount), 0u);
  EXPECT_EQ(d.msis, 2u);
  EXPECT_TRUE(m.findings.empty()) << m.findings.all()[0].check << ": " << m.findings.all()[0].what;
  // A byte changed behind the device's back is caught by its read check, at the right offset.
  m.memory.write(pa + 0x2000, std::vector<std::uint8_t>{0xee});
  EXPECT_EQ(td::result(d.transfer(iova + 0xff8, 10000, false)), td::Result::kDataMismatch);
  EXPECT_EQ(d.read(td::kFirstMismatch), 0x2000u - 0xff8u);
}

TEST(DmaTestdev, ItsBugSwitchesTripThePcieChecks) {
  Machine m("direct");
  TestdevDriver d(m, "dev");
  const std::uint64_t iova = m.prepare("dev", 16384);
  // Requests of 256 bytes with Max Payload Size still at 128.
  EXPECT_EQ(td::result(d.transfer(iova, 1024, true, 256)), td::Result::kOk);
  ASSERT_FALSE(m.findings.empty());
  EXPECT_EQ(m.findings.all()[0].check, "pcie.max-payload");
  const std::size_t before = m.findings.all().size();
  // Not splitting at 4 KiB (one 120-byte write straddling 0x...1000; within Max Payload Size).
  EXPECT_EQ(td::result(d.transfer(iova + 4000, 120, true, 128, td::kControlAllowCross4k)), td::Result::kOk);
  ASSERT_EQ(m.findings.all().size(), before + 1);
  EXPECT_EQ(m.findings.all().back().check, "pcie.crosses-4k");
}

TEST(DmaTestdev, FieldChainReadAt0x80000000FaultsUnderSid0) {
  Machine m("field-chain");
  TestdevDriver d(m, "lsi");
  ASSERT_EQ(m.prepare("lsi", 16384), 0x8000'0000u);  // macOS: mapped under 04:08.0's SID only
  const std::uint32_t status = d.transfer(0x8000'0000, 64, false);
  EXPECT_EQ(td::result(status), td::Result::kCompletionError);
  EXPECT_EQ(td::error_completion_status(status), 1u);  // UR
  ASSERT_EQ(m.findings.all().size(), 1u);
  EXPECT_EQ(m.findings.all()[0].what, "DART dart-apciec0 exception SID 0 ERROR_STATUS 0x80000001 ERROR_ADDRESS 0x0000000080000000");
  EXPECT_NE(m.findings.all()[0].why.find("The driver's mapping lives under SID 1, for RID 04:08.0 (lsi)."), std::string::npos);
}

TEST(DmaTestdev, FieldChainWithBothRidsMappedWorks) {
  Machine m("field-chain");
  TestdevDriver d(m, "lsi");
  const std::uint64_t iova = m.prepare("lsi", 16384, {}, {1, 0});
  EXPECT_EQ(td::result(d.transfer(iova, 8192, true)), td::Result::kOk);
  EXPECT_EQ(td::result(d.transfer(iova, 8192, false)), td::Result::kOk);
  EXPECT_TRUE(m.findings.empty());
}

}  // namespace
}  // namespace dexthil::models
