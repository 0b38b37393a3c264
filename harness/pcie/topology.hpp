#pragma once
// A PCIe topology as its file describes it (fixtures/topologies/, docs/topologies.md): root ports,
// switch ports, bridges and endpoints in a tree, each with the facts the fabric needs to behave
// like the real part. Enumeration (platform/pci_enumeration.hpp) later gives every node its bus
// numbers and BARs.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/iommu/dart.hpp"
#include "harness/pcie/bdf.hpp"
#include "harness/pcie/config_space.hpp"
#include "harness/pcie/latency.hpp"
#include "harness/sim/time.hpp"
#include "harness/toml/position.hpp"

namespace dexthil::pcie {

enum class NodeKind {
  kRootPort,
  kSwitchUpstream,
  kSwitchDownstream,
  kPcieToPciBridge,  // PCIe capability port type 0x7 (PLX PEX 8114)
  kPciBridge,        // conventional PCI-to-PCI bridge without a PCIe capability (ASM1083)
  kEndpoint,
};
const char* to_string(NodeKind kind);        // the topology file's spelling: "root-port", ...
const char* describe(NodeKind kind);         // for people: "root port", "PCIe-to-PCI/PCI-X bridge", ...

// What a bridge to conventional PCI does with the requester ID of a transaction it forwards
// upstream (PCIe-to-PCI/PCI-X Bridge spec r1.0, 2.3). Forwarding needs a PCI-X secondary bus:
// on conventional PCI no requester ID travels with a transaction.
enum class RequesterIdBehaviour {
  kTakesOwnership,  // the transaction arrives with the bridge's alias (Node::requester_alias)
  kForwards,        // the device's own RID passes through
  kMixed,           // either, per transaction (seeded)
};
const char* to_string(RequesterIdBehaviour b);

// Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS quirk (drivers/pci/quirks.c,
// quirk_use_pcie_bridge_dma_alias): these PCIe-to-PCI bridges have no PCIe capability, so they
// look like conventional PCI-to-PCI bridges, yet alias DMA as a PCIe-to-PCI bridge does. Linux
// flags them only where they sit directly below a PCIe port that is not itself a PCIe-to-PCI
// bridge. A `pci-bridge` with one of these ids gets `pcie_bridge_alias` there by default.
bool in_linux_pcie_bridge_alias_quirk(const PciIds& ids);

struct LinkSpec {
  std::uint8_t gen = 3;     // 1..5: 2.5, 5, 8, 16, 32 GT/s
  std::uint8_t width = 4;   // lanes
  bool l0s_supported = false;
  bool l1_supported = false;
  std::uint8_t l0s_exit = 0;  // Link Capabilities encodings, 0..7
  std::uint8_t l1_exit = 0;
  // ASPM as firmware left Link Control; the driver may change it later.
  bool l0s_enabled = false;
  bool l1_enabled = false;
  // Idle time after which an enabled link has entered L0s / L1 (model parameters: the entry
  // timers are implementation specific).
  sim::SimTime l0s_entry_idle = sim::kMicrosecond;
  sim::SimTime l1_entry_idle = 10 * sim::kMicrosecond;
};

struct BarSpec {
  std::uint64_t size = 0;  // power of two, >= 16
  bool is64 = false;
  bool prefetchable = false;
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::kEndpoint;
  PciIds ids;
  std::uint32_t class_code = 0;
  std::uint8_t revision = 0;
  std::uint8_t device = 0;
  std::uint8_t function = 0;
  Node* parent = nullptr;
  std::vector<Node*> children;
  toml_input::Position pos;

  // The hop above this node.
  sim::SimTime hop_latency = 0;
  bool tunnel = false;           // a Thunderbolt/USB4 tunnelled link
  std::optional<LinkSpec> link;  // absent on conventional PCI
  StallSpec stall;               // injected on every transaction crossing this hop

