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
        // The messages of Apple's interface the dext implements (docs/research/
        // scsicontrollerdriverkit-api.md, section 5), and the two completions it may list as overrides.
        {"UserTargetPresentForID", "UserReportHBAHighestLogicalUnitNumber", "UserDoesHBASupportSCSIParallelFeature",
         "UserInitializeTargetForID", "UserDoesHBAPerformAutoSense", "UserDoesHBASupportMultiPathing",
         "UserAbortTaskRequest", "UserAbortTaskSetRequest", "UserClearACARequest", "UserClearTaskSetRequest",
         "UserLogicalUnitResetRequest", "UserTargetResetRequest", "UserReportInitiatorIdentifier",
         "UserReportHighestSupportedDeviceID", "UserReportMaximumTaskCount", "UserDoesHBAPerformDeviceManagement",
         "UserInitializeController", "UserStartController", "UserProcessParallelTask", "UserGetDMASpecification",
         "UserMapHBAData", "UserMapBundledParallelTaskCommandAndResponseBuffers", "UserProcessBundledParallelTasks",
         "ParallelTaskCompletion", "BundledParallelTaskCompletion"}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
