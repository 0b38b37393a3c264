#include "harness/pcie/topology_print.hpp"

#include <cstdio>

namespace dexthil::pcie {
namespace {

std::string size_text(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && bytes % 1024 == 0 && u < 3) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + " " + units[u];
}

std::string link_text(const Node& n) {
  if (!n.link) return "";
  const char* speeds[] = {"", "2.5", "5", "8", "16", "32"};
  std::string s = std::string(n.tunnel ? ", tunnelled link " : ", link ") + speeds[n.link->gen] + " GT/s x" +
                  std::to_string(n.link->width);
  if (n.link->l0s_supported || n.link->l1_supported) {
    s += std::string(", ASPM") + (n.link->l0s_supported ? " L0s" : "") + (n.link->l1_supported ? " L1" : "");
  }
  return s;
}

std::string describe_node(const Node& n) {
  char cls[16];
  std::snprintf(cls, sizeof cls, "%06x", n.class_code);
  std::string s = n.bdf.str();
  if (n.is_bridge()) {
    char buses[32];
    if (n.secondary_bus == n.subordinate_bus) std::snprintf(buses, sizeof buses, " [bus %02x]", n.secondary_bus);
    else std::snprintf(buses, sizeof buses, " [bus %02x-%02x]", n.secondary_bus, n.subordinate_bus);
    s += buses;
  }
  s += "  " + n.name + "  " + n.ids.str() + "  " + describe(n.kind);
  if (n.kind == NodeKind::kEndpoint) s += std::string(", class ") + cls + (n.is_conventional() ? ", conventional PCI" : "");
  if (n.kind == NodeKind::kRootPort && !n.has_dart) s += ", no IOMMU (DMA to physical addresses)";
  if (n.kind == NodeKind::kRootPort && n.has_dart) {
    s += std::string(", DART ") + n.dart.instance + " (" +
         (n.dart.generation == iommu::DartGeneration::kT8110 ? "T8110" : "T8020") + ", " + std::to_string(n.dart.num_sids) +
         " SIDs; unlisted RIDs get SID " + std::to_string(n.unlisted_rid_sid) + ")";
  }
  if (n.is_bridge_to_pci()) {
    s += std::string(", ") + (n.rid_behaviour == RequesterIdBehaviour::kTakesOwnership ? "takes ownership of requester IDs"
                              : n.rid_behaviour == RequesterIdBehaviour::kForwards ? "forwards requester IDs"
                                                                                   : "takes ownership of some requester IDs");
    if (n.rid_behaviour != RequesterIdBehaviour::kForwards) {
      s += std::string(" as ") + (n.aliases_as_secondary_bus() ? "its secondary bus's 00.0" : "itself");
    }
    s += n.pcix_secondary ? ", PCI-X secondary bus" : ", conventional PCI secondary bus";
    if (n.pcie_bridge_alias) {
      s += std::string(", a PCIe-to-PCI bridge without its capability (") +
           (n.pcie_bridge_alias_from_quirk ? "Linux's quirk for its ids" : "pcie_bridge_alias") + ")";
    }
  }
  return s + link_text(n);
}

void render(const Fabric& fabric, const Node& n, const std::string& indent, bool last, std::string* out) {
  *out += indent + (last ? "`-- " : "|-- ") + describe_node(n) + "\n";
  const std::string child_indent = indent + (last ? "    " : "|   ");
  if (n.kind == NodeKind::kEndpoint) {
    const std::string detail = child_indent + "      ";
    unsigned reg = 0;
    for (std::size_t i = 0; i < n.bars.size(); ++i) {
      char line[128];
      std::snprintf(line, sizeof line, "BAR%u %s memory at 0x%09llx [size %s]%s\n", reg, n.bars[i].is64 ? "64-bit" : "32-bit",
                    static_cast<unsigned long long>(n.bar_addresses.at(i)), size_text(n.bars[i].size).c_str(),
                    n.bars[i].prefetchable ? ", prefetchable" : "");
      *out += detail + line;
      reg += n.bars[i].is64 ? 2 : 1;
    }
    const Node& rp = *n.root_port();
    if (rp.has_dart) {
      for (const Arrival& a : fabric.possible_arrivals(n)) {
        std::optional<std::size_t> entry;
        const std::uint32_t sid = fabric.sid_for(rp, a.rid.rid(), &entry);
        const std::string how = !a.bridge ? " (its own RID)"
                                : a.bridge->aliases_as_secondary_bus()
                                    ? " (" + a.bridge->name + " takes ownership)"
                                    : " (" + a.bridge->name + " takes ownership with its own RID)";
        *out += detail + "DMA arrives as " + a.rid.str() + how + " -> SID " + std::to_string(sid) +
                (entry ? " (PORT_RID2SID entry " + std::to_string(*entry) + ")" : std::string(" (not in PORT_RID2SID: default)")) +
                "\n";
      }
      const std::vector<Arrival> aliases = fabric.dma_aliases(n);
      if (aliases.size() > 1) {
        std::string list;
        for (const Arrival& a : aliases) list += (list.empty() ? "" : ", ") + a.rid.str();
        *out += detail + "Linux maps it under every alias pci_for_each_dma_alias yields: " + list + "\n";
      }
      std::optional<std::size_t> own_entry;
      const std::uint32_t own_sid = fabric.sid_for(rp, n.bdf.rid(), &own_entry);
      *out += detail + "macOS maps its buffers under its own RID " + n.bdf.str() + " -> SID " + std::to_string(own_sid) + "\n";
    } else {
      *out += detail + "DMA reaches host memory at physical addresses (" + rp.name + " has no IOMMU)\n";
    }
  }
  for (std::size_t i = 0; i < n.children.size(); ++i) render(fabric, *n.children[i], child_indent, i + 1 == n.children.size(), out);
}

}  // namespace

std::string render_tree(const Fabric& fabric) {
  const Topology& t = fabric.topology();
  std::string out = t.name + (t.description.empty() ? "" : ": " + t.description) + "\n";
  out += "[0000:00]\n";
  for (std::size_t i = 0; i < t.root_ports.size(); ++i) render(fabric, *t.root_ports[i], "", i + 1 == t.root_ports.size(), &out);
  return out;
}

}  // namespace dexthil::pcie
