// Requester IDs behind bridges as Linux's pci_for_each_dma_alias (drivers/pci/search.c) derives
// them: a PCIe-to-PCI/PCI-X bridge aliases to (its secondary bus, 00.0); a conventional
// PCI-to-PCI bridge to its own bus/devfn, unless it is one of the PCIe-to-PCI bridges without a
// PCIe capability that Linux's quirk_use_pcie_bridge_dma_alias (drivers/pci/quirks.c) flags
// PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS; a bridge forwards requester IDs only onto a PCI-X bus. Every
// expected RID below is worked out by hand from the enumeration's depth-first bus numbering.
#include <gtest/gtest.h>

#include <tuple>

#include "harness/pcie/tests/machine.hpp"
#include "harness/pcie/topology_print.hpp"

namespace dexthil::pcie {
namespace {

using testing::Machine;

// rp0 -> ASM1083 (1b21:1080, Linux's quirk table, directly below a root port) -> card at 02:02.0
// rp1 -> a PCI-to-PCI bridge Linux does not quirk (3388:0021) -> dev at 04:04.0
// rp2 -> PEX 8114 (PCI-X secondary, forwarding) -> conventional bridge at 06:01.0 -> ep at 07:05.0
//        and, beside it, an ASM1083 at 06:02.0 (below a PCIe-to-PCI bridge: the quirk does not apply)
//        -> far at 08:03.0
// rp3 -> a bridge Linux does not quirk, told pcie_bridge_alias = true -> told at 0a:06.0
// rp4 -> an ASM1083 told pcie_bridge_alias = false -> untold at 0c:07.0
const char* kBridges = R"(
[topology]
name = "bridges"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "asm"
kind = "pci-bridge"
parent = "rp0"
ids = "1b21:1080"
[[node]]
name = "card"
kind = "endpoint"
parent = "asm"
device = 2
ids = "1102:0002"
[[node]]
name = "rp1"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "plain"
kind = "pci-bridge"
parent = "rp1"
ids = "3388:0021"
[[node]]
name = "dev"
kind = "endpoint"
parent = "plain"
device = 4
ids = "1234:0001"
[[node]]
name = "rp2"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "pex"
kind = "pcie-to-pci-bridge"
parent = "rp2"
ids = "10b5:8114"
secondary_bus = "pci-x"
requester_id = "forwards"
[[node]]
name = "inner"
kind = "pci-bridge"
parent = "pex"
device = 1
ids = "104c:ac28"
[[node]]
name = "ep"
kind = "endpoint"
parent = "inner"
device = 5
ids = "1234:0002"
[[node]]
name = "deep-asm"
kind = "pci-bridge"
parent = "pex"
device = 2
ids = "1b21:1080"
[[node]]
name = "far"
kind = "endpoint"
parent = "deep-asm"
device = 3
ids = "1234:0003"
[[node]]
name = "rp3"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "hidden"
kind = "pci-bridge"
parent = "rp3"
ids = "3388:0021"
pcie_bridge_alias = true
[[node]]
name = "told"
kind = "endpoint"
parent = "hidden"
device = 6
ids = "1234:0004"
[[node]]
name = "rp4"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "unquirked"
kind = "pci-bridge"
parent = "rp4"
ids = "1b21:1080"
pcie_bridge_alias = false
[[node]]
name = "untold"
kind = "endpoint"
parent = "unquirked"
device = 7
ids = "1234:0005"
)";

std::vector<std::string> rids(const std::vector<Arrival>& list) {
  std::vector<std::string> out;
  for (const Arrival& a : list) out.push_back(a.rid.str() + (a.bridge ? " by " + a.bridge->name : ""));
  return out;
}

using Rids = std::vector<std::string>;

TEST(RequesterIdAlias, EnumerationNumbersTheBusesAsWorkedOutByHand) {
  Machine m("bridges", 1, kBridges);
  EXPECT_EQ(m.node("asm").bdf.str(), "01:00.0");
  EXPECT_EQ(m.node("card").bdf.str(), "02:02.0");
  EXPECT_EQ(m.node("plain").bdf.str(), "03:00.0");
  EXPECT_EQ(m.node("dev").bdf.str(), "04:04.0");
  EXPECT_EQ(m.node("pex").bdf.str(), "05:00.0");
  EXPECT_EQ(m.node("inner").bdf.str(), "06:01.0");
  EXPECT_EQ(m.node("ep").bdf.str(), "07:05.0");
  EXPECT_EQ(m.node("deep-asm").bdf.str(), "06:02.0");
  EXPECT_EQ(m.node("far").bdf.str(), "08:03.0");
  EXPECT_EQ(m.node("hidden").bdf.str(), "09:00.0");
  EXPECT_EQ(m.node("told").bdf.str(), "0a:06.0");
  EXPECT_EQ(m.node("unquirked").bdf.str(), "0b:00.0");
  EXPECT_EQ(m.node("untold").bdf.str(), "0c:07.0");
}

TEST(RequesterIdAlias, LinuxQuirkedPciBridgeAliasesToItsSecondaryBus) {
  Machine m("bridges", 1, kBridges);
  EXPECT_TRUE(m.node("asm").pcie_bridge_alias);  // by default, from Linux's quirk table
  EXPECT_TRUE(m.node("asm").pcie_bridge_alias_from_quirk);
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("card"))), Rids{"02:00.0 by asm"});
  EXPECT_EQ(rids(m.fabric->dma_aliases(m.node("card"))), (Rids{"02:02.0", "02:00.0 by asm"}));
}

