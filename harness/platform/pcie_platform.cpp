#include "harness/platform/pcie_platform.hpp"

#include <algorithm>
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

std::vector<std::uint32_t> PciePlatform::mapping_sids(const pcie::Node& endpoint, AliasPolicy policy) const {
  const pcie::Node& rp = *endpoint.root_port();
  std::vector<std::uint32_t> sids{fabric_.sid_for(rp, endpoint.bdf.rid())};
  if (policy == AliasPolicy::kEveryAlias) {
    for (const pcie::Arrival& a : fabric_.dma_aliases(endpoint)) {
      const std::uint32_t sid = fabric_.sid_for(rp, a.rid.rid());
      if (std::find(sids.begin(), sids.end(), sid) == sids.end()) sids.push_back(sid);
    }
  }
  return sids;
}

void PciePlatform::apply_max_bus_delay(std::optional<sim::SimTime> limit, std::string_view holder) {
  fabric_.set_stall_bound(limit, holder);
}

}  // namespace dexthil::platform
