// The SCSI family's task management requests: SCSIControllerDriverKit's six User*Request calls,
// sent from the target's kernel thread and answered synchronously through *response (the
// interface has no completion for them). Which of the nexus's outstanding tasks a request
// covered, and whether the dext had completed them when it answered FUNCTION_COMPLETE, goes to
// the monitor for ScsiFamilyChecker.
#include <SCSIControllerDriverKit/IOUserSCSIParallelInterfaceController.h>

#include <algorithm>

#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"
#include "harness/monitor/scsi_events.hpp"

namespace dexthil::driverkit {

namespace {
constexpr std::uint32_t kResponseNotSet = 0xFFFF'FFFFu;  // what *response holds until the dext writes it
}  // namespace

const char* ScsiFamily::method_of(TaskManagement function) {
  switch (function) {
    case TaskManagement::kAbortTask: return "UserAbortTaskRequest";
    case TaskManagement::kAbortTaskSet: return "UserAbortTaskSetRequest";
    case TaskManagement::kClearAca: return "UserClearACARequest";
    case TaskManagement::kClearTaskSet: return "UserClearTaskSetRequest";
    case TaskManagement::kLogicalUnitReset: return "UserLogicalUnitResetRequest";
    case TaskManagement::kTargetReset: return "UserTargetResetRequest";
  }
  return "?";
}

std::string ScsiFamily::request_task_management(const std::string& location, std::uint64_t target, std::uint64_t lun,
                                                TaskManagement function,
                                                std::function<void(const TaskManagementAnswer&)> answered) {
  Controller* c = nullptr;
  for (auto& [service, controller] : controllers_) {
    if (location_of(*controller.record) == location && controller.started && !controller.stopping) c = &controller;
  }
  if (!c) return "no SCSI controller is running at " + location;
  if (!c->targets.count(target)) return c->record->name + " has no target " + std::to_string(target);
  // The tasks it covers: the nexus's outstanding ones (the whole target's for a target reset).
  std::vector<std::pair<std::uint32_t, std::uint64_t>> covered;  // slot, serial
  for (std::uint32_t slot = 0; slot < c->tasks.size(); ++slot) {
    const Task& t = c->tasks[slot];
    if (t.serial == 0 || t.completed || t.target != target) continue;
    if (function != TaskManagement::kTargetReset && t.command.lun != lun) continue;
    covered.emplace_back(slot, t.serial);
  }
  std::uint64_t tag = 0;
  if (function == TaskManagement::kAbortTask) {
    // ABORT TASK names one task: the oldest outstanding on the nexus.
    if (covered.empty()) return c->record->name + " has no outstanding task on target " + std::to_string(target) +
                                " LUN " + std::to_string(lun) + " to abort";
    const auto oldest = std::min_element(covered.begin(), covered.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
    covered = {*oldest};
    tag = oldest->second;
  }
  return send_task_management(*c, function, target, lun, tag, std::move(covered), std::move(answered), true);
}

std::string ScsiFamily::send_task_management(Controller& c, TaskManagement function, std::uint64_t target,
                                             std::uint64_t lun, std::uint64_t tag,
                                             std::vector<std::pair<std::uint32_t, std::uint64_t>> covered,
                                             std::function<void(const TaskManagementAnswer&)> answered, bool judged) {
  auto it = c.target_threads.find(target);
  if (it == c.target_threads.end()) return c.record->name + " has no kernel thread for target " + std::to_string(target);
  ++c.counts.task_management;
  const std::uint64_t controller = c.id;
  IOUserSCSIParallelInterfaceController* hba = c.hba;
  it->second->dispatch_async(
      [this, controller, hba, function, target, lun, tag, covered = std::move(covered), answered = std::move(answered),
       judged] {
        if (!find_id(controller)) return;
        std::uint32_t response = kResponseNotSet;
        kern_return_t result = kIOReturnUnsupported;
        switch (function) {
          case TaskManagement::kAbortTask: result = hba->UserAbortTaskRequest(target, lun, tag, &response); break;
          case TaskManagement::kAbortTaskSet: result = hba->UserAbortTaskSetRequest(target, lun, &response); break;
          case TaskManagement::kClearAca: result = hba->UserClearACARequest(target, lun, &response); break;
          case TaskManagement::kClearTaskSet: result = hba->UserClearTaskSetRequest(target, lun, &response); break;
          case TaskManagement::kLogicalUnitReset: result = hba->UserLogicalUnitResetRequest(target, lun, &response); break;
          case TaskManagement::kTargetReset: result = hba->UserTargetResetRequest(target, &response); break;
        }
        Controller* c = find_id(controller);
        if (!c) return;  // the dext died answering
        TaskManagementAnswer a;
        a.result = result;
        a.response_set = response != kResponseNotSet;
        a.response = a.response_set ? response : 0;
        a.covered = covered.size();
        std::uint64_t first_left = 0;
        for (const auto& [slot, serial] : covered) {
          const Task& t = c->tasks[slot];
          if (t.serial != serial || t.completed) continue;
          if (a.left++ == 0) first_left = t.id;
        }
        if (judged) {
          const std::string result_name = ioreturn_name(result);
          kernel_.monitor().emit(monitor::ScsiTaskManagementAnswered{
              kernel_.sim().now(), c->record->name, location_of(*c->record), method_of(function), target, lun, tag,
              result_name, a.response_set, a.response, a.covered, a.left, first_left});
        }
        if (answered) answered(a);
      },
      method_of(function));
  return {};
}

}  // namespace dexthil::driverkit
