// The DMA checks beyond the DART: PCIe request rules and the driver's prepared mappings.
#include <gtest/gtest.h>

#include "harness/checks/dma_budget_checker.hpp"
#include "harness/pcie/tests/machine.hpp"

namespace dexthil::pcie {
namespace {

using testing::Machine;

std::vector<std::string> checks_seen(const checks::FindingLog& log) {
  std::vector<std::string> ids;
  for (const auto& f : log.all()) ids.push_back(f.check);
  return ids;
}

TEST(DmaChecks, CleanDmaInsideItsBufferRaisesNothing) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 8192);
  m.dma("dev", true, iova, 128);
  m.dma("dev", false, iova + 4096, 512);
  EXPECT_TRUE(m.findings.empty()) << m.findings.all()[0].what;
}

TEST(DmaChecks, TheLatencyBudgetCoversEveryFabricDmaAndNamesItsCauses) {
  Machine m("direct");
  checks::DmaBudgetChecker generous(m.findings, m.sim, 100 * sim::kMicrosecond);
  m.fabric->add_observer(&generous);
  const std::uint64_t iova = m.prepare("dev", 8192);
  m.dma("dev", false, iova, 512);
  EXPECT_TRUE(m.findings.empty());
  checks::DmaBudgetChecker tight(m.findings, m.sim, 100 * sim::kNanosecond);
  m.fabric->add_observer(&tight);
  m.dma("dev", false, iova, 512);
  ASSERT_EQ(checks_seen(m.findings), std::vector<std::string>{"budget.dma-latency"});
  const checks::Finding& f = m.findings.all()[0];
  EXPECT_EQ(f.where, "dev");
  EXPECT_EQ(f.what.rfind("DMA read 0x80000000+512 took ", 0), 0u) << f.what;
  EXPECT_NE(f.what.find(" through the fabric, over the budget of 100 ns"), std::string::npos) << f.what;
  EXPECT_NE(f.why.find("This one spent link hops "), std::string::npos) << f.why;
  EXPECT_NE(f.why.find(", serialization "), std::string::npos) << f.why;
}

TEST(DmaChecks, RequestCrossing4KiB) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 8192);
  m.dma("dev", false, iova + 4000, 200);
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"pcie.crosses-4k"}));
  EXPECT_EQ(m.findings.all()[0].what,
            "DMA read of 200 bytes at IOVA 0x0000000080000fa0 crosses the 4 KiB boundary at 0x0000000080001000");
  EXPECT_EQ(m.findings.all()[0].where, "dev (01:00.0, 1234:5678)");
}

TEST(DmaChecks, MaxPayloadAndMaxReadRequestFromDeviceControl) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.dma("dev", true, iova, 256);   // MPS is 128 bytes after reset
  m.dma("dev", false, iova, 1024);  // MRRS is 512 bytes after reset
  EXPECT_EQ(checks_seen(m.findings), (std::vector<std::string>{"pcie.max-payload", "pcie.max-read-request"}));
  // Raise both through config space, as a driver would; the same requests are then fine.
  Node& dev = m.node("dev");
  const std::uint16_t cap = dev.config.find_capability(cfg::kCapPciExpress);
  m.fabric->config_write(dev.bdf, cap + 8, 2, (1 << 5) | (3 << 12));  // MPS 256, MRRS 1024
  EXPECT_EQ(Fabric::max_payload(dev), 256u);
  EXPECT_EQ(Fabric::max_read_request(dev), 1024u);
  m.dma("dev", true, iova, 256);
  m.dma("dev", false, iova, 1024);
  EXPECT_EQ(m.findings.all().size(), 2u);
}

// A write train is judged TLP by TLP: its TLPs against Max Payload Size, and each against the
// 4 KiB boundary (a train may span one when no TLP crosses it).
TEST(DmaChecks, AWriteTrainIsCheckedTlpByTlp) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.dma("dev", true, iova, 512, {}, 128);          // 4 TLPs of 128 bytes, the MPS after reset
  m.dma("dev", true, iova + 4096 - 128, 256, {}, 128);  // 2 TLPs, one each side of the boundary
  EXPECT_TRUE(m.findings.empty()) << m.findings.all()[0].what;
  m.dma("dev", true, iova, 512, {}, 256);
  m.dma("dev", true, iova + 4096 - 64, 256, {}, 128);  // the first TLP runs across
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"pcie.max-payload", "pcie.crosses-4k"}));
  EXPECT_EQ(m.findings.all()[0].what,
            "DMA write of 512 bytes (2 TLPs of up to 256) at IOVA 0x0000000080000000 exceeds the Max Payload Size of 128 bytes");
  EXPECT_EQ(m.findings.all()[1].what,
            "DMA write of 256 bytes (2 TLPs of up to 128) at IOVA 0x0000000080000fc0 crosses the 4 KiB boundary at "
            "0x0000000080001000");
}

