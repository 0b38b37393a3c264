#include "harness/util/hex.hpp"
#include "harness/checks/dart_fault_checker.hpp"

#include <cstdio>

namespace dexthil::checks {
namespace {

std::string node_label(const pcie::Node& n) { return n.name + " (" + n.bdf.str() + ", " + n.ids.str() + ")"; }

std::string fault_sentence(const iommu::DartTranslation& t, std::uint32_t sid) {
  const std::string s = "SID " + std::to_string(sid);
  switch (t.fault) {
    case iommu::DartFaultKind::kNoTtbr: return s + " has no translation table (NO_TTBR), so nothing is mapped under it.";
    case iommu::DartFaultKind::kNoPmd:
    case iommu::DartFaultKind::kNoPte:
      return s + " has no mapping for this IOVA (" + std::string(iommu::to_string(t.fault)) + ").";
    case iommu::DartFaultKind::kReadFault: return s + " maps this page without read permission (READ_FAULT).";
    case iommu::DartFaultKind::kWriteFault: return s + " maps this page without write permission (WRITE_FAULT).";
    case iommu::DartFaultKind::kTranslationOff:
      // The hardware has no code for this and reports NO_TTBR; say both.
      return s + " has no translation table (NO_TTBR): translation is not even enabled for it, so its DMA is blocked.";
    case iommu::DartFaultKind::kAddressTooWide:
      return "The IOVA is beyond the DART's address width, so no translation table covers it (NO_TTBR).";
    case iommu::DartFaultKind::kNone: break;
  }
  return "";
}

}  // namespace

std::string DartFaultChecker::panic_text(const std::string& instance, std::uint32_t sid, std::uint32_t status,
                                         std::uint64_t address) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "DART %s exception SID %u ERROR_STATUS 0x%08x ERROR_ADDRESS 0x%016llx", instance.c_str(), sid,
                status, static_cast<unsigned long long>(address));
  return buf;
}

void DartFaultChecker::on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) {
  if (path.translation.ok) return;  // also every DMA behind a port without an IOMMU
  const pcie::Node& ep = *path.endpoint;
  const pcie::Node& rp = *path.root_port;
  const iommu::Dart& dart = *fabric.dart(rp);
  const dma::DmaRequest& r = path.request;

  std::string why = node_label(ep) + " issued a DMA " + (r.write ? "write" : "read") + " of " + std::to_string(r.length) +
                    " bytes at IOVA " + util::hex(r.address, 16) + ". ";
  if (path.aliasing_bridge) {
    const pcie::Node& b = *path.aliasing_bridge;
    why += "It reached root port " + rp.name + " as requester ID " + path.arrived_as.str() + ", not its own " +
           path.own_rid.str() + ": " + node_label(b) + ", a " + pcie::describe(b.kind) +
           ", took ownership of the transaction and forwarded it as its secondary bus's 00.0, as such bridges may "
           "(PCIe-to-PCI/PCI-X Bridge spec r1.0, 2.3). ";
  } else {
    why += "It reached root port " + rp.name + " with its own requester ID " + path.arrived_as.str() + ". ";
  }
  if (path.rid2sid_entry) {
    why += "PORT_RID2SID entry " + std::to_string(*path.rid2sid_entry) + " maps " + path.arrived_as.str() + " to SID " +
           std::to_string(path.sid) + ". ";
  } else {
    why += "PORT_RID2SID has no entry for " + path.arrived_as.str() + ", so the port used its default SID " +
           std::to_string(path.sid) + ". ";
  }
  why += fault_sentence(path.translation, path.sid) + " ";

  const std::vector<std::uint32_t> sids = dart.sids_mapping(path.translation.error_address);
  if (sids.empty()) {
    const platform::DmaMapper& mapper = platform_.mapper(rp);
    if (const platform::PreparedMapping* m = mapper.completed_overlapping(ep.name, r.address, std::max<std::uint64_t>(r.length, 1))) {
      why += "No SID maps this IOVA any more: the driver's buffer there, prepared at " + sim::format_time(m->prepared_at) +
             ", was completed at " + sim::format_time(*m->completed_at) +
             ", and CompleteDMA ends the device's right to touch it.";
    } else {
      why += "No SID maps this IOVA: the driver never prepared a buffer there for DMA.";
    }
  } else {
    for (std::uint32_t sid : sids) {
      std::string owners;
      for (const pcie::Rid2SidEntry& e : fabric.rid2sid(rp)) {
        if (e.sid == sid) owners += (owners.empty() ? "" : ", ") + std::string("RID ") + pcie::Bdf::from_rid(e.rid).str() + " (" + e.endpoint->name + ")";
      }
      why += "The driver's mapping lives under SID " + std::to_string(sid) +
             (owners.empty() ? std::string(", which no RID in PORT_RID2SID maps to") : ", for " + owners) + ". ";
    }
    if (path.aliasing_bridge) {
      why += "macOS maps a buffer only under the SID of the device's own RID, so DMA that a bridge re-labels faults; "
             "Linux maps every alias (pci_for_each_dma_alias). The device works only behind a bridge that forwards "
             "requester IDs.";
    }
  }
  while (!why.empty() && why.back() == ' ') why.pop_back();

  log_.add({"dart.fault", node_label(ep), r.issued_at,
            panic_text(dart.config().instance, path.sid, path.translation.error_status, path.translation.error_address), why,
            ep.name});
}

}  // namespace dexthil::checks
