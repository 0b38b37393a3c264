// The kernel and DriverKit's classes, exercised by a real dext (dexts/testdev) built from its
// .iig, .cpp and Info.plist against the RTL DMA test device behind the simulated fabric. Each
// planted mistake (a TESTDEV_BUG_* variant) must give its finding; the correct driver none.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/kernel/tests/dext_test_support.hpp"
#include "harness/pcie/config_space.hpp"
#include "harness/pcie/tests/machine.hpp"
#include "models/dma_testdev/dma_testdev.hpp"

namespace dexthil::driverkit {
namespace {

using testing::dext_library;

// Start reads the Command register (a kernel call, 2 us, around a 500 ns round trip through the
// direct topology's two hops) and the ID register (500 ns) before it arms its 1 ms watchdog, so
// the watchdog fires this long after Start began.
constexpr sim::SimTime kWatchdogFires = 1 * sim::kMillisecond + 3 * sim::kMicrosecond;
// After a crash recovery Memory Space is off, and Start turns it on: one config write (2.5 us) more.
constexpr sim::SimTime kWatchdogFiresAfterRecovery = kWatchdogFires + 2500 * sim::kNanosecond;
// IOPCIFamily's recovery of a function whose client crashed, by FLR: 100 ms for posted requests,
// 2 ms polling Transactions Pending, 100 ms after the reset (IOPCIBridge::childClientCrashRecoveryGated,
// IOPCIDevice::resetFunction). By hot reset: 100 ms, the reset held 100 ms, 100 ms for the link.
constexpr sim::SimTime kFlrRecovery = 202 * sim::kMillisecond;
constexpr sim::SimTime kHotResetRecovery = 300 * sim::kMillisecond;

struct DextMachine {
  explicit DextMachine(const std::string& variant, KernelProfile profile = {}, const std::string& topology = "direct",
                       const std::string& topology_text = "")
      : m(topology, 1, topology_text),
        checkers(monitor, m.findings, m.sim.trace()),
        kernel(m.sim, m.memory, m.buffers, monitor, std::move(profile)),
        device("testdev", m.sim, *m.fabric, m.node("dev")) {
    kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
    m.sim.attach(device, m.sim.add_clock("testdev.clk", 4000));
    const std::string target = variant.empty() ? "TestdevDriver" : "TestdevDriver-" + variant;
    std::string error;
    loaded = kernel.load_dext(dext_library(target), "dexts/testdev/Info.plist", &error);
    EXPECT_TRUE(loaded) << error;
    kernel.start_matching();
  }
  void run_for(sim::SimTime t) { m.sim.run_until(m.sim.now() + t); }

  const ServiceRecord* service() const { return testing::last_service(kernel); }
  // A number the driver published with SetProperties.
  std::uint64_t property(const char* key) { return testing::published_number(service(), key); }
  std::vector<checks::Finding> with_check(const std::string& check) const {
    return testing::findings_with_check(m.findings, check);
  }
  std::string all_findings() const { return testing::findings_text(m.findings); }

  pcie::testing::Machine m;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;  // what the kernel's events mean
  Kernel kernel;
  models::DmaTestdev device;
  bool loaded = false;
};

// A kernel with the PCI bus on a bare machine and no dext loaded: for calling the kernel's
// classes directly, as a dext would.
struct BareKernel {
  explicit BareKernel(const std::string& topology)
      : m(topology), checkers(monitor, m.findings, m.sim.trace()), kernel(m.sim, m.memory, m.buffers, monitor) {
    kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
  }
  IOPCIDevice* pci(const char* location = "dev") { return OSDynamicCast(IOPCIDevice, kernel.nub(location)->object); }

  pcie::testing::Machine m;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
};

TEST(DriverKitKernel, CorrectDriverStartsTransfersAndStopsCleanly) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  ASSERT_NE(d.service(), nullptr);
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStarted);
  EXPECT_TRUE(d.service()->in_power_tree);
  EXPECT_EQ(d.property("TransfersOK"), 2u);  // the device wrote the pattern, then read it back
  EXPECT_EQ(d.property("DataOK"), 1u);       // the CPU saw the device's bytes through the buffer
  EXPECT_EQ(d.property("Interrupts"), 2u);
  EXPECT_EQ(d.property("TimerFires"), 1u);   // the 1 ms watchdog, on simulated mach time
  EXPECT_EQ(d.property("PowerChanges"), 1u);  // the first SetPowerState(On) after Start
  // PrepareForDMA mapped the buffer under the SID of the function's own RID only.
  const platform::DmaMapper& mapper = d.m.mapper_of("dev");
  ASSERT_EQ(mapper.live_count(), 1u);
  const platform::PreparedMapping* mapping = mapper.live_containing("dev", 0x8000'0000, 1);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->iova, 0x8000'0000u);
  EXPECT_EQ(mapping->sids, std::vector<std::uint32_t>{d.m.fabric->sid_for(d.m.root_of("dev"), d.m.node("dev").bdf.rid())});
  EXPECT_EQ(d.device.msis_sent(), 2u);

  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStopped);
  EXPECT_EQ(mapper.live_count(), 0u);  // CompleteDMA in Stop
  EXPECT_NE(mapper.completed_overlapping("dev", 0x8000'0000, 1), nullptr);
  d.kernel.finish();
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, StopWithTheWatchdogStillArmedLeavesNothingBehind) {
  DextMachine d("");
  d.run_for(500 * sim::kMicrosecond);  // the transfers are done; the 1 ms watchdog is armed
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(d.property("TimerFires"), 0u);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStopped);
  d.kernel.finish();
  // Cancel dropped the pending timer event and its reference, so the source was freed.
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, SystemSleepAndWakeDriveSetPowerState) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  d.kernel.system_sleep();
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 2u);
  EXPECT_EQ(d.property("PoweredOff"), 1u);
  EXPECT_EQ(d.service()->power, PowerState::kOff);
  d.kernel.system_wake();
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 3u);
  EXPECT_EQ(d.property("PoweredOff"), 0u);
  EXPECT_EQ(d.service()->power, PowerState::kOn);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, DriverPowerRequestsOverrideAndBusStallReachTheKernel) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  IOService* service = d.service()->service;
  // ChangePowerState(Off): the kernel sends SetPowerState(Off) from its power thread.
  EXPECT_EQ(service->ChangePowerState(kIOServicePowerCapabilityOff), kIOReturnSuccess);
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 2u);
  EXPECT_EQ(d.service()->power, PowerState::kOff);
  EXPECT_EQ(service->ChangePowerState(kIOServicePowerCapabilityOn), kIOReturnSuccess);
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.service()->power, PowerState::kOn);
  // With the power override on, the service's own request decides (IOServicePM's
  // powerOverrideOnPriv): Low now, whatever others want.
  EXPECT_EQ(service->SetPowerOverride(true), kIOReturnSuccess);
  EXPECT_EQ(service->ChangePowerState(kIOServicePowerCapabilityLow), kIOReturnSuccess);
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 4u);
  EXPECT_EQ(d.service()->power, PowerState::kLow);
  EXPECT_EQ(service->SetPowerOverride(false), kIOReturnSuccess);
  // Only Off, Low and On are power states (xnu's ChangePowerState_Impl).
  EXPECT_EQ(service->ChangePowerState(kIOServicePowerCapabilityOn | kIOServicePowerCapabilityLow), kIOReturnBadArgument);
  EXPECT_EQ(service->ChangePowerState(0x4), kIOReturnBadArgument);
  // Acknowledging a change nobody asked for: the kernel side says there is none pending.
  EXPECT_EQ(service->SetPowerState(kIOServicePowerCapabilityLow, (OSDispatchMethod)&IOService::_Dispatch),
            kIOReturnNotReady);
  // RequireMaxBusStall takes only the kIOMaxBusStall* values, as xnu's requireMaxBusStall does on
  // Apple silicon (and RequireMaxBusStall_Impl refuses what does not fit 32 bits).
  EXPECT_EQ(service->RequireMaxBusStall(kIOMaxBusStall10usec), kIOReturnSuccess);
  EXPECT_EQ(d.service()->max_bus_stall_ns, 10000u);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), 10 * sim::kMicrosecond);
  EXPECT_EQ(d.kernel.max_bus_delay().holder(), "TestdevDriver@dev");
  for (std::uint64_t bad : {std::uint64_t{15000}, std::uint64_t{1}, std::uint64_t{40001}, std::uint64_t{400000},
                            (std::uint64_t{1} << 32) + kIOMaxBusStall5usec}) {
    EXPECT_EQ(service->RequireMaxBusStall(bad), kIOReturnBadArgument) << bad;
  }
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), 10 * sim::kMicrosecond);  // a refused value changes nothing
  EXPECT_EQ(d.m.fabric->stall_bound(), 10 * sim::kMicrosecond);         // the platform bounds its stalls with it
  EXPECT_EQ(service->RequireMaxBusStall(kIOMaxBusStallNone), kIOReturnSuccess);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), std::nullopt);
  EXPECT_EQ(d.m.fabric->stall_bound(), std::nullopt);
  uint64_t assertion = 0;
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionCPUBit, &assertion, false), kIOReturnSuccess);
  EXPECT_EQ(service->CreatePMAssertion(0x4, &assertion, false), kIOReturnBadArgument);
  EXPECT_EQ(service->ReleasePMAssertion(assertion), kIOReturnSuccess);
  EXPECT_EQ(service->ReleasePMAssertion(assertion), kIOReturnBadArgument);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, ASyncedPMAssertionIsRefusedOnceTheSleepCannotBeStopped) {
  // Apple's CreatePMAssertion documentation: `synced` takes only the CPU bit, and is refused with
  // kIOReturnBusy (nothing created) while an irreversible sleep is under way; unsynced ones are not.
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  IOService* service = d.service()->service;
  uint64_t id = 0;
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionForceFullWakeupBit, &id, true), kIOReturnBadArgument);
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionForceFullWakeupBit, &id, false), kIOReturnSuccess);
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionCPUBit, &id, true), kIOReturnSuccess);
  EXPECT_EQ(service->ReleasePMAssertion(id), kIOReturnSuccess);
  d.kernel.system_sleep();
  id = 0;
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionCPUBit, &id, true), kIOReturnBusy);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionCPUBit, &id, false), kIOReturnSuccess);
  EXPECT_NE(id, 0u);
  d.kernel.system_wake();
  EXPECT_EQ(service->CreatePMAssertion(kIOServicePMAssertionCPUBit, &id, true), kIOReturnSuccess);
}

TEST(DriverKitKernel, PowerRequestsBeforeJoiningThePowerTree) {
  // Start is waiting for its first register read (500 ns): the service joins the tree after it.
  DextMachine d("");
  d.run_for(100 * sim::kNanosecond);
  const ServiceRecord* rec = d.service();
  ASSERT_NE(rec, nullptr);
  ASSERT_NE(rec->service, nullptr);
  ASSERT_EQ(rec->stage, ServiceRecord::Stage::kStarting);
  ASSERT_FALSE(rec->in_power_tree);
  // xnu: ChangePowerState succeeds and changes nothing; the override needs the PM state.
  EXPECT_EQ(rec->service->ChangePowerState(kIOServicePowerCapabilityOff), kIOReturnSuccess);
  EXPECT_EQ(rec->service->SetPowerOverride(true), kIOReturnNotReady);
  d.run_for(5 * sim::kMillisecond);
  EXPECT_TRUE(rec->in_power_tree);
  EXPECT_EQ(rec->power, PowerState::kOn);
  EXPECT_EQ(d.property("PowerChanges"), 1u);  // only the kernel's own SetPowerState(On)
}

TEST(DriverKitKernel, UnacknowledgedSetPowerStateTimesOutAfter20Seconds) {
  DextMachine d("no-power-ack");
  d.run_for(19 * sim::kSecond);
  EXPECT_TRUE(d.with_check("power.ack-timeout").empty());
  d.run_for(2 * sim::kSecond);
  auto found = d.with_check("power.ack-timeout");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_NE(found[0].what.find("SetPowerState(On)"), std::string::npos) << found[0].what;
  EXPECT_NE(found[0].what.find("not acknowledged within 20 s"), std::string::npos) << found[0].what;
  EXPECT_EQ(found[0].subject, "dev");
}

