#pragma once
// Checks every DMA against PCIe's rules and the driver's prepared mappings: a request must not
// cross a 4 KiB boundary, nor exceed the function's Max Payload Size (writes) or Max Read
// Request Size (reads), nor address beyond the device's DMA width; and a DMA the DART let
// through must still fall inside a live mapping the driver prepared for that device, in a
// direction the mapping allows, and not after CompleteDMA ended it.
#include "harness/checks/finding.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::checks {

class DmaPathChecker final : public pcie::DmaPathObserver {
 public:
  // `platform` holds what the driver prepared for DMA (its DART driver's mappers).
  DmaPathChecker(FindingLog& log, const platform::PciePlatform& platform) : log_(log), platform_(platform) {}
  void on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) override;

 private:
  void check_mapping(const pcie::DmaPath& path);
  // Where (the endpoint, its BDF and IDs), when and the subject come from the DMA.
  void report(const pcie::DmaPath& path, std::string check, std::string what, std::string why);
  FindingLog& log_;
  const platform::PciePlatform& platform_;
};

}  // namespace dexthil::checks