TEST(RequesterIdAlias, ConventionalPciBridgeAliasesToItsOwnRid) {
  Machine m("bridges", 1, kBridges);
  EXPECT_FALSE(m.node("plain").pcie_bridge_alias);
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("dev"))), Rids{"03:00.0 by plain"});
  EXPECT_EQ(rids(m.fabric->dma_aliases(m.node("dev"))), (Rids{"04:04.0", "03:00.0 by plain"}));
  // An ASM1083 told it is not a hidden PCIe bridge is a conventional one.
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("untold"))), Rids{"0b:00.0 by unquirked"});
  // Any PCI bridge told it is one aliases like a PCIe-to-PCI bridge.
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("told"))), Rids{"0a:00.0 by hidden"});
}

TEST(RequesterIdAlias, BelowAPcieToPciBridgeTheQuirkDoesNotApply) {
  Machine m("bridges", 1, kBridges);
  // Linux flags the ASM1083 only directly below a PCIe port that is no PCIe-to-PCI bridge.
  EXPECT_FALSE(m.node("deep-asm").pcie_bridge_alias);
  // The PEX forwards on its PCI-X bus, so the conventional bridge's own RID reaches the root;
  // Linux maps the device's own RID, that bridge's, and the PEX's (secondary bus, 00.0).
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("far"))), Rids{"06:02.0 by deep-asm"});
  EXPECT_EQ(rids(m.fabric->dma_aliases(m.node("far"))), (Rids{"08:03.0", "06:02.0 by deep-asm", "06:00.0 by pex"}));
  EXPECT_EQ(rids(m.fabric->possible_arrivals(m.node("ep"))), Rids{"06:01.0 by inner"});
  EXPECT_EQ(rids(m.fabric->dma_aliases(m.node("ep"))), (Rids{"07:05.0", "06:01.0 by inner", "06:00.0 by pex"}));
}

