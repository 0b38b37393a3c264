// The SCSI family's kernel half bringing up dexts/scsiprobe, a controller without hardware of
// its own, on the RTL test device's PCI function: the family's order of messages, the targets it
// creates from UserTargetPresentForID, and one build of the dext per planted mistake with the
// finding's exact words.
#include <gtest/gtest.h>

#include <DriverKit/IOKitKeys.h>

#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/driverkit/kernel/tests/dext_test_support.hpp"
#include "harness/pcie/tests/machine.hpp"

namespace dexthil::driverkit {
namespace {

struct ScsiMachine {
  explicit ScsiMachine(const std::string& variant)
      : m("direct"),
        checkers(monitor, m.findings, m.sim.trace()),
        kernel(m.sim, m.memory, m.buffers, monitor) {
    kernel.add_bus(std::make_unique<PciBus>(kernel, *m.platform));
    auto scsi = std::make_unique<ScsiFamily>(kernel);
    family = scsi.get();
    kernel.add_family(std::move(scsi));
    const std::string target = variant.empty() ? "ScsiProbeController" : "ScsiProbeController-" + variant;
    std::string error;
    EXPECT_TRUE(kernel.load_dext(testing::dext_library(target), "dexts/scsiprobe/Info.plist", &error)) << error;
    kernel.start_matching();
    m.sim.run_until(m.sim.now() + sim::kMillisecond);
  }
  const ScsiFamily::Controller* controller() const {
    const ServiceRecord* rec = testing::last_service(kernel);
    return rec ? family->controller(rec->service) : nullptr;
  }
  std::string findings() const { return testing::findings_text(m.findings); }

  pcie::testing::Machine m;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
  ScsiFamily* family = nullptr;
};

TEST(ScsiFamily, BringsTheControllerUpInTheFamilysOrderAndCreatesThePresentTargets) {
  ScsiMachine s("");
  const ScsiFamily::Controller* c = s.controller();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->steps, (std::vector<std::string>{
                          "UserInitializeController", "UserReportInitiatorIdentifier",
                          "UserReportHighestSupportedDeviceID", "UserReportMaximumTaskCount",
                          "UserReportHBAHighestLogicalUnitNumber", "UserDoesHBAPerformAutoSense",
                          "UserGetDMASpecification", "UserMapHBAData",
                          "UserMapBundledParallelTaskCommandAndResponseBuffers", "UserStartController",
                          "UserDoesHBAPerformDeviceManagement", "UserInitializeTargetForID(0)",
                          "UserInitializeTargetForID(2)"}));
  EXPECT_TRUE(c->started);
  EXPECT_EQ(c->targets, (std::set<std::uint64_t>{0, 2}));
  EXPECT_EQ(c->task_ids, (std::vector<std::uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(c->constraints.at("HBA Data Alignment"), 0xFFFFFFFCu);
  EXPECT_EQ(c->constraints.at(kIOMaximumSegmentCountReadKey), 129u);
  EXPECT_EQ(c->initiator_id, 7u);
  EXPECT_EQ(c->address_bits, 32u);
  EXPECT_TRUE(s.m.findings.empty()) << s.findings();
}

TEST(ScsiFamily, AMissingAlignmentKeyIsThePanicNamingTheKey) {
  ScsiMachine s("no-alignment-key");
  ASSERT_EQ(s.m.findings.all().size(), 1u) << s.findings();
  const checks::Finding& f = s.m.findings.all()[0];
  EXPECT_EQ(f.check, "scsi.hba-constraints");
  EXPECT_EQ(f.what, "panic: the SCSI family read the HBA's constraints after UserInitializeController and they lack "
                    "\"HBA Data Alignment\"");
  EXPECT_EQ(f.subject, "dev");
  EXPECT_FALSE(s.controller()->started);
}

TEST(ScsiFamily, NoConstraintsAtAllNamesEveryRequiredKey) {
  ScsiMachine s("no-constraints");
  ASSERT_EQ(s.m.findings.all().size(), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all()[0].what,
            "panic: the SCSI family read the HBA's constraints after UserInitializeController and "
            "UserReportHBAConstraints was never called (none of \"IOMaximumSegmentCountRead\", "
            "\"IOMaximumSegmentCountWrite\", \"IOMaximumSegmentByteCountRead\", \"IOMaximumSegmentByteCountWrite\", "
            "\"IOMinimumSegmentAlignmentByteCount\", \"IOMaximumSegmentAddressableBitCount\", \"HBA Data Alignment\")");
}

TEST(ScsiFamily, ADuplicateTaskIdentifierStopsTheBringUp) {
  ScsiMachine s("duplicate-task-id");
  ASSERT_EQ(s.m.findings.all().size(), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all()[0].check, "scsi.controller-failed");
  EXPECT_EQ(s.m.findings.all()[0].what,
            "UserMapHBAData gave task identifier 1 twice (each task needs its own, as fControllerTaskIdentifier tells "
            "the dext which task a request is): the SCSI family does not bring the controller up");
  EXPECT_FALSE(s.controller()->started);
}

TEST(ScsiFamily, CreatingATargetFromTheDefaultQueueIsTheDeadlockNotAHang) {
  ScsiMachine s("create-on-default");
  ASSERT_EQ(s.m.findings.all().size(), 1u) << s.findings();
  EXPECT_EQ(s.m.findings.all()[0].check, "scsi.create-target-deadlock");
  EXPECT_EQ(s.m.findings.all()[0].what,
            "UserCreateTargetForID(0) was called from the Default queue: it never returns on a Mac");
  EXPECT_TRUE(s.controller()->started);
  EXPECT_TRUE(s.controller()->targets.empty());
}

}  // namespace
}  // namespace dexthil::driverkit
