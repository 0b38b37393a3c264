#pragma once
// A downstream port of the simulated USB host, as a device model plugged into it sees it: the
// model connects with its descriptors once it is powered and ready to enumerate, and
// disconnects when it is unplugged. What stands behind the port (the USB bus plug-in's nubs for
// dexts today; the host controller's transfers with the UPS) sees the device come and go.
#include <string>

#include "harness/usb/device_description.hpp"

namespace dexthil::usb {

class HostPort {
 public:
  virtual ~HostPort() = default;
  // "usb1.port1", as the scenario names it.
  virtual const std::string& location() const = 0;
  // The device attaches: `device.location` is taken to be this port's.
  virtual void connect(DeviceDescription device) = 0;
  // The device detaches (unplugged, or powered off); nothing if it was not connected.
  virtual void disconnect() = 0;
};

}  // namespace dexthil::usb
