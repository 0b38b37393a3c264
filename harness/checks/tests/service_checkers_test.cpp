// The checkers behind the kernel's service and process events, fed events directly: the kernel
// only says what it saw; each finding's words, place and order come from here. (The dext
// variants in harness/driverkit/kernel/tests/ show the same findings from real dext mistakes.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/checks/dext_process_checker.hpp"
#include "harness/checks/lifecycle_checker.hpp"

namespace dexthil::checks {
namespace {

struct Bench {
  monitor::Monitor monitor;
  FindingLog findings;
  sim::Trace trace{true};
  LifecycleChecker lifecycle{monitor, findings, trace};
  DextProcessChecker process{monitor, findings, trace};

  std::vector<std::string> checks() const {
    std::vector<std::string> out;
    for (const Finding& f : findings.all()) out.push_back(f.check);
    return out;
  }
};

TEST(LifecycleChecker, ACleanStartAndStopIsNoFinding) {
  Bench b;
  b.monitor.emit(monitor::ServiceStarted{1, "Drv@dev", "dev", "Drv", true});
  b.monitor.emit(monitor::ServiceStopped{2, "Drv@dev", "dev", "Drv", "kIOReturnSuccess", true, true, {}});
  EXPECT_TRUE(b.findings.empty());
}

TEST(LifecycleChecker, StartWithoutSuperAndAnUnsimulatedFamilyAreBothReportedOnTheNub) {
  Bench b;
  b.monitor.emit(monitor::ServiceStarted{5, "Lsi@scsi0", "scsi0", "Lsi", false});
  b.monitor.emit(monitor::FamilyNotSimulated{5, "Lsi@scsi0", "scsi0", "Lsi", "IOUserSCSIParallelInterfaceController",
                                             "SCSIControllerDriverKit"});
  ASSERT_EQ(b.checks(), (std::vector<std::string>{"lifecycle.super-start", "dext.family-not-simulated"}));
  const Finding& super = b.findings.all()[0];
  EXPECT_EQ(super.where, "Lsi@scsi0");
  EXPECT_EQ(super.subject, "scsi0");
  EXPECT_EQ(super.time, 5u);
  EXPECT_EQ(super.what, "Lsi::Start returned kIOReturnSuccess without calling Start(provider, SUPERDISPATCH)");
  EXPECT_EQ(b.findings.all()[1].what,
            "IOClass IOUserSCSIParallelInterfaceController asks for SCSIControllerDriverKit's kernel half, which "
            "dexthil does not simulate yet");
}

TEST(LifecycleChecker, AStopReportsItsFailureTheMissingSuperAndEachThingLeftRunning) {
  Bench b;
  const std::vector<monitor::LeftRunning> left{{"bus mastering still on", "a"}, {"a timer still armed", "b"}};
  b.monitor.emit(monitor::ServiceStopped{9, "Drv@dev", "dev", "Drv", "kIOReturnBusy", false, false, left});
  ASSERT_EQ(b.checks(), (std::vector<std::string>{"lifecycle.stop-failed", "lifecycle.super-stop",
                                                  "lifecycle.io-after-stop", "lifecycle.io-after-stop"}));
  EXPECT_EQ(b.findings.all()[0].what, "Drv::Stop returned kIOReturnBusy");
  EXPECT_EQ(b.findings.all()[2].what, "bus mastering still on");
  EXPECT_EQ(b.findings.all()[3].why, "b");
}

TEST(LifecycleChecker, StartFailuresSayWhichStepFailedAndHowCreateDiffers) {
  Bench b;
  using Reason = monitor::ServiceStartFailed::Reason;
  b.monitor.emit(monitor::ServiceStartFailed{1, "X@dev", "dev", "X", Reason::kNotAService, "", false});
  b.monitor.emit(monitor::ServiceStartFailed{2, "Drv@dev", "dev", "Drv", Reason::kInitFailed, "", false});
  b.monitor.emit(monitor::ServiceStartFailed{3, "Uc@dev", "dev", "Uc", Reason::kStartFailed, "kIOReturnNoMemory", true});
  ASSERT_EQ(b.findings.all().size(), 3u);
  EXPECT_EQ(b.findings.all()[0].what, "IOUserClass X is not an IOService the dext defines");
  EXPECT_EQ(b.findings.all()[1].what, "Drv::init() returned false");
  EXPECT_EQ(b.findings.all()[2].what, "Uc::Start returned kIOReturnNoMemory");
  EXPECT_EQ(b.findings.all()[2].why, "IOService::Create fails when the new service's Start fails.");
}

TEST(LifecycleChecker, AnUnacknowledgedPowerChangeSaysWhenItWasSentAndHowLongTheKernelWaited) {
  Bench b;
  b.monitor.emit(monitor::PowerChangeUnacknowledged{21 * sim::kSecond, "Drv@dev", "dev", "Off",
                                                    1 * sim::kSecond, 20 * sim::kSecond, false});
  b.monitor.emit(monitor::PowerChangeUnacknowledged{30 * sim::kSecond, "Drv@dev", "dev", "", 0, 20 * sim::kSecond,
                                                    true});
  ASSERT_EQ(b.findings.all().size(), 2u);
  EXPECT_EQ(b.findings.all()[0].what, "SetPowerState(Off) sent at 1 s was not acknowledged within 20 s");
  EXPECT_EQ(b.findings.all()[1].what, "a SetPowerState was still unacknowledged when the run ended");
}

monitor::DextCrashed crash_event(sim::SimTime time, bool started, unsigned today, unsigned rematch_count,
                                 bool relaunching) {
  monitor::DextCrashed e;
  e.time = time;
  e.service = "Drv@dev";
  e.location = "dev";
  e.server = "org.x.Drv";
  e.kind = "dext.signal";
  e.report = "EXC_BAD_ACCESS (SIGSEGV)";
  e.explanation = "explained";
  e.started = started;
  e.crashes_today = today;
  e.daily_limit = 3;
  e.provider_recovery = "The provider reset dev.";
  e.reset_type = "kIOPCIDeviceResetTypeFunctionReset";
  e.rematch_count = rematch_count;
  e.relaunching = relaunching;
  e.relaunch_limit = 1000;
  return e;
}

TEST(DextProcessChecker, ACrashIsItsKindThenClientCrashedWithTheProvidersRecoveryAndTheRematch) {
  Bench b;
  b.monitor.emit(crash_event(4, true, 1, 0, true));
  ASSERT_EQ(b.checks(), (std::vector<std::string>{"dext.signal", "dext.crashed"}));
  EXPECT_EQ(b.findings.all()[0].what, "EXC_BAD_ACCESS (SIGSEGV)");
  EXPECT_EQ(b.findings.all()[1].what, "IOUserServer(org.x.Drv): ClientCrashed (crash 1 today, on dev)");
  EXPECT_EQ(b.findings.all()[1].why,
            "The dext process died. The provider reset dev. The kernel terminates Drv@dev and rematches dev to the "
            "same personality: a new process starts as soon as the provider's recovery is done (dev's IORematchCount "
            "is now 0; the kernel relaunches the same dext while it is at most dextrelaunch, 1000).");
  // Before Start returned: not counted, not relaunched.
  b.monitor.emit(crash_event(5, false, 0, 0, false));
  ASSERT_EQ(b.findings.all().size(), 4u);
  EXPECT_EQ(b.findings.all()[3].what, "IOUserServer(org.x.Drv): ClientCrashed (on dev, before its Start returned)");
}

TEST(DextProcessChecker, ACrashLoopIsTheFourthCrashOfADayAndTheEndOfRelaunches) {
  Bench b;
  b.monitor.emit(crash_event(4, true, 3, 2, true));
  EXPECT_EQ(b.checks(), (std::vector<std::string>{"dext.signal", "dext.crashed"}));
  b.monitor.emit(crash_event(8, true, 4, 3, true));
  ASSERT_EQ(b.findings.all().size(), 5u);
  EXPECT_EQ(b.findings.all()[4].check, "dext.crash-loop");
  EXPECT_EQ(b.findings.all()[4].what, "org.x.Drv crashed 4 times within a day: more than daily_max_dext_crashes (3)");
  b.monitor.emit(crash_event(9, true, 5, 4, true));
  EXPECT_EQ(b.findings.all().size(), 7u);  // once per passing of the limit
  b.monitor.emit(crash_event(10, true, 6, 1001, false));
  ASSERT_EQ(b.findings.all().size(), 10u);
  EXPECT_EQ(b.findings.all()[9].what, "org.x.Drv is no longer launched for dev: its IORematchCount 1001 is beyond dextrelaunch (1000)");
  EXPECT_TRUE(b.findings.all()[8].why.ends_with("The kernel terminates Drv@dev but does not launch the dext again for dev."))
      << b.findings.all()[8].why;
}

TEST(DextProcessChecker, NoMatchNamesTheNearestMissOrWhyThereWasNone) {
  Bench b;
  const std::vector<std::string> reasons{"idVendor does not match the nub's 0x0665", "idProduct does not match"};
  b.monitor.emit(monitor::DextMatchedNothing{1, "org.x.Ups", true, "Ups", "usb1.port1.if0 (0665:5161)",
                                             "usb1.port1.if0", reasons, ""});
  b.monitor.emit(monitor::DextMatchedNothing{1, "org.x.Lonely", true, "", "", "", {}, ""});
  b.monitor.emit(monitor::DextMatchedNothing{1, "org.x.Empty", false, "", "", "", {}, ""});
  ASSERT_EQ(b.findings.all().size(), 3u);
  EXPECT_EQ(b.findings.all()[0].why,
            "Closest: personality \"Ups\" against usb1.port1.if0 (0665:5161): idVendor does not match the nub's "
            "0x0665; idProduct does not match. The kernel starts a dext only for a nub one of its personalities "
            "matches.");
  EXPECT_EQ(b.findings.all()[0].subject, "usb1.port1.if0");
  EXPECT_EQ(b.findings.all()[1].why.rfind("No bus published a nub", 0), 0u);
  EXPECT_EQ(b.findings.all()[2].why.rfind("The Info.plist has no IOKitPersonalities.", 0), 0u);
}

TEST(DextProcessChecker, EachObjectAliveAfterTheLastServiceIsALeakWithWhereItWasMade) {
  Bench b;
  b.monitor.emit(monitor::DextObjectAlive{3, "Drv@dev", "dev", "OSAction", "Drv.cpp", 42, 2});
  ASSERT_EQ(b.findings.all().size(), 1u);
  EXPECT_EQ(b.findings.all()[0].check, "dext.leak");
  EXPECT_EQ(b.findings.all()[0].what,
            "OSAction created at Drv.cpp:42 is still alive (retain count 2) after the service was freed");
}

}  // namespace
}  // namespace dexthil::checks
