#pragma once
// The platform software between the PCIe hardware models and the kernel: firmware's enumeration
// of the fabric (pci_enumeration.hpp) and the OS's DART driver, one DMA mapper per root port,
// which PrepareForDMA and CompleteDMA go through. The fabric, the DARTs and the device models
// keep only what the silicon does; what software does to them is here.
#include <memory>
#include <vector>

#include "harness/pcie/fabric.hpp"
#include "harness/platform/dma_mapper.hpp"

namespace dexthil::platform {

class PciePlatform {
 public:
  // Enumerates the fabric, then sets up a mapper for each root port: through its DART from the
  // port's IOVA base, or physical addresses where the port has no IOMMU. Throws
  // std::runtime_error when the topology cannot be enumerated.
  explicit PciePlatform(pcie::Fabric& fabric);

  pcie::Fabric& fabric() const { return fabric_; }
  DmaMapper& mapper(const pcie::Node& root_port) const;

 private:
  pcie::Fabric& fabric_;
  std::vector<std::pair<const pcie::Node*, std::unique_ptr<DmaMapper>>> mappers_;  // in root port order
};

}  // namespace dexthil::platform