TEST(DriverKitKernel, DeviceAccessWhilePoweredOffIsFlagged) {
  DextMachine d("timer-while-off");
  d.run_for(5 * sim::kMillisecond);
  EXPECT_TRUE(d.with_check("power.access-while-off").empty()) << d.all_findings();
  d.kernel.system_sleep();
  d.run_for(5 * sim::kMillisecond);
  auto found = d.with_check("power.access-while-off");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_EQ(found[0].what, "MemoryRead32 on dev while the device is powered off");
}

TEST(DriverKitKernel, IoLeftRunningAcrossStopAndLeaksAreReported) {
  DextMachine d("no-teardown");
  d.run_for(5 * sim::kMillisecond);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  auto io = d.with_check("lifecycle.io-after-stop");
  ASSERT_EQ(io.size(), 3u) << d.all_findings();  // interrupt source, DMA command, provider still open
  EXPECT_NE(io[0].what.find("IOInterruptDispatchSource on dev is still enabled"), std::string::npos);
  EXPECT_NE(io[1].what.find("IODMACommand for dev is still prepared"), std::string::npos);
  EXPECT_NE(io[2].what.find("dev is still open"), std::string::npos);
  auto leaks = d.with_check("dext.leak");
  ASSERT_FALSE(leaks.empty());
  bool saw_action = false;
  for (const auto& f : leaks) saw_action |= f.what.rfind("OSAction created at ", 0) == 0;
  EXPECT_TRUE(saw_action) << d.all_findings();
  EXPECT_NE(leaks[0].what.find("TestdevDriver"), std::string::npos) << leaks[0].what;  // the file it came from
}

TEST(DriverKitKernel, ThirtyOneAddressBitsCannotReachDartAddresses) {
  DextMachine d("dma-31-bits");
  d.run_for(5 * sim::kMillisecond);
  auto found = d.with_check("dma.prepare-failed");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_NE(found[0].what.find("failed with kIOReturnMessageTooLarge (0xe00002e1)"), std::string::npos) << found[0].what;
  EXPECT_NE(found[0].why.find("0x80000000"), std::string::npos) << found[0].why;
  ASSERT_EQ(d.with_check("lifecycle.start-failed").size(), 1u);  // the driver gave up in Start
}

TEST(DriverKitKernel, WithoutAMapperA32BitDmaCommandIsBounced) {
  // The correct driver on a Mac whose root port has no IOMMU: the device gets physical addresses,
  // host memory lies above 4 GiB, and xnu's IODMACommand double-buffers through low pages.
  DextMachine d("", {}, "direct-no-iommu");
  d.run_for(5 * sim::kMillisecond);
  auto found = d.with_check("dma.bounce");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_TRUE(found[0].informational);
  EXPECT_EQ(found[0].what,
            "PrepareForDMA of 4096 bytes for dev was double-buffered: the memory at 0x2000000000 is beyond 32 address "
            "bits, so the device was given a bounce buffer at 0x10000000");
  EXPECT_TRUE(d.with_check("dma.prepare-failed").empty());
  // The device worked on the bounce buffer; the driver's own view of its buffer never saw it.
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(d.property("DataOK"), 0u);
  EXPECT_NE(d.m.mapper_of("dev").live_containing("dev", 0x1000'0000, 1), nullptr);
}

TEST(DriverKitKernel, ABounceBufferIsCopiedInAtPrepareAndBackAtCompleteAndPerformOperationSeesIt) {
  // IODMACommand by hand on a function without an IOMMU: PerformOperation reads and writes what the
  // device sees (the bounce buffer), CompleteDMA copies the device's bytes back (xnu's IODMACommand).
  BareKernel bare("direct-no-iommu");
  IOPCIDevice* pci = bare.pci();
  ASSERT_NE(pci, nullptr);
  IOBufferMemoryDescriptor* buffer = nullptr;
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 64, 0, &buffer), kIOReturnSuccess);
  std::memset(buffer->host_bytes(), 0xAB, 64);
  IODMACommandSpecification spec{};
  spec.maxAddressBits = 32;
  IODMACommand* command = nullptr;
  ASSERT_EQ(IODMACommand::Create(pci, 0, &spec, &command), kIOReturnSuccess);
  uint64_t flags = 0;
  uint32_t count = 1;
  IOAddressSegment segment{};
  ASSERT_EQ(command->PrepareForDMA(0, buffer, 0, 64, &flags, &count, &segment), kIOReturnSuccess);
  EXPECT_EQ(segment.address, Kernel::kBouncePoolBase);
  // Copied in at PrepareForDMA, since the device may read it.
  EXPECT_EQ(bare.m.memory.read_u64(segment.address), 0xABABABABABABABABu);
  // The device writes the bounce buffer; the CPU sees it through PerformOperation only.
  bare.m.memory.write_u64(segment.address, 0x1122334455667788u);
  IOBufferMemoryDescriptor* scratch = nullptr;
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 8, 0, &scratch), kIOReturnSuccess);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionRead, 0, 8, 0, scratch), kIOReturnSuccess);
  uint64_t seen = 0;
  std::memcpy(&seen, scratch->host_bytes(), 8);
  EXPECT_EQ(seen, 0x1122334455667788u);
  EXPECT_EQ(buffer->host_bytes()[0], 0xAB);  // not yet in the driver's buffer
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionZero, 8, 8, 0, nullptr), kIOReturnSuccess);
  EXPECT_EQ(bare.m.memory.read_u64(segment.address + 8), 0u);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionRead | kIODMACommandPerformOperationOptionWrite,
                                      0, 8, 0, scratch),
            kIOReturnBadArgument);
  // CompleteDMA: the device's bytes reach the driver's buffer.
  ASSERT_EQ(command->CompleteDMA(0), kIOReturnSuccess);
  std::memcpy(&seen, buffer->host_bytes(), 8);
  EXPECT_EQ(seen, 0x1122334455667788u);
  EXPECT_EQ(buffer->host_bytes()[8], 0);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionRead, 0, 8, 0, scratch), kIOReturnNotReady);
  command->release();
  scratch->release();
  buffer->release();
  ASSERT_EQ(bare.m.findings.all().size(), 1u);
  EXPECT_EQ(bare.m.findings.all()[0].check, "dma.bounce");
}

TEST(DriverKitKernel, WithoutAMapperA64BitDriverDmasToPhysicalAddresses) {
  DextMachine d("dma-64-bits", {}, "direct-no-iommu");
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(d.property("DataOK"), 1u);
  const platform::DmaMapper& mapper = d.m.mapper_of("dev");
  ASSERT_EQ(mapper.live_count(), 1u);
  // The device was handed the buffer's physical address: in the buffer region, above 4 GiB.
  EXPECT_NE(mapper.live_containing("dev", 0x20'0000'0000, 1), nullptr);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  d.kernel.finish();
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, StartWithoutSuperIsFlagged) {
  DextMachine d("no-super-start");
  d.run_for(5 * sim::kMillisecond);
  ASSERT_EQ(d.with_check("lifecycle.super-start").size(), 1u) << d.all_findings();
}

TEST(DriverKitKernel, StopWithoutSuperIsFlagged) {
  DextMachine d("no-super-stop");
  d.run_for(5 * sim::kMillisecond);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  // The kernel waits: a dext may call Stop(provider, SUPERDISPATCH) after Stop returned.
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStopping);
  EXPECT_TRUE(d.with_check("lifecycle.super-stop").empty()) << d.all_findings();
  d.kernel.finish();
  auto found = d.with_check("lifecycle.super-stop");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_EQ(found[0].what, "TestdevDriver::Stop never called Stop(provider, SUPERDISPATCH)");
}

TEST(DriverKitKernel, PropertiesMergeIntoIOUserServicePropertiesOfTheRegistryEntry) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  IOService* service = d.service()->service;
  // SetProperties merges: a dictionary with one more key keeps what the driver published.
  OSDictionary* extra = OSDictionary::withCapacity(1);
  OSNumber* one = OSNumber::withNumber(1, 32);
  extra->setObject("Extra", one);
  EXPECT_EQ(service->SetProperties(extra), kIOReturnSuccess);
  one->release();
  extra->release();
  EXPECT_EQ(d.property("Extra"), 1u);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  // CopyProperties is the registry entry with IOUserServiceProperties' keys lifted beside the
  // personality's, and that dictionary itself gone (xnu's CopyProperties_Local).
  OSDictionary* props = nullptr;
  ASSERT_EQ(service->CopyProperties(&props), kIOReturnSuccess);
  auto text = [props](const char* key) {
    const OSString* s = OSDynamicCast(OSString, props->getObject(key));
    return s ? std::string(s->getCStringNoCopy()) : std::string("(none)");
  };
  EXPECT_EQ(text("IOUserClass"), "TestdevDriver");
  EXPECT_EQ(text("IOProviderClass"), "IOPCIDevice");
  EXPECT_EQ(text("IOClass"), "IOUserService");
  EXPECT_NE(OSDynamicCast(OSNumber, props->getObject("TransfersOK")), nullptr);
  EXPECT_EQ(props->getObject("IOUserServiceProperties"), nullptr);
  props->release();
  // RemoveProperty takes a key out of IOUserServiceProperties (xnu's RemoveProperty_Impl); no
  // name at all is kIOReturnUnsupported.
  OSString* name = OSString::withCString("Extra");
  EXPECT_EQ(service->RemoveProperty(name), kIOReturnSuccess);
  name->release();
  EXPECT_EQ(d.property("Extra"), ~0ull);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(service->RemoveProperty(nullptr), kIOReturnUnsupported);
}

TEST(DriverKitKernel, SearchPropertyLooksAtTheEntryThenUpTheServicePlane) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  IOService* service = d.service()->service;
  OSContainer* found = nullptr;
  // The entry's own properties: a personality key is found; a key the dext set is inside the
  // IOUserServiceProperties property, not one of the entry's own (xnu's copyProperty).
  ASSERT_EQ(service->SearchProperty("IOUserClass", "IOService", 0, &found), kIOReturnSuccess);
  ASSERT_NE(OSDynamicCast(OSString, found), nullptr);
  EXPECT_TRUE(OSDynamicCast(OSString, found)->isEqualTo("TestdevDriver"));
  found->release();
  EXPECT_EQ(service->SearchProperty("TransfersOK", "IOService", kIOServiceSearchPropertyParents, &found),
            kIOReturnNotFound);
  ASSERT_EQ(service->SearchProperty("IOUserServiceProperties", "IOService", 0, &found), kIOReturnSuccess);
  EXPECT_NE(OSDynamicCast(OSDictionary, found), nullptr);
  found->release();
  // A provider's property only with kIOServiceSearchPropertyParents, and only up the IOService
  // plane: another plane name finds only the entry's own.
  EXPECT_EQ(service->SearchProperty("vendor-id", "IOService", 0, &found), kIOReturnNotFound);
  EXPECT_EQ(found, nullptr);
  ASSERT_EQ(service->SearchProperty("vendor-id", "IOService", kIOServiceSearchPropertyParents, &found),
            kIOReturnSuccess);
  ASSERT_NE(OSDynamicCast(OSNumber, found), nullptr);
  EXPECT_EQ(OSDynamicCast(OSNumber, found)->unsigned64BitValue(), 0x1234u);
  found->release();
  EXPECT_EQ(service->SearchProperty("vendor-id", "IOService:/IOResources/Nothing", kIOServiceSearchPropertyParents,
                                    &found),
            kIOReturnNotFound);
  ASSERT_EQ(service->SearchProperty("IOUserClass", "IOPower", kIOServiceSearchPropertyParents, &found),
            kIOReturnSuccess);  // another plane still finds the entry's own
  found->release();
}

