// PCIDriverKit: its nub, IOPCIDevice, is published by the PCI bus plug-in (buses/pci); a PCI
// dext's service works through IOUserService and sends every access as a call to the nub, so the
// family adds no kernel-sent messages.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& pci() {
  static const FamilyDefinition family{"PCIDriverKit", "com.apple.developer.driverkit.transport.pci", {}, {}};
  return family;
}

}  // namespace dexthil::driverkit::families
