#include "harness/platform/pci_enumeration.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace dexthil::platform {

namespace {

using pcie::Bdf;
using pcie::Node;
namespace cfg = pcie::cfg;

constexpr std::uint64_t kWindowAlign = 1 << 20;  // bridge memory windows have 1 MiB granularity

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

class Enumerator {
 public:
  explicit Enumerator(pcie::Fabric& fabric) : fabric_(fabric) {}

  void run() {
    std::uint8_t next_bus = 1;
    scan_bus(0, &next_bus);
    for (const auto& n : fabric_.topology().nodes) {
      if (n->bdf == Bdf{} && n->kind != pcie::NodeKind::kRootPort) {
        throw std::runtime_error(n->pos.str() + ": error: \"" + n->name + "\" was not found by enumeration");
      }
    }
    std::uint64_t cursor = kMmioWindowBase;
    for (Node* rp : fabric_.topology().root_ports) assign_windows(rp, &cursor);
    for (const auto& n : fabric_.topology().nodes) {
      fabric_.config_write(n->bdf, cfg::kCommand, 2, cfg::kCommandMemory | cfg::kCommandBusMaster);
    }
    for (Node* rp : fabric_.topology().root_ports) program_rid2sid(rp);
  }

 private:
  void scan_bus(std::uint8_t bus, std::uint8_t* next_bus) {
    for (std::uint8_t dev = 0; dev < 32; ++dev) {
      for (std::uint8_t fn = 0; fn < 8; ++fn) {
        const Bdf bdf{bus, dev, fn};
        if (fabric_.config_read(bdf, cfg::kVendorId, 2) == 0xffff) continue;
        Node* n = fabric_.function_at(bdf);
        n->bdf = bdf;
        if ((fabric_.config_read(bdf, cfg::kHeaderType, 1) & 0x7f) != 1) continue;
        if (*next_bus == 0xff) {
          throw std::runtime_error(n->pos.str() + ": error: \"" + n->name + "\": the fabric needs more than 255 buses");
        }
        const std::uint8_t secondary = (*next_bus)++;
        fabric_.config_write(bdf, cfg::kPrimaryBus, 1, bus);
        fabric_.config_write(bdf, cfg::kSecondaryBus, 1, secondary);
        fabric_.config_write(bdf, cfg::kSubordinateBus, 1, 0xff);  // open while the scan looks below
        scan_bus(secondary, next_bus);
        fabric_.config_write(bdf, cfg::kSubordinateBus, 1, static_cast<std::uint8_t>(*next_bus - 1));
        n->secondary_bus = secondary;
        n->subordinate_bus = static_cast<std::uint8_t>(*next_bus - 1);
      }
    }
  }

  void assign_bars(Node* ep, std::uint64_t* cursor) {
    std::uint16_t reg = cfg::kBar0;
    ep->bar_addresses.clear();
    for (const pcie::BarSpec& spec : ep->bars) {
      // Size the BAR the way software does: write all-ones, read back the writable bits.
      fabric_.config_write(ep->bdf, reg, 4, 0xffffffff);
      std::uint64_t mask = fabric_.config_read(ep->bdf, reg, 4) & 0xfffffff0u;
      if (spec.is64) {
        fabric_.config_write(ep->bdf, reg + 4, 4, 0xffffffff);
        mask |= static_cast<std::uint64_t>(fabric_.config_read(ep->bdf, reg + 4, 4)) << 32;
      } else {
        mask |= 0xffffffff00000000ULL;
      }
      const std::uint64_t size = ~mask + 1;
      const std::uint64_t address = align_up(*cursor, size);
      if (address + size > kMmioWindowEnd) {
        throw std::runtime_error(ep->pos.str() + ": error: \"" + ep->name + "\": its BARs do not fit the MMIO window");
      }
      fabric_.config_write(ep->bdf, reg, 4, static_cast<std::uint32_t>(address));
      if (spec.is64) fabric_.config_write(ep->bdf, reg + 4, 4, static_cast<std::uint32_t>(address >> 32));
      ep->bar_addresses.push_back(address);
      *cursor = address + size;
      reg = static_cast<std::uint16_t>(reg + (spec.is64 ? 8 : 4));
    }
  }

  void assign_windows(Node* bridge, std::uint64_t* cursor) {
    *cursor = align_up(*cursor, kWindowAlign);
    const std::uint64_t base = *cursor;
    for (Node* child : bridge->children) {
      if (child->is_bridge()) assign_windows(child, cursor);
      else assign_bars(child, cursor);
    }
    *cursor = align_up(*cursor, kWindowAlign);
    if (*cursor > base) {
      fabric_.config_write(bridge->bdf, cfg::kMemoryBase, 2, static_cast<std::uint32_t>(base >> 16) & 0xfff0);
      fabric_.config_write(bridge->bdf, cfg::kMemoryLimit, 2, static_cast<std::uint32_t>((*cursor - 1) >> 16) & 0xfff0);
    } else {
      // Base above limit: the window is closed.
      fabric_.config_write(bridge->bdf, cfg::kMemoryBase, 2, 0xfff0);
      fabric_.config_write(bridge->bdf, cfg::kMemoryLimit, 2, 0);
    }
  }

  // One entry per endpoint under the port, for its own RID; SIDs from the topology where it
  // gives them, else the lowest free ones (the port's default SID is never handed out).
  void program_rid2sid(Node* rp) {
    iommu::Dart* dart = fabric_.dart(*rp);
    if (!dart) return;  // no IOMMU, no stream IDs
    std::set<std::uint32_t> taken{rp->unlisted_rid_sid};
    std::vector<Node*> endpoints;
    for (Node* ep : fabric_.topology().endpoints()) {
      if (ep->root_port() == rp) endpoints.push_back(ep);
    }
    for (Node* ep : endpoints) {
      if (ep->sid) taken.insert(*ep->sid);
    }
    if (endpoints.size() > pcie::Fabric::kRid2SidEntries) {
      throw std::runtime_error(rp->pos.str() + ": error: root port \"" + rp->name + "\": " +
                               std::to_string(endpoints.size()) + " endpoints need an entry each, and PORT_RID2SID holds " +
                               std::to_string(pcie::Fabric::kRid2SidEntries));
    }
    std::vector<pcie::Rid2SidEntry> table;
    std::uint32_t next = 1;
    for (Node* ep : endpoints) {
      std::uint32_t sid;
      if (ep->sid) {
        sid = *ep->sid;
      } else {
        while (taken.count(next)) ++next;
        if (next >= rp->dart.num_sids) {
          throw std::runtime_error(ep->pos.str() + ": error: \"" + ep->name + "\": " + rp->dart.instance +
                                   " has no SID left (it has " + std::to_string(rp->dart.num_sids) + ")");
        }
        sid = next;
        taken.insert(sid);
      }
      table.push_back({ep->bdf.rid(), sid, ep});
      dart->enable_translation(sid);
    }
    fabric_.program_rid2sid(*rp, std::move(table));
  }

  pcie::Fabric& fabric_;
};

}  // namespace

void enumerate_pci(pcie::Fabric& fabric) { Enumerator(fabric).run(); }

}  // namespace dexthil::platform
