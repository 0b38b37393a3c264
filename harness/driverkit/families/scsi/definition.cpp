// SCSIControllerDriverKit: the kernel half (IOUserSCSIParallelInterfaceController in the
// kernel) initialises and starts the controller, asks for its constraints, creates targets and
// sends it tasks and task management requests, all as messages to the dext's subclass; the dext
// completes a task through ParallelTaskCompletion, a message too.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& scsi_controller() {
  static const FamilyDefinition family{
      "SCSIControllerDriverKit",
      "com.apple.developer.driverkit.family.scsicontroller",
      {"IOUserSCSIParallelInterfaceController"},
      {{"IOUserSCSIParallelInterfaceController",
        "IOService",
        {"UserInitializeController", "UserStartController", "UserStopController", "UserProcessParallelTask",
         "UserProcessBundledParallelTasks", "UserMapHBAData", "UserGetDMASpecification", "UserCreateTargetForID",
         "UserReportInitiatorIdentifier", "UserReportHighestSupportedDeviceID", "UserReportMaximumTaskCount",
         "UserReportHBAHighestLogicalUnitNumber", "UserDoesHBAPerformDeviceManagement", "UserInitializeTargetForID",
         "UserDoesHBAPerformAutoSense", "UserDoesHBASupportMultiPathing", "UserReportHBAConstraints",
         "UserHandleTaskManagementRequest", "UserDoesHBASupportSCSIParallelFeature", "UserAbortTaskRequest",
         "UserAbortTaskSetRequest", "UserClearACARequest", "UserClearTaskSetRequest", "UserLogicalUnitResetRequest",
         "UserTargetResetRequest", "ParallelTaskCompletion"}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
