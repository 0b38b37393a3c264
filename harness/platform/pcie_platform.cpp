#include "harness/platform/pcie_platform.hpp"

#include <stdexcept>

#include "harness/platform/pci_enumeration.hpp"

namespace dexthil::platform {

PciePlatform::PciePlatform(pcie::Fabric& fabric) : fabric_(fabric) {
  enumerate_pci(fabric_);
  for (const pcie::Node* rp : fabric_.topology().root_ports) {
    mappers_.emplace_back(rp, std::make_unique<DmaMapper>(fabric_.dart(*rp), rp->iova_base));
  }
}

DmaMapper& PciePlatform::mapper(const pcie::Node& root_port) const {
  for (const auto& [rp, mapper] : mappers_) {
    if (rp == &root_port) return *mapper;
  }
  throw std::logic_error("\"" + root_port.name + "\" is not a root port of this fabric");
}

}  // namespace dexthil::platform