TEST(DriverKitKernel, AServiceSeesItsProviderAndTheProvidersProperties) {
  DextMachine d("");
  d.run_for(1 * sim::kMillisecond);
  IOService* service = d.service()->service;
  EXPECT_EQ(service->GetProvider(), d.service()->provider);
  // The nub's properties, as IOPCIFamily publishes them; with keys, only those.
  OSArray* all = nullptr;
  ASSERT_EQ(service->CopyProviderProperties(nullptr, &all), kIOReturnSuccess);
  ASSERT_EQ(all->getCount(), 1u);  // the chain ends at the nub
  const auto* nub = OSDynamicCast(OSDictionary, all->getObject(0));
  ASSERT_NE(nub, nullptr);
  const auto* vendor = OSDynamicCast(OSNumber, nub->getObject("vendor-id"));
  ASSERT_NE(vendor, nullptr);
  EXPECT_EQ(vendor->unsigned64BitValue(), 0x1234u);
  all->release();
  OSArray* keys = OSArray::withCapacity(1);
  OSString* key = OSString::withCString("device-id");
  keys->setObject(key);
  OSArray* some = nullptr;
  ASSERT_EQ(service->CopyProviderProperties(keys, &some), kIOReturnSuccess);
  const auto* only = OSDynamicCast(OSDictionary, some->getObject(0));
  ASSERT_NE(only, nullptr);
  EXPECT_EQ(only->getCount(), 1u);
  EXPECT_NE(only->getObject("device-id"), nullptr);
  some->release();
  keys->release();
  key->release();
  // The busy count cannot go below zero; joining the tree again changes nothing.
  EXPECT_EQ(service->AdjustBusy(1), kIOReturnSuccess);
  EXPECT_EQ(service->AdjustBusy(-1), kIOReturnSuccess);
  EXPECT_EQ(service->AdjustBusy(-1), kIOReturnBadArgument);
  EXPECT_EQ(service->JoinPMTree(), kIOReturnSuccess);  // already in the tree since Start: nothing to do
  EXPECT_EQ(d.service()->power, PowerState::kOn);
}

TEST(DriverKitKernel, ALatencyTolerantAccessGoesThroughTheKernel) {
  // IOPCIDevice.cpp: with kIOPCIAccessLatencyTolerantHint a Memory* access is a _MemoryAccess
  // kernel call instead of a load through the BAR mapping, so it costs the kernel call too.
  DextMachine d("");
  d.run_for(1 * sim::kMillisecond);
  auto* pci = OSDynamicCast(IOPCIDevice, d.service()->provider);
  ASSERT_NE(pci, nullptr);
  DispatchQueue queue(d.kernel.runtime(), "test");
  sim::SimTime plain = 0, tolerant = 0;
  uint32_t id_plain = 0, id_tolerant = 0;
  queue.dispatch_async([&] {
    pci->MemoryRead32(0, 0, &id_plain);  // wakes the link: what follows pays no ASPM exit
    sim::SimTime start = d.m.sim.now();
    pci->MemoryRead32(0, 0, &id_plain);
    plain = d.m.sim.now() - start;
    start = d.m.sim.now();
    pci->MemoryRead32(0, 0, &id_tolerant, kIOPCIAccessLatencyTolerantHint);
    tolerant = d.m.sim.now() - start;
  });
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(id_plain, 0xd7e57001u);  // the test device's ID register
  EXPECT_EQ(id_tolerant, id_plain);
  EXPECT_EQ(plain, 500 * sim::kNanosecond);  // the two hops there and back
  EXPECT_EQ(tolerant, plain + d.kernel.profile().kernel_call);
}

TEST(DriverKitKernel, TheInterruptTypeOfAConfiguredVector) {
  // After Start's ConfigureInterrupts(kIOInterruptTypePCIMessaged, 1, 1): one MSI vector.
  DextMachine d("");
  d.run_for(1 * sim::kMillisecond);
  uint64_t type = 0;
  EXPECT_EQ(IOInterruptDispatchSource::GetInterruptType(d.service()->provider, 0, &type), kIOReturnSuccess);
  EXPECT_EQ(type, uint64_t{kIOInterruptTypePCIMessaged | kIOInterruptTypeEdge});
  EXPECT_EQ(IOInterruptDispatchSource::GetInterruptType(d.service()->provider, 1, &type), kIOReturnNoInterrupt);
}

TEST(DriverKitKernel, CreateMakesServicesOnlyBelowTheCallerItself) {
  // xnu's IOService::Create_Impl: a provider other than the calling service is kIOReturnUnsupported.
  DextMachine d("");
  d.run_for(1 * sim::kMillisecond);
  const ServiceRecord* rec = d.service();
  ASSERT_NE(rec, nullptr);
  IOService* made = nullptr;
  EXPECT_EQ(rec->service->Create(rec->provider, "UserClientProperties", &made), kIOReturnUnsupported);
  EXPECT_EQ(made, nullptr);
  EXPECT_EQ(d.kernel.services().size(), 1u);
}

TEST(DriverKitKernel, DeviceMemoryIsCopiedForTheClientThatOpenedTheDevice) {
  DextMachine d("");
  d.run_for(1 * sim::kMillisecond);
  const ServiceRecord* rec = d.service();
  ASSERT_NE(rec, nullptr);
  auto* pci = OSDynamicCast(IOPCIDevice, rec->provider);
  ASSERT_NE(pci, nullptr);
  IOMemoryDescriptor* bar = nullptr;
  // As IOPCIFamily's _CopyDeviceMemoryWithIndex: only for the client that has the device open,
  // and only for the memory indices a function can have.
  EXPECT_EQ(pci->_CopyDeviceMemoryWithIndex(0, &bar, pci), kIOReturnNotOpen);
  EXPECT_EQ(pci->_CopyDeviceMemoryWithIndex(7, &bar, rec->service), kIOReturnBadArgument);
  ASSERT_EQ(pci->_CopyDeviceMemoryWithIndex(0, &bar, rec->service), kIOReturnSuccess);
  uint64_t length = 0;
  bar->GetLength(&length);
  EXPECT_EQ(length, d.m.node("dev").bars[0].size);
  EXPECT_TRUE(bar->is_device_memory());
  // Loads and stores through a mapping of a BAR are not simulated: mapping it is refused, and
  // the run says so rather than let the dext's error path pass for its Mac behaviour.
  IOMemoryMap* map = nullptr;
  EXPECT_TRUE(d.with_check("dext.not-simulated").empty()) << d.all_findings();
  EXPECT_EQ(bar->CreateMapping(0, 0, 0, 0, 0, &map), kIOReturnUnsupported);
  auto found = d.with_check("dext.not-simulated");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_EQ(found[0].what,
            "IOMemoryDescriptor::CreateMapping from the harness asked for a CPU mapping of device memory (a BAR), "
            "which dexthil does not simulate yet; it returned kIOReturnUnsupported");
  bar->release();
}

TEST(DriverKitKernel, InterruptIndicesFollowIOPCIFamilysList) {
  // Before ConfigureInterrupts a function lists its legacy INTx first (it has an interrupt pin),
  // then its MSI vector; after it, the configured vectors from 0.
  BareKernel bare("direct");
  IOPCIDevice* pci = bare.pci();
  ASSERT_NE(pci, nullptr);
  uint64_t type = ~0ull;
  ASSERT_EQ(IOInterruptDispatchSource::GetInterruptType(pci, 0, &type), kIOReturnSuccess);
  EXPECT_EQ(type, uint64_t{kIOInterruptTypeLevel});
  ASSERT_EQ(IOInterruptDispatchSource::GetInterruptType(pci, 1, &type), kIOReturnSuccess);
  EXPECT_EQ(type, uint64_t{kIOInterruptTypePCIMessaged | kIOInterruptTypeEdge});
  EXPECT_EQ(IOInterruptDispatchSource::GetInterruptType(pci, 2, &type), kIOReturnNoInterrupt);
  // INTx is not simulated (the models signal MSI only): refused, and said.
  IODispatchQueue* queue = nullptr;
  ASSERT_EQ(IODispatchQueue::Create("Test", 0, 0, &queue), kIOReturnSuccess);
  IOInterruptDispatchSource* source = nullptr;
  EXPECT_EQ(IOInterruptDispatchSource::Create(pci, 0, queue, &source), kIOReturnUnsupported);
  auto refused = testing::findings_with_check(bare.m.findings, "dext.not-simulated");
  ASSERT_EQ(refused.size(), 1u) << testing::findings_text(bare.m.findings);
  EXPECT_NE(refused[0].what.find("the legacy INTx interrupt (index 0)"), std::string::npos) << refused[0].what;
  // The function has no MSI-X capability, so MSI-X is refused as on a Mac, without a finding;
  // a switch to INTx would work on a Mac and is not simulated.
  EXPECT_EQ(pci->ConfigureInterrupts(kIOInterruptTypePCIMessagedX, 1, 1, 0), kIOReturnUnsupported);
  EXPECT_EQ(testing::findings_with_check(bare.m.findings, "dext.not-simulated").size(), 1u);
  EXPECT_EQ(pci->ConfigureInterrupts(kIOInterruptTypeLevel, 1, 1, 0), kIOReturnUnsupported);
  EXPECT_EQ(testing::findings_with_check(bare.m.findings, "dext.not-simulated").size(), 2u);
  ASSERT_EQ(pci->ConfigureInterrupts(kIOInterruptTypePCIMessaged, 1, 1, 0), kIOReturnSuccess);
  ASSERT_EQ(IOInterruptDispatchSource::GetInterruptType(pci, 0, &type), kIOReturnSuccess);
  EXPECT_EQ(type, uint64_t{kIOInterruptTypePCIMessaged | kIOInterruptTypeEdge});
  EXPECT_EQ(IOInterruptDispatchSource::GetInterruptType(pci, 1, &type), kIOReturnNoInterrupt);
  queue->release();
}

TEST(DriverKitKernel, ADriverWithoutConfigureInterruptsFindsTheMsiAtIndex1) {
  // As Apple's PEX8733 sample and litepcie do: no ConfigureInterrupts, the MSI vector after the
  // INTx entry; IOPCIFamily sets the vector up, and the transfers' interrupts arrive on it.
  DextMachine d("default-msi");
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.property("InterruptIndex"), 1u);
  EXPECT_EQ(d.property("Interrupts"), 2u);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(d.device.msis_sent(), 2u);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, OSActionWaitTakesOneWaiterAndOnlyFromDextCode) {
  // The blocking paths run in dexts/sdkprobe (driverkit_sdk_test); these are the refusals.
  BareKernel bare("direct");
  OSData* target = OSData::withCapacity(1);
  OSAction* action = nullptr;
  ASSERT_EQ(OSAction::Create(target, 1, 2, 0, &action), kIOReturnSuccess);
  OSActionWaitToken* token = nullptr;
  OSActionWaitToken* second = nullptr;
  ASSERT_EQ(action->WillWait(&token), kIOReturnSuccess);
  EXPECT_EQ(action->WillWait(&second), kIOReturnBusy);
  EXPECT_EQ(action->Wait(nullptr, 0, 0), kIOReturnBadArgument);
  EXPECT_EQ(action->Wait(token, 0, 0), kIOReturnNotPermitted);  // the harness is no dext block
  EXPECT_EQ(action->EndWait(token), kIOReturnSuccess);
  EXPECT_EQ(action->EndWait(token), kIOReturnBadArgument);
  action->release();
  target->release();
}

TEST(DriverKitKernel, ANotificationSourceOnAMatchKeyDexthilLacksSaysSo) {
  // The delivering paths run in dexts/sdkprobe (driverkit_sdk_test); IOParentMatch is not
  // simulated, so such a source matches nothing and the run says why.
  BareKernel bare("direct");
  IODispatchQueue* queue = nullptr;
  ASSERT_EQ(IODispatchQueue::Create("Test", 0, 0, &queue), kIOReturnSuccess);
  OSDictionary* matching = OSDictionary::withCapacity(1);
  OSDictionary* parent = OSDictionary::withCapacity(1);
  matching->setObject("IOParentMatch", parent);
  IOServiceNotificationDispatchSource* source = nullptr;
  EXPECT_EQ(IOServiceNotificationDispatchSource::Create(nullptr, 0, queue, &source), kIOReturnBadArgument);
  ASSERT_EQ(IOServiceNotificationDispatchSource::Create(matching, 0, queue, &source), kIOReturnSuccess);
  auto found = testing::findings_with_check(bare.m.findings, "dext.not-simulated");
  ASSERT_EQ(found.size(), 1u) << testing::findings_text(bare.m.findings);
  EXPECT_EQ(found[0].what,
            "IOServiceNotificationDispatchSource::Create from the harness asked for matching on IOParentMatch, "
            "which dexthil does not simulate yet; the source was made and will match nothing");
  source->release();
  parent->release();
  matching->release();
  queue->release();
}

