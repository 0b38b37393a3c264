#include "harness/runner/usb_host.hpp"

#include <optional>

#include "harness/driverkit/buses/usb/usb_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"

namespace dexthil::runner {

class UsbHost::Port final : public usb::HostPort {
 public:
  Port(UsbHost& host, std::string location) : host_(host), location_(std::move(location)) {}

  const std::string& location() const override { return location_; }

  void connect(usb::DeviceDescription device) override {
    disconnect();  // a new device in the same port replaces the old one
    device.location = location_;
    device_ = std::move(device);
    if (host_.bus_) host_.bus_->attach(*device_);
  }

  void disconnect() override {
    if (!device_) return;
    device_.reset();
    if (host_.bus_) host_.bus_->unplug(location_);
  }

  const std::optional<usb::DeviceDescription>& device() const { return device_; }

 private:
  UsbHost& host_;
  std::string location_;
  std::optional<usb::DeviceDescription> device_;
};

UsbHost::UsbHost() = default;
UsbHost::~UsbHost() = default;

usb::HostPort& UsbHost::port(const std::string& location) {
  for (const auto& p : ports_) {
    if (p->location() == location) return *p;
  }
  ports_.push_back(std::make_unique<Port>(*this, location));
  return *ports_.back();
}

void UsbHost::attach_kernel(driverkit::Kernel& kernel) {
  auto bus = std::make_unique<driverkit::UsbBus>(kernel);
  for (const auto& p : ports_) {
    if (p->device()) bus->attach(*p->device());
  }
  bus_ = bus.get();
  kernel.add_bus(std::move(bus));
}

}  // namespace dexthil::runner