TEST(RequesterIdAlias, DmaArrivesWithTheAliasOfTheBridgeNearestTheRoot) {
  Machine m("bridges", 1, kBridges);
  struct Seen : DmaPathObserver {
    void on_dma(const DmaPath& path, const Fabric&) override {
      arrived = path.arrived_as.str();
      bridge = path.aliasing_bridge ? path.aliasing_bridge->name : "";
    }
    std::string arrived, bridge;
  } seen;
  m.fabric->add_observer(&seen);
  for (const auto& [endpoint, rid, bridge] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"card", "02:00.0", "asm"}, {"dev", "03:00.0", "plain"}, {"ep", "06:01.0", "inner"},
           {"far", "06:02.0", "deep-asm"}, {"told", "0a:00.0", "hidden"}, {"untold", "0b:00.0", "unquirked"}}) {
    // Mapped under every alias, as Linux does, so the DMA goes through and the path shows its RID.
    const std::uint64_t iova = m.prepare(endpoint, iommu::Dart::kPageSize, {},
                                         m.platform->mapping_sids(m.node(endpoint),
                                                                  platform::PciePlatform::AliasPolicy::kEveryAlias));
    EXPECT_EQ(m.dma(endpoint, false, iova, 64).status, dma::CompletionStatus::kSuccessful) << endpoint;
    EXPECT_EQ(seen.arrived, rid) << endpoint;
    EXPECT_EQ(seen.bridge, bridge) << endpoint;
  }
  EXPECT_TRUE(m.findings.empty()) << m.findings.all()[0].what;
}

TEST(RequesterIdAlias, TheDartFaultSaysWhichBridgeRelabelledTheDmaAndHow) {
  Machine m("bridges", 1, kBridges);
  // macOS's way: only the own RID's SID. Behind the conventional bridge the DMA arrives as 03:00.0.
  const std::uint64_t dev_iova = m.prepare("dev", iommu::Dart::kPageSize);
  EXPECT_EQ(m.dma("dev", true, dev_iova, 8).status, dma::CompletionStatus::kUnsupportedRequest);
  // Behind the quirked ASM1083 it arrives as 02:00.0.
  const std::uint64_t card_iova = m.prepare("card", iommu::Dart::kPageSize);
  EXPECT_EQ(m.dma("card", false, card_iova, 8).status, dma::CompletionStatus::kUnsupportedRequest);
  ASSERT_EQ(m.findings.all().size(), 2u);
  const std::string& plain = m.findings.all()[0].why;
  EXPECT_NE(plain.find("as requester ID 03:00.0, not its own 04:04.0: plain (03:00.0, 3388:0021), a PCI-to-PCI bridge "
                       "(no PCIe capability), took ownership of the transaction and forwarded it under its own requester "
                       "ID"),
            std::string::npos)
      << plain;
  EXPECT_NE(plain.find("ERROR_STATUS 0x90000001 reads: FLAG (an error is latched), write, SID 0, NO_TTBR"), std::string::npos)
      << plain;
  EXPECT_NE(plain.find("(here 04:04.0, 03:00.0)"), std::string::npos) << plain;
  const std::string& quirked = m.findings.all()[1].why;
  EXPECT_NE(quirked.find("as requester ID 02:00.0, not its own 02:02.0: asm (01:00.0, 1b21:1080), a PCI-to-PCI bridge (no "
                         "PCIe capability), took ownership of the transaction and forwarded it as its secondary bus's 00.0: "
                         "it is a PCIe-to-PCI bridge without its PCIe capability (Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS)."),
            std::string::npos)
      << quirked;
  // Each root port has a DART of its own, so the second fault found nothing latched in its DART.
  EXPECT_EQ(quirked.find("still holds an earlier error"), std::string::npos) << quirked;
}

TEST(RequesterIdAlias, ForwardingAndMixedNeedAPciXSecondaryBus) {
  const std::string head = R"(
[topology]
name = "forwarding"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "br"
parent = "rp0"
ids = "10b5:8114"
)";
  std::string error;
  for (const char* kind : {"pcie-to-pci-bridge", "pci-bridge"}) {
    for (const char* behaviour : {"forwards", "mixed"}) {
      const std::string text =
          head + "kind = \"" + kind + "\"\nrequester_id = \"" + behaviour + "\"\n";
      EXPECT_FALSE(load_topology_text(text, "t.toml", &error)) << kind << " " << behaviour;
      EXPECT_EQ(error, std::string("t.toml:13:16: error: node[1].requester_id: \"") + behaviour +
                           "\" needs secondary_bus = \"pci-x\": on a conventional PCI secondary bus no requester ID "
                           "travels with a transaction, so the bridge takes ownership of every one")
          << error;
      EXPECT_TRUE(load_topology_text(text + "secondary_bus = \"pci-x\"\n", "t.toml", &error)) << error;
    }
  }
  auto t = load_topology_text(head + "kind = \"pcie-to-pci-bridge\"\n", "t.toml", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->find("br")->pcix_secondary);  // conventional PCI unless the file says PCI-X
  EXPECT_EQ(t->find("br")->rid_behaviour, RequesterIdBehaviour::kTakesOwnership);
}

