#pragma once
// Judges a SCSI controller dext as the SCSI family's kernel half reports it through the monitor:
// required HBA constraints missing after UserInitializeController (scsi.hba-constraints, a panic
// on a Mac), a bring-up step that failed (scsi.controller-failed), and UserCreateTargetForID
// called from the Default queue (scsi.create-target-deadlock).
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
