#pragma once
// The USB bus plug-in: for each attached device an IOUSBHostDevice nub and an IOUSBHostInterface
// nub per interface of its configuration, published with the descriptor fields IOUSBHostFamily
// puts in their property tables (idVendor, idProduct, bcdDevice, bInterfaceNumber, ...) and
// matched by IOKit's USB rules (usb_match_score, QA1076). Devices come and go during a run
// (attach, unplug). The pipes and transfers behind the nubs come with the simulated USB host;
// until then a dext's service gets its nub as a plain IOService provider.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/driverkit/kernel/bus_plugin.hpp"
#include "harness/usb/device_description.hpp"

namespace dexthil::driverkit {

class Kernel;
struct UsbNub;

class UsbBus final : public BusPlugin {
 public:
  explicit UsbBus(Kernel& kernel) : kernel_(kernel) {}
  ~UsbBus() override;
  UsbBus(const UsbBus&) = delete;
  UsbBus& operator=(const UsbBus&) = delete;

  // A device on the bus: published when the bus is added to the kernel, or at once (and matched)
  // if it already was, as a device plugged in during a run.
  void attach(usb::DeviceDescription device);
  // The device at `location` is unplugged: its interfaces' and its own nubs are terminated, and
  // the services on them stopped.
  void unplug(const std::string& location);

  void publish() override;
  std::optional<std::int64_t> match(const Personality& personality, const Nub& nub) const override;
  std::vector<std::string> mismatches(const Personality& personality, const Nub& nub) const override;
  std::string describe(const Nub& nub) const override;

 private:
  void publish_device(const usb::DeviceDescription& device);
  UsbNub fields(const Nub& nub) const;

  Kernel& kernel_;
  bool published_ = false;
  std::vector<usb::DeviceDescription> devices_;
  std::vector<IOService*> objects_;  // the nub objects, released with the bus
};

}  // namespace dexthil::driverkit
