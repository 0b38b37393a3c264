// Firmware's enumeration, done to a fabric at power-on through config cycles only: before it
// nothing below the root ports answers; after it buses, BARs, windows, Command and PORT_RID2SID
// are as the platform leaves them; and a topology it cannot enumerate names the node and why.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "harness/pcie/fabric.hpp"
#include "harness/platform/pci_enumeration.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::platform {
namespace {

using pcie::Bdf;
namespace cfg = pcie::cfg;

struct PowerOn {
  explicit PowerOn(const std::string& name, const std::string& text = "") {
    std::string error;
    auto t = text.empty() ? pcie::load_topology("fixtures/topologies/" + name + ".toml", &error)
                          : pcie::load_topology_text(text, name + ".toml", &error);
    if (!t) throw std::runtime_error(error);
    fabric = std::make_unique<pcie::Fabric>(std::move(*t), sim, memory, tables);
  }
  std::string enumeration_error() {
    try {
      enumerate_pci(*fabric);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  sim::Simulator sim{1};
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables{0x10'0000'0000, 1 << 30};
  std::unique_ptr<pcie::Fabric> fabric;
};

TEST(PciEnumeration, AtPowerOnOnlyTheRootPortsAnswerAndNothingIsMapped) {
  PowerOn m("field-chain");
  // Bus numbers are 0 everywhere: a config cycle to bus 4 reaches nobody, and the root port's
  // Secondary Bus Number is still its power-on 0.
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kVendorId, 2), 0xffffu);
  EXPECT_EQ(m.fabric->config_read(Bdf{0, 0, 0}, cfg::kSecondaryBus, 1), 0u);
  EXPECT_EQ(m.fabric->config_read(Bdf{0, 0, 0}, cfg::kCommand, 2), 0u);
  EXPECT_TRUE(m.fabric->rid2sid(*m.fabric->node("tb0")).empty());
  EXPECT_THROW(m.fabric->upstream(*m.fabric->node("lsi")).submit({}, [](dma::DmaCompletion) {}), std::logic_error);

  enumerate_pci(*m.fabric);
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kVendorId, 2), 0x1000u);
  EXPECT_EQ(m.fabric->config_read(Bdf{0, 0, 0}, cfg::kSecondaryBus, 1), 1u);
  EXPECT_EQ(m.fabric->config_read(Bdf{4, 8, 0}, cfg::kCommand, 2) & 0x6, 0x6u);  // memory and bus mastering
  EXPECT_EQ(m.fabric->node("lsi")->bar_addresses.at(0), kMmioWindowBase);
  // One PORT_RID2SID entry, for the endpoint's own RID, at the lowest SID above the default.
  const auto& table = m.fabric->rid2sid(*m.fabric->node("tb0"));
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].rid, (Bdf{4, 8, 0}.rid()));
  EXPECT_EQ(table[0].sid, 1u);
}

constexpr const char* kTwoBehindABridge = R"(
[topology]
name = "two"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
dart_sids = 2
[[node]]
name = "br"
kind = "pcie-to-pci-bridge"
parent = "rp0"
ids = "10b5:8114"
[[node]]
name = "a"
kind = "endpoint"
parent = "br"
device = 1
ids = "1000:0030"
[[node]]
name = "b"
kind = "endpoint"
parent = "br"
device = 2
ids = "1000:0030"
bars = [{ size = "%s" }]
)";

std::string two_behind_a_bridge(const char* dart_sids, const char* bar) {
  std::string text = kTwoBehindABridge;
  text.replace(text.find("2\n[[node]]"), 1, dart_sids);
  text.replace(text.find("%s"), 2, bar);
  return text;
}

TEST(PciEnumeration, ADartWithoutASidForEveryEndpointIsNamed) {
  PowerOn m("two", two_behind_a_bridge("2", "4KiB"));
  const std::string error = m.enumeration_error();
  EXPECT_NE(error.find("error: \"b\": dart-rp0 has no SID left (it has 2)"), std::string::npos) << error;
}