TEST(DriverKitKernel, AConcatenationOfDescriptorsIsItsPartsEndToEnd) {
  BareKernel bare("direct-no-iommu");
  IOPCIDevice* pci = bare.pci();
  ASSERT_NE(pci, nullptr);
  IOBufferMemoryDescriptor* a = nullptr;
  IOBufferMemoryDescriptor* b = nullptr;
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 64, 0, &a), kIOReturnSuccess);
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 32, 0, &b), kIOReturnSuccess);
  std::memset(a->host_bytes(), 0xAA, 64);
  std::memset(b->host_bytes(), 0xBB, 32);
  // xnu's CreateWithMemoryDescriptors_Impl refuses no array, no count, a null entry and options
  // beyond the direction; the iig declaration carries at most 32.
  IOMemoryDescriptor* parts[33] = {a, b};
  IOMemoryDescriptor* both = nullptr;
  EXPECT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 2, nullptr, &both),
            kIOReturnBadArgument);
  EXPECT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 0, parts, &both),
            kIOReturnBadArgument);
  EXPECT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 3, parts, &both),
            kIOReturnBadArgument);
  EXPECT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDisableCopyOnWrite, 2, parts, &both),
            kIOReturnBadArgument);
  for (auto& p : parts) p = a;
  EXPECT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 33, parts, &both),
            kIOReturnBadArgument);
  parts[1] = b;
  ASSERT_EQ(IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 2, parts, &both),
            kIOReturnSuccess);
  uint64_t length = 0;
  both->GetLength(&length);
  EXPECT_EQ(length, 96u);
  // Two buffers, two physical runs: the 64 bytes of a, then the 32 of b.
  auto runs = both->runs(0, 96);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].physical, a->physical_address());
  EXPECT_EQ(runs[0].length, 64u);
  EXPECT_EQ(runs[1].physical, b->physical_address());
  EXPECT_EQ(runs[1].length, 32u);
  // Bytes across the seam, as an application's mapping of it reads them.
  uint8_t seam[8] = {};
  ASSERT_TRUE(both->read_bytes(60, 8, seam));
  EXPECT_EQ(std::vector<uint8_t>(seam, seam + 8), (std::vector<uint8_t>{0xAA, 0xAA, 0xAA, 0xAA, 0xBB, 0xBB, 0xBB, 0xBB}));
  EXPECT_FALSE(both->read_bytes(90, 8, seam));
  // A sub-range of it spans both too; one that lies in b alone is one run and maps.
  IOMemoryDescriptor* across = nullptr;
  ASSERT_EQ(IOMemoryDescriptor::CreateSubMemoryDescriptor(kIOMemoryDirectionInOut, 62, 4, both, &across),
            kIOReturnSuccess);
  ASSERT_TRUE(across->read_bytes(0, 4, seam));
  EXPECT_EQ(std::vector<uint8_t>(seam, seam + 4), (std::vector<uint8_t>{0xAA, 0xAA, 0xBB, 0xBB}));
  IOMemoryMap* map = nullptr;
  ASSERT_EQ(both->CreateMapping(0, 0, 64, 32, 0, &map), kIOReturnSuccess);
  EXPECT_EQ(map->GetAddress(), reinterpret_cast<uint64_t>(b->host_bytes()));
  map->release();
  // One CPU mapping or one DMA mapping over both buffers is not simulated yet: refused, and said.
  EXPECT_EQ(across->CreateMapping(0, 0, 0, 0, 0, &map), kIOReturnUnsupported);
  IODMACommandSpecification spec{};
  spec.maxAddressBits = 64;
  IODMACommand* command = nullptr;
  ASSERT_EQ(IODMACommand::Create(pci, 0, &spec, &command), kIOReturnSuccess);
  uint64_t flags = 0;
  uint32_t count = 4;
  IOAddressSegment segments[4] = {};
  EXPECT_EQ(command->PrepareForDMA(0, both, 0, 0, &flags, &count, segments), kIOReturnUnsupported);
  auto refused = testing::findings_with_check(bare.m.findings, "dext.not-simulated");
  ASSERT_EQ(refused.size(), 2u) << testing::findings_text(bare.m.findings);
  EXPECT_NE(refused[0].what.find("one CPU mapping over 2 separate buffers"), std::string::npos) << refused[0].what;
  EXPECT_NE(refused[1].what.find("IODMACommand::PrepareForDMA"), std::string::npos) << refused[1].what;
  EXPECT_TRUE(testing::findings_with_check(bare.m.findings, "dma.prepare-failed").empty());
  // As PerformOperation's data, it is read and written across the seam.
  count = 1;
  ASSERT_EQ(command->PrepareForDMA(0, a, 0, 64, &flags, &count, segments), kIOReturnSuccess);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionWrite, 0, 8, 60, both), kIOReturnSuccess);
  EXPECT_EQ(bare.m.memory.read_u64(segments[0].address), 0xBBBBBBBBAAAAAAAAu);
  bare.m.memory.write_u64(segments[0].address, 0x1111111111111111u);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionRead, 0, 8, 60, both), kIOReturnSuccess);
  EXPECT_EQ(b->host_bytes()[3], 0x11);
  EXPECT_EQ(b->host_bytes()[4], 0xBB);
  EXPECT_EQ(command->PerformOperation(kIODMACommandPerformOperationOptionRead, 0, 8, 92, both), kIOReturnUnderrun);
  EXPECT_EQ(command->CompleteDMA(0), kIOReturnSuccess);
  command->release();
  across->release();
  // The concatenation holds a reference on each part, and lets go of them when it goes.
  EXPECT_EQ(a->getRetainCount(), 2u);
  EXPECT_EQ(b->getRetainCount(), 2u);
  ASSERT_TRUE(both->read_bytes(0, 1, seam));
  EXPECT_EQ(seam[0], 0x11);
  both->release();
  EXPECT_EQ(a->getRetainCount(), 1u);
  EXPECT_EQ(b->getRetainCount(), 1u);
  a->release();
  b->release();
}

TEST(DriverKitKernel, AnUncaughtExceptionCrashesTheDextNotTheHarness) {
  DextMachine d("throw-in-timer");
  // The first crash at 1 ms; the relaunch once dev's FLR recovery is done, its crash 1 ms later.
  d.run_for(kWatchdogFires + kFlrRecovery + kWatchdogFiresAfterRecovery + 100 * sim::kMillisecond);
  auto thrown = d.with_check("dext.exception");
  ASSERT_EQ(thrown.size(), 2u) << d.all_findings();
  EXPECT_EQ(thrown[0].what, "uncaught C++ exception on queue \"Default\": watchdog: device did not answer");
  EXPECT_EQ(thrown[0].time, kWatchdogFires);
  EXPECT_EQ(thrown[1].time, kWatchdogFires + kFlrRecovery + kWatchdogFiresAfterRecovery);
  EXPECT_EQ(d.with_check("dext.crashed").size(), 2u);
  EXPECT_EQ(d.kernel.processes().size(), 2u);  // the next relaunch waits for the second recovery
}

// Every way a dext process dies of its own code: the finding names the exception as a macOS
// crash report does, the queue and the method, and the backtrace reaches the planted line.
struct CrashKind {
  const char* variant;
  const char* check;
  const char* what;
};
constexpr CrashKind kCrashKinds[] = {
    {"null-store", "dext.signal",
     "EXC_BAD_ACCESS (SIGSEGV): SIGSEGV (address not mapped) at address 0x4 on queue \"Default\" in "
     "TestdevDriver::TimerOccurred"},
    {"divide-by-zero", "dext.signal",
     "EXC_ARITHMETIC (SIGFPE): SIGFPE (integer divide by zero) on queue \"Default\" in TestdevDriver::TimerOccurred"},
    {"trap", "dext.signal",
     "EXC_BAD_INSTRUCTION (SIGILL): SIGILL (illegal operand) on queue \"Default\" in TestdevDriver::TimerOccurred"},
    {"abort", "dext.signal",
     "EXC_CRASH (SIGABRT): SIGABRT (abort() was called) on queue \"Default\" in TestdevDriver::TimerOccurred"},
    {"terminate", "dext.signal",
     "EXC_CRASH (SIGABRT): SIGABRT (abort() was called) on queue \"Default\" in TestdevDriver::TimerOccurred"},
    {"stack-overflow", "dext.stack-overflow",
     "EXC_BAD_ACCESS (SIGSEGV): thread stack size exceeded on queue \"Default\" in TestdevDriver::TimerOccurred"},
};

TEST(DriverKitKernel, EachCrashKindIsAFindingAndTheRestartGetsAFreshProcess) {
  for (const CrashKind& kind : kCrashKinds) {
    SCOPED_TRACE(kind.variant);
    DextMachine d(kind.variant);
    // A crash at 1 ms, the relaunch once the FLR recovery is done, its crash 1 ms after that.
    d.run_for(kWatchdogFires + kFlrRecovery + kWatchdogFiresAfterRecovery + 100 * sim::kMillisecond);
    auto crashes = d.with_check(kind.check);
    ASSERT_EQ(crashes.size(), 2u) << d.all_findings();
    EXPECT_EQ(crashes[0].what, kind.what);
    EXPECT_EQ(crashes[0].time, kWatchdogFires);
    EXPECT_EQ(crashes[0].where, "TestdevDriver@dev");
    // The backtrace is symbolised from the dext's own library, down to the planted line.
    EXPECT_NE(crashes[0].why.find("TestdevDriver::TimerOccurred_Impl(OSAction*, unsigned long) at TestdevDriver.cpp:"),
              std::string::npos)
        << crashes[0].why;
    EXPECT_NE(crashes[0].why.find("(libTestdevDriver-" + std::string(kind.variant) + ".so+0x"), std::string::npos);
    EXPECT_EQ(d.with_check("dext.crashed").size(), 2u);
    ASSERT_EQ(d.kernel.processes().size(), 2u);
    // The restarted process has its own copy of the dext: its globals started again from zero.
    EXPECT_EQ(d.property("StartsInProcess"), 1u);
    EXPECT_EQ(d.property("TransfersOK"), 2u);  // and it worked up to its own crash
  }
}

