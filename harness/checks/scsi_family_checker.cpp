#include "harness/checks/scsi_family_checker.hpp"

#include <string>

namespace dexthil::checks {

ScsiFamilyChecker::ScsiFamilyChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::ScsiHbaConstraintsMissing>([this](const monitor::ScsiHbaConstraintsMissing& e) {
    std::string keys;
    for (std::string_view k : e.missing) keys += (keys.empty() ? "\"" : ", \"") + std::string(k) + "\"";
    findings_.add(
        {"scsi.hba-constraints", std::string(e.service), e.time,
         "panic: the SCSI family read the HBA's constraints after UserInitializeController and " +
             (e.reported ? "they lack " + keys : "UserReportHBAConstraints was never called (none of " + keys + ")"),
         "Apple's interface requires the seven constraint keys from UserReportHBAConstraints before "
         "UserInitializeController returns, and says the system panics without them: the family's code dereferences "
         "\"HBA Data Alignment\" (kIOMinimumHBADataAlignmentMaskKey) unchecked. dexthil goes no further with this "
         "controller. Report kIOMaximumSegmentCountReadKey, kIOMaximumSegmentCountWriteKey, "
         "kIOMaximumSegmentByteCountReadKey, kIOMaximumSegmentByteCountWriteKey, "
         "kIOMinimumSegmentAlignmentByteCountKey, kIOMaximumSegmentAddressableBitCountKey and "
         "kIOMinimumHBADataAlignmentMaskKey from UserInitializeController.",
         std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiControllerStepFailed>([this](const monitor::ScsiControllerStepFailed& e) {
    const std::string outcome = e.result.empty() ? std::string(e.why) : "returned " + std::string(e.result);
    findings_.add({"scsi.controller-failed", std::string(e.service), e.time,
                   std::string(e.step) + " " + outcome + ": the SCSI family does not bring the controller up",
                   "The family brings a controller up in this order: UserInitializeController (which reports the "
                   "constraints), the UserReport and UserDoesHBA questions, UserMapHBAData for each task, "
                   "UserStartController; a step that fails leaves the controller without targets, as on a Mac.",
                   std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiCreateTargetDeadlock>([this](const monitor::ScsiCreateTargetDeadlock& e) {
    findings_.add({"scsi.create-target-deadlock", std::string(e.service), e.time,
                   "UserCreateTargetForID(" + std::to_string(e.target) +
                       ") was called from the Default queue: it never returns on a Mac",
                   "The kernel sends UserInitializeTargetForID to the Default queue before UserCreateTargetForID "
                   "returns, so a caller on that queue waits for itself. Call it from another queue, as Apple's "
                   "interface routes it (QUEUENAME(AuxiliaryQueue)), for example from an OSAction handler started "
                   "in UserStartController. dexthil answers the call kIOReturnBusy instead of hanging.",
                   std::string(e.location)});
  });
}

}  // namespace dexthil::checks
