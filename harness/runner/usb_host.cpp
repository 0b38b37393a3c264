#include "harness/runner/usb_host.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "harness/driverkit/buses/usb/usb_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"

namespace dexthil::runner {

class UsbHost::Port final : public usb::HostPort {
 public:
  Port(UsbHost& host, std::string location) : host_(host), location_(std::move(location)) {}

  const std::string& location() const override { return location_; }

  void connect(usb::DeviceDescription device) override {
    if (!model_.empty()) check_interfaces(device);
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
  void expect(std::string model, std::vector<std::uint8_t> interfaces) {
    model_ = std::move(model);
    declared_ = std::move(interfaces);
    std::sort(declared_.begin(), declared_.end());
  }

 private:
  void check_interfaces(const usb::DeviceDescription& device) const {
    std::vector<std::uint8_t> numbers;
    for (const auto& i : device.interfaces) numbers.push_back(i.number);
    std::sort(numbers.begin(), numbers.end());
    if (numbers == declared_) return;
    const auto list = [](const std::vector<std::uint8_t>& v) {
      std::string out;
      for (std::uint8_t n : v) out += (out.empty() ? "" : ", ") + std::to_string(n);
      return out.empty() ? std::string("none") : out;
    };
    throw std::runtime_error("model " + model_ + " connected a device to USB port " + location_ +
                             " with interfaces " + list(numbers) + ", but its model type declares " + list(declared_) +
                             " (PortSpec::usb_interfaces, what the scenario's places were checked against)");
  }


  UsbHost& host_;
  std::string location_;
  std::optional<usb::DeviceDescription> device_;
  std::string model_;  // the model plugged in, if a model is
  std::vector<std::uint8_t> declared_;
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

usb::HostPort& UsbHost::model_port(const std::string& location, const std::string& model,
                                   std::vector<std::uint8_t> interfaces) {
  auto& p = static_cast<Port&>(port(location));
  p.expect(model, std::move(interfaces));
  return p;
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
