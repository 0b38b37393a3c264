#include <gtest/gtest.h>

#include "harness/pcie/tests/machine.hpp"
#include "harness/platform/pci_enumeration.hpp"
#include "harness/pcie/topology_print.hpp"

namespace dexthil::pcie {
namespace {

constexpr std::uint64_t kIova = 0x8000'0000;

using testing::Machine;

TEST(Fabric, FieldChainEnumeratesLikeTheFieldMachine) {
  Machine m("field-chain");
  EXPECT_EQ(m.node("tb0").bdf.str(), "00:00.0");
  EXPECT_EQ(m.node("asm-up").bdf.str(), "01:00.0");
  EXPECT_EQ(m.node("asm-down").bdf.str(), "02:00.0");
  EXPECT_EQ(m.node("pex8114").bdf.str(), "03:00.0");
  EXPECT_EQ(m.node("lsi").bdf.str(), "04:08.0");
  EXPECT_EQ(m.node("tb0").secondary_bus, 1);
  EXPECT_EQ(m.node("tb0").subordinate_bus, 4);
  EXPECT_EQ(m.node("pex8114").secondary_bus, 4);
  EXPECT_EQ(m.node("pex8114").subordinate_bus, 4);
  // Config cycles route by the programmed bus numbers; an empty slot reads all-ones.
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kVendorId, 4), 0x00301000u);
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 7, 0}, cfg::kVendorId, 4), 0xffffffffu);
  EXPECT_EQ(m.fabric->config_read(Bdf{5, 0, 0}, cfg::kVendorId, 2), 0xffffu);
  // The bridge says what it is through its PCIe capability; the PCI-X device behind it has none.
  const std::uint16_t cap = m.node("pex8114").config.find_capability(cfg::kCapPciExpress);
  ASSERT_NE(cap, 0);
  EXPECT_EQ((m.fabric->config_read(Bdf{3, 0, 0}, cap + 2, 2) >> 4) & 0xf, 0x7u);
  EXPECT_EQ(m.node("lsi").config.find_capability(cfg::kCapPciExpress), 0);
  EXPECT_NE(m.node("lsi").config.find_capability(cfg::kCapMsi), 0);
  // BARs: sized through config writes, placed in the window, reachable by MMIO.
  ASSERT_EQ(m.node("lsi").bar_addresses.size(), 2u);
  const std::uint64_t bar0 = m.node("lsi").bar_addresses[0];
  EXPECT_EQ(bar0, platform::kMmioWindowBase);
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kBar0, 4), static_cast<std::uint32_t>(bar0) | 0x4);
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kCommand, 2) & 0x6, 0x6u);
  auto target = m.fabric->route_mmio(m.node("lsi").bar_addresses[1] + 0x10);
  ASSERT_TRUE(target);
  EXPECT_EQ(target->endpoint, &m.node("lsi"));
  EXPECT_EQ(target->bar, 1u);
  EXPECT_EQ(target->offset, 0x10u);
  EXPECT_FALSE(m.fabric->route_mmio(0x1000));
  // Routing follows what is programmed: close the bridge's window and the BAR is unreachable.
  m.fabric->config_write(Bdf{3, 0, 0}, cfg::kMemoryBase, 2, 0xfff0);
  m.fabric->config_write(Bdf{3, 0, 0}, cfg::kMemoryLimit, 2, 0);
  EXPECT_FALSE(m.fabric->route_mmio(bar0));
  m.fabric->config_write(Bdf{3, 0, 0}, cfg::kMemoryBase, 2, 0xa000);
  m.fabric->config_write(Bdf{3, 0, 0}, cfg::kMemoryLimit, 2, 0xa000);
  EXPECT_TRUE(m.fabric->route_mmio(bar0));
  // ...and so does the endpoint's own Memory Space Enable.
  m.fabric->config_write(Bdf{4, 8, 0}, cfg::kCommand, 2, cfg::kCommandBusMaster);
  EXPECT_FALSE(m.fabric->route_mmio(bar0));
}

