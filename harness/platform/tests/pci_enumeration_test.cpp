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

}  // namespace
}  // namespace dexthil::platform
