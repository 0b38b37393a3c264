#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/pcie/topology.hpp"

namespace dexthil::pcie {
namespace {

TEST(Topology, FieldChainLoadsAsTheFileDescribesIt) {
  std::string error;
  auto t = load_topology("fixtures/topologies/field-chain.toml", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->name, "field-chain");
  ASSERT_EQ(t->nodes.size(), 5u);
  ASSERT_EQ(t->root_ports.size(), 1u);
  const Node* lsi = t->find("lsi");
  ASSERT_NE(lsi, nullptr);
  EXPECT_EQ(lsi->kind, NodeKind::kEndpoint);
  EXPECT_EQ(lsi->ids.str(), "1000:0030");
  EXPECT_EQ(lsi->device, 8);
  EXPECT_EQ(lsi->class_code, 0x010000u);
  EXPECT_TRUE(lsi->is_conventional());
  EXPECT_FALSE(lsi->link.has_value());
  ASSERT_EQ(lsi->bars.size(), 2u);
  EXPECT_EQ(lsi->bars[0].size, 64u * 1024);
  EXPECT_TRUE(lsi->bars[0].is64);
  const Node* bridge = t->find("pex8114");
  EXPECT_EQ(bridge->kind, NodeKind::kPcieToPciBridge);
  EXPECT_EQ(bridge->rid_behaviour, RequesterIdBehaviour::kTakesOwnership);
  EXPECT_TRUE(bridge->pcix_secondary);  // secondary_bus = "pci-x"
  EXPECT_FALSE(bridge->pcie_bridge_alias);
  EXPECT_EQ(lsi->parent, bridge);
  EXPECT_EQ(t->root_ports[0]->dart.instance, "dart-apciec0");
  EXPECT_TRUE(t->find("asm-up")->tunnel);
  EXPECT_EQ(t->find("asm-up")->hop_latency, sim::kMicrosecond);
  EXPECT_EQ(t->find("pex8114")->link->l1_exit, 5);
}

TEST(Topology, EveryShippedTopologyLoads) {
  for (const auto& entry : std::filesystem::directory_iterator("fixtures/topologies")) {
    std::string error;
    EXPECT_TRUE(load_topology(entry.path().string(), &error)) << error;
  }
}

// Every file under fixtures/invalid/topologies/ names, on its first line, the one error it must
// produce: "# expect-error: LINE:COLUMN: error: KEY: MESSAGE".
TEST(Topology, EachMalformedFileGivesItsOnePreciseError) {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("fixtures/invalid/topologies")) {
    const std::string path = entry.path().string();
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    const std::string prefix = "# expect-error: ";
    ASSERT_EQ(first.rfind(prefix, 0), 0u) << path;
    std::string error;
    EXPECT_FALSE(load_topology(path, &error)) << path << " loaded without error";
    EXPECT_EQ(error, path + ":" + first.substr(prefix.size())) << path;
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

}  // namespace
}  // namespace dexthil::pcie
