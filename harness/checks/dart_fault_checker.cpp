#include "harness/util/hex.hpp"
#include "harness/checks/dart_fault_checker.hpp"

#include <cstdio>

namespace dexthil::checks {
namespace {

std::string node_label(const pcie::Node& n) { return n.name + " (" + n.bdf.str() + ", " + n.ids.str() + ")"; }

const char* generation_name(iommu::DartGeneration g) { return g == iommu::DartGeneration::kT8020 ? "T8020" : "T8110"; }

// How the bridge that re-labelled the DMA did it (the fabric's knowledge, not the DART's).
std::string relabelled_by(const pcie::Node& b) {
  std::string s = node_label(b) + ", a " + pcie::describe(b.kind) + ", took ownership of the transaction";
  if (b.rid_behaviour == pcie::RequesterIdBehaviour::kMixed) s += " (it does so for some and forwards others)";
  if (b.kind == pcie::NodeKind::kPcieToPciBridge) {
    return s + " and forwarded it as its secondary bus's 00.0, as such bridges may (PCIe-to-PCI/PCI-X Bridge spec r1.0, "
               "2.3). ";
  }
  if (b.pcie_bridge_alias) {
    return s + " and forwarded it as its secondary bus's 00.0: it is a PCIe-to-PCI bridge without its PCIe capability "
               "(Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS). ";
  }
  return s + " and forwarded it under its own requester ID: a conventional PCI-to-PCI bridge is the requester of what "
             "it forwards (Linux's pci_for_each_dma_alias aliases it to its own bus and devfn). ";
}

// What ERROR_STATUS proves, and nothing more: its bits in words. Then, apart and labelled as
// such, what this run's DART registers add where the model reports a state the hardware has no
// code for (dart.cpp, "Model:").
std::string status_sentences(const iommu::Dart& dart, const iommu::DartTranslation& t, std::uint32_t sid) {
  const iommu::DartGeneration g = dart.config().generation;
  std::string s = "ERROR_STATUS " + util::hex(t.error_status, 8) + " reads: " + iommu::describe_error(g, t.error_status) + ".";
  if (dart.error_status() != t.error_status) {
    s += " (The DART's ERROR register still holds an earlier error, " + util::hex(dart.error_status(), 8) +
         ", until software clears it; this is what this fault reports.)";
  }
  switch (t.fault) {
    case iommu::DartFaultKind::kTranslationOff:
      s += std::string(" In this run SID ") + std::to_string(sid) + " " +
           (dart.stream_is_enabled(sid) ? "has TCR " + util::hex(dart.tcr(sid), 8) + ", which enables neither translation nor bypass"
                                        : std::string("is a disabled stream")) +
           ", and dexthil's DART reports such a blocked stream as NO_TTBR (what the hardware reports for it is not public).";
      break;
    case iommu::DartFaultKind::kAddressTooWide:
      s += " In this run the IOVA lies beyond the DART's " + std::to_string(dart.config().va_bits) +
           "-bit IOVA space, which dexthil's DART reports as NO_TTBR (no TTBR covers it).";
      break;
    default: break;
  }
  return s + " ";
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
    why += "It reached root port " + rp.name + " as requester ID " + path.arrived_as.str() + ", not its own " +
           path.own_rid.str() + ": " + relabelled_by(*path.aliasing_bridge);
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
  why += status_sentences(dart, path.translation, path.sid);

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
      std::string aliases;
      for (const pcie::Arrival& a : fabric.dma_aliases(ep)) aliases += (aliases.empty() ? "" : ", ") + a.rid.str();
      why += "macOS maps a buffer only under the SID of the device's own RID, so DMA that a bridge re-labels faults; "
             "Linux maps it under every alias pci_for_each_dma_alias yields (here " + aliases +
             "). On a Mac the DMA must reach the root port with the device's own requester ID: behind bridges to PCI, "
             "only ones that forward requester IDs (onto a PCI-X bus) keep it.";
    }
  }
  while (!why.empty() && why.back() == ' ') why.pop_back();

  log_.add({"dart.fault", node_label(ep), r.issued_at,
            panic_text(dart.config().instance, path.sid, path.translation.error_status, path.translation.error_address), why,
            ep.name});
}

Finding panic_finding(const platform::DartPanic& p) {
  const iommu::DartErrorFields fields = iommu::decode_error(p.generation, p.status);
  const std::string at = sim::format_time(p.time);
  const pcie::Node& ep = *p.endpoint;
  std::string why =
      "The DART raised its error interrupt at " + at + " and macOS panicked: xnu's DART driver panics on a DART error "
      "(the line above is dexthil's wording of the panic's facts; the driver is closed source, docs/scenarios.md). "
      "The machine's state: DART " + p.dart + " (" + generation_name(p.generation) + ") behind root port " +
      p.root_port->name + " latched ERROR_STATUS " + util::hex(p.status, 8) + ", which reads: " +
      iommu::describe_error(p.generation, p.status) + "; ERROR_ADDRESS " + util::hex(p.address, 16) + ", the IOVA. " +
      "The DMA that faulted: a " + (p.write ? "write" : "read") + " of " + std::to_string(p.length) + " bytes by " +
      node_label(ep) + ", arriving as requester ID " + p.arrived_as.str() + " (the dart.fault finding explains it). " +
      "The run stopped there: nothing after " + at + " was simulated, so a Mac never reaches what would have come " +
      "next. [kernel] dart_fault = \"continue\" runs on past DART faults, for diagnosis only.";
  Finding f{"kernel.panic", node_label(ep), p.time,
            "panic: " + DartFaultChecker::panic_text(p.dart, fields.sid, p.status, p.address) +
                " [dexthil's wording of xnu's DART panic]",
            why, ep.name};
  f.data = {{"dart", p.dart},
            {"sid", std::to_string(fields.sid)},
            {"error_status", util::hex(p.status, 8)},
            {"error_address", util::hex(p.address, 16)},
            {"time", at}};
  return f;
}

}  // namespace dexthil::checks
