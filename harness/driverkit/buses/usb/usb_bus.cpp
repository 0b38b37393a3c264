#include "harness/driverkit/buses/usb/usb_bus.hpp"

#include <cstdio>

#include <DriverKit/IOService.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/matching/info_plist.hpp"

namespace dexthil::driverkit {

UsbBus::~UsbBus() {
  for (IOService* object : objects_) object->release();
}

void UsbBus::attach(usb::DeviceDescription device) {
  devices_.push_back(std::move(device));
  if (published_) publish_device(devices_.back());
}

void UsbBus::publish() {
  published_ = true;
  for (const usb::DeviceDescription& d : devices_) publish_device(d);
}

void UsbBus::publish_device(const usb::DeviceDescription& d) {
  auto object = [this] {
    IOService* nub = OSTypeAlloc(IOService);
    nub->init();
    objects_.push_back(nub);
    return nub;
  };
  const NubProperties device{{"idVendor", std::uint64_t{d.vendor}},
                             {"idProduct", std::uint64_t{d.product}},
                             {"bcdDevice", std::uint64_t{d.bcd_device}},
                             {"bDeviceClass", std::uint64_t{d.device_class}},
                             {"bDeviceSubClass", std::uint64_t{d.device_subclass}},
                             {"bDeviceProtocol", std::uint64_t{d.device_protocol}}};
  kernel_.publish(*this, "IOUSBHostDevice", d.location, object(), device);
  for (const usb::DeviceDescription::Interface& i : d.interfaces) {
    // An interface nub carries its device's IDs too, as IOUSBHostInterface's property table does.
    NubProperties interface = device;
    interface.insert(interface.end(), {{"bConfigurationValue", std::uint64_t{d.configuration_value}},
                                       {"bInterfaceNumber", std::uint64_t{i.number}},
                                       {"bInterfaceClass", std::uint64_t{i.interface_class}},
                                       {"bInterfaceSubClass", std::uint64_t{i.interface_subclass}},
                                       {"bInterfaceProtocol", std::uint64_t{i.interface_protocol}}});
    kernel_.publish(*this, "IOUSBHostInterface", d.interface_location(i), object(),
                    std::move(interface));
  }
}

void UsbBus::unplug(const std::string& location) {
  for (const usb::DeviceDescription& d : devices_) {
    if (d.location != location) continue;
    // Interfaces first, as IOUSBHostFamily terminates a device's children before the device.
    for (const usb::DeviceDescription::Interface& i : d.interfaces) {
      kernel_.device_removed(d.interface_location(i));
    }
    kernel_.device_removed(d.location);
  }
  // The port is free again: a device plugged in later is a new device.
  std::erase_if(devices_, [&](const usb::DeviceDescription& d) { return d.location == location; });
}

UsbNub UsbBus::fields(const Nub& nub) const {
  auto u8 = [&](const char* key) { return static_cast<std::uint8_t>(nub.number(key).value_or(0)); };
  auto u16 = [&](const char* key) { return static_cast<std::uint16_t>(nub.number(key).value_or(0)); };
  UsbNub out;
  out.interface = nub.provider_class == "IOUSBHostInterface";
  out.vendor = u16("idVendor");
  out.product = u16("idProduct");
  out.bcd_device = u16("bcdDevice");
  out.device_class = u8("bDeviceClass");
  out.device_subclass = u8("bDeviceSubClass");
  out.device_protocol = u8("bDeviceProtocol");
  out.configuration_value = u8("bConfigurationValue");
  out.interface_number = u8("bInterfaceNumber");
  out.interface_class = u8("bInterfaceClass");
  out.interface_subclass = u8("bInterfaceSubClass");
  out.interface_protocol = u8("bInterfaceProtocol");
  return out;
}

std::optional<std::int64_t> UsbBus::match(const Personality& p, const Nub& nub) const {
  return usb_match_score(p, fields(nub));
}

std::vector<std::string> UsbBus::mismatches(const Personality& p, const Nub& nub) const {
  return usb_mismatches(p, fields(nub));
}

std::string UsbBus::describe(const Nub& nub) const {
  const UsbNub f = fields(nub);
  char ids[16];
  std::snprintf(ids, sizeof ids, "%04x:%04x", f.vendor, f.product);
  return nub.location + " (" + ids + (f.interface ? ", interface " + std::to_string(f.interface_number) : "") + ")";
}

}  // namespace dexthil::driverkit
