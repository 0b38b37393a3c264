#pragma once
// [[scsi_task_management]]: stimulus for a SCSI controller dext's task management. At a given
// time the SCSI family sends one of SCSIControllerDriverKit's six requests (abort task, abort
// task set, clear ACA, clear task set, logical unit reset, target reset) to the controller on a
// topology endpoint, for a target and LUN, as a storage stack recovering from an error would.
// Public sources show no request macOS itself sends on a schedule, so the scenario says when
// (docs/storage.md). Figures `task_management@ENDPOINT.tTARGET.N` (N: the request's place in
// the section, from 1) say what the dext answered and which covered tasks it left outstanding.
#include <memory>

#include "harness/scenario/section.hpp"

namespace dexthil::runner {

std::shared_ptr<const scenario::SectionPlugin> scsi_task_management_section();

}  // namespace dexthil::runner
