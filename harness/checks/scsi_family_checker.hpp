#pragma once
// Judges a SCSI controller dext as the SCSI family's kernel half reports it through the monitor:
// required HBA constraints missing after UserInitializeController (scsi.hba-constraints, a panic
// on a Mac), a bring-up step that failed (scsi.controller-failed), UserCreateTargetForID
// called from the Default queue (scsi.create-target-deadlock), and tasks: a completion dropped
// for its version (scsi.completion-version), completed twice (scsi.task-completed-twice), naming
// another task (scsi.completion-mismatch), or never completed in time (scsi.task-timeout).
#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/scsi_events.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class ScsiFamilyChecker {
 public:
  ScsiFamilyChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  FindingSink findings_;
};

}  // namespace dexthil::checks
