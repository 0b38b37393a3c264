#pragma once
// The platform software between the PCIe hardware models and the kernel: firmware's enumeration
// of the fabric (pci_enumeration.hpp) and the OS's DART driver, one DMA mapper per root port,
// which PrepareForDMA and CompleteDMA go through. The fabric, the DARTs and the device models
// keep only what the silicon does; what software does to them is here.
#include <memory>
#include <optional>
#include <string_view>
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

  // Whose SIDs an OS maps a device's DMA buffers under.
  enum class AliasPolicy {
    kOwnRid,      // macOS: the SID of the endpoint's own RID only
    kEveryAlias,  // Linux: also the SID of every alias pci_for_each_dma_alias yields (Fabric::dma_aliases)
  };
  // The SIDs, each once, the own RID's first, as the root port's PORT_RID2SID resolves them.
  std::vector<std::uint32_t> mapping_sids(const pcie::Node& endpoint, AliasPolicy policy) const;

  // The platform's MaxBusDelay handler (platform::MaxBusDelay): while any service requires a bus
  // stall limit, the system-wide smallest bounds the platform's stall sources, the fabric's
  // injected per-link stalls (Fabric::set_stall_bound); nullopt lifts the bound. ASPM is left as
  // software set it: xnu gives RequireMaxBusStall no per-link ASPM effect.
  void apply_max_bus_delay(std::optional<sim::SimTime> limit, std::string_view holder);

 private:
  pcie::Fabric& fabric_;
  std::vector<std::pair<const pcie::Node*, std::unique_ptr<DmaMapper>>> mappers_;  // in root port order
};

}  // namespace dexthil::platform