// The provider's ClientCrashed (IOPCIFamily-726 IOPCIDevice::ClientCrashed_Impl and
// IOPCIBridge::childClientCrashRecoveryGated): dev was open by the crashed driver and advertises
// FLR, so it is reset by FLR; then the kernel terminates the service and rematches dev, which
// starts a new process at once.
TEST(DriverKitKernel, ACrashedClientsFunctionIsResetByFlrAndTheDextRelaunchedWhenItIsDone) {
  DextMachine d("null-store");
  const pcie::Node& dev = d.m.node("dev");
  const platform::DmaMapper& mapper = d.m.mapper_of("dev");
  d.run_for(kWatchdogFires + sim::kMicrosecond);
  auto crashed = d.with_check("dext.crashed");
  ASSERT_EQ(crashed.size(), 1u) << d.all_findings();
  EXPECT_EQ(crashed[0].what, "IOUserServer(org.dexthil.TestdevDriver): ClientCrashed (crash 1 today, on dev)");
  EXPECT_EQ(crashed[0].why,
            "The dext process died. IOPCIDevice::ClientCrashed: dev was open by TestdevDriver@dev, so IOPCIFamily "
            "recovers it (IOPCIBridge::childClientCrashRecovery): it turns off dev's Memory Space and Bus Master, "
            "waits 100 ms for posted requests, and resets it with kIOPCIDeviceResetTypeFunctionReset, a Function Level "
            "Reset (dev advertises FLR in its Device Capabilities), its config space saved before and restored 100 ms "
            "after. Memory Space and Bus Master stay off until the next driver turns them on. The kernel terminates "
            "TestdevDriver@dev and rematches dev to the same personality: a new process starts as soon as the "
            "provider's recovery is done (dev's IORematchCount is now 0; the kernel relaunches the same dext while it "
            "is at most dextrelaunch, 1000).");
  EXPECT_EQ(crashed[0].time, kWatchdogFires);
  const std::vector<std::pair<std::string, std::string>> data{
      {"started", "true"}, {"crashes_today", "1"},  {"reset_type", "kIOPCIDeviceResetTypeFunctionReset"},
      {"reset", "dev"},    {"rematch_count", "0"}, {"relaunching", "true"}};
  EXPECT_EQ(crashed[0].data, data);
  // At once: no more mastering or decoding. The dead process's DMA mapping stays while requests
  // issued before that may still land, and goes once the wait for posted requests is over.
  const std::uint32_t command = pcie::cfg::kCommandMemory | pcie::cfg::kCommandBusMaster;
  EXPECT_EQ(dev.config.read(pcie::cfg::kCommand, 2) & command, 0u);
  EXPECT_EQ(mapper.live_count(), 1u);
  d.run_for(100 * sim::kMillisecond);
  EXPECT_EQ(mapper.live_count(), 0u);
  EXPECT_EQ(d.m.fabric->resets(dev), 0u);  // still waiting for posted requests
  d.run_for(10 * sim::kMillisecond);
  EXPECT_EQ(d.m.fabric->resets(dev), 1u);  // the FLR
  EXPECT_EQ(d.kernel.processes().size(), 1u);
  // The FLR put config space back to its power-on values (the BAR unassigned) ...
  d.m.sim.run_until(kWatchdogFires + kFlrRecovery - sim::kNanosecond);
  EXPECT_EQ(d.kernel.processes().size(), 1u);
  EXPECT_EQ(dev.config.read(pcie::cfg::kBar0, 4) & ~0xfu, 0u);
  // ... and, 100 ms later, the recovery restored it (the BAR where enumeration put it) with
  // decoding still off; the new process starts at once.
  d.run_for(2 * sim::kNanosecond);
  EXPECT_EQ(dev.config.read(pcie::cfg::kBar0, 4) & ~0xfu, 0xa000'0000u);
  EXPECT_EQ(dev.config.read(pcie::cfg::kCommand, 2) & command, 0u);
  EXPECT_EQ(d.kernel.processes().size(), 2u);
  EXPECT_EQ(d.kernel.nub("dev")->rematch_count, 0u);
  // The new driver turned decoding on again and worked up to its own crash, 1 ms later.
  d.run_for(kWatchdogFiresAfterRecovery - sim::kMicrosecond);
  EXPECT_EQ(dev.config.read(pcie::cfg::kCommand, 2) & command, command);
  EXPECT_EQ(d.property("StartsInProcess"), 1u);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_EQ(d.property("DataOK"), 1u);
  EXPECT_EQ(d.with_check("dext.crashed").size(), 1u);
  d.run_for(2 * sim::kMicrosecond);
  ASSERT_EQ(d.with_check("dext.crashed").size(), 2u) << d.all_findings();
  EXPECT_EQ(d.with_check("dext.crashed")[1].what, "IOUserServer(org.dexthil.TestdevDriver): ClientCrashed (crash 2 today, on dev)");
  EXPECT_NE(d.with_check("dext.crashed")[1].why.find("dev's IORematchCount is now 1;"), std::string::npos);
  EXPECT_EQ(d.kernel.crash_count("org.dexthil.TestdevDriver"), 2u);
  EXPECT_EQ(d.device.msis_sent(), 4u);  // two transfers per process
}

// OSDextStatistics::recordCrash: more than daily_max_dext_crashes (3) in a day is the reboot
// policy, which panics only for Apple's platform dexts; a third-party dext is relaunched regardless.
TEST(DriverKitKernel, MoreThanThreeCrashesADayIsACrashLoopAndTheDextIsStillRelaunched) {
  DextMachine d("null-store");
  const sim::SimTime cycle = kFlrRecovery + kWatchdogFiresAfterRecovery;  // from one crash to the next
  d.m.sim.run_until(kWatchdogFires + 3 * cycle + sim::kMicrosecond);
  EXPECT_EQ(d.with_check("dext.crashed").size(), 4u) << d.all_findings();
  auto loop = d.with_check("dext.crash-loop");
  ASSERT_EQ(loop.size(), 1u) << d.all_findings();
  EXPECT_EQ(loop[0].what, "org.dexthil.TestdevDriver crashed 4 times within a day: more than daily_max_dext_crashes (3)");
  EXPECT_EQ(loop[0].why,
            "OSDextStatistics::recordCrash now answers with the reboot policy: for a dext that is part of macOS (a "
            "platform binary) the kernel would panic with \"Driver org.dexthil.TestdevDriver has crashed too many "
            "times\". A third-party dext is launched again regardless, up to 1000 times per device (dextrelaunch), so "
            "the device keeps a driver that dies the same way. Fix the first crash reported for it.");
  EXPECT_EQ(loop[0].time, kWatchdogFires + 3 * cycle);
  EXPECT_EQ(loop[0].subject, "dev");
  d.run_for(cycle);
  EXPECT_EQ(d.with_check("dext.crashed").size(), 5u);
  EXPECT_EQ(d.with_check("dext.crash-loop").size(), 1u);  // once, when the limit is first passed
  EXPECT_EQ(d.kernel.processes().size(), 5u);
  EXPECT_EQ(d.kernel.crash_count("org.dexthil.TestdevDriver"), 5u);
  EXPECT_EQ(d.m.fabric->resets(d.m.node("dev")), 4u);  // the fifth recovery is still waiting for posted requests
}

// IOService::doServiceMatch relaunches the same dext on a provider while its IORematchCount is
// within dextrelaunch (a boot-arg: 1000 by default, 1 here).
TEST(DriverKitKernel, BeyondDextrelaunchTheDeviceIsLeftWithoutTheDriver) {
  KernelProfile profile;
  profile.dext_relaunch_max = 1;
  DextMachine d("null-store", profile);
  d.run_for(2 * sim::kSecond);
  auto crashed = d.with_check("dext.crashed");
  ASSERT_EQ(crashed.size(), 3u) << d.all_findings();  // IORematchCount 0 and 1 relaunch; 2 does not
  EXPECT_TRUE(crashed[2].why.ends_with(
      "The kernel terminates TestdevDriver@dev but does not launch the dext again for dev."))
      << crashed[2].why;
  auto loop = d.with_check("dext.crash-loop");
  ASSERT_EQ(loop.size(), 1u) << d.all_findings();
  EXPECT_EQ(loop[0].what, "org.dexthil.TestdevDriver is no longer launched for dev: its IORematchCount 2 is beyond dextrelaunch (1)");
  EXPECT_EQ(loop[0].time, crashed[2].time);
  EXPECT_EQ(d.kernel.processes().size(), 3u);
  EXPECT_EQ(d.kernel.nub("dev")->rematch_count, 2u);
  EXPECT_EQ(d.m.fabric->resets(d.m.node("dev")), 3u);  // the provider still recovers its device
}

TEST(DriverKitKernel, BusErrorNamesTheAddress) {
  DextMachine d("bus-error");
  d.run_for(5 * sim::kMillisecond);
  auto crashes = d.with_check("dext.signal");
  ASSERT_EQ(crashes.size(), 1u) << d.all_findings();
  EXPECT_EQ(crashes[0].what.rfind("EXC_BAD_ACCESS (SIGBUS): SIGBUS (nonexistent physical address) at address 0x", 0), 0u)
      << crashes[0].what;
}

TEST(DriverKitKernel, ARecursionThatFillsTheStackIsFoldedInTheBacktrace) {
  DextMachine d("stack-overflow");
  d.run_for(5 * sim::kMillisecond);
  auto crashes = d.with_check("dext.stack-overflow");
  ASSERT_EQ(crashes.size(), 1u) << d.all_findings();
  EXPECT_NE(crashes[0].why.find("Thread stack size exceeded due to excessive recursion"), std::string::npos);
  EXPECT_NE(crashes[0].why.find("Descend(unsigned long) at TestdevDriver.cpp:"), std::string::npos) << crashes[0].why;
  EXPECT_NE(crashes[0].why.find("more times below it"), std::string::npos);
  EXPECT_LT(crashes[0].why.size(), 2000u);  // folded, not thousands of lines
}

TEST(DriverKitKernel, ACallbackThatNeverReturnsIsEndedByTheWatchdog) {
  const std::uint64_t limit = fault_guard::callback_limit_ms();
  fault_guard::set_callback_limit_ms(200);
  DextMachine d("hang");
  d.run_for(5 * sim::kMillisecond);
  fault_guard::set_callback_limit_ms(limit);
  auto hangs = d.with_check("dext.hang");
  ASSERT_EQ(hangs.size(), 1u) << d.all_findings();
  EXPECT_EQ(hangs[0].what.rfind("callback still running after 0.", 0), 0u) << hangs[0].what;
  EXPECT_NE(hangs[0].what.find(" s of wall-clock time on queue \"Default\" in TestdevDriver::TimerOccurred"),
            std::string::npos)
      << hangs[0].what;
  EXPECT_EQ(hangs[0].time, kWatchdogFires);  // simulated time stood still while it spun
  EXPECT_EQ(d.with_check("dext.crashed").size(), 1u);
}

TEST(DriverKitKernel, AReadTheFunctionCannotTakeIsAnUnsupportedRequestFindingOnce) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  ASSERT_TRUE(d.m.findings.empty()) << d.all_findings();
  // The function goes to D3hot behind the driver's back; its registers stop answering.
  pcie::Node& dev = d.m.node("dev");
  const std::uint16_t pm = dev.config.find_capability(pcie::cfg::kCapPowerManagement);
  d.m.fabric->config_write(dev.bdf, pm + 4, 2, 3);
  IOPCIDevice* nub = OSDynamicCast(IOPCIDevice, d.kernel.nub("dev")->object);
  uint32_t status = 0;
  nub->MemoryRead32(0, 0x20, &status);  // from outside a queue: the simulation runs until the completion
  EXPECT_EQ(status, 0xffffffffu);
  nub->MemoryRead32(0, 0x24, &status);  // the same reason again: no second finding
  nub->MemoryWrite8(0, 0x14, 1);
  auto refused = d.with_check("pci.unsupported-request");
  ASSERT_EQ(refused.size(), 1u) << d.all_findings();
  EXPECT_EQ(refused[0].what, "MemoryRead32(0, 0x20) on dev: Unsupported Request, read all ones");
  EXPECT_EQ(refused[0].why.rfind("dev is in D3hot (PMCSR PowerState 3); a function in D3hot takes only configuration "
                                 "requests. The root complex completes a failed read with all ones",
                                 0),
            0u)
      << refused[0].why;
}

TEST(DriverKitKernel, SurpriseRemovalStopsTheServiceAndLaterAccessSeesTheLinkDown) {
  DextMachine d("");
  d.run_for(3 * sim::kMillisecond);
  IOPCIDevice* nub = OSDynamicCast(IOPCIDevice, d.kernel.nub("dev")->object);
  d.m.fabric->surprise_remove(d.m.node("dev"));
  d.device.unplug();
  d.kernel.device_removed("dev");
  // A read that races the removal (the dext's, or here the test's) meets a link that is down.
  uint32_t id = 0;
  nub->MemoryRead32(0, 0, &id);
  EXPECT_EQ(id, 0xffffffffu);
  d.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStopped);  // the kernel terminated it
  auto refused = d.with_check("pci.unsupported-request");
  ASSERT_EQ(refused.size(), 1u) << d.all_findings();
  EXPECT_EQ(refused[0].why.rfind("the link to dev is down: the device was removed.", 0), 0u) << refused[0].why;
  // Config space is gone too.
  EXPECT_EQ(d.m.fabric->config_read(d.m.node("dev").bdf, pcie::cfg::kVendorId, 2), 0xffffu);
}

TEST(DriverKitKernel, FieldOrderPowerBeforeStartCrashesAQueueNamedSetPowerStateBeforeStart) {
  DextMachine d("power-queue", *KernelProfile::named("field"));
  d.run_for(10 * sim::kSecond);
  auto assertions = d.with_check("dext.queue-assertion");
  ASSERT_EQ(assertions.size(), 1u) << d.all_findings();
  EXPECT_EQ(assertions[0].what,
            "uioserver.cpp:1654 Assertion failed: notsync || !remote || (msgid == IOService_Start_ID) || queue->OnQueue()");
  EXPECT_NE(assertions[0].why.find("queue \"PowerQueue\""), std::string::npos) << assertions[0].why;
  // Its Start never returned: xnu detaches it as a failed start, does not relaunch it and does not
  // count the crash; the provider, never opened, is left as it is.
  auto crashed = d.with_check("dext.crashed");
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_EQ(crashed[0].what, "IOUserServer(org.dexthil.TestdevDriver): ClientCrashed (on dev, before its Start returned)");
  EXPECT_EQ(crashed[0].why,
            "The dext process died. IOPCIDevice::ClientCrashed: dev was not open by TestdevDriver@dev, so IOPCIFamily "
            "leaves the device as it is (only a client that opened it can have changed its state). Its Start had not "
            "returned success, so the kernel only detaches the service, as for a failed start, and does not launch "
            "the dext again for dev (IOService::startCandidate; IOUserServer::finalize: \"server exit before "
            "start()\"); nor does the crash count against the dext's daily limit.");
  EXPECT_TRUE(d.with_check("dext.crash-loop").empty());
  EXPECT_EQ(d.kernel.crash_count("org.dexthil.TestdevDriver"), 0u);
  EXPECT_EQ(d.kernel.processes().size(), 1u);
  EXPECT_EQ(d.m.fabric->resets(d.m.node("dev")), 0u);
  EXPECT_EQ(d.device.msis_sent(), 0u);  // Start never ran
}