  // Bridges to conventional PCI.
  RequesterIdBehaviour rid_behaviour = RequesterIdBehaviour::kTakesOwnership;
  double alias_probability = 0.5;  // kMixed: chance a transaction arrives with the alias
  bool pcix_secondary = false;     // the secondary bus runs in PCI-X mode (what forwarding needs)
  // pci-bridge: a PCIe-to-PCI bridge without its PCIe capability, aliasing as (secondary bus,
  // 00.0) like a PCIe-to-PCI bridge instead of as itself (Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS).
  bool pcie_bridge_alias = false;
  bool pcie_bridge_alias_from_quirk = false;  // set by default from Linux's quirk table, not the file

  // Endpoints.
  std::vector<BarSpec> bars;
  std::uint32_t dma_address_bits = 64;
  std::optional<std::uint32_t> sid;  // pinned SID for the endpoint's own RID

  // Root ports: the DART behind them (none: devices DMA to physical addresses unchecked) and the
  // RID-to-SID table's default.
  bool has_dart = true;
  iommu::DartConfig dart;
  std::uint32_t unlisted_rid_sid = 0;
  std::uint64_t iova_base = 0x8000'0000;             // where the mapper starts handing out IOVAs
  std::uint32_t read_completion_boundary = 64;       // bytes: 64 or 128
  sim::SimTime iotlb_miss = 250 * sim::kNanosecond;  // pcie-bench: 230-300 ns past the IOTLB's reach

  // Filled in by enumeration.
  ConfigSpace config;
  Bdf bdf;
  std::uint8_t secondary_bus = 0;
  std::uint8_t subordinate_bus = 0;
  std::vector<std::uint64_t> bar_addresses;  // per BarSpec
  std::uint8_t trained_gen = 0;  // the link above, as trained: both ends' best, or a lower target
  // The fabric's DMA timing state, kept here so the DMA path looks nothing up per hop:
  // when the link above is free again in each direction ([0] up: writes' data, [1] down: read
  // completions), and (on endpoints) when the last request arrived, which the next may not pass.
  mutable sim::SimTime link_free_at[2] = {0, 0};
  mutable sim::SimTime last_dma_arrival = 0;
  bool removed = false;  // surprise removal: the link is down, the function gone (Fabric::surprise_remove)

  bool is_bridge() const { return kind != NodeKind::kEndpoint; }
  bool is_bridge_to_pci() const { return kind == NodeKind::kPcieToPciBridge || kind == NodeKind::kPciBridge; }
  // A bridge to PCI: whether the requester ID it gives the transactions it takes ownership of is
  // (its secondary bus, 00.0), as pci_for_each_dma_alias derives it for a PCIe-to-PCI/PCI-X
  // bridge and a quirked hidden one; otherwise (a conventional PCI-to-PCI bridge) it is its own.
  bool aliases_as_secondary_bus() const { return kind == NodeKind::kPcieToPciBridge || pcie_bridge_alias; }
  // That requester ID, once enumeration numbered the buses.
  Bdf requester_alias() const { return aliases_as_secondary_bus() ? Bdf{secondary_bus, 0, 0} : bdf; }
  // Conventional PCI devices sit below a bridge to PCI; they have no PCIe capability or link.
  bool is_conventional() const;
  const Node* root_port() const;
  Node* root_port() { return const_cast<Node*>(std::as_const(*this).root_port()); }
};

struct Topology {
  std::string name;
  std::string description;
  std::string file;
  std::vector<std::unique_ptr<Node>> nodes;  // in file order: a parent comes before its children
  std::vector<Node*> root_ports;

  Node* find(const std::string& name) const;
  std::vector<Node*> endpoints() const;
  std::vector<Node*> endpoints_below(const Node& bridge) const;  // anywhere in the bridge's subtree
};

// Returns nullopt with one message "file:line:column: error: key: what" in *error.
std::optional<Topology> load_topology(const std::string& path, std::string* error);
std::optional<Topology> load_topology_text(const std::string& text, const std::string& path, std::string* error);

}  // namespace dexthil::pcie
