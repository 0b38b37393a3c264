#pragma once
// A USB device as its descriptors describe it (the device descriptor and its configuration's
// interface descriptors), at a place on the bus. Hardware facts only: a device model states
// them, and the USB bus plug-in turns them into IOUSBHostDevice and IOUSBHostInterface nubs.
#include <cstdint>
#include <string>
#include <vector>

namespace dexthil::usb {

struct DeviceDescription {
  std::string location;  // "usb1.port2": the device's place; its interfaces are "usb1.port2.if0", ...
  std::uint16_t vendor = 0, product = 0, bcd_device = 0;
  std::uint8_t device_class = 0, device_subclass = 0, device_protocol = 0;
  std::uint8_t configuration_value = 1;
  struct Interface {
    std::uint8_t number = 0, interface_class = 0, interface_subclass = 0, interface_protocol = 0;
  };
  std::vector<Interface> interfaces;

  // Where an interface sits: "usb1.port2.if0".
  std::string interface_location(const Interface& i) const { return interface_location(location, i.number); }
  static std::string interface_location(const std::string& port, std::uint8_t number) {
    return port + ".if" + std::to_string(number);
  }
};

}  // namespace dexthil::usb
