#pragma once
// `dexthil topo`: an lspci -tv-like tree of an enumerated fabric, with each endpoint's BARs, the
// requester IDs its DMA can arrive with, the bridge responsible, and the SIDs those map to.
#include <string>

#include "harness/pcie/fabric.hpp"

namespace dexthil::pcie {

std::string render_tree(const Fabric& fabric);

}  // namespace dexthil::pcie
