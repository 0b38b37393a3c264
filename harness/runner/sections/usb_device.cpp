#include "harness/runner/sections/usb_device.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/runner/run_context.hpp"
#include "harness/runner/usb_host.hpp"
#include "harness/usb/device_description.hpp"

namespace dexthil::runner {
namespace {

struct Device {
  usb::DeviceDescription description;
  std::optional<sim::SimTime> unplug_at;
};

class UsbDeviceData final : public scenario::SectionData {
 public:
  explicit UsbDeviceData(std::vector<Device> devices) : devices_(std::move(devices)) {}

  void apply(RunContext& run) const override {
    for (const Device& d : devices_) {
      usb::HostPort& port = run.usb_host.port(d.description.location);
      port.connect(d.description);
      if (d.unplug_at) run.sim.at(*d.unplug_at, [&port] { port.disconnect(); });
    }
  }

  std::vector<std::string> places() const override {
    std::vector<std::string> out;
    for (const Device& d : devices_) {
      out.push_back(d.description.location);
      for (const auto& i : d.description.interfaces) out.push_back(d.description.interface_location(i));
    }
    return out;
  }

 private:
  std::vector<Device> devices_;
};

class UsbDeviceSection final : public scenario::SectionPlugin {
 public:
  std::string_view key() const override { return "usb_device"; }
  std::string_view summary() const override {
    return "a USB device (port, vendor, product, bcd_device, class, [[usb_device.interface]], unplug_at) whose "
           "device and interface nubs dexts match";
  }

  std::shared_ptr<const scenario::SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                    const scenario::SectionScope& scope) const override {
    std::vector<Device> devices;
    std::set<std::string> ports;
    in.for_each_table(section, "usb_device", [&](const toml::table& t, const std::string& path) {
      in.allow_keys(t, path, {"port", "vendor", "product", "bcd_device", "class", "subclass", "protocol",
                              "configuration", "unplug_at", "interface"});
      Device d;
      usb::DeviceDescription& u = d.description;
      u.location = in.string(t, "port", path, true).value();
      scenario::check_place_name(in, *t.get("port"), path + ".port", u.location, "port", "usb1.port1", scope.endpoints);
      if (scope.model_places.count(u.location)) {
        in.fail(*t.get("port"), path + ".port",
                "\"" + u.location + "\" is already a [[model]]'s USB port, interface or serial line");
      }
      if (!ports.insert(u.location).second) {
        in.fail(*t.get("port"), path + ".port", "another [[usb_device]] is already at port \"" + u.location + "\"");
      }
      auto u16 = [&](const char* key, bool required) {
        auto v = in.integer(t, key, path, 0, 0xffff);
        if (!v && required) in.fail(t, path + "." + key, std::string("missing required key \"") + key + "\"");
        return static_cast<std::uint16_t>(v.value_or(0));
      };
      auto u8 = [&](const toml::table& table, const char* key, const std::string& at, std::int64_t fallback) {
        return static_cast<std::uint8_t>(in.integer(table, key, at, 0, 0xff).value_or(fallback));
      };
      u.vendor = u16("vendor", true);
      u.product = u16("product", true);
      u.bcd_device = u16("bcd_device", false);
      u.device_class = u8(t, "class", path, 0);
      u.device_subclass = u8(t, "subclass", path, 0);
      u.device_protocol = u8(t, "protocol", path, 0);
      u.configuration_value = u8(t, "configuration", path, 1);
      d.unplug_at = in.duration(t, "unplug_at", path, false, 0, scope.scenario.duration);
      const toml::node* interfaces = t.get("interface");
      if (!interfaces) {
        in.fail(t, path + ".interface",
                "a USB device needs at least one [[usb_device.interface]] (number, class, subclass, protocol): "
                "its configuration's interfaces are what USB dexts match");
      }
      std::set<std::uint8_t> numbers;
      in.for_each_table(*interfaces, path + ".interface", [&](const toml::table& it, const std::string& at) {
        in.allow_keys(it, at, {"number", "class", "subclass", "protocol"});
        usb::DeviceDescription::Interface i;
        if (!it.get("number")) in.fail(it, at + ".number", "missing required key \"number\"");
        i.number = u8(it, "number", at, 0);
        if (!numbers.insert(i.number).second) {
          in.fail(*it.get("number"), at + ".number", "interface " + std::to_string(i.number) + " is listed twice");
        }
        i.interface_class = u8(it, "class", at, 0);
        i.interface_subclass = u8(it, "subclass", at, 0);
        i.interface_protocol = u8(it, "protocol", at, 0);
        u.interfaces.push_back(i);
      });
      devices.push_back(std::move(d));
    });
    return std::make_shared<UsbDeviceData>(std::move(devices));
  }
};

}  // namespace

std::shared_ptr<const scenario::SectionPlugin> usb_device_section() { return std::make_shared<UsbDeviceSection>(); }

}  // namespace dexthil::runner
