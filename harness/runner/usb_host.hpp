#pragma once
// The simulated USB host's downstream ports, as a run sets them up: one for each port a model
// (usb_port = ...) or a [[usb_device]] plugs into. Behind them stands the kernel's USB bus
// plug-in when the scenario loads dexts: a device connected to a port gets its IOUSBHostDevice
// and IOUSBHostInterface nubs, and loses them when it disconnects. Without dexts the ports only
// keep track of what is connected. (The host controller's transfers come with the UPS.)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/usb/host_port.hpp"

namespace dexthil::driverkit {
class Kernel;
class UsbBus;
}

namespace dexthil::runner {

class UsbHost {
 public:
  UsbHost();
  ~UsbHost();
  UsbHost(const UsbHost&) = delete;
  UsbHost& operator=(const UsbHost&) = delete;

  // The port at `location` ("usb1.port1"), made on first use.
  usb::HostPort& port(const std::string& location);
  // The port a model is plugged into: a device it connects must have the interfaces its type
  // declares (what the scenario's places were checked against), or the run stops with an error.
  usb::HostPort& model_port(const std::string& location, const std::string& model,
                            std::vector<std::uint8_t> interfaces);
  // The kernel is made after the models, which may connect at power-on: the devices connected so
  // far are attached to a new USB bus plug-in of the kernel, and later ones as they come.
  void attach_kernel(driverkit::Kernel& kernel);
  // Before the kernel goes: ports stop forwarding to its bus.
  void detach_kernel() { bus_ = nullptr; }

 private:
  class Port;
  std::vector<std::unique_ptr<Port>> ports_;
  driverkit::UsbBus* bus_ = nullptr;  // owned by the kernel
};

}  // namespace dexthil::runner
