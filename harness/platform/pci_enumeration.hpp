#pragma once
// Firmware's PCI enumeration, done to the fabric through config cycles only, as iBoot and the
// host bridge driver do it on a Mac: scan for functions and number the buses below each bridge,
// size each BAR (write all ones, read back the writable bits) and place it in the platform's
// MMIO window, open each bridge's memory window over what lies below it, enable memory decoding
// and bus mastering, and give every endpoint behind a DART a stream ID in its root port's
// PORT_RID2SID table (its own RID only, as macOS does). The fabric keeps only what the silicon
// does with those registers.
#include <cstdint>

#include "harness/pcie/fabric.hpp"

namespace dexthil::platform {

// The MMIO window the platform gives PCIe (device tree "ranges" on Apple silicon).
inline constexpr std::uint64_t kMmioWindowBase = 0xa000'0000;
inline constexpr std::uint64_t kMmioWindowEnd = 0xe000'0000;

// Throws std::runtime_error naming the node when the topology cannot be enumerated (more than
// 255 buses, BARs that do not fit the window, a function enumeration cannot find, more endpoints
// or SIDs than a root port's table and DART hold).
void enumerate_pci(pcie::Fabric& fabric);

}  // namespace dexthil::platform
