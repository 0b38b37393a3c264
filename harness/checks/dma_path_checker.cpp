#include "harness/util/hex.hpp"
#include "harness/checks/dma_path_checker.hpp"

#include <cstdio>

namespace dexthil::checks {
namespace {

std::string describe(const dma::DmaRequest& r) {
  return std::string("DMA ") + (r.write ? "write" : "read") + " of " + std::to_string(r.length) + " bytes at IOVA " +
         util::hex(r.address, 16);
}

std::string describe(const iommu::PreparedMapping& m) {
  return "[" + util::hex(m.iova, 16) + ", " + util::hex(m.iova + m.length, 16) + ") prepared at " + sim::format_time(m.prepared_at);
}

}  // namespace

void DmaPathChecker::on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) {
  const pcie::Node& ep = *path.endpoint;
  const dma::DmaRequest& r = path.request;
  const std::string where = ep.name + " (" + ep.bdf.str() + ", " + ep.ids.str() + ")";
  const sim::SimTime t = r.issued_at;
  subject_ = ep.name;

  if (r.length > 0 && (r.address % 4096) + r.length > 4096) {
    report({"pcie.crosses-4k", where, t, describe(r) + " crosses the 4 KiB boundary at " + util::hex((r.address | 0xfff) + 1, 16),
              "A PCIe memory request must not cross a 4 KiB boundary (PCIe Base spec, 2.2.7); a root complex treats such "
              "a TLP as malformed. The device's DMA engine must split requests at 4 KiB."});
  }
  if (r.write) {
    if (auto mps = pcie::Fabric::max_payload(ep); mps && r.length > *mps) {
      report({"pcie.max-payload", where, t, describe(r) + " exceeds the Max Payload Size of " + std::to_string(*mps) + " bytes",
                "Device Control's Max_Payload_Size caps every write TLP the function sends; a larger one is malformed."});
    }
  } else if (auto mrrs = pcie::Fabric::max_read_request(ep); mrrs && r.length > *mrrs) {
    report({"pcie.max-read-request", where, t,
              describe(r) + " exceeds the Max Read Request Size of " + std::to_string(*mrrs) + " bytes",
              "Device Control's Max_Read_Request_Size caps every read request the function issues."});
  }
  if (ep.dma_address_bits < 64 && r.length > 0 && ((r.address + r.length - 1) >> ep.dma_address_bits) != 0) {
    report({"dma.address-width", where, t,
              describe(r) + " reaches beyond the " + std::to_string(ep.dma_address_bits) + "-bit addresses the device can drive",
              "The upper address bits are lost on the device's bus, so the DMA lands somewhere else. The driver must "
              "give the DMA command a maxAddressBits the device supports."});
  }
  if (path.translation.ok) check_mapping(path, fabric, where);
}

void DmaPathChecker::check_mapping(const pcie::DmaPath& path, const pcie::Fabric& fabric, const std::string& where) {
  const dma::DmaRequest& r = path.request;
  const iommu::DartMapper& mapper = fabric.mapper(*path.root_port);
  const std::string& owner = path.endpoint->name;
  const sim::SimTime t = r.issued_at;
  if (const iommu::PreparedMapping* m = mapper.live_containing(owner, r.address, r.length)) {
    if ((r.write && !m->direction.device_writes) || (!r.write && !m->direction.device_reads)) {
      report({"dma.direction", where, t, describe(r) + " into a mapping prepared only for device " + (r.write ? "reads" : "writes"),
                "The buffer " + describe(*m) + " was prepared for the other direction; the DART let this through only "
                "because the 16 KiB page is also mapped another way."});
    }
    return;
  }
  if (const iommu::PreparedMapping* m = mapper.live_overlapping(owner, r.address, r.length)) {
    report({"dma.outside-mapping", where, t, describe(r) + " runs past the prepared buffer " + describe(*m),
              "The DART maps whole 16 KiB pages, so the overrun was not blocked, but those bytes belong to whatever "
              "else shares the page: the device must stay inside the range PrepareForDMA returned."});
    return;
  }
  if (const iommu::PreparedMapping* m = mapper.completed_overlapping(owner, r.address, r.length)) {
    report({"dma.after-complete", where, t,
              describe(r) + " after its buffer was completed at " + sim::format_time(*m->completed_at),
              "CompleteDMA ended the device's right to touch " + describe(*m) + ". The page still translated (another "
              "mapping shares it, or a stale IOTLB entry), so on a Mac this silently corrupts memory."});
    return;
  }
  report({"dma.outside-mapping", where, t, describe(r) + " hits no buffer prepared for this device",
            "The IOVA translates only because another mapping shares the 16 KiB page; the driver prepared nothing "
            "there for this device."});
}

}  // namespace dexthil::checks
