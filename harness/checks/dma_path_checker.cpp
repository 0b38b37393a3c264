#include "harness/util/hex.hpp"
#include "harness/checks/dma_path_checker.hpp"

#include <cstdio>

namespace dexthil::checks {
namespace {

// Behind a DART the device's addresses are IOVAs; without an IOMMU they are physical addresses.
std::string describe(const pcie::DmaPath& path) {
  const dma::DmaRequest& r = path.request;
  const std::uint32_t tlps = r.tlps();
  return std::string("DMA ") + (r.write ? "write" : "read") + " of " + std::to_string(r.length) + " bytes" +
         (tlps > 1 ? " (" + std::to_string(tlps) + " TLPs of up to " + std::to_string(r.tlp_payload) + ")" : std::string()) +
         " at " + (path.root_port->has_dart ? "IOVA " : "physical address ") + util::hex(r.address, 16);
}

// The first TLP of the request that crosses a 4 KiB boundary: the address of the boundary it
// crosses, or 0 when none does.
std::uint64_t crossing_4k(const dma::DmaRequest& r) {
  if (r.length == 0 || (r.address % 4096) + r.length <= 4096) return 0;
  std::uint64_t start = r.address;
  for (std::uint32_t t = 0; t < r.tlps(); ++t) {
    const std::uint64_t end = start + r.tlp_length(t);
    if ((start | 0xfff) + 1 < end) return (start | 0xfff) + 1;
    start = end;
  }
  return 0;
}

std::string describe(const platform::PreparedMapping& m) {
  return "[" + util::hex(m.iova, 16) + ", " + util::hex(m.iova + m.length, 16) + ") prepared at " + sim::format_time(m.prepared_at);
}

}  // namespace

void DmaPathChecker::report(const pcie::DmaPath& path, std::string check, std::string what, std::string why) {
  const pcie::Node& ep = *path.endpoint;
  log_.add(Finding{.check = std::move(check),
                   .where = ep.name + " (" + ep.bdf.str() + ", " + ep.ids.str() + ")",
                   .time = path.request.issued_at,
                   .what = std::move(what),
                   .why = std::move(why),
                   .subject = ep.name});
}

void DmaPathChecker::on_dma(const pcie::DmaPath& path, const pcie::Fabric&) {
  const pcie::Node& ep = *path.endpoint;
  const dma::DmaRequest& r = path.request;

  if (const std::uint64_t boundary = crossing_4k(r)) {
    report(path, "pcie.crosses-4k", describe(path) + " crosses the 4 KiB boundary at " + util::hex(boundary, 16),
              "A PCIe memory request must not cross a 4 KiB boundary (PCIe Base spec, 2.2.7); a root complex treats such "
              "a TLP as malformed. The device's DMA engine must split requests at 4 KiB.");
  }
  // For every DMA, so the sizes ConfigSpace keeps (0: not a PCI Express function).
  const pcie::ConfigSpace::TransferSizes limits = ep.config.transfer_sizes();
  if (r.write) {
    if (limits.max_payload != 0 && r.tlp_length(0) > limits.max_payload) {
      report(path, "pcie.max-payload",
             describe(path) + " exceeds the Max Payload Size of " + std::to_string(limits.max_payload) + " bytes",
             "Device Control's Max_Payload_Size caps every write TLP the function sends; a larger one is malformed.");
    }
  } else if (limits.max_read_request != 0 && r.length > limits.max_read_request) {
    report(path, "pcie.max-read-request",
           describe(path) + " exceeds the Max Read Request Size of " + std::to_string(limits.max_read_request) + " bytes",
           "Device Control's Max_Read_Request_Size caps every read request the function issues.");
  }
  if (ep.dma_address_bits < 64 && r.length > 0 && ((r.address + r.length - 1) >> ep.dma_address_bits) != 0) {
    report(path, "dma.address-width",
              describe(path) + " reaches beyond the " + std::to_string(ep.dma_address_bits) + "-bit addresses the device can drive",
              "The upper address bits are lost on the device's bus, so the DMA lands somewhere else. The driver must "
              "give the DMA command a maxAddressBits the device supports.");
  }
  if (path.translation.ok) check_mapping(path);
}

void DmaPathChecker::check_mapping(const pcie::DmaPath& path) {
  const dma::DmaRequest& r = path.request;
  const platform::DmaMapper& mapper = platform_.mapper(*path.root_port);
  const std::string& owner = path.endpoint->name;
  // Behind a DART a stray DMA got through only because its page is mapped for something else;
  // without an IOMMU nothing checks a device's addresses at all.
  const bool dart = mapper.translates();
  // Built only when a finding needs it: this runs on every DMA.
  const auto unchecked = [&] { return "Root port " + path.root_port->name + " has no IOMMU, so nothing stopped the device. "; };
  if (const platform::PreparedMapping* m = mapper.live_containing(owner, r.address, r.length)) {
    if ((r.write && !m->direction.device_writes) || (!r.write && !m->direction.device_reads)) {
      report(path, "dma.direction", describe(path) + " into a mapping prepared only for device " + (r.write ? "reads" : "writes"),
                "The buffer " + describe(*m) + " was prepared for the other direction; " +
                    (dart ? "the DART let this through only because the 16 KiB page is also mapped another way."
                          : unchecked() + "Behind a DART this DMA faults."));
    }
    return;
  }
  if (const platform::PreparedMapping* m = mapper.live_overlapping(owner, r.address, r.length)) {
    report(path, "dma.outside-mapping", describe(path) + " runs past the prepared buffer " + describe(*m),
              (dart ? std::string("The DART maps whole 16 KiB pages, so the overrun was not blocked, but ") : unchecked() + "But ") +
                  "those bytes belong to whatever else shares the memory: the device must stay inside the range "
                  "PrepareForDMA returned.");
    return;
  }
  if (const platform::PreparedMapping* m = mapper.completed_overlapping(owner, r.address, r.length)) {
    report(path, "dma.after-complete",
              describe(path) + " after its buffer was completed at " + sim::format_time(*m->completed_at),
              "CompleteDMA ended the device's right to touch " + describe(*m) + ". " +
                  (dart ? "The page still translated (another mapping shares it, or a stale IOTLB entry), so on a Mac "
                          "this silently corrupts memory."
                        : unchecked() + "The memory may already belong to someone else: this silently corrupts it."));
    return;
  }
  report(path, "dma.outside-mapping", describe(path) + " hits no buffer prepared for this device",
            dart ? "The IOVA translates only because another mapping shares the 16 KiB page; the driver prepared nothing "
                   "there for this device."
                 : unchecked() + "The address is physical memory the driver never prepared for this device; behind a "
                               "DART this DMA faults.");
}

}  // namespace dexthil::checks
