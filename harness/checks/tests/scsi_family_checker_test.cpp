// ScsiFamilyChecker's task management findings, fed the family's events directly: which answers
// are wrong, which are only worth knowing, and the words of each.
#include "harness/checks/scsi_family_checker.hpp"

#include <gtest/gtest.h>

#include "harness/monitor/scsi_events.hpp"

namespace dexthil::checks {
namespace {

struct Bench {
  monitor::Monitor monitor;
  FindingLog findings;
  sim::Trace trace{true};
  ScsiFamilyChecker checker{monitor, findings, trace};

  monitor::ScsiTaskManagementAnswered answer(std::string_view method, bool set, unsigned response) {
    monitor::ScsiTaskManagementAnswered e;
    e.time = sim::kMillisecond;
    e.service = "Hba@scsi0";
    e.location = "scsi0";
    e.method = method;
    e.target = 2;
    e.lun = 0;
    e.result = "kIOReturnSuccess (0x00000000)";
    e.response_set = set;
    e.response = response;
    e.covered = 5;
    return e;
  }
};

TEST(ScsiFamilyChecker, TaskManagementAnswersThatAreNoAnswerAreFindings) {
  Bench b;
  b.monitor.emit(b.answer("UserAbortTaskSetRequest", true, 4));  // FUNCTION_COMPLETE, nothing left: fine
  b.monitor.emit(b.answer("UserAbortTaskSetRequest", true, 5));  // FUNCTION_REJECTED: fine
  b.monitor.emit(b.answer("UserAbortTaskSetRequest", true, 1));  // SERVICE_DELIVERY...: fine
  EXPECT_TRUE(b.findings.empty());

  b.monitor.emit(b.answer("UserTargetResetRequest", true, 2));  // TASK_COMPLETE is an I/O answer
  b.monitor.emit(b.answer("UserLogicalUnitResetRequest", true, 0));  // in process: worth knowing
  const std::vector<Finding>& all = b.findings.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].check, "scsi.tmf-response");
  EXPECT_FALSE(all[0].informational);
  EXPECT_EQ(all[0].what,
            "UserTargetResetRequest (target 2) returned kIOReturnSuccess (0x00000000) with *response 2, not a task "
            "management answer");
  EXPECT_EQ(all[0].subject, "scsi0");
  EXPECT_EQ(all[1].check, "scsi.tmf-response");
  EXPECT_TRUE(all[1].informational);
  EXPECT_EQ(all[1].what, "UserLogicalUnitResetRequest (target 2 LUN 0) answered kSCSIServiceResponse_Request_In_Process");
}

TEST(ScsiFamilyChecker, FunctionCompleteWithCoveredTasksOutstandingIsAFinding) {
  Bench b;
  monitor::ScsiTaskManagementAnswered e = b.answer("UserLogicalUnitResetRequest", true, 4);
  e.left = 3;
  e.first_left = 17;
  b.monitor.emit(e);
  e.response = 5;  // rejected: the tasks are not its to abort
  b.monitor.emit(e);
  ASSERT_EQ(b.findings.all().size(), 1u);
  EXPECT_EQ(b.findings.all()[0].check, "scsi.tmf-tasks-left");
  EXPECT_EQ(b.findings.all()[0].what,
            "UserLogicalUnitResetRequest (target 2 LUN 0) answered kSCSIServiceResponse_FUNCTION_COMPLETE with 3 of "
            "the 5 tasks it covered not completed (the first: task 17)");
}

}  // namespace
}  // namespace dexthil::checks
