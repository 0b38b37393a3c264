#include "harness/checks/dma_prepare_checker.hpp"

#include "harness/util/hex.hpp"

namespace dexthil::checks {

DmaPrepareChecker::DmaPrepareChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::DmaPrepareFailed>([this](const auto& e) { on_failed(e); });
}

void DmaPrepareChecker::on_failed(const monitor::DmaPrepareFailed& e) {
  std::string why;
  if (!e.too_few_address_bits) {
    why = "The DART's IOVA space is exhausted: mappings are not being completed.";
  } else if (e.translates) {
    why = "On Apple silicon PrepareForDMA returns DART addresses (IOVAs), handed out from " + util::hex(e.iova_base) +
          ", so an IODMACommandSpecification.maxAddressBits below 32 can never be met. Ask for the bits the device "
          "really drives.";
  } else {
    why = "Root port " + std::string(e.root_port) +
          " has no IOMMU (no system mapper, as on an Intel Mac with VT-d off), so PrepareForDMA hands out physical "
          "addresses, and host memory lies above what " +
          std::to_string(e.max_address_bits) +
          " address bits reach. DriverKit has no bounce buffers: without a mapper a DMA command for a 32-bit device "
          "fails. Use a device with 64-bit DMA addressing, or expect this dext to fail on Macs without an IOMMU.";
  }
  const std::string name(e.location);
  Finding f{"dma.prepare-failed", name, e.time,
            "PrepareForDMA of " + std::to_string(e.length) + " bytes for " + name + " failed with " +
                std::string(e.result) + ": " + std::string(e.error),
            why, name,
            {{"length", std::to_string(e.length)},
             {"result", std::string(e.result)},
             {"max_address_bits", std::to_string(e.max_address_bits)}}};
  findings_.add(std::move(f));
}

}  // namespace dexthil::checks
