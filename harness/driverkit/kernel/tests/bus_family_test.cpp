// The kernel's seams for buses and families: the nub registry and its properties, matching over
// it by each bus's keys, a dext on a USB interface nub with no PCIe fabric at all, hot plug, and a
// family's kernel half reached through the personality's IOClass.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/buses/usb/usb_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/kernel/tests/dext_test_support.hpp"
#include "harness/pcie/tests/machine.hpp"

namespace dexthil::driverkit {
namespace {

using testing::dext_library;

// dexts/usbprobe/Info.plist with one text replaced, written to a file of its own.
std::string usbprobe_plist_with(const std::string& from, const std::string& to, const std::string& name) {
  std::ifstream in("dexts/usbprobe/Info.plist");
  std::stringstream text;
  text << in.rdbuf();
  std::string plist = text.str();
  const auto at = plist.find(from);
  if (at == std::string::npos) throw std::runtime_error("no " + from + " in dexts/usbprobe/Info.plist");
  plist.replace(at, from.size(), to);
  const auto path = std::filesystem::temp_directory_path() / ("dexthil-" + name + "-Info.plist");
  std::ofstream(path) << plist;
  return path.string();
}

// The Megatec/Q1 UPS's USB bridge as it enumerates: one HID interface.
usb::DeviceDescription megatec_ups(std::uint16_t product = 0x5161) {
  usb::DeviceDescription d;
  d.location = "usb1.port1";
  d.vendor = 0x0665;
  d.product = product;
  d.bcd_device = 0x0002;
  d.interfaces = {{0, 0x03, 0x00, 0x00}};
  return d;
}

// A machine with a USB bus and no PCIe topology.
struct UsbMachine {
  explicit UsbMachine(const std::string& plist = "dexts/usbprobe/Info.plist", bool attach_before = true)
      : sim(1), buffers(0x20'0000'0000, 1ULL << 30), checkers(monitor, findings, sim.trace()), kernel(sim, memory, buffers, monitor) {
    auto owned = std::make_unique<UsbBus>(kernel);
    bus = owned.get();
    if (attach_before) bus->attach(megatec_ups());
    kernel.add_bus(std::move(owned));
    std::string error;
    loaded = kernel.load_dext(dext_library("UsbProbeDriver"), plist, &error);
    EXPECT_TRUE(loaded) << error;
  }
  void run_for(sim::SimTime t) { sim.run_until(sim.now() + t); }
  const ServiceRecord* service() const { return testing::last_service(kernel); }
  std::string published(const std::string& key) const {
    for (const auto& f : kernel.service_figures()) {
      for (const auto& [k, v] : f.values) {
        if (k == key) return v;
      }
    }
    return "(not published)";
  }
  std::string all_findings() const { return testing::findings_text(findings); }