TEST(Fabric, RequesterIdsAndSidsOfEachTopology) {
  Machine field("field-chain");
  const auto arrivals = field.fabric->possible_arrivals(field.node("lsi"));
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].rid.str(), "04:00.0");
  EXPECT_EQ(arrivals[0].bridge, &field.node("pex8114"));
  const auto& table = field.fabric->rid2sid(field.node("tb0"));
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(Bdf::from_rid(table[0].rid).str(), "04:08.0");
  EXPECT_EQ(table[0].sid, 1u);
  EXPECT_EQ(field.fabric->sid_for(field.node("tb0"), Bdf{4, 0, 0}.rid()), 0u);

  Machine direct("direct");
  EXPECT_EQ(direct.node("dev").bdf.str(), "01:00.0");
  const auto own = direct.fabric->possible_arrivals(direct.node("dev"));
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].rid.str(), "01:00.0");
  EXPECT_EQ(own[0].bridge, nullptr);

  Machine sw("switch");
  EXPECT_EQ(sw.node("sw-down0").bdf.str(), "02:08.0");
  EXPECT_EQ(sw.node("sw-down1").bdf.str(), "02:09.0");
  EXPECT_EQ(sw.node("nic").bdf.str(), "03:00.0");
  EXPECT_EQ(sw.node("nvme").bdf.str(), "04:00.0");
  EXPECT_EQ(sw.fabric->sid_for(sw.node("rp0"), sw.node("nic").bdf.rid()), 1u);
  EXPECT_EQ(sw.fabric->sid_for(sw.node("rp0"), sw.node("nvme").bdf.rid()), 2u);
  EXPECT_EQ(sw.fabric->possible_arrivals(sw.node("nvme"))[0].rid.str(), "04:00.0");

  Machine asm1083("asm1083");
  EXPECT_EQ(asm1083.node("card").bdf.str(), "02:02.0");
  const auto alias = asm1083.fabric->possible_arrivals(asm1083.node("card"));
  ASSERT_EQ(alias.size(), 1u);
  EXPECT_EQ(alias[0].rid.str(), "02:00.0");
  EXPECT_EQ(asm1083.node("asm1083").config.find_capability(cfg::kCapPciExpress), 0);
}

TEST(Fabric, FieldChainReadMappedUnderTheOwnRidOnlyFaultsAsOnTheFieldMachine) {
  Machine m("field-chain");
  // What macOS does: map the buffer under the SID of the device's own RID, 04:08.0 -> SID 1.
  ASSERT_EQ(m.prepare("lsi", iommu::Dart::kPageSize), kIova);
  dma::DmaCompletion c = m.dma("lsi", false, kIova, 64);
  EXPECT_EQ(c.status, dma::CompletionStatus::kUnsupportedRequest);
  ASSERT_EQ(m.findings.all().size(), 1u);
  const checks::Finding& f = m.findings.all()[0];
  EXPECT_EQ(f.check, "dart.fault");
  EXPECT_EQ(f.what, "DART dart-apciec0 exception SID 0 ERROR_STATUS 0x80000001 ERROR_ADDRESS 0x0000000080000000");
  EXPECT_EQ(f.where, "lsi (04:08.0, 1000:0030)");
  EXPECT_NE(f.why.find("as requester ID 04:00.0, not its own 04:08.0: pex8114 (03:00.0, 10b5:8114)"), std::string::npos) << f.why;
  EXPECT_NE(f.why.find("PORT_RID2SID has no entry for 04:00.0, so the port used its default SID 0."), std::string::npos);
  // What the status proves, in words; then, labelled apart, what this run's registers add.
  EXPECT_NE(f.why.find("ERROR_STATUS 0x80000001 reads: FLAG (an error is latched), read, SID 0, NO_TTBR (no valid "
                       "translation table base for the stream at this IOVA)."),
            std::string::npos)
      << f.why;
  EXPECT_NE(f.why.find("In this run SID 0 has TCR 0x00000000, which enables neither translation nor bypass, and dexthil's "
                       "DART reports such a blocked stream as NO_TTBR (what the hardware reports for it is not public)."),
            std::string::npos)
      << f.why;
  EXPECT_EQ(f.why.find("translation is not even enabled"), std::string::npos) << f.why;  // no longer claimed as the status's
  EXPECT_NE(f.why.find("Linux maps it under every alias pci_for_each_dma_alias yields (here 04:08.0, 04:00.0)."),
            std::string::npos)
      << f.why;
  EXPECT_NE(f.why.find("The driver's mapping lives under SID 1, for RID 04:08.0 (lsi)."), std::string::npos) << f.why;
  // The DART latched the same facts in its registers.
  EXPECT_EQ(m.dart_of("lsi").error_status(), 0x80000001u);
  EXPECT_EQ(m.dart_of("lsi").error_address(), kIova);
}

