#include "harness/checks/dma_prepare_checker.hpp"

#include "harness/util/hex.hpp"

namespace dexthil::checks {

DmaPrepareChecker::DmaPrepareChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::DmaPrepareFailed>([this](const auto& e) { on_failed(e); });
  monitor.subscribe<monitor::DmaBounced>([this](const auto& e) { on_bounced(e); });
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
          " address bits reach, and not even the low pages the kernel bounces through are in reach. Use a device "
          "with wider DMA addressing, or expect this dext to fail on Macs without an IOMMU.";
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

void DmaPrepareChecker::on_bounced(const monitor::DmaBounced& e) {
  const std::string name(e.location);
  Finding f{"dma.bounce", name, e.time,
            "PrepareForDMA of " + std::to_string(e.length) + " bytes for " + name + " was double-buffered: the memory at " +
                util::hex(e.memory_address) + " is beyond " + std::to_string(e.max_address_bits) +
                " address bits, so the device was given a bounce buffer at " + util::hex(e.bounce_address),
            "Root port " + std::string(e.root_port) +
                " has no IOMMU, so the device addresses physical memory, and xnu's IODMACommand copies through low "
                "pages the device can reach: into them at PrepareForDMA when the device reads, back at CompleteDMA when "
                "it writes. The transfer works, at the cost of copies, and the CPU sees what the device wrote only "
                "after CompleteDMA (or PerformOperation). A device with wider DMA addressing avoids both.",
            name,
            {{"length", std::to_string(e.length)},
             {"memory_address", util::hex(e.memory_address)},
             {"bounce_address", util::hex(e.bounce_address)},
             {"max_address_bits", std::to_string(e.max_address_bits)}}};
  f.informational = true;
  findings_.add(std::move(f));
}

}  // namespace dexthil::checks
