#include "harness/checks/scsi_family_checker.hpp"

#include <cstdio>
#include <string>

#include "harness/sim/time.hpp"

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
  monitor.subscribe<monitor::ScsiCompletionDropped>([this](const monitor::ScsiCompletionDropped& e) {
    findings_.add({"scsi.completion-version", std::string(e.service), e.time,
                   "ParallelTaskCompletion for task " + std::to_string(e.task) + " (target " + std::to_string(e.target) +
                       ") carried response version " + std::to_string(e.version) +
                       ", not kScsiUserParallelTaskResponseCurrentVersion1 (1): the kernel dropped it",
                   "The kernel's UserCompleteParallelTask returns without completing the I/O when "
                   "SCSIUserParallelResponse.version does not match, so the task stays outstanding until its timeout "
                   "and the I/O fails then. Set response.version = kScsiUserParallelTaskResponseCurrentVersion1 in "
                   "every response.",
                   std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiTaskCompletedTwice>([this](const monitor::ScsiTaskCompletedTwice& e) {
    findings_.add({"scsi.task-completed-twice", std::string(e.service), e.time,
                   std::string(e.bundled ? "BundledParallelTaskCompletion handed back the slot of task "
                                         : "ParallelTaskCompletion for task ") +
                       std::to_string(e.task) + " (target " + std::to_string(e.target) + "), which had completed at " +
                       sim::format_time(e.first),
                   "Each task is completed once, on the action it came with. A second completion on a Mac may "
                   "complete whatever I/O the kernel has given that task since, with the wrong status and data. "
                   "Complete a task only from one place (the interrupt that retires it, or the abort that ends it).",
                   std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiCompletionMismatch>([this](const monitor::ScsiCompletionMismatch& e) {
    findings_.add({"scsi.completion-mismatch", std::string(e.service), e.time,
                   "ParallelTaskCompletion on the action of task " + std::to_string(e.task) + " (target " +
                       std::to_string(e.target) + ") names task " + std::to_string(e.response_task) + " (target " +
                       std::to_string(e.response_target) + ")",
                   "The response must carry the fControllerTaskIdentifier and fTargetID of the task it completes; "
                   "a mix-up means the dext's bookkeeping of tasks is wrong, and the kernel completes the I/O the "
                   "action belongs to.",
                   std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiTaskTimedOut>([this](const monitor::ScsiTaskTimedOut& e) {
    char opcode[8];
    std::snprintf(opcode, sizeof opcode, "0x%02X", e.opcode);
    findings_.add({"scsi.task-timeout", std::string(e.service), e.time,
                   "task " + std::to_string(e.task) + " (target " + std::to_string(e.target) + ", opcode " + opcode +
                       ") timed out after " + std::to_string(e.timeout_ms) +
                       " ms: kSCSITaskStatus_TaskTimeoutOccurred",
                   std::string(e.completion_dropped
                                   ? "The dext did complete it, but with a response version the kernel dropped "
                                     "(scsi.completion-version). "
                                   : "The dext never completed it. ") +
                       "The family sent UserAbortTaskRequest and failed the I/O; a Mac's storage stack retries, then "
                       "gives the application an I/O error.",
                   std::string(e.location)});
  });
  monitor.subscribe<monitor::ScsiTaskManagementAnswered>([this](const monitor::ScsiTaskManagementAnswered& e) {
    const std::string nexus = "target " + std::to_string(e.target) +
                              (e.method == "UserTargetResetRequest" ? std::string() : " LUN " + std::to_string(e.lun));
    const std::string call = std::string(e.method) + " (" + nexus + ")";
    if (!e.response_set || e.response == 2 || e.response == 3 || e.response > 5) {
      findings_.add({"scsi.tmf-response", std::string(e.service), e.time,
                     call + " returned " + std::string(e.result) +
                         (e.response_set ? " with *response " + std::to_string(e.response) + ", not a task management answer"
                                         : " without setting *response"),
                     "A task management request is answered through *response with a SCSIServiceResponse: "
                     "kSCSIServiceResponse_FUNCTION_COMPLETE (4) when it was done, FUNCTION_REJECTED (5) when the "
                     "controller does not offer it, SERVICE_DELIVERY_OR_TARGET_FAILURE (1) when it could not be "
                     "delivered. The interface has no completion for these requests, so the answer is final.",
                     std::string(e.location)});
      return;
    }
    if (e.response == 0) {
      Finding f{"scsi.tmf-response", std::string(e.service), e.time,
                call + " answered kSCSIServiceResponse_Request_In_Process",
                "SCSIControllerDriverKit has no completion for task management, so \"in process\" is never "
                "followed by an answer; the kext family's asynchronous Complete* methods for it are empty. Public "
                "dexts answer 0 from stubs, and nothing public shows the kernel acting on it "
                "(docs/research/scsi-task-management.md): answer FUNCTION_COMPLETE once done, or FUNCTION_REJECTED.",
                std::string(e.location)};
      f.informational = true;
      findings_.add(std::move(f));
      return;
    }
    if (e.response == 4 && e.left > 0) {
      findings_.add({"scsi.tmf-tasks-left", std::string(e.service), e.time,
                     call + " answered kSCSIServiceResponse_FUNCTION_COMPLETE with " + std::to_string(e.left) + " of the " +
                         std::to_string(e.covered) + " tasks it covered not completed (the first: task " +
                         std::to_string(e.first_left) + ")",
                     "When a task management function completes, SAM says the tasks it covers are aborted, and the "
                     "family never completes them itself: the dext must complete each one through "
                     "ParallelTaskCompletion (the storage stack then retries it) before it answers. A task left "
                     "outstanding either completes later as if never aborted or, with READ and WRITE having no "
                     "timeout, hangs its I/O.",
                     std::string(e.location)});
    }
  });
}

}  // namespace dexthil::checks
