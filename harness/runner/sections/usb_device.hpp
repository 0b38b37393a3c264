#pragma once
// [[usb_device]]: a USB device on the simulated bus, as its descriptors describe it, for dexts to
// match: the USB bus plug-in publishes an IOUSBHostDevice nub at `port` and an
// IOUSBHostInterface nub per [[usb_device.interface]] at PORT.ifN. `unplug_at` unplugs it.
#include <memory>

#include "harness/scenario/section.hpp"

namespace dexthil::runner {

std::shared_ptr<const scenario::SectionPlugin> usb_device_section();

}  // namespace dexthil::runner