  sim::Simulator sim;
  hostmem::SparseMemory memory;
  hostmem::PageAllocator buffers;
  checks::FindingLog findings;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
  UsbBus* bus = nullptr;
  bool loaded = false;
};

TEST(NubRegistry, PropertiesAreLookedUpByKeyAndTheNewestNubWinsALocation) {
  UsbMachine m;
  const auto& nubs = m.kernel.registry().all();
  ASSERT_EQ(nubs.size(), 3u);  // the Mac's resources, the device and its one interface
  EXPECT_EQ(nubs[0]->provider_class, "IOUserResources");
  const Nub& device = *nubs[1];
  const Nub& interface = *nubs[2];
  EXPECT_EQ(device.provider_class, "IOUSBHostDevice");
  EXPECT_EQ(device.location, "usb1.port1");
  EXPECT_EQ(interface.provider_class, "IOUSBHostInterface");
  EXPECT_EQ(interface.location, "usb1.port1.if0");
  EXPECT_EQ(interface.entry_id, device.entry_id + 1);
  EXPECT_EQ(interface.number("idVendor"), 0x0665u);
  EXPECT_EQ(interface.number("idProduct"), 0x5161u);
  EXPECT_EQ(interface.number("bInterfaceClass"), 0x03u);
  EXPECT_EQ(device.number("bInterfaceNumber"), std::nullopt);  // a device nub has no interface fields
  EXPECT_EQ(m.kernel.nub("usb1.port1.if0"), &interface);
  EXPECT_EQ(m.kernel.nub("usb1.port9"), nullptr);

  // Unplugged and plugged in again: the same place, a new nub.
  m.bus->unplug("usb1.port1");
  EXPECT_TRUE(interface.terminated);
  m.bus->attach(megatec_ups());
  ASSERT_EQ(nubs.size(), 5u);
  EXPECT_EQ(m.kernel.nub("usb1.port1.if0"), nubs[4].get());
  EXPECT_FALSE(nubs[4]->terminated);
}

TEST(NubRegistry, ThePciBusPublishesAFunctionWithIOPCIFamilysProperties) {
  pcie::testing::Machine m("direct");
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers(monitor, m.findings, m.sim.trace());
  Kernel kernel(m.sim, m.memory, m.buffers, monitor);
  kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
  ASSERT_EQ(kernel.registry().all().size(), 2u);  // the Mac's resources, then the function
  const Nub& nub = *kernel.registry().all()[1];
  EXPECT_EQ(nub.provider_class, "IOPCIDevice");
  EXPECT_EQ(nub.location, "dev");
  EXPECT_NE(OSDynamicCast(IOPCIDevice, nub.object), nullptr);
  EXPECT_EQ(nub.number("vendor-id"), 0x1234u);
  EXPECT_EQ(nub.number("device-id"), 0x5678u);
  EXPECT_EQ(nub.number("class-code"), m.node("dev").class_code);
  const NubProperty* name = nub.property("IOName");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(std::get<std::string>(*name), "pci1234,5678");
  EXPECT_EQ(std::get<std::string>(*nub.property("pcidebug")), "1:0:0");
  EXPECT_EQ(nub.bus->describe(nub), "dev (1234:5678, 01:00.0)");
}

TEST(UsbBus, ADextOnAUsbInterfaceNubRunsWithNoPcieFabric) {
  UsbMachine m;
  m.kernel.start_matching();
  m.run_for(5 * sim::kMillisecond);
  const ServiceRecord* rec = m.service();
  ASSERT_NE(rec, nullptr) << m.all_findings();
  EXPECT_EQ(rec->name, "UsbProbeDriver@usb1.port1.if0");
  EXPECT_EQ(rec->stage, ServiceRecord::Stage::kStarted);
  EXPECT_EQ(rec->provider, m.kernel.nub("usb1.port1.if0")->object);  // the interface, not the device
  EXPECT_EQ(m.published("Starts"), "1");
  EXPECT_EQ(m.published("HasProvider"), "1");
  EXPECT_EQ(m.published("PowerChanges"), "1");  // joined the power tree after Start
  m.kernel.terminate_all();
  m.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(rec->stage, ServiceRecord::Stage::kStopped);
  m.kernel.finish();
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

TEST(UsbBus, UnplugStopsTheServiceOnTheInterface) {
  UsbMachine m;
  m.kernel.start_matching();
  m.run_for(1 * sim::kMillisecond);
  ASSERT_NE(m.service(), nullptr);
  m.bus->unplug("usb1.port1");
  m.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(m.service()->stage, ServiceRecord::Stage::kStopped);
  EXPECT_TRUE(m.service()->released);
  m.kernel.finish();
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

TEST(UsbBus, ADevicePluggedInDuringTheRunIsMatchedAtOnce) {
  UsbMachine m("dexts/usbprobe/Info.plist", /*attach_before=*/false);
  m.kernel.start_matching();
  // Nothing to match yet: the dext matched nothing, and says why.
  ASSERT_EQ(m.findings.all().size(), 1u);
  EXPECT_EQ(m.findings.all()[0].check, "dext.no-match");
  EXPECT_EQ(m.findings.all()[0].why.rfind("No bus published a nub", 0), 0u) << m.findings.all()[0].why;
  m.run_for(2 * sim::kMillisecond);
  m.bus->attach(megatec_ups());
  m.run_for(1 * sim::kMillisecond);
  ASSERT_NE(m.service(), nullptr);
  EXPECT_EQ(m.service()->stage, ServiceRecord::Stage::kStarted);
}

TEST(UsbBus, ADextThatMatchesNothingNamesTheUsbKeyThatFailed) {
  // The probe's product ID is one off the UPS's.
  const std::string plist = usbprobe_plist_with("<integer>20833</integer>", "<integer>20834</integer>", "usb-no-match");
  UsbMachine wrong(plist);
  wrong.kernel.start_matching();
  ASSERT_EQ(wrong.findings.all().size(), 1u) << wrong.all_findings();
  const checks::Finding& f = wrong.findings.all()[0];
  EXPECT_EQ(f.check, "dext.no-match");
  EXPECT_EQ(f.what, "org.dexthil.UsbProbeDriver matched nothing: the kernel started none of its personalities");
  EXPECT_EQ(f.why.rfind("Closest: personality \"UsbProbeDriver\" against usb1.port1.if0 (0665:5161, interface 0): "
                        "idProduct does not match the nub's 0x5161.",
                        0),
            0u)
      << f.why;
  EXPECT_EQ(f.subject, "usb1.port1.if0");
}

TEST(UsbBus, TheHighestUsbScoreWinsAcrossDexts) {
  // The same dext loaded twice: once as is (vendor+product+configuration+interface, 90000), once
  // matching by interface class only (60000 for class+subclass+protocol). The exact one wins.
  UsbMachine m;
  std::string plist = usbprobe_plist_with(
      "<key>idVendor</key>\n\t\t\t<integer>1637</integer>\n\t\t\t<key>idProduct</key>\n\t\t\t<integer>20833</integer>\n\t\t\t"
      "<key>bConfigurationValue</key>\n\t\t\t<integer>1</integer>\n\t\t\t<key>bInterfaceNumber</key>\n\t\t\t<integer>0</integer>",
      "<key>bInterfaceClass</key>\n\t\t\t<integer>3</integer>\n\t\t\t<key>bInterfaceSubClass</key>\n\t\t\t<integer>0</integer>"
      "\n\t\t\t<key>bInterfaceProtocol</key>\n\t\t\t<integer>0</integer>",
      "usb-by-class");
  std::string error;
  ASSERT_TRUE(m.kernel.load_dext(dext_library("UsbProbeDriver"), plist, &error)) << error;
  m.kernel.start_matching();
  m.run_for(1 * sim::kMillisecond);
  ASSERT_EQ(m.kernel.processes().size(), 1u);
  EXPECT_EQ(m.kernel.processes()[0]->personality->usb_keys.count("idProduct"), 1u);
  // The class-matching copy lost on score, so it is not a no-match either.
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

// A family's kernel half, as a test stands it up: it answers for one kernel class.
class RecordingFamily final : public FamilyPlugin {
 public:
  const families::FamilyDefinition& definition() const override { return definition_; }
  void started(Kernel&, ServiceRecord& service) override {
    events.push_back("started " + service.name + (service.stage == ServiceRecord::Stage::kStarted ? " (Started)" : ""));
  }
  void stopping(Kernel&, ServiceRecord& service) override { events.push_back("stopping " + service.name); }
  std::vector<std::string> events;

 private:
  families::FamilyDefinition definition_{"TestFamilyDriverKit", "", {"DexthilTestController"}, {}};
};

TEST(FamilyPlugin, TheKernelHalfNamedByIOClassGetsTheServiceAfterStartAndBeforeStop) {
  UsbMachine m(usbprobe_plist_with("<string>IOUserService</string>", "<string>DexthilTestController</string>",
                                   "family"));
  auto family = std::make_unique<RecordingFamily>();
  RecordingFamily* recording = family.get();
  m.kernel.add_family(std::move(family));
  m.kernel.start_matching();
  m.run_for(1 * sim::kMillisecond);
  m.bus->unplug("usb1.port1");
  m.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(recording->events, (std::vector<std::string>{"started UsbProbeDriver@usb1.port1.if0 (Started)",
                                                         "stopping UsbProbeDriver@usb1.port1.if0"}));
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

TEST(FamilyPlugin, AFamilyClassWithoutAKernelHalfIsAFindingNotASilentPass) {
  UsbMachine m(usbprobe_plist_with("<string>IOUserService</string>",
                                   "<string>IOUserSCSIParallelInterfaceController</string>", "scsi-family"));
  m.kernel.start_matching();
  m.run_for(1 * sim::kMillisecond);
  ASSERT_EQ(m.findings.all().size(), 1u) << m.all_findings();
  const checks::Finding& f = m.findings.all()[0];
  EXPECT_EQ(f.check, "dext.family-not-simulated");
  EXPECT_EQ(f.where, "UsbProbeDriver@usb1.port1.if0");
  EXPECT_EQ(f.what,
            "IOClass IOUserSCSIParallelInterfaceController asks for SCSIControllerDriverKit's kernel half, which dexthil "
            "does not simulate yet");
  EXPECT_EQ(m.service()->stage, ServiceRecord::Stage::kStarted);  // it ran as a plain IOUserService
}

TEST(FamilyDefinitions, EveryKernelClassBelongsToOneFamily) {
  std::set<std::string_view> seen;
  for (const families::FamilyDefinition* f : families::all()) {
    for (std::string_view c : f->kernel_classes) {
      EXPECT_TRUE(seen.insert(c).second) << c << " is claimed twice";
      EXPECT_EQ(families::family_of_kernel_class(c), f);
    }
  }
  EXPECT_EQ(families::family_of_kernel_class("IOUserService"), &families::driverkit());
  EXPECT_EQ(families::family_of_kernel_class("IOUserSCSIParallelInterfaceController"), &families::scsi_controller());
  EXPECT_EQ(families::family_of_kernel_class("NoSuchClass"), nullptr);
}

}  // namespace
}  // namespace dexthil::driverkit
