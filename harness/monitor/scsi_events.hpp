#pragma once
// What the SCSI family's kernel half (harness/driverkit/families/scsi) sees of a controller dext,
// for ScsiFamilyChecker. Plain data, valid only during the handler.
#include <string_view>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::monitor {

// UserInitializeController returned, and the constraints UserReportHBAConstraints reported by
// then lack required keys (the family reads them next, and a missing one panics a Mac).
struct ScsiHbaConstraintsMissing {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  bool reported = false;                 // UserReportHBAConstraints was called at all
  std::vector<std::string_view> missing;  // the keys, as their strings
};

// A step of a controller's bring-up failed, so the family does not go on with it.
struct ScsiControllerStepFailed {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view step;    // "UserInitializeController", "UserReportMaximumTaskCount", ...
  std::string_view result;  // the IOReturn name the dext returned (empty when it returned success)
  std::string_view why;     // what was wrong with what it answered, when it returned success
};

// The dext called UserCreateTargetForID from its Default queue, where the kernel must run
// UserInitializeTargetForID before the call returns: on a Mac the two wait for each other.
struct ScsiCreateTargetDeadlock {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  unsigned long long target = 0;
};

// The kernel dropped a ParallelTaskCompletion whose response version is not
// kScsiUserParallelTaskResponseCurrentVersion1: the task stays outstanding until its timeout.
struct ScsiCompletionDropped {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  unsigned long long target = 0;
  unsigned long long task = 0;     // its controller task identifier
  unsigned long long version = 0;  // what the response carried
};

// ParallelTaskCompletion for a task whose command had completed already (on the same action).
struct ScsiTaskCompletedTwice {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  unsigned long long target = 0;  // as the response named them
  unsigned long long task = 0;
  sim::SimTime first = 0;         // when it completed the first time
  bool bundled = false;           // its slot handed back through BundledParallelTaskCompletion
};

// A completion's response names another task or target than the one its action belongs to.
struct ScsiCompletionMismatch {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  unsigned long long target = 0, task = 0;                    // the action's
  unsigned long long response_target = 0, response_task = 0;  // what the response said
};

// A task's timeout passed before the dext completed it; the family sends UserAbortTaskRequest
// and the storage stack sees kSCSITaskStatus_TaskTimeoutOccurred.
struct ScsiTaskTimedOut {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  unsigned long long target = 0;
  unsigned long long task = 0;
  unsigned opcode = 0;               // the CDB's
  unsigned long long timeout_ms = 0;
  bool completion_dropped = false;   // a completion came and was dropped for its version
};

// The dext answered a task management request the family sent (UserAbortTaskRequest ...
// UserTargetResetRequest): what it returned, and which of the tasks the request covered (the
// nexus's tasks outstanding when it was sent) it had not completed by then.
struct ScsiTaskManagementAnswered {
  sim::SimTime time = 0;
  std::string_view service;
  std::string_view location;
  std::string_view method;           // "UserLogicalUnitResetRequest"
  unsigned long long target = 0, lun = 0;
  unsigned long long tag = 0;        // UserAbortTaskRequest's task tag
  std::string_view result;           // the kern_return_t's name: "kIOReturnSuccess"
  bool response_set = false;         // the dext wrote *response
  unsigned response = 0;             // SCSIServiceResponse, when set
  unsigned long long covered = 0;
  unsigned long long left = 0;       // covered tasks still outstanding at the answer
  unsigned long long first_left = 0; // the first of them (its fControllerTaskIdentifier)
};

}  // namespace dexthil::monitor