TEST(DriverKitKernel, QueueNamedSetPowerStateIsFineInDocumentedOrder) {
  DextMachine d("power-queue");
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 1u);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, QueueMadeInInitSurvivesTheFieldOrder) {
  DextMachine d("power-queue-in-init", *KernelProfile::named("field"));
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.service()->stage, ServiceRecord::Stage::kStarted);
  EXPECT_EQ(d.property("PowerChanges"), 1u);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, CorrectDriverUnderFieldOrderSeesPowerBeforeStart) {
  DextMachine d("", *KernelProfile::named("field"));
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.property("PowerChanges"), 1u);
  EXPECT_EQ(d.property("TransfersOK"), 2u);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, ProviderIsExclusiveAndAccessorsNeedOpen) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  ASSERT_NE(nub, nullptr);
  IOService* other = OSTypeAlloc(IOService);
  EXPECT_EQ(nub->Open(other, 0), kIOReturnExclusiveAccess);
  uint8_t bus = 0, dev = 0, fn = 0;
  ASSERT_EQ(nub->GetBusDeviceFunction(&bus, &dev, &fn), kIOReturnSuccess);
  EXPECT_EQ(bus, d.m.node("dev").bdf.bus);
  uint64_t msi = 0;
  EXPECT_EQ(nub->FindPCICapability(kIOPCICapabilityIDMSI, 0, &msi), kIOReturnSuccess);
  EXPECT_EQ(msi, d.m.node("dev").config.find_capability(pcie::cfg::kCapMsi));
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  // Closed by Stop: accessors now read all-ones, and another client may open it.
  uint32_t id = 0;
  nub->MemoryRead32(0, 0, &id);
  EXPECT_EQ(id, 0xffffffffu);
  EXPECT_EQ(nub->Open(other, 0), kIOReturnSuccess);
  nub->MemoryRead32(0, 0, &id);
  EXPECT_EQ(id, models::testdev::kIdValue);
  nub->MemoryRead32(0, 0x4000, &id);  // past the 16 KiB BAR
  EXPECT_EQ(id, 0xffffffffu);
  nub->Close(other, 0);
  other->release();
}

// Runs `work` on a queue of its own (a fiber, so it may block in simulated time) and returns
// the queue, which the caller releases.
IODispatchQueue* run_on_queue(DextMachine& d, const char* name, std::function<void()> work) {
  IODispatchQueue* q = IODispatchQueue::make_host(d.kernel.runtime(), name, 0, 0);
  q->DispatchAsyncFunction(std::move(work));
  return q;
}

TEST(DriverKitKernel, FunctionResetResetsTheDeviceAndRestoresConfigSpace) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  ASSERT_NE(nub, nullptr);
  uint32_t done = 0, command = 0, msi_control = 0;
  nub->MemoryRead32(0, models::testdev::kDoneCount, &done);
  ASSERT_EQ(done, 2u);  // the driver's two transfers
  uint64_t msi = 0;
  ASSERT_EQ(nub->FindPCICapability(kIOPCICapabilityIDMSI, 0, &msi), kIOReturnSuccess);
  nub->ConfigurationRead32(kIOPCIConfigurationOffsetCommand, &command);

  kern_return_t result = kIOReturnError;
  sim::SimTime started = 0, finished = 0;
  IODispatchQueue* q = run_on_queue(d, "Reset", [&] {
    started = d.m.sim.now();
    result = nub->Reset(kIOPCIDeviceResetTypeFunctionReset);
    finished = d.m.sim.now();
  });
  d.run_for(200 * sim::kMillisecond);
  ASSERT_EQ(result, kIOReturnSuccess);
  EXPECT_EQ(finished - started, 100 * sim::kMillisecond);  // blocks until the function may be accessed
  EXPECT_EQ(d.m.fabric->resets(d.m.node("dev")), 1u);
  // The device's own registers are back at their reset values...
  nub->MemoryRead32(0, models::testdev::kDoneCount, &done);
  EXPECT_EQ(done, 0u);
  // ...and config space is as before: BAR decoding, bus mastering and MSI work without the driver.
  uint32_t after = 0;
  nub->ConfigurationRead32(kIOPCIConfigurationOffsetCommand, &after);
  EXPECT_EQ(after & 0xffff, command & 0xffff);
  nub->ConfigurationRead32(msi + 2, &msi_control);
  EXPECT_EQ(msi_control & 1, 1u);
  EXPECT_TRUE(d.with_check("pci.access-during-reset").empty()) << d.all_findings();
  q->release();
}

TEST(DriverKitKernel, TouchingTheDeviceDuringResetIsFlagged) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  IODispatchQueue* resetter = run_on_queue(d, "Reset", [&] { nub->Reset(kIOPCIDeviceResetTypeHotReset); });
  uint32_t id = 0;
  IODispatchQueue* poller = run_on_queue(d, "Poll", [&] {
    IOSleep(50);
    nub->MemoryRead32(0, models::testdev::kId, &id);
  });
  d.run_for(200 * sim::kMillisecond);
  EXPECT_EQ(id, 0xffffffffu);
  auto found = d.with_check("pci.access-during-reset");
  ASSERT_EQ(found.size(), 1u) << d.all_findings();
  EXPECT_EQ(found[0].what, "MemoryRead32 on dev while IOPCIDevice::Reset is in progress");
  nub->MemoryRead32(0, models::testdev::kId, &id);  // after the reset the device answers again
  EXPECT_EQ(id, models::testdev::kIdValue);
  resetter->release();
  poller->release();
}

TEST(DriverKitKernel, ResetTypesAreCheckedAsIOPCIBridgeChecksThem) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  // IOPCIFamilyDefinitions.h: FLR is 0x10, not 0; a type is exactly one known bit.
  EXPECT_EQ(static_cast<uint32_t>(kIOPCIDeviceResetTypeFunctionReset), 0x10u);
  EXPECT_EQ(nub->Reset(0), kIOReturnBadArgument);
  EXPECT_EQ(nub->Reset(kIOPCIDeviceResetTypeHotReset | kIOPCIDeviceResetTypeFunctionReset), kIOReturnBadArgument);
  EXPECT_EQ(nub->Reset(0x20), kIOReturnBadArgument);
  EXPECT_EQ(nub->Reset(kIOPCIDeviceResetTypeHotReset, 0x2), kIOReturnBadArgument);  // an unknown option
  // No platform function drives PERST# on the simulated machine (IOPCIBridge: bad argument);
  // terminating and re-probing is not modelled.
  EXPECT_EQ(nub->Reset(kIOPCIDeviceResetTypeWarmReset), kIOReturnBadArgument);
  EXPECT_EQ(nub->Reset(kIOPCIDeviceResetTypeFunctionReset, kIOPCIDeviceResetOptionTerminate), kIOReturnUnsupported);
  EXPECT_EQ(d.m.fabric->resets(d.m.node("dev")), 0u);
}

TEST(DriverKitKernel, SaveAndRestoreDeviceState) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  EXPECT_EQ(nub->RestoreDeviceState(), kIOReturnNotReady);  // nothing saved yet
  uint32_t bar0 = 0;
  nub->ConfigurationRead32(kIOPCIConfigurationOffsetBaseAddress0, &bar0);
  ASSERT_EQ(nub->SaveDeviceState(), kIOReturnSuccess);
  nub->ConfigurationWrite32(kIOPCIConfigurationOffsetBaseAddress0, 0);
  nub->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand, 0);
  ASSERT_EQ(nub->RestoreDeviceState(), kIOReturnSuccess);
  uint32_t restored = 0, id = 0;
  nub->ConfigurationRead32(kIOPCIConfigurationOffsetBaseAddress0, &restored);
  EXPECT_EQ(restored, bar0);
  nub->MemoryRead32(0, models::testdev::kId, &id);
  EXPECT_EQ(id, models::testdev::kIdValue);
  EXPECT_EQ(nub->RestoreDeviceState(), kIOReturnNotReady);  // a one-time copy is used up
  ASSERT_EQ(nub->SaveDeviceState(kPCIConfigShadowPermanent), kIOReturnSuccess);
  EXPECT_EQ(nub->RestoreDeviceState(), kIOReturnSuccess);
  EXPECT_EQ(nub->RestoreDeviceState(), kIOReturnSuccess);  // a permanent one is not
}

TEST(DriverKitKernel, LinkSpeedBarInfoAndAspmUseApplesValues) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  auto* nub = OSDynamicCast(IOPCIDevice, d.service()->provider);
  IOPCILinkSpeed speed{};
  ASSERT_EQ(nub->GetLinkSpeed(&speed), kIOReturnSuccess);
  EXPECT_EQ(speed, kPCILinkSpeed_8_GTs);
  EXPECT_EQ(nub->SetLinkSpeed(kPCILinkSpeed_16_GTs), kIOReturnBadArgument);  // beyond the root port
  ASSERT_EQ(nub->SetLinkSpeed(kPCILinkSpeed_2_5_GTs, true), kIOReturnSuccess);
  ASSERT_EQ(nub->GetLinkSpeed(&speed), kIOReturnSuccess);
  EXPECT_EQ(speed, kPCILinkSpeed_2_5_GTs);
  EXPECT_EQ(d.m.node("dev").trained_gen, 1);

  uint8_t index = 0xff, type = 0xff;
  uint64_t size = 0;
  ASSERT_EQ(nub->GetBARInfo(kPCIMemoryRangeBAR0, &index, &size, &type), kIOReturnSuccess);
  EXPECT_EQ(index, 0);
  EXPECT_EQ(size, 16384u);
  EXPECT_EQ(type, kPCIBARTypeM32);
  EXPECT_EQ(kPCIBARTypeM64PF, 0x0c);  // the BAR register's type bits, as IOPCIFamily defines them

  EXPECT_EQ(nub->SetASPMState(kIOPCILinkControlASPMBitsL1), kIOReturnSuccess);
  EXPECT_EQ(pcie::Fabric::aspm_control(d.m.node("dev")), 2u);
  EXPECT_EQ(nub->SetASPMState(0x4), kIOReturnBadArgument);
  EXPECT_EQ(nub->HasPCIPowerManagement(0), kIOReturnSuccess);
  EXPECT_EQ(nub->HasPCIPowerManagement(kPCIPMCPMESupportFromD3Cold), kIOReturnUnsupported);  // no PME from D3cold
}

TEST(DriverKitKernel, MemoryMapsShowTheBufferTheDeviceSees) {
  DextMachine d("");
  d.run_for(sim::kMillisecond);
  kern_return_t fixed = kIOReturnSuccess, outside = kIOReturnSuccess;
  uint64_t map_offset = 0, map_length = 0;
  bool same_bytes = false;
  IODispatchQueue* q = run_on_queue(d, "Map", [&] {
    IOBufferMemoryDescriptor* buffer = nullptr;
    ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 8192, 0, &buffer), kIOReturnSuccess);
    buffer->SetLength(8192);
    IOMemoryMap* map = nullptr;
    ASSERT_EQ(buffer->CreateMapping(0, 0, 4096, 0, 0, &map), kIOReturnSuccess);
    map_offset = map->GetOffset();
    map_length = map->GetLength();
    // The dext writes through the mapping; the bytes are the ones a device would DMA.
    reinterpret_cast<uint8_t*>(map->GetAddress())[0] = 0xa5;
    std::vector<std::uint8_t> seen(1);
    d.m.memory.read(buffer->physical_address() + 4096, seen);
    same_bytes = seen[0] == 0xa5;
    IOMemoryMap* unused = nullptr;
    fixed = buffer->CreateMapping(kIOMemoryMapFixedAddress, 0x1000, 0, 0, 0, &unused);
    outside = buffer->CreateMapping(0, 0, 8192, 1, 0, &unused);
    map->release();
    buffer->release();
  });
  d.run_for(sim::kMillisecond);
  EXPECT_EQ(map_offset, 4096u);
  EXPECT_EQ(map_length, 4096u);  // length 0: to the end of the descriptor
  EXPECT_TRUE(same_bytes);
  EXPECT_EQ(fixed, kIOReturnUnsupported);  // a dext cannot choose the address
  EXPECT_EQ(outside, kIOReturnBadArgument);
  q->release();
}