TEST(Fabric, ASecondFaultSaysTheRegisterStillHoldsTheFirst) {
  Machine m("field-chain");
  ASSERT_EQ(m.prepare("lsi", iommu::Dart::kPageSize), kIova);
  m.dma("lsi", false, kIova, 64);
  m.dma("lsi", true, kIova, 64);  // nobody cleared ERROR: it keeps the read's 0x80000001
  ASSERT_EQ(m.findings.all().size(), 2u);
  EXPECT_EQ(m.findings.all()[0].why.find("still holds"), std::string::npos);
  const checks::Finding& second = m.findings.all()[1];
  EXPECT_EQ(second.what, "DART dart-apciec0 exception SID 0 ERROR_STATUS 0x90000001 ERROR_ADDRESS 0x0000000080000000");
  EXPECT_NE(second.why.find("ERROR_STATUS 0x90000001 reads: FLAG (an error is latched), write, SID 0, NO_TTBR"),
            std::string::npos)
      << second.why;
  EXPECT_NE(second.why.find("(The DART's ERROR register still holds an earlier error, 0x80000001, until software clears "
                            "it; this is what this fault reports.)"),
            std::string::npos)
      << second.why;
}

TEST(Fabric, FieldChainMappedUnderBothRidsPasses) {
  Machine m("field-chain");
  // What Linux does: map under every alias, here also SID 0 for 04:00.0.
  ASSERT_EQ(m.prepare("lsi", iommu::Dart::kPageSize, {}, {1, 0}), kIova);
  const std::uint64_t pa = *m.dart_of("lsi").lookup(0, kIova);
  EXPECT_EQ(m.dart_of("lsi").lookup(1, kIova), pa);
  std::vector<std::uint8_t> pattern(256);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i * 7);
  m.memory.write(pa + 0x100, pattern);
  dma::DmaCompletion c = m.dma("lsi", false, kIova + 0x100, 256);
  EXPECT_EQ(c.status, dma::CompletionStatus::kSuccessful);
  EXPECT_EQ(c.data, pattern);
  dma::DmaCompletion w = m.dma("lsi", true, kIova + 0x2000, 4, {1, 2, 3, 4});
  EXPECT_EQ(w.status, dma::CompletionStatus::kSuccessful);
  EXPECT_EQ(m.memory.read_u64(pa + 0x2000) & 0xffffffff, 0x04030201u);
  EXPECT_TRUE(m.findings.empty());
}

TEST(Fabric, ReadOnlyMappingRefusesAWrite) {
  Machine m("direct");
  ASSERT_EQ(m.prepare("dev", iommu::Dart::kPageSize, platform::DmaDirection{true, false}), kIova);
  dma::DmaCompletion c = m.dma("dev", true, kIova + 8, 1, {9});
  EXPECT_EQ(c.status, dma::CompletionStatus::kUnsupportedRequest);
  ASSERT_EQ(m.findings.all().size(), 1u);
  EXPECT_EQ(m.findings.all()[0].what, "DART dart-apcie0 exception SID 1 ERROR_STATUS 0x90100010 ERROR_ADDRESS 0x0000000080000008");
  EXPECT_NE(m.findings.all()[0].why.find("with its own requester ID 01:00.0"), std::string::npos);
  EXPECT_NE(m.findings.all()[0].why.find("ERROR_STATUS 0x90100010 reads: FLAG (an error is latched), write, SID 1, "
                                        "WRITE_FAULT (the page table entry forbids writes)."),
            std::string::npos)
      << m.findings.all()[0].why;
}