TEST(DmaChecks, ConventionalDevicesHaveNoPayloadLimitsButStill4KiB) {
  Machine m("field-chain");
  const std::uint64_t iova = m.prepare("lsi", 16384, {}, {1, 0});
  m.dma("lsi", false, iova, 4096);
  EXPECT_TRUE(m.findings.empty());
}

TEST(DmaChecks, AddressBeyondTheDevicesWidth) {
  const std::string text = R"(
[topology]
name = "narrow"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "old"
kind = "endpoint"
parent = "rp0"
ids = "1234:0001"
dma_address_bits = 32
)";
  Machine m("narrow", 1, text);
  m.dma("old", false, 0xffff'fff0, 32);
  const auto seen = checks_seen(m.findings);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "dma.address-width"), seen.end());
}

TEST(DmaChecks, OverrunPastThePreparedBufferWithinTheSamePage) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 100);  // the DART still maps the whole 16 KiB page
  m.dma("dev", false, iova + 64, 64);
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"dma.outside-mapping"}));
  EXPECT_NE(m.findings.all()[0].what.find("runs past the prepared buffer [0x0000000080000000, 0x0000000080000064)"),
            std::string::npos)
      << m.findings.all()[0].what;
  m.dma("dev", false, iova + 1024, 64);
  EXPECT_EQ(m.findings.all().back().what, "DMA read of 64 bytes at IOVA 0x0000000080000400 hits no buffer prepared for this device");
}

TEST(DmaChecks, DmaAfterCompleteIsNamedAsSuch) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 4096);
  m.sim.run_until(m.sim.now() + 5 * sim::kMicrosecond);
  ASSERT_TRUE(m.mapper_of("dev").complete(m.last_prepared, m.sim.now()));
  dma::DmaCompletion c = m.dma("dev", true, iova, 64);
  EXPECT_EQ(c.status, dma::CompletionStatus::kUnsupportedRequest);
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"dart.fault"}));
  EXPECT_NE(m.findings.all()[0].why.find("was completed at 5 us, and CompleteDMA ends the device's right to touch it"),
            std::string::npos)
      << m.findings.all()[0].why;
}

TEST(DmaChecks, AfterCompleteThroughAPageStillMappedByAnotherBuffer) {
  Machine m("direct");
  // Two buffers that share one physical page and so one DART page at the same IOVA page.
  std::string error;
  const std::uint32_t sid = 1;
  auto& mapper = m.mapper_of("dev");
  auto a = mapper.prepare("dev", {sid}, 0x20'0000'0000, 512, {}, 64, 0, &error);
  ASSERT_TRUE(a);
  ASSERT_TRUE(mapper.complete(a->id, m.sim.now()));
  auto b = mapper.prepare("dev", {sid}, 0x20'0000'0400, 512, {}, 64, 0, &error);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->iova, a->iova + 0x400);  // the freed IOVA page comes back for the second buffer
  m.dma("dev", false, a->iova, 64);
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"dma.after-complete"}));
}

TEST(DmaChecks, WithoutAnIommuDmaReachesPhysicalMemoryAndStrayDmaIsStillNamed) {
  Machine m("direct-no-iommu");
  EXPECT_EQ(m.fabric->dart(m.root_of("dev")), nullptr);
  EXPECT_TRUE(m.fabric->rid2sid(m.root_of("dev")).empty());
  const std::uint64_t address = m.prepare("dev", 4096, platform::DmaDirection{false, true});
  EXPECT_EQ(address, 0x20'0000'0000u);  // the buffer's physical address
  dma::DmaCompletion c = m.dma("dev", true, address, 64, std::vector<std::uint8_t>(64, 0x3c));
  EXPECT_EQ(c.status, dma::CompletionStatus::kSuccessful);
  std::vector<std::uint8_t> landed(64);
  m.memory.read(address, landed);
  EXPECT_EQ(landed, std::vector<std::uint8_t>(64, 0x3c));
  EXPECT_TRUE(m.findings.empty());

  // Nothing blocks a DMA to memory the driver never prepared; the check still names it.
  c = m.dma("dev", true, 0x20'0010'0000, 64);
  EXPECT_EQ(c.status, dma::CompletionStatus::kSuccessful);
  ASSERT_EQ(checks_seen(m.findings), (std::vector<std::string>{"dma.outside-mapping"}));
  EXPECT_EQ(m.findings.all()[0].what,
            "DMA write of 64 bytes at physical address 0x0000002000100000 hits no buffer prepared for this device");
  EXPECT_NE(m.findings.all()[0].why.find("Root port rp0 has no IOMMU, so nothing stopped the device."), std::string::npos)
      << m.findings.all()[0].why;

  // After CompleteDMA the device has no right to the memory, IOMMU or not.
  ASSERT_TRUE(m.mapper_of("dev").complete(m.last_prepared, m.sim.now()));
  m.dma("dev", true, address, 64);
  EXPECT_EQ(m.findings.all().back().check, "dma.after-complete");
}

}  // namespace
}  // namespace dexthil::pcie