TEST(RequesterIdAlias, PcieBridgeAliasOnlyWhereLinuxWouldFlagIt) {
  const std::string text = R"(
[topology]
name = "misplaced"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "pex"
kind = "pcie-to-pci-bridge"
parent = "rp0"
ids = "10b5:8114"
[[node]]
name = "asm"
kind = "pci-bridge"
parent = "pex"
ids = "1b21:1080"
pcie_bridge_alias = true
)";
  std::string error;
  EXPECT_FALSE(load_topology_text(text, "t.toml", &error));
  EXPECT_EQ(error,
            "t.toml:18:21: error: node[2].pcie_bridge_alias: only a bridge directly below a root port or switch downstream "
            "port can be a PCIe-to-PCI bridge without its PCIe capability (Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS); "
            "\"pex\" is a PCIe-to-PCI/PCI-X bridge")
      << error;
  // A PCIe-to-PCI bridge has its capability: the key is not one of its keys.
  EXPECT_FALSE(load_topology_text(R"(
[topology]
name = "x"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "pex"
kind = "pcie-to-pci-bridge"
parent = "rp0"
ids = "10b5:8114"
pcie_bridge_alias = true
)",
                                  "t.toml", &error));
  EXPECT_NE(error.find("node[1].pcie_bridge_alias"), std::string::npos) << error;
  // Linux's quirk table, as quirks.c declares it.
  for (const char* ids : {"1b21:1080", "10e3:8113", "1283:8892", "1283:8893", "8086:244e"}) {
    EXPECT_TRUE(in_linux_pcie_bridge_alias_quirk(*parse_ids(ids))) << ids;
  }
  EXPECT_FALSE(in_linux_pcie_bridge_alias_quirk(*parse_ids("3388:0021")));
}

TEST(RequesterIdAlias, TopoShowsWhoseRidArrivesAndWhatLinuxMaps) {
  Machine m("bridges", 1, kBridges);
  const std::string tree = render_tree(*m.fabric);
  EXPECT_NE(tree.find("01:00.0 [bus 02]  asm  1b21:1080  PCI-to-PCI bridge (no PCIe capability), takes ownership of "
                      "requester IDs as its secondary bus's 00.0, conventional PCI secondary bus, a PCIe-to-PCI bridge "
                      "without its capability (Linux's quirk for its ids)"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("03:00.0 [bus 04]  plain  3388:0021  PCI-to-PCI bridge (no PCIe capability), takes ownership of "
                      "requester IDs as itself, conventional PCI secondary bus"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("05:00.0 [bus 06-08]  pex  10b5:8114  PCIe-to-PCI/PCI-X bridge, forwards requester IDs, PCI-X "
                      "secondary bus"),
            std::string::npos)
      << tree;
  EXPECT_EQ(tree.find("DMA arrives as 04:04.0"), std::string::npos) << tree;  // plain always takes ownership
  EXPECT_NE(tree.find("DMA arrives as 03:00.0 (plain takes ownership with its own RID) -> SID 0"), std::string::npos)
      << tree;
  EXPECT_NE(tree.find("DMA arrives as 02:00.0 (asm takes ownership) -> SID 0"), std::string::npos) << tree;
  EXPECT_NE(tree.find("Linux maps it under every alias pci_for_each_dma_alias yields: 08:03.0, 06:02.0, 06:00.0"),
            std::string::npos)
      << tree;
}

}  // namespace
}  // namespace dexthil::pcie