TEST(Fabric, MixedBridgeAliasesSomeTransactionsDeterministically) {
  auto run = [](std::uint64_t seed) {
    std::string error;
    auto t = load_topology_text(R"(
[topology]
name = "mixed"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "br"
kind = "pcie-to-pci-bridge"
parent = "rp0"
ids = "10b5:8114"
requester_id = "mixed"
secondary_bus = "pci-x"
alias_probability = 0.25
[[node]]
name = "dev"
kind = "endpoint"
parent = "br"
device = 3
ids = "1000:0030"
)", "mixed.toml", &error);
    if (!t) throw std::runtime_error(error);
    sim::Simulator sim(seed);
    hostmem::SparseMemory memory;
    hostmem::PageAllocator tables(0x10'0000'0000, 1 << 30);
    Fabric fabric(std::move(*t), sim, memory, tables);
    platform::enumerate_pci(fabric);
    fabric.dart(*fabric.node("rp0"))->map(1, kIova, 0x20'0000'0000, iommu::Dart::kPageSize, {});
    std::string outcomes;
    for (int i = 0; i < 200; ++i) {
      dma::DmaRequest r;
      r.address = kIova;
      r.length = 4;
      fabric.upstream(*fabric.node("dev")).submit(r, [&](dma::DmaCompletion c) {
        outcomes += c.status == dma::CompletionStatus::kSuccessful ? '.' : 'x';
      });
      sim.run_until(sim::kNever);
    }
    EXPECT_EQ(fabric.possible_arrivals(*fabric.node("dev")).size(), 2u);
    return outcomes;
  };
  const std::string a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto aliased = std::count(a.begin(), a.end(), 'x');
  EXPECT_GT(aliased, 25);  // about 50 of 200
  EXPECT_LT(aliased, 80);
}

