// The checkers behind the host DriverKit's device events, fed events directly: each rule gives
// its finding with the exact words and data fields, once per period, place or rule.
#include <gtest/gtest.h>

#include "harness/checks/device_access_checker.hpp"
#include "harness/checks/dma_prepare_checker.hpp"

namespace dexthil::checks {
namespace {

using Data = std::vector<std::pair<std::string, std::string>>;

struct Bench {
  monitor::Monitor monitor;
  FindingLog findings;
  sim::Trace trace{true};
  DeviceAccessChecker access{monitor, findings, trace};
  DmaPrepareChecker prepare{monitor, findings, trace};

  void power(const char* service, bool on, sim::SimTime t = 0) {
    monitor.emit(monitor::DevicePowerChanged{t, service, "dev", on});
  }
  void access_by(const char* accessor, sim::SimTime t = 0) { monitor.emit(monitor::DeviceAccessed{t, "dev", accessor}); }
  monitor::DeviceAccessFailed failure(monitor::DeviceAccessFailed::Reason reason, bool read, const char* why) {
    monitor::DeviceAccessFailed f;
    f.time = 7;
    f.location = "dev";
    f.accessor = read ? "MemoryRead32" : "MemoryWrite8";
    f.read = read;
    f.memory_index = 0;
    f.offset = 0x20;
    f.size = read ? 4 : 1;
    f.reason = reason;
    f.why = why;
    return f;
  }
};

TEST(DeviceAccessChecker, AccessWhileOffIsReportedOncePerOffPeriodPerService) {
  Bench b;
  b.access_by("MemoryRead32");  // powered: nothing to say
  b.power("Drv@dev", false, 10);
  b.access_by("MemoryRead32", 20);
  b.access_by("MemoryWrite32", 30);  // the same off period: no second finding
  ASSERT_EQ(b.findings.all().size(), 1u);
  const Finding& f = b.findings.all()[0];
  EXPECT_EQ(f.check, "power.access-while-off");
  EXPECT_EQ(f.where, "Drv@dev");
  EXPECT_EQ(f.subject, "dev");
  EXPECT_EQ(f.time, 20u);
  EXPECT_EQ(f.what, "MemoryRead32 on dev while the device is powered off");
  EXPECT_EQ(f.data, (Data{{"accessor", "MemoryRead32"}}));
  b.power("Drv@dev", true, 40);
  b.access_by("MemoryRead32", 50);
  b.power("Drv@dev", false, 60);
  b.access_by("MemoryRead32", 70);  // a new off period
  EXPECT_EQ(b.findings.all().size(), 2u);
  // A service whose process died no longer drives the device.
  b.power("Drv@dev", false, 80);
  b.monitor.emit(monitor::ServiceEnded{90, "Drv@dev", "dev"});
  b.access_by("MemoryRead32", 100);
  EXPECT_EQ(b.findings.all().size(), 2u);
  EXPECT_EQ(b.trace.count(), 2u);  // each finding is in the trace
}

TEST(DeviceAccessChecker, FailedRequestsAreReportedOncePerRuleWithTheirFields) {
  using Reason = monitor::DeviceAccessFailed::Reason;
  Bench b;
  b.monitor.emit(b.failure(Reason::kUnsupportedRequest, true, "dev is in D3hot"));
  b.monitor.emit(b.failure(Reason::kUnsupportedRequest, true, "dev is in D3hot"));  // the same rule again
  b.monitor.emit(b.failure(Reason::kUnsupportedRequest, false, "dev is in D3hot"));  // a write, same rule
  b.monitor.emit(b.failure(Reason::kCompletionTimeout, true, "nothing answered"));
  ASSERT_EQ(b.findings.all().size(), 2u);
  const Finding& ur = b.findings.all()[0];
  EXPECT_EQ(ur.check, "pci.unsupported-request");
  EXPECT_EQ(ur.what, "MemoryRead32(0, 0x20) on dev: Unsupported Request, read all ones");
  EXPECT_EQ(ur.why.rfind("dev is in D3hot. The root complex completes a failed read with all ones", 0), 0u) << ur.why;
  EXPECT_EQ(ur.data, (Data{{"accessor", "MemoryRead32"}, {"memory_index", "0"}, {"offset", "0x20"}, {"size", "4"},
                           {"status", "Unsupported Request"}}));
  const Finding& timeout = b.findings.all()[1];
  EXPECT_EQ(timeout.check, "pci.completion-timeout");
  EXPECT_EQ(timeout.what, "MemoryRead32(0, 0x20) on dev: Completion Timeout, read all ones");
  EXPECT_NE(timeout.why.find("stalls the CPU for the whole completion timeout"), std::string::npos);
}

TEST(DeviceAccessChecker, AccessDuringResetIsReportedOncePerReset) {
  using Reason = monitor::DeviceAccessFailed::Reason;
  Bench b;
  b.monitor.emit(monitor::DeviceReset{0, "dev", true});
  b.monitor.emit(b.failure(Reason::kDuringReset, true, "IOPCIDevice::Reset is in progress"));
  b.monitor.emit(b.failure(Reason::kDuringReset, false, "IOPCIDevice::Reset is in progress"));
  ASSERT_EQ(b.findings.all().size(), 1u);
  EXPECT_EQ(b.findings.all()[0].check, "pci.access-during-reset");
  EXPECT_EQ(b.findings.all()[0].what, "MemoryRead32 on dev while IOPCIDevice::Reset is in progress");
  b.monitor.emit(monitor::DeviceReset{1, "dev", false});
  b.monitor.emit(monitor::DeviceReset{2, "dev", true});
  b.monitor.emit(b.failure(Reason::kDuringReset, true, "IOPCIDevice::Reset is in progress"));
  EXPECT_EQ(b.findings.all().size(), 2u);
}

TEST(DmaPrepareChecker, ExplainsTheFailureByTheMachine) {
  Bench b;
  monitor::DmaPrepareFailed e;
  e.time = 3;
  e.location = "dev";
  e.length = 4096;
  e.result = "kIOReturnMessageTooLarge";
  e.error = "IOVA 0x80000000 needs 32 address bits, the device drives 31";
  e.too_few_address_bits = true;
  e.translates = true;
  e.iova_base = 0x8000'0000;
  e.root_port = "rp0";
  e.max_address_bits = 31;
  b.monitor.emit(e);
  e.translates = false;  // a root port without an IOMMU
  b.monitor.emit(e);
  ASSERT_EQ(b.findings.all().size(), 2u);
  const Finding& dart = b.findings.all()[0];
  EXPECT_EQ(dart.check, "dma.prepare-failed");
  EXPECT_EQ(dart.what, "PrepareForDMA of 4096 bytes for dev failed with kIOReturnMessageTooLarge: IOVA 0x80000000 "
                       "needs 32 address bits, the device drives 31");
  EXPECT_EQ(dart.why.rfind("On Apple silicon PrepareForDMA returns DART addresses (IOVAs), handed out from 0x80000000",
                           0),
            0u);
  EXPECT_EQ(dart.data, (Data{{"length", "4096"}, {"result", "kIOReturnMessageTooLarge"}, {"max_address_bits", "31"}}));
  EXPECT_EQ(b.findings.all()[1].why.rfind("Root port rp0 has no IOMMU", 0), 0u);
}

TEST(Monitor, HandlersRunInSubscriptionOrderAndOnlyForTheirType) {
  monitor::Monitor m;
  std::vector<std::string> seen;
  m.emit(monitor::DeviceAccessed{0, "dev", "x"});  // nobody listens: nothing happens
  m.subscribe<monitor::DeviceAccessed>([&](const auto& e) { seen.push_back("a " + std::string(e.accessor)); });
  m.subscribe<monitor::DeviceReset>([&](const auto&) { seen.push_back("reset"); });
  m.subscribe<monitor::DeviceAccessed>([&](const auto& e) { seen.push_back("b " + std::string(e.accessor)); });
  m.emit(monitor::DeviceAccessed{0, "dev", "MemoryRead8"});
  EXPECT_EQ(seen, (std::vector<std::string>{"a MemoryRead8", "b MemoryRead8"}));
  m.emit(monitor::DeviceReset{0, "dev", true});
  EXPECT_EQ(seen.back(), "reset");
}

}  // namespace
}  // namespace dexthil::checks