// xnu's IOBufferMemoryDescriptor::Create_Impl builds the buffer with inTaskWithOptions(capacity),
// so its length starts at the capacity, and refuses options beyond the direction bits.
TEST(DriverKitKernel, ANewBufferIsAsLongAsItsCapacity) {
  DextMachine d("");
  d.run_for(sim::kMillisecond);
  uint64_t length = 0, after_set = 0;
  kern_return_t bad_option = kIOReturnSuccess;
  IODispatchQueue* q = run_on_queue(d, "Buffer", [&] {
    IOBufferMemoryDescriptor* buffer = nullptr;
    ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 12288, 0, &buffer), kIOReturnSuccess);
    buffer->GetLength(&length);
    buffer->SetLength(100);
    buffer->GetLength(&after_set);
    buffer->release();
    IOBufferMemoryDescriptor* unused = nullptr;
    bad_option = IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut | 0x100, 4096, 0, &unused);
  });
  d.run_for(sim::kMillisecond);
  EXPECT_EQ(length, 12288u);
  EXPECT_EQ(after_set, 100u);
  EXPECT_EQ(bad_option, kIOReturnBadArgument);
  q->release();
}

TEST(DriverKitKernel, ExternalMethodRunsOnTheUserClientsNamedQueueAndSeesTheAppsEntitlements) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  UserClientConnection* c = d.kernel.open_user_client(d.service(), 0);
  d.run_for(sim::kMillisecond);
  ASSERT_EQ(c->open_result(), kIOReturnSuccess);
  IOUserClient* client = c->client();
  // The application's entitlements, as CopyClientEntitlements hands them to the dext.
  c->set_entitlements({{"com.apple.developer.driverkit.userclient-access", true}, {"team", std::string("ABCDE12345")}});
  OSDictionary* entitlements = nullptr;
  ASSERT_EQ(client->CopyClientEntitlements(&entitlements), kIOReturnSuccess);
  EXPECT_EQ(entitlements->getObject("com.apple.developer.driverkit.userclient-access"), kOSBooleanTrue);
  const auto* team = OSDynamicCast(OSString, entitlements->getObject("team"));
  ASSERT_NE(team, nullptr);
  EXPECT_STREQ(team->getCStringNoCopy(), "ABCDE12345");
  entitlements->release();
  // With a queue set under kIOUserClientQueueNameExternalMethod, ExternalMethod runs there: while
  // a block holds that queue for 1 ms, the call waits for it (on Default it would not).
  IODispatchQueue* methods = nullptr;
  ASSERT_EQ(IODispatchQueue::Create("Methods", 0, 0, &methods), kIOReturnSuccess);
  ASSERT_EQ(client->SetDispatchQueue(kIOUserClientQueueNameExternalMethod, methods), kIOReturnSuccess);
  methods->DispatchAsyncFunction([&] { d.kernel.runtime().sleep_for(sim::kMillisecond); });
  MethodCall counters;
  counters.selector = 0;
  counters.scalar_output_count = 2;
  auto got = c->call(counters);
  d.run_for(500 * sim::kMicrosecond);
  EXPECT_FALSE(got->result.has_value());
  d.run_for(sim::kMillisecond);
  EXPECT_EQ(got->result, kIOReturnSuccess);
  c->close();
  d.run_for(sim::kMillisecond);
  methods->release();
}

TEST(DriverKitKernel, AnApplicationOpensCallsMapsAndClosesAUserClient) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  UserClientConnection* c = d.kernel.open_user_client(d.service(), 0);
  d.run_for(sim::kMillisecond);
  ASSERT_EQ(c->open_result(), kIOReturnSuccess);
  ASSERT_NE(c->client(), nullptr);
  EXPECT_STREQ(c->client()->getMetaClass()->getClassName(), "TestdevUserClient");  // from UserClientProperties

  // Selector 0: two scalars out, the driver's counters.
  MethodCall counters;
  counters.selector = 0;
  counters.scalar_output_count = 2;
  auto got = c->call(counters);
  // Wrong shapes are refused by IOUserClient::ExternalMethod's dispatch checks.
  MethodCall wrong = counters;
  wrong.scalar_input = {1};
  auto refused = c->call(wrong);
  MethodCall unknown;
  unknown.selector = 9;
  auto unsupported = c->call(unknown);
  d.run_for(sim::kMillisecond);
  ASSERT_EQ(got->result, kIOReturnSuccess);
  EXPECT_EQ(got->scalar_output, (std::vector<std::uint64_t>{2, 2}));  // Start's two transfers, two interrupts
  EXPECT_EQ(refused->result, kIOReturnBadArgument);
  EXPECT_EQ(unsupported->result, kIOReturnUnsupported);

  // Selector 1, async: the device writes the pattern again and the completion arrives later.
  MethodCall run;
  run.selector = 1;
  run.async = true;
  auto started = c->call(run);
  d.run_for(2 * sim::kMillisecond);
  ASSERT_EQ(started->result, kIOReturnSuccess);
  ASSERT_EQ(c->async_results().size(), 1u);
  EXPECT_EQ(c->async_results()[0].status, kIOReturnSuccess);
  EXPECT_EQ(c->async_results()[0].data, (std::vector<std::uint64_t>{0x2, 3}));  // STATUS done, result OK; 3 transfers
  MethodCall sync_run = run;
  sync_run.async = false;
  auto not_async = c->call(sync_run);  // the same selector without a completion

  // Selector 2: structure output, the buffer's first bytes as the CPU sees them.
  MethodCall read;
  read.selector = 2;
  read.scalar_input = {8};
  read.structure_output_maximum = 64;
  auto bytes = c->call(read);
  // Memory type 0: the DMA buffer, mapped read-only.
  auto mapping = c->map_memory(0);
  d.run_for(sim::kMillisecond);
  EXPECT_EQ(not_async->result, kIOReturnBadArgument);
  ASSERT_EQ(bytes->result, kIOReturnSuccess);
  EXPECT_EQ(bytes->structure_output, (std::vector<std::uint8_t>{0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37}));
  ASSERT_EQ(mapping->result, kIOReturnSuccess);
  EXPECT_EQ(mapping->options, static_cast<std::uint64_t>(kIOUserClientMemoryReadOnly));
  EXPECT_EQ(c->read(*mapping, 4093, 3), (std::vector<std::uint8_t>{0x2d, 0x2e, 0x2f}));  // (0x30 + n) mod 256
  EXPECT_FALSE(c->write(*mapping, 0, {1}));  // read-only

  c->close();
  d.run_for(sim::kMillisecond);
  auto after = c->call(counters);
  EXPECT_EQ(after->result, kIOReturnNotOpen);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  d.kernel.finish();
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();  // the client's Stop ran, nothing leaked
  size_t stopped = 0;
  for (const ServiceRecord* rec : d.kernel.services()) stopped += rec->stage == ServiceRecord::Stage::kStopped;
  EXPECT_EQ(stopped, 2u);  // the driver and its user client
}

