#pragma once
// Checks every DMA against PCIe's rules and the driver's prepared mappings: a request must not
// cross a 4 KiB boundary, nor exceed the function's Max Payload Size (writes) or Max Read
// Request Size (reads), nor address beyond the device's DMA width; and a DMA the DART let
// through must still fall inside a live mapping the driver prepared for that device, in a
// direction the mapping allows, and not after CompleteDMA ended it.
#include "harness/checks/finding.hpp"
#include "harness/pcie/fabric.hpp"

namespace dexthil::checks {

class DmaPathChecker final : public pcie::DmaPathObserver {
 public:
  explicit DmaPathChecker(FindingLog& log) : log_(log) {}
  void on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) override;

 private:
  void check_mapping(const pcie::DmaPath& path, const pcie::Fabric& fabric, const std::string& where);
  void report(Finding f) {
    f.subject = subject_;
    log_.add(std::move(f));
  }
  FindingLog& log_;
  std::string subject_;  // the endpoint of the DMA being checked
};

}  // namespace dexthil::checks
