// A model type with a USB device port (a test-only one here; the UPS will be the first real one):
// the scenario plugs it in with usb_port, the model connects with its descriptors, the USB bus
// publishes its nubs, a USB dext (dexts/usbprobe) matches its interface, and [[hotplug]]
// usb_port pulls the cable. The loader refuses what the type's ports do not allow.
#include <gtest/gtest.h>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::runner {
namespace {

// The Megatec/Q1 UPS's USB bridge as far as its descriptors go: 0665:5161, one HID interface.
class DescriptorOnlyUps final : public ScenarioModel {
 public:
  explicit DescriptorOnlyUps(ModelContext& ctx) : port_(ctx.usb_port) {
    usb::DeviceDescription d;
    d.vendor = 0x0665;
    d.product = 0x5161;
    d.bcd_device = 0x0002;
    d.interfaces.push_back({0, 3, 0, 0});
    port_->connect(d);  // powered from the bus as soon as it is plugged in
  }
  void finish(sim::SimTime) override {}
  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"removed", removed_ ? "true" : "false"}};
  }
  void removed() override { removed_ = true; }

 private:
  usb::HostPort* port_;
  bool removed_ = false;
};

const ModelCatalog& catalog() {
  static const ModelCatalog c = [] {
    ModelCatalog c = models::builtin_catalog();
    ModelType t;
    t.info = {"test_usb_ups", "descriptors of a USB UPS (test only)", {}, {{scenario::PortKind::kUsbDevice, true, {0}}}, {}};
    t.create = [](ModelContext& ctx) { return std::make_unique<DescriptorOnlyUps>(ctx); };
    c.add(std::move(t));
    // The same device, from a type that declares interface 1 instead: a model bug the run names.
    ModelType wrong;
    wrong.info = {"test_usb_misdeclared", "descriptors unlike its declaration (test only)", {},
                  {{scenario::PortKind::kUsbDevice, true, {1}}}, {}};
    wrong.create = [](ModelContext& ctx) { return std::make_unique<DescriptorOnlyUps>(ctx); };
    c.add(std::move(wrong));
    return c;
  }();
  return c;
}

std::optional<scenario::Scenario> parse(const std::string& text, std::string* error) {
  return scenario::ScenarioLoader(catalog().infos(), catalog().sections())
      .load_text(text, "harness/runner/tests/usb.toml", error);
}

const std::string kHead = R"([scenario]
name = "usb-model"
duration = "5ms"
[[model]]
name = "ups"
type = "test_usb_ups"
)";

const std::string kDextAndExpectations = R"([[dext]]
name = "UsbProbeDriver"
[[expect]]
stat = "UsbProbeDriver@usb1.port1.if0.Starts"
equals = 1
[[expect]]
stat = "UsbProbeDriver@usb1.port1.if0.stage"
equals = "stopped"
[[expect]]
stat = "ups.removed"
equals = true
)";

TEST(UsbDevicePort, AModelsDescriptorsAreMatchedByADextAndItsCableIsPulled) {
  std::string error;
  auto s = parse(kHead + "usb_port = \"usb1.port1\"\n[[hotplug]]\nusb_port = \"usb1.port1\"\nremove_at = \"3ms\"\n" +
                     kDextAndExpectations,
                 &error);
  ASSERT_TRUE(s) << error;
  RunOptions options;
  options.dext_dirs = {DEXTHIL_DEXT_DIR};
  const ScenarioResult r = run_scenario(*s, catalog(), options);
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  EXPECT_TRUE(r.findings.empty());
}

TEST(UsbDevicePort, WithoutTheUnplugTheServiceRunsToTheEnd) {
  std::string error;
  auto s = parse(kHead + "usb_port = \"usb1.port1\"\n" + kDextAndExpectations, &error);
  ASSERT_TRUE(s) << error;
  RunOptions options;
  options.dext_dirs = {DEXTHIL_DEXT_DIR};
  const ScenarioResult r = run_scenario(*s, catalog(), options);
  // Stopped only at the end of the run (shutdown), and never removed: that expectation fails.
  EXPECT_EQ(r.outcome, Outcome::kFail);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("ups.removed"), std::string::npos) << r.failures[0];
}

