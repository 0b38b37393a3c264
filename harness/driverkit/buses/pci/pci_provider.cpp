#include "harness/driverkit/buses/pci/pci_provider.hpp"

#include <DriverKit/IOInterruptDispatchSource.h>

#include <vector>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/pcie/config_space.hpp"

namespace dexthil::driverkit {

void PciProvider::msi_received() {
  const std::uint64_t now = kernel_.mach_ticks();
  // Copy: a handler may cancel a source while we walk them.
  const util::InsertionOrderedSet<IOInterruptDispatchSource*> targets = sources;
  for (IOInterruptDispatchSource* s : targets) s->interrupt(now);
}

PciProvider::Interrupt PciProvider::interrupt_at(std::uint32_t index) const {
  if (interrupts_configured) return index < msi_vectors ? Interrupt::kMsi : Interrupt::kNone;
  std::vector<Interrupt> list;
  if (node_.config.read(pcie::cfg::kInterruptPin, 1) != 0) list.push_back(Interrupt::kLegacy);
  if (node_.config.find_capability(pcie::cfg::kCapMsi)) list.push_back(Interrupt::kMsi);
  return index < list.size() ? list[index] : Interrupt::kNone;
}

bool PciProvider::enable_msi() {
  const std::uint16_t msi = node_.config.find_capability(pcie::cfg::kCapMsi);
  if (!msi) return false;
  pcie::Fabric& f = fabric();
  const pcie::Bdf bdf = node_.bdf;
  f.config_write(bdf, static_cast<std::uint16_t>(msi + 4), 4, static_cast<std::uint32_t>(kMsiAddress));
  f.config_write(bdf, static_cast<std::uint16_t>(msi + 8), 4, 0);
  f.config_write(bdf, static_cast<std::uint16_t>(msi + 12), 2, kMsiData);
  f.config_write(bdf, static_cast<std::uint16_t>(msi + 2), 2, f.config_read(bdf, msi + 2, 2) | 1);
  return true;
}

int PciProvider::bar_for_memory_index(std::uint8_t memory_index) const {
  return memory_index < node_.bars.size() ? memory_index : -1;
}

std::uint64_t PciProvider::bar_address(int bar) const {
  // Read the BAR registers as programmed, so a driver that moved a BAR sees the effect.
  std::uint16_t reg = pcie::cfg::kBar0;
  for (int i = 0; i < bar; ++i) reg = static_cast<std::uint16_t>(reg + (node_.bars[i].is64 ? 8 : 4));
  std::uint64_t base = node_.config.read(reg, 4) & ~std::uint64_t{0xf};
  if (node_.bars[bar].is64) base |= static_cast<std::uint64_t>(node_.config.read(reg + 4, 4)) << 32;
  return base;
}

PciProvider::ConfigImage read_config_image(pcie::Fabric& fabric, pcie::Bdf bdf) {
  PciProvider::ConfigImage image{};
  for (std::uint16_t i = 0; i < image.size(); ++i) image[i] = fabric.config_read(bdf, static_cast<std::uint16_t>(i * 4), 4);
  return image;
}

void write_config_image(pcie::Fabric& fabric, pcie::Bdf bdf, const PciProvider::ConfigImage& image) {
  for (std::uint16_t i = 2; i < image.size(); ++i) fabric.config_write(bdf, static_cast<std::uint16_t>(i * 4), 4, image[i]);
  fabric.config_write(bdf, pcie::cfg::kCommand, 2, image[1] & 0xffff);
}

}  // namespace dexthil::driverkit