TEST(DriverKitKernel, TerminationClosesOpenUserClients) {
  DextMachine d("");
  d.run_for(5 * sim::kMillisecond);
  UserClientConnection* c = d.kernel.open_user_client(d.service(), 0);
  UserClientConnection* bad_type = d.kernel.open_user_client(d.service(), 7);
  d.run_for(sim::kMillisecond);
  ASSERT_EQ(c->open_result(), kIOReturnSuccess);
  EXPECT_EQ(bad_type->open_result(), kIOReturnBadArgument);  // the driver's NewUserClient refused it
  auto mapping = c->map_memory(0);
  d.run_for(sim::kMillisecond);
  ASSERT_EQ(mapping->result, kIOReturnSuccess);
  d.kernel.terminate_all();  // with the connection and its mapping still open
  d.run_for(5 * sim::kMillisecond);
  d.kernel.finish();
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

TEST(DriverKitKernel, SetDispatchQueueAcceptsOnlyDeclaredNames) {
  DextMachine d("power-queue");
  d.run_for(5 * sim::kMillisecond);
  IOService* service = d.service()->service;
  IODispatchQueue* q = IODispatchQueue::make_host(d.kernel.runtime(), "Extra", 0, 0);
  EXPECT_EQ(service->SetDispatchQueue("NotDeclared", q), kIOReturnBadArgument);
  EXPECT_EQ(service->SetDispatchQueue("PowerQueue", q), kIOReturnSuccess);
  q->release();
}

TEST(DriverKitKernel, ADextThatMatchesNothingIsAFindingNamingTheClosestPersonality) {
  // The testdev library with an Info.plist whose device ID is off by one digit.
  std::ifstream in("dexts/testdev/Info.plist");
  std::stringstream text;
  text << in.rdbuf();
  std::string plist = text.str();
  const auto at = plist.find("0x56781234");
  ASSERT_NE(at, std::string::npos);
  plist.replace(at, 10, "0x56791234");
  const auto path = std::filesystem::temp_directory_path() / "dexthil-no-match-Info.plist";
  std::ofstream(path) << plist;

  BareKernel bare("direct");
  std::string error;
  ASSERT_TRUE(bare.kernel.load_dext(dext_library("TestdevDriver"), path.string(), &error)) << error;
  bare.kernel.start_matching();
  bare.m.sim.run_until(5 * sim::kMillisecond);
  EXPECT_TRUE(bare.kernel.services().empty());
  ASSERT_EQ(bare.m.findings.all().size(), 1u);
  const checks::Finding& f = bare.m.findings.all()[0];
  EXPECT_EQ(f.check, "dext.no-match");
  EXPECT_EQ(f.what, "org.dexthil.TestdevDriver matched nothing: the kernel started none of its personalities");
  EXPECT_EQ(f.why.rfind("Closest: personality \"TestdevDriver\" against dev (1234:5678, 01:00.0): IOPCIPrimaryMatch "
                        "\"0x56791234\" does not match 1234:5678 (device << 16 | vendor).",
                        0),
            0u)
      << f.why;
  EXPECT_EQ(f.subject, "dev");
}

TEST(DriverKitKernel, ADextWhoseStaticInitializerCrashesFailsToLoadAndTheHarnessGoesOn) {
  BareKernel bare("direct");
  std::string error;
  EXPECT_FALSE(bare.kernel.load_dext(dext_library("TestdevDriver-abort-at-load"), "dexts/testdev/Info.plist", &error));
  EXPECT_NE(error.find("libTestdevDriver-abort-at-load.so: error: the dext crashed while loading: SIGABRT in its "
                       "static initializers"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("CheckClockAtLoad() at "), std::string::npos) << error;
  EXPECT_NE(error.find("/dexts/testdev/TestdevDriver.cpp:"), std::string::npos) << error;
  EXPECT_FALSE(bare.kernel.load_dext(dext_library("TestdevDriver-exit-at-load"), "dexts/testdev/Info.plist", &error));
  EXPECT_NE(error.find("libTestdevDriver-exit-at-load.so: error: its static initializers ended the process (exit "
                       "status 3), so the dext process dies at launch"),
            std::string::npos)
      << error;
  // The same kernel loads a dext that behaves.
  EXPECT_TRUE(bare.kernel.load_dext(dext_library("TestdevDriver"), "dexts/testdev/Info.plist", &error)) << error;
}

TEST(DriverKitKernel, LoadErrorsNameTheFile) {
  BareKernel bare("direct");
  std::string error;
  EXPECT_FALSE(bare.kernel.load_dext("/nonexistent/libX.so", "dexts/testdev/Info.plist", &error));
  EXPECT_EQ(error.rfind("/nonexistent/libX.so: error: cannot load the dext: ", 0), 0u) << error;
  EXPECT_FALSE(bare.kernel.load_dext(dext_library("TestdevDriver"), "fixtures/plists/lsi-mpt.plist", &error));
  EXPECT_NE(error.find("IOKitPersonalities.LSIMPT.IOUserClass: class 'LSIMPT' is not in"), std::string::npos) << error;
}

TEST(DriverKitKernel, MachAbsoluteTimeUsesTheAppleSiliconTimebase) {
  BareKernel bare("direct");
  bare.m.sim.run_until(3 * sim::kMillisecond);
  EXPECT_EQ(bare.kernel.mach_ticks(), 72'000u);  // 24 MHz
  mach_timebase_info_data_t tb;
  mach_timebase_info(&tb);
  EXPECT_EQ(tb.numer, 125u);
  EXPECT_EQ(tb.denom, 3u);
  EXPECT_EQ(Kernel::ticks_to_time(72'000), 3 * sim::kMillisecond);
}

// ---- RequireMaxBusStall: the platform's system-wide limit, and what it bounds ----

// The injected stall a 64-byte read by dev meets now: the stall part of its latency.
sim::SimTime stall_of_a_read(DextMachine& d, std::uint64_t iova) {
  struct Probe final : pcie::DmaPathObserver {
    void on_dma(const pcie::DmaPath& path, const pcie::Fabric&) override {
      if (path.request.requester == "stall-probe") stall = path.latency.stall;
    }
    std::optional<sim::SimTime> stall;
  } probe;
  d.m.fabric->add_observer(&probe);
  dma::DmaRequest r;
  r.requester = "stall-probe";
  r.address = iova;
  r.length = 64;
  r.issued_at = d.m.sim.now();
  bool done = false;
  d.m.fabric->upstream(d.m.node("dev")).submit(std::move(r), [&](dma::DmaCompletion) { done = true; });
  d.run_for(2 * sim::kMillisecond);
  EXPECT_TRUE(done);
  return probe.stall.value_or(~sim::SimTime{0});
}

TEST(DriverKitKernel, ARequiredBusStallBoundsThePlatformsStallsUntilTheRequirementEnds) {
  // The field's rare 400 us PCIe read stall, on dev's hop of the direct topology.
  std::ifstream in("fixtures/topologies/direct.toml");
  std::stringstream text;
  text << in.rdbuf() << "[node.stall]\nkind = \"fixed\"\ndelay = \"400us\"\n";
  DextMachine d("", {}, "direct", text.str());
  d.run_for(20 * sim::kMillisecond);
  ASSERT_EQ(d.service()->stage, ServiceRecord::Stage::kStarted);
  IOService* service = d.service()->service;
  const std::uint64_t iova = 0x8000'0000;  // the driver's buffer, still prepared
  EXPECT_EQ(stall_of_a_read(d, iova), 400 * sim::kMicrosecond);
  // While the service requires kIOMaxBusStall25usec, the platform bounds the stall by it.
  ASSERT_EQ(service->RequireMaxBusStall(kIOMaxBusStall25usec), kIOReturnSuccess);
  EXPECT_EQ(stall_of_a_read(d, iova), 25 * sim::kMicrosecond);
  // kIOMaxBusStallNone ends the requirement: the stall is back.
  ASSERT_EQ(service->RequireMaxBusStall(kIOMaxBusStallNone), kIOReturnSuccess);
  EXPECT_EQ(stall_of_a_read(d, iova), 400 * sim::kMicrosecond);
  // So does the service's end (xnu's IOService::free requires no stall).
  ASSERT_EQ(service->RequireMaxBusStall(kIOMaxBusStall40usec), kIOReturnSuccess);
  EXPECT_EQ(stall_of_a_read(d, iova), 40 * sim::kMicrosecond);
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  ASSERT_EQ(d.service()->stage, ServiceRecord::Stage::kStopped);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), std::nullopt);
  EXPECT_EQ(d.m.fabric->stall_bound(), std::nullopt);
}

// The pci-bridge-pair topology: the test device on both functions behind a PEX 8114; dev driven
// by a TestdevDriver variant, peer by TestdevDriver through an Info.plist for 1234:5679 whose
// bundle is org.dexthil.TestdevPeer.
struct BridgePairMachine {
  explicit BridgePairMachine(const std::string& dev_variant)
      : m("pci-bridge-pair"),
        checkers(monitor, m.findings, m.sim.trace()),
        kernel(m.sim, m.memory, m.buffers, monitor),
        dev("testdev", m.sim, *m.fabric, m.node("dev")),
        peer("testdev-peer", m.sim, *m.fabric, m.node("peer")) {
    kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
    m.sim.attach(dev, m.sim.add_clock("testdev.clk", 4000));
    m.sim.attach(peer, m.sim.add_clock("testdev-peer.clk", 4000));
    std::ifstream in("dexts/testdev/Info.plist");
    std::stringstream text;
    text << in.rdbuf();
    std::string plist = text.str();
    plist.replace(plist.find("0x56781234"), 10, "0x56791234");
    for (std::size_t at; (at = plist.find("org.dexthil.TestdevDriver")) != std::string::npos;) {
      plist.replace(at, 25, "org.dexthil.TestdevPeer");
    }
    const auto path = std::filesystem::temp_directory_path() / "dexthil-peer-Info.plist";
    std::ofstream(path) << plist;
    std::string error;
    const std::string target = dev_variant.empty() ? "TestdevDriver" : "TestdevDriver-" + dev_variant;
    EXPECT_TRUE(kernel.load_dext(dext_library(target), "dexts/testdev/Info.plist", &error)) << error;
    EXPECT_TRUE(kernel.load_dext(dext_library("TestdevDriver"), path.string(), &error)) << error;
    kernel.start_matching();
  }
  void run_for(sim::SimTime t) { m.sim.run_until(m.sim.now() + t); }
  // The newest service on a function, and what it published.
  const ServiceRecord* on(const std::string& location) const {
    const ServiceRecord* last = nullptr;
    for (const ServiceRecord* r : kernel.services()) {
      if (r->name == "TestdevDriver@" + location) last = r;
    }
    return last;
  }
  unsigned processes_on(const std::string& location) const {
    unsigned n = 0;
    for (const DextProcess* p : kernel.processes()) n += p->nub->location == location;
    return n;
  }
  std::vector<checks::Finding> with_check(const std::string& check) const {
    return testing::findings_with_check(m.findings, check);
  }
  std::string all_findings() const { return testing::findings_text(m.findings); }

  pcie::testing::Machine m;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
  models::DmaTestdev dev, peer;
};

TEST(DriverKitKernel, TheSmallestBusStallAnyServiceRequiresIsThePlatformsUntilItsHolderLetsGo) {
  BridgePairMachine d("");
  d.run_for(5 * sim::kMillisecond);
  IOService* a = d.on("dev")->service;
  IOService* b = d.on("peer")->service;
  ASSERT_EQ(a->RequireMaxBusStall(kIOMaxBusStall40usec), kIOReturnSuccess);
  ASSERT_EQ(b->RequireMaxBusStall(kIOMaxBusStall10usec), kIOReturnSuccess);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), 10 * sim::kMicrosecond);
  EXPECT_EQ(d.kernel.max_bus_delay().holder(), "TestdevDriver@peer");
  EXPECT_EQ(d.m.fabric->stall_bound(), 10 * sim::kMicrosecond);
  // The holder relaxes its own: the other's is the limit now. Then the same service tightens it.
  ASSERT_EQ(b->RequireMaxBusStall(kIOMaxBusStallNone), kIOReturnSuccess);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), 40 * sim::kMicrosecond);
  EXPECT_EQ(d.kernel.max_bus_delay().holder(), "TestdevDriver@dev");
  ASSERT_EQ(a->RequireMaxBusStall(kIOMaxBusStall20usec), kIOReturnSuccess);
  ASSERT_EQ(b->RequireMaxBusStall(kIOMaxBusStall30usec), kIOReturnSuccess);
  EXPECT_EQ(d.m.fabric->stall_bound(), 20 * sim::kMicrosecond);
  // A refused value leaves the service's requirement as it was.
  EXPECT_EQ(a->RequireMaxBusStall(35000), kIOReturnBadArgument);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), 20 * sim::kMicrosecond);
  // The services stop: their requirements end with them.
  d.kernel.terminate_all();
  d.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(d.kernel.max_bus_delay().limit(), std::nullopt);
  EXPECT_EQ(d.m.fabric->stall_bound(), std::nullopt);
  EXPECT_TRUE(d.m.findings.empty()) << d.all_findings();
}

// Conventional PCI functions cannot do FLR: IOPCIFamily recovers from dev's crashed driver with a
// Secondary Bus Reset from the PEX 8114, which resets peer too, and terminates peer's driver so
// it is matched again.
TEST(DriverKitKernel, AHotResetBehindAPcieToPciBridgeResetsAndRematchesEveryFunctionBelowIt) {
  BridgePairMachine d("null-store");
  const pcie::Node& dev = d.m.node("dev");
  const pcie::Node& peer = d.m.node("peer");
  // The bridge's hops: a read costs 900 ns there and back (the ID read, to the device's next clock
  // edge); Start's Command read a 2 us kernel call more.
  const sim::SimTime watchdog = 1 * sim::kMillisecond + 2 * sim::kMicrosecond + 2 * 900 * sim::kNanosecond;
  d.run_for(watchdog + sim::kMicrosecond);
  auto crashed = d.with_check("dext.crashed");
  ASSERT_EQ(crashed.size(), 1u) << d.all_findings();
  EXPECT_NEAR(static_cast<double>(crashed[0].time), static_cast<double>(watchdog), 10e3);
  EXPECT_EQ(crashed[0].why,
            "The dext process died. IOPCIDevice::ClientCrashed: dev was open by TestdevDriver@dev, so IOPCIFamily "
            "recovers it (IOPCIBridge::childClientCrashRecovery): dev is conventional PCI, without the PCIe capability "
            "a Function Level Reset needs, so it is kIOPCIDeviceResetTypeHotReset: a Secondary Bus Reset from "
            "pex8114's Bridge Control, which resets every function below pex8114: dev, peer. It turns off their Memory "
            "Space and Bus Master, waits 100 ms for posted requests, holds the reset 100 ms, waits 100 ms for the link, "
            "and restores their config space; Memory Space and Bus Master stay off until each next driver turns them "
            "on. It terminates the drivers of the others reset with it, to be matched again. The kernel terminates "
            "TestdevDriver@peer and matches each one's device again once it has stopped. The kernel terminates "
            "TestdevDriver@dev and rematches dev "
            "to the same personality: a new process starts as soon as the provider's recovery is done (dev's "
            "IORematchCount is now 0; the kernel relaunches the same dext while it is at most dextrelaunch, 1000).");
  const std::vector<std::pair<std::string, std::string>> data{
      {"started", "true"},   {"crashes_today", "1"}, {"reset_type", "kIOPCIDeviceResetTypeHotReset"},
      {"reset", "dev,peer"}, {"rematch_count", "0"}, {"relaunching", "true"}};
  EXPECT_EQ(crashed[0].data, data);
  const std::uint32_t command = pcie::cfg::kCommandMemory | pcie::cfg::kCommandBusMaster;
  EXPECT_EQ(peer.config.read(pcie::cfg::kCommand, 2) & command, 0u);  // peer stops decoding too
  const ServiceRecord* first_peer = d.on("peer");
  EXPECT_EQ(first_peer->stage, ServiceRecord::Stage::kStarted);
  // The Secondary Bus Reset, 100 ms on: both functions are reset.
  d.run_for(100 * sim::kMillisecond + sim::kMicrosecond);
  EXPECT_EQ(d.m.fabric->resets(dev), 1u);
  EXPECT_EQ(d.m.fabric->resets(peer), 1u);
  EXPECT_EQ(d.processes_on("dev"), 1u);
  // When the recovery is done: dev's dext is relaunched, peer's driver is stopped and peer rematched.
  d.m.sim.run_until(watchdog + kHotResetRecovery + 500 * sim::kMicrosecond);
  EXPECT_EQ(d.processes_on("dev"), 2u);
  EXPECT_EQ(first_peer->stage, ServiceRecord::Stage::kStopped);
  EXPECT_EQ(d.processes_on("peer"), 2u);
  const ServiceRecord* second_peer = d.on("peer");
  ASSERT_NE(second_peer, first_peer);
  EXPECT_EQ(second_peer->stage, ServiceRecord::Stage::kStarted);
  EXPECT_EQ(d.kernel.nub("peer")->rematch_count, std::nullopt);  // a plain rematch: peer's driver did not crash
  // Both new drivers turned decoding on again and ran their transfers on the reset devices.
  EXPECT_EQ(testing::published_number(second_peer, "StartsInProcess"), 1u);
  EXPECT_EQ(testing::published_number(second_peer, "TransfersOK"), 2u);
  EXPECT_EQ(testing::published_number(d.on("dev"), "TransfersOK"), 2u);
  EXPECT_EQ(peer.config.read(pcie::cfg::kCommand, 2) & command, command);
  // Nothing else went wrong: peer's driver stopped cleanly and nothing touched a device mid-reset.
  EXPECT_EQ(d.m.findings.all().size(), 2u) << d.all_findings();  // dext.signal, dext.crashed
}

}  // namespace
}  // namespace dexthil::driverkit