TEST(Fabric, TreeShowsRidsBridgesAndSids) {
  Machine m("field-chain");
  const std::string tree = render_tree(*m.fabric);
  EXPECT_NE(tree.find("00:00.0 [bus 01-04]  tb0  106b:1015  root port, DART dart-apciec0"), std::string::npos) << tree;
  EXPECT_NE(tree.find("03:00.0 [bus 04]  pex8114  10b5:8114  PCIe-to-PCI/PCI-X bridge, takes ownership of requester IDs"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("04:08.0  lsi  1000:0030  endpoint, class 010000, conventional PCI"), std::string::npos) << tree;
  EXPECT_NE(tree.find("DMA arrives as 04:00.0 (pex8114 takes ownership) -> SID 0 (not in PORT_RID2SID: default)"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("macOS maps its buffers under its own RID 04:08.0 -> SID 1"), std::string::npos) << tree;
}

TEST(Fabric, FunctionLevelResetRestoresPowerOnConfigAndResetsTheModel) {
  Machine m("direct");
  Node& dev = m.node("dev");
  int model_resets = 0;
  m.fabric->on_reset(dev, [&] { ++model_resets; });
  const std::uint16_t pcie = dev.config.find_capability(cfg::kCapPciExpress);
  ASSERT_NE(pcie, 0);
  EXPECT_NE(m.fabric->config_read(dev.bdf, pcie + 4, 4) & cfg::kDevCapFunctionLevelReset, 0u);  // FLR advertised
  const std::uint32_t bar0 = m.fabric->config_read(dev.bdf, cfg::kBar0, 4);
  ASSERT_NE(bar0, 0u);
  ASSERT_NE(m.fabric->config_read(dev.bdf, cfg::kCommand, 2) & cfg::kCommandMemory, 0u);  // enumeration enabled it

  // A Device Control write without the Initiate FLR bit is an ordinary write.
  m.fabric->config_write(dev.bdf, pcie + 8, 2, m.fabric->config_read(dev.bdf, pcie + 8, 2));
  EXPECT_EQ(model_resets, 0);
  m.fabric->config_write(dev.bdf, pcie + 8, 2,
                         m.fabric->config_read(dev.bdf, pcie + 8, 2) | cfg::kDevCtlInitiateFunctionLevelReset);
  EXPECT_EQ(model_resets, 1);
  EXPECT_EQ(m.fabric->resets(dev), 1u);
  EXPECT_EQ(m.fabric->config_read(dev.bdf, cfg::kBar0, 4), 0u);  // BAR unprogrammed
  EXPECT_EQ(m.fabric->config_read(dev.bdf, cfg::kCommand, 2), 0u);
  EXPECT_EQ(m.fabric->config_read(dev.bdf, pcie + 8, 2) & cfg::kDevCtlInitiateFunctionLevelReset, 0u);  // reads 0
  EXPECT_EQ(m.fabric->config_read(dev.bdf, cfg::kVendorId, 2), 0x1234u);  // still there, same BDF
  // Nothing decodes the old BAR address any more.
  const MmioResult gone = m.mmio_read(bar0 & ~0xfu);
  EXPECT_EQ(gone.status, MmioResult::Status::kUnsupportedRequest);
  EXPECT_EQ(gone.value, 0xffffffffu);
  m.fabric->on_reset(dev, nullptr);
}

TEST(Fabric, SecondaryBusResetResetsEveryEndpointBelowTheBridge) {
  Machine m("field-chain");
  Node& lsi = m.node("lsi");
  Node& bridge = *lsi.parent;
  int resets = 0;
  m.fabric->on_reset(lsi, [&] { ++resets; });
  const std::uint32_t control = m.fabric->config_read(bridge.bdf, cfg::kBridgeControl, 2);
  m.fabric->config_write(bridge.bdf, cfg::kBridgeControl, 2, control | cfg::kBridgeControlSecondaryBusReset);
  m.fabric->config_write(bridge.bdf, cfg::kBridgeControl, 2, control | cfg::kBridgeControlSecondaryBusReset);  // held
  m.fabric->config_write(bridge.bdf, cfg::kBridgeControl, 2, control);
  EXPECT_EQ(resets, 1);  // once per assertion, not per write
  EXPECT_EQ(m.fabric->config_read(lsi.bdf, cfg::kCommand, 2), 0u);
  EXPECT_NE(m.fabric->config_read(bridge.bdf, cfg::kSecondaryBus, 1), 0u);  // the bridge keeps its buses
  m.fabric->on_reset(lsi, nullptr);
}

TEST(Fabric, RetrainingAtALowerTargetSpeedSlowsTheLink) {
  Machine m("direct");
  Node& dev = m.node("dev");
  Node& rp = m.root_of("dev");
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.dma("dev", false, iova, 512);
  m.sim.run_until(m.sim.now() + sim::kMillisecond);
  m.dma("dev", false, iova, 512);
  const sim::SimTime at_gen3 = m.last_latency();
  EXPECT_EQ(dev.trained_gen, 3);
  const std::uint16_t up = rp.config.find_capability(cfg::kCapPciExpress);
  m.fabric->config_write(rp.bdf, up + 0x30, 2, 1);  // Target Link Speed 2.5 GT/s
  m.fabric->retrain_link(dev);
  EXPECT_EQ(dev.trained_gen, 1);
  const std::uint16_t own = dev.config.find_capability(cfg::kCapPciExpress);
  EXPECT_EQ(m.fabric->config_read(dev.bdf, own + 0x12, 2) & 0xf, 1u);  // Link Status: Current Link Speed
  m.sim.run_until(m.sim.now() + sim::kMillisecond);
  m.dma("dev", false, iova, 512);
  EXPECT_GT(m.last_latency(), at_gen3);
}

}  // namespace
}  // namespace dexthil::pcie