TEST(PciEnumeration, BarsBeyondTheMmioWindowAreNamed) {
  PowerOn m("two", two_behind_a_bridge("4", "2GiB"));
  const std::string error = m.enumeration_error();
  EXPECT_NE(error.find("error: \"b\": its BARs do not fit the MMIO window"), std::string::npos) << error;
}

TEST(PciePlatform, EnumeratesAndGivesEachRootPortItsMapper) {
  PowerOn m("two", two_behind_a_bridge("4", "4KiB"));
  PciePlatform platform(*m.fabric);
  EXPECT_EQ(m.fabric->rid2sid(*m.fabric->node("rp0")).size(), 2u);
  DmaMapper& mapper = platform.mapper(*m.fabric->node("rp0"));
  EXPECT_TRUE(mapper.translates());
  EXPECT_EQ(mapper.dart(), m.fabric->dart(*m.fabric->node("rp0")));
  EXPECT_THROW(platform.mapper(*m.fabric->node("a")), std::logic_error);
}

// Two bridges to PCI in a row: a PEX 8114 taking ownership, then a conventional PCI-to-PCI bridge
// (ids Linux's quirk does not list). The port's unlisted RIDs get SID 5, so the aliases' SID is
// told apart from the first one enumeration hands out.
constexpr const char* kTwoBridgesDeep = R"(
[topology]
name = "deep"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
unlisted_rid_sid = 5
[[node]]
name = "pex"
kind = "pcie-to-pci-bridge"
parent = "rp0"
ids = "10b5:8114"
[[node]]
name = "plain"
kind = "pci-bridge"
parent = "pex"
device = 1
ids = "3388:0021"
[[node]]
name = "card"
kind = "endpoint"
parent = "plain"
device = 3
ids = "1000:0030"
)";

TEST(PciePlatform, MacOsMapsTheOwnRidAndLinuxEveryAliasOfPciForEachDmaAlias) {
  PowerOn m("deep", kTwoBridgesDeep);
  PciePlatform platform(*m.fabric);
  const pcie::Node& card = *m.fabric->node("card");
  // Depth first: pex 01:00.0 (bus 2), plain 02:01.0 (bus 3), card 03:03.0.
  EXPECT_EQ(m.fabric->node("pex")->bdf.str(), "01:00.0");
  EXPECT_EQ(m.fabric->node("plain")->bdf.str(), "02:01.0");
  EXPECT_EQ(card.bdf.str(), "03:03.0");
  // PORT_RID2SID: the card's own RID only, at the lowest SID that is not the default.
  const auto& table = m.fabric->rid2sid(*m.fabric->node("rp0"));
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].rid, 0x0318u);  // bus 3 << 8 | device 3 << 3 | function 0
  EXPECT_EQ(table[0].sid, 1u);
  // The plain bridge re-labels the DMA as itself (02:01.0), then the PEX as its secondary bus's
  // 00.0 (02:00.0): the one nearest the root decides what arrives.
  const auto arrivals = m.fabric->possible_arrivals(card);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].rid.rid(), 0x0200u);
  // Linux's aliases, in pci_for_each_dma_alias's order: own, the plain bridge's own, the PEX's.
  const auto aliases = m.fabric->dma_aliases(card);
  ASSERT_EQ(aliases.size(), 3u);
  EXPECT_EQ(aliases[0].rid.rid(), 0x0318u);
  EXPECT_EQ(aliases[1].rid.rid(), 0x0208u);  // bus 2 << 8 | device 1 << 3
  EXPECT_EQ(aliases[2].rid.rid(), 0x0200u);
  EXPECT_EQ(platform.mapping_sids(card, PciePlatform::AliasPolicy::kOwnRid), std::vector<std::uint32_t>{1});
  // 02:01.0 and 02:00.0 are not in PORT_RID2SID: both get the port's SID 5, mapped once.
  EXPECT_EQ(platform.mapping_sids(card, PciePlatform::AliasPolicy::kEveryAlias), (std::vector<std::uint32_t>{1, 5}));
}

}  // namespace
}  // namespace dexthil::platform