TEST(UsbDevicePort, ADeviceUnlikeItsTypesDeclarationIsAnErrorNamingTheModel) {
  std::string error;
  auto s = parse("[scenario]\nname = \"x\"\nduration = \"1ms\"\n[[model]]\nname = \"ups\"\ntype = \"test_usb_misdeclared\"\n"
                 "usb_port = \"usb1.port1\"\n[[expect]]\nstat = \"ups.removed\"\nequals = false\n",
                 &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run_scenario(*s, catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kHarnessError);  // a built-in model's bug is dexthil's, never the dext's
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("model ups connected a device to USB port usb1.port1 with interfaces 0, but its model "
                               "type declares 1"),
            std::string::npos)
      << r.failures[0];
}

TEST(UsbDevicePort, TheLoaderAllowsOnlyWhatTheTypesPortsAllow) {
  std::string error;
  EXPECT_FALSE(parse(kHead + kDextAndExpectations, &error));
  EXPECT_EQ(error, "harness/runner/tests/usb.toml:4:1: error: model[0].usb_port: model type test_usb_ups is a USB device: "
                   "give it the USB port it plugs into (usb_port = \"usb1.port1\")");
  EXPECT_FALSE(parse(R"([scenario]
name = "x"
duration = "1ms"
[[model]]
name = "dma0"
type = "dma_exerciser"
usb_port = "usb1.port1"
)",
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/usb.toml:7:12: error: model[0].usb_port: model type dma_exerciser has no USB "
                   "device port, so it cannot plug into a USB port (its ports: PCIe function, host-memory DMA, clock)");
  EXPECT_FALSE(parse(kHead + "usb_port = \"usb1.port1\"\n[[usb_device]]\nport = \"usb1.port1\"\nvendor = 1\nproduct = 2\n"
                             "[[usb_device.interface]]\nnumber = 0\n",
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/usb.toml:9:8: error: usb_device[0].port: \"usb1.port1\" is already a "
                   "[[model]]'s USB port, interface or serial line");
  // A serial line may not take a USB port's or interface's name.
  EXPECT_FALSE(parse(kHead + "usb_port = \"usb1.port1\"\n[[model]]\nname = \"d\"\ntype = \"test_usb_ups\"\n"
                             "usb_port = \"usb1.port1.if0\"\n",
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/usb.toml:8:1: error: model[1].usb_port: \"usb1.port1.if0\" is already the name "
                   "of an interface of model ups's USB device");
  EXPECT_FALSE(parse(kHead + "usb_port = \"usb1.port1\"\n[[hotplug]]\nusb_port = \"usb1.port2\"\nremove_at = \"1ms\"\n",
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/usb.toml:9:12: error: hotplug[0].usb_port: no [[model]] is plugged into USB "
                   "port \"usb1.port2\"");
  // An interface the type declares is a place [[expect]] may name; another is not.
  EXPECT_TRUE(parse(kHead + "usb_port = \"usb1.port1\"\n[[expect]]\nfinding = \"dext.crashed\"\nendpoint = \"usb1.port1.if0\"\n"
                            "count = 0\n[[expect]]\nstat = \"ups.removed\"\nequals = false\n",
                    &error))
      << error;
  EXPECT_FALSE(parse(kHead + "usb_port = \"usb1.port1\"\n[[expect]]\nfinding = \"dext.crashed\"\nendpoint = \"usb1.port1.if1\"\n"
                             "count = 0\n[[expect]]\nstat = \"ups.removed\"\nequals = false\n",
                     &error));
}

}  // namespace
}  // namespace dexthil::runner
