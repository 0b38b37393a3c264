// The SCSI family's tasks: from the storage stack's command to UserProcessParallelTask and back
// through ParallelTaskCompletion (see scsi_family.hpp for the rules).
#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IODMACommand.h>
#include <DriverKit/OSAction.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include <algorithm>
#include <cstring>

#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/monitor/scsi_events.hpp"

namespace dexthil::driverkit {
namespace {

using storage::ScsiCommand;
using storage::ScsiOutcome;
using storage::ServiceResponse;

ScsiOutcome failure(std::uint8_t status) {
  ScsiOutcome o;
  o.response = ServiceResponse::kServiceDeliveryOrTargetFailure;
  o.status = status;
  return o;
}

std::uint8_t opcode_of(const ScsiCommand& c) { return c.cdb[0]; }

}  // namespace

void ScsiTargetPort::submit(storage::ScsiCommand command, std::function<void(const storage::ScsiOutcome&)> done) {
  family_.submit(controller_, target_, std::move(command), std::move(done));
}

ScsiFamily::Controller* ScsiFamily::find_id(std::uint64_t id) {
  for (auto& [service, c] : controllers_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

void ScsiFamily::deliver_later(std::function<void(const storage::ScsiOutcome&)> done, storage::ScsiOutcome outcome) {
  kernel_.sim().after(kernel_.profile().kernel_call,
                      [done = std::move(done), outcome = std::move(outcome)] { done(outcome); });
}

void ScsiFamily::allocate_tasks(Controller& c) {
  c.tasks.resize(c.task_ids.size());
  for (std::size_t i = 0; i < c.task_ids.size(); ++i) c.tasks[i].id = c.task_ids[i];
}

ScsiFamily::~ScsiFamily() {
  for (auto& [service, c] : controllers_) release_tasks(c);
}

void ScsiFamily::end_commands(Controller& c) {
  c.stopping = true;
  for (Task& t : c.tasks) {
    if (t.serial == 0 || t.completed) continue;
    t.ended_by_family = true;
    finish_task(c, t, failure(storage::kStatusDeviceNotPresent), false);
  }
  for (Waiting& w : c.waiting) deliver_later(std::move(w.done), failure(storage::kStatusDeviceNotPresent));
  c.waiting.clear();
}

void ScsiFamily::release_tasks(Controller& c) {
  for (Task& t : c.tasks) {
    if (t.timeout) kernel_.sim().cancel(t.timeout);
    if (t.dma) {
      t.dma->CompleteDMA(kIODMACommandCompleteDMANoOptions);
      OSSafeReleaseNULL(t.dma);
    }
    OSSafeReleaseNULL(t.action);
    OSSafeReleaseNULL(t.previous_action);
    OSSafeReleaseNULL(t.buffer);
  }
  c.tasks.clear();
  c.waiting.clear();
  OSSafeReleaseNULL(c.bundle_commands);
  OSSafeReleaseNULL(c.bundle_responses);
  // A target's kernel thread may be inside a message to the dext; it stays until the run ends.
  for (auto& [target, thread] : c.target_threads) retired_threads_.push_back(std::move(thread));
  c.target_threads.clear();
}

void ScsiFamily::submit(std::uint64_t controller, std::uint64_t target, storage::ScsiCommand command,
                        std::function<void(const storage::ScsiOutcome&)> done) {
  Controller* c = find_id(controller);
  if (!c || !c->started || c->stopping || !c->targets.contains(target)) {
    deliver_later(std::move(done), failure(storage::kStatusDeviceNotPresent));
    return;
  }
  Waiting w{target, std::move(command), std::move(done)};
  auto free_task =
      std::find_if(c->tasks.begin(), c->tasks.end(), [](const Task& t) { return t.serial == 0 && !t.with_dext; });
  if (free_task == c->tasks.end()) {
    c->waiting.push_back(std::move(w));
    return;
  }
  start_task(*c, *free_task, std::move(w));
}

void ScsiFamily::start_task(Controller& c, Task& task, Waiting w) {
  task.serial = next_serial_++;
  task.target = w.target;
  task.command = std::move(w.command);
  task.done = std::move(w.done);
  task.completed = false;
  task.version_dropped = false;
  task.bundle_pending = false;
  const std::uint32_t slot = static_cast<std::uint32_t>(&task - c.tasks.data());
  const std::uint64_t serial = task.serial;
  const std::uint64_t controller = c.id;
  // Its timeout runs from now, as the storage stack's does.
  if (task.command.timeout_ms != 0) {
    task.timeout = kernel_.sim().after(task.command.timeout_ms * sim::kMillisecond, [this, controller, slot, serial] {
      task_timed_out(controller, slot, serial);
    });
  }
  auto& thread = c.target_threads[task.target];
  if (!thread) {
    thread = std::make_unique<DispatchQueue>(kernel_.runtime(),
                                             "kernel.scsi." + c.record->name + ".target" + std::to_string(task.target));
  }
  thread->dispatch_async([this, controller, slot, serial] { send_task(controller, slot, serial); },
                         "UserProcessParallelTask");
}

bool ScsiFamily::prepare_request(Controller& c, Task& task, SCSIUserParallelTask& request) {
  const ScsiCommand& cmd = task.command;
  if (cmd.length > c.max_transfer) {
    finish_task(c, task, failure(storage::kStatusDeliveryFailure));
    return false;
  }
  request = {};
  request.version = kScsiUserParallelTaskCurrentVersion1;
  request.fTargetID = task.target;
  request.fControllerTaskIdentifier = task.id;
  request.fRequestedTransferCount = cmd.length;
  request.fTaskAttribute = cmd.ordered ? kSCSITask_ORDERED : kSCSITask_SIMPLE;
  request.fTaskTagIdentifier = task.serial;
  for (int i = 0; i < 8; ++i) request.fLogicalUnitBytes[i] = static_cast<std::uint8_t>(cmd.lun >> (8 * (7 - i)) & 0xff);
  std::memcpy(request.fCommandDescriptorBlock, cmd.cdb.data(), sizeof request.fCommandDescriptorBlock);
  request.fCommandSize = cmd.cdb_length;
  request.fTransferDirection = static_cast<std::uint8_t>(cmd.direction);
  request.fTimeoutInMilliSec = cmd.timeout_ms;
  if (cmd.direction == ScsiCommand::Direction::kNone || cmd.length == 0) return true;

  if (!task.buffer && IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, c.max_transfer, 0, &task.buffer) !=
                          kIOReturnSuccess) {
    finish_task(c, task, failure(storage::kStatusDeliveryFailure));
    return false;
  }
  task.buffer->SetLength(cmd.length);  // what UserGetDataBuffer shows the dext
  IOAddressSegment bytes{};
  task.buffer->GetAddressRange(&bytes);
  auto* data = reinterpret_cast<std::uint8_t*>(bytes.address);
  if (cmd.direction == ScsiCommand::Direction::kToTarget) {
    if (cmd.fill) cmd.fill({data, cmd.length});
  } else {
    std::memset(data, 0, cmd.length);  // what the device does not write reads as zeros
  }
  // The buffer as this command's memory descriptor: the device may only write a read's and
  // only read a write's, and only its length.
  const std::uint64_t direction =
      cmd.direction == ScsiCommand::Direction::kFromTarget ? kIOMemoryDirectionIn : kIOMemoryDirectionOut;
  IOMemoryDescriptor* md = nullptr;
  IOMemoryDescriptor::CreateSubMemoryDescriptor(direction, 0, cmd.length, task.buffer, &md);
  if (!OSDynamicCast(IOPCIDevice, c.record->provider)) {
    // No device to map for (a controller on IOUserResources): the buffer's own address.
    request.fBufferIOVMAddr = task.buffer->physical_address();
    OSSafeReleaseNULL(md);
    return true;
  }
  // Prepared for the controller's function, under the HBA's address bits: on the DART, or a
  // bounce buffer without a mapper, as IODMACommand does for any driver.
  if (!task.dma) {
    IODMACommandSpecification spec{};
    spec.maxAddressBits = c.address_bits;
    IODMACommand::Create(c.record->provider, kIODMACommandCreateNoOptions, &spec, &task.dma);
  }
  IOAddressSegment segment{};
  std::uint32_t segments = 1;
  std::uint64_t flags = 0;
  const kern_return_t prepared =
      task.dma ? task.dma->PrepareForDMA(0, md, 0, cmd.length, &flags, &segments, &segment) : kIOReturnNoResources;
  OSSafeReleaseNULL(md);
  if (prepared != kIOReturnSuccess) {
    finish_task(c, task, failure(storage::kStatusDeliveryFailure));  // the preparation failure is its own event
    return false;
  }
  request.fBufferIOVMAddr = segment.address;
  return true;
}

void ScsiFamily::send_task(std::uint64_t controller, std::uint32_t slot, std::uint64_t serial) {
  Controller* c = find_id(controller);
  if (!c || slot >= c->tasks.size() || c->tasks[slot].serial != serial || c->tasks[slot].completed) return;
  if (c->bundled) {
    // Into its slot of the shared command buffer; the target's next message carries it.
    Task& task = c->tasks[slot];
    SCSIUserParallelTask request{};
    if (!prepare_request(*c, task, request)) return;
    IOAddressSegment commands{};
    c->bundle_commands->GetAddressRange(&commands);
    std::memcpy(reinterpret_cast<std::uint8_t*>(commands.address) + slot * sizeof request, &request, sizeof request);
    task.bundle_pending = true;
    if (c->bundle_flush_queued.insert(task.target).second) {
      const std::uint64_t target = task.target;
      c->target_threads[target]->dispatch_async([this, controller, target] { send_bundle(controller, target); },
                                               "UserProcessBundledParallelTasks");
    }
    return;
  }
  // The Mach message to the dext takes its time before anything else happens.
  kernel_.runtime().sleep_for(kernel_.profile().kernel_call);
  c = find_id(controller);
  if (!c || slot >= c->tasks.size() || c->tasks[slot].serial != serial || c->tasks[slot].completed) return;
  Task& task = c->tasks[slot];
  SCSIUserParallelTask request{};
  if (!prepare_request(*c, task, request)) return;

  OSAction::Create(c->hba, 0, IOUserSCSIParallelInterfaceController_ParallelTaskCompletion_ID, 0, &task.action);
  ++c->counts.tasks_sent;
  ++c->counts.messages;
  std::uint32_t response = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
  IOUserSCSIParallelInterfaceController* hba = c->hba;
  OSAction* action = task.action;
  const kern_return_t r = hba->UserProcessParallelTask(request, &response, action);
  // The controller may have gone (the dext crashed or stopped) while the message ran.
  c = find_id(controller);
  if (!c || c->tasks[slot].serial != serial) return;
  Task& t = c->tasks[slot];
  // Anything but Request_In_Process ends the task at once, as IOSCSIParallelFamily's kext does,
  // unless the dext already completed it inside the call.
  if (!t.completed && (r != kIOReturnSuccess || response != kSCSIServiceResponse_Request_In_Process)) {
    finish_task(*c, t, failure(storage::kStatusDeliveryFailure));
  }
}

void ScsiFamily::send_bundle(std::uint64_t controller, std::uint64_t target) {
  // One Mach message for every slot ready by now, up to kMaxBundledParallelTasks.
  kernel_.runtime().sleep_for(kernel_.profile().kernel_call);
  Controller* c = find_id(controller);
  if (!c) return;
  c->bundle_flush_queued.erase(target);
  std::uint16_t slots[kMaxBundledParallelTasks];
  std::uint16_t count = 0;
  for (std::size_t i = 0; i < c->tasks.size() && count < kMaxBundledParallelTasks; ++i) {
    Task& t = c->tasks[i];
    if (!t.bundle_pending || t.target != target || t.completed) continue;
    slots[count++] = static_cast<std::uint16_t>(i);
  }
  if (count == 0) return;
  OSAction* action = nullptr;
  OSAction::Create(c->hba, 0, IOUserSCSIParallelInterfaceController_BundledParallelTaskCompletion_ID, 0, &action);
  for (std::uint16_t n = 0; n < count; ++n) {
    Task& t = c->tasks[slots[n]];
    t.bundle_pending = false;
    t.with_dext = true;
    action->retain();
    t.action = action;
  }
  c->counts.tasks_sent += count;
  ++c->counts.messages;
  // More than one message's worth: the rest go in the next.
  for (const Task& t : c->tasks) {
    if (t.bundle_pending && t.target == target && c->bundle_flush_queued.insert(target).second) {
      c->target_threads[target]->dispatch_async([this, controller, target] { send_bundle(controller, target); },
                                               "UserProcessBundledParallelTasks");
    }
  }
  c->hba->UserProcessBundledParallelTasks(slots, count, action);
  action->release();  // the tasks hold it
}

ScsiFamily::Task* ScsiFamily::task_for(Controller& c, const OSAction* action) {
  for (Task& t : c.tasks) {
    if (action && (t.action == action || t.previous_action == action)) return &t;
  }
  return nullptr;
}

void ScsiFamily::task_completed(IOUserSCSIParallelInterfaceController* hba, OSAction* action,
                                const SCSIUserParallelResponse& response) {
  Controller* c = find(hba);
  if (!c) return;
  Task* task = task_for(*c, action);
  if (!task) {
    kernel_.trace(c->record->name, "ParallelTaskCompletion on an action the family never sent: ignored");
    return;
  }
  // A completion on the previous command's action is that command's second one.
  const bool current = task->action == action;
  if (!current) {
    if (task->previous_ended_by_family) {
      kernel_.trace(c->record->name, "a completion for task " + std::to_string(task->id) + " the family had already ended");
      return;
    }
    if (response.version != kScsiUserParallelTaskResponseCurrentVersion1) return;  // dropped before anything else
    completed_twice(*c, response, task->previous_completed_at, false);
    return;
  }
  complete_task(*c, *task, response);
}

void ScsiFamily::bundled_tasks_completed(IOUserSCSIParallelInterfaceController* hba, OSAction*, const uint16_t* slots,
                                         uint16_t count) {
  Controller* c = find(hba);
  if (!c || !c->bundled || !slots) return;
  IOAddressSegment responses{};
  c->bundle_responses->GetAddressRange(&responses);
  for (std::uint16_t n = 0; n < count && n < kMaxBundledParallelTasks; ++n) {
    if (slots[n] >= c->tasks.size()) {
      kernel_.trace(c->record->name, "BundledParallelTaskCompletion named slot " + std::to_string(slots[n]) +
                                         ", past the controller's tasks: ignored");
      continue;
    }
    Task& task = c->tasks[slots[n]];
    if (task.serial == 0 && task.with_dext) {
      // A command the family ended (timeout, Stop) comes back late: the slot is free now.
      task.with_dext = false;
      kernel_.trace(c->record->name, "slot " + std::to_string(slots[n]) + " handed back after the family ended its command");
      start_waiting(*c, task);
      continue;
    }
    SCSIUserParallelResponse response{};
    std::memcpy(&response, reinterpret_cast<const std::uint8_t*>(responses.address) + slots[n] * sizeof response,
                sizeof response);
    if (!task.with_dext) {
      // The dext handed back a slot it did not own: the task completed already (or never came).
      if (task.ended_by_family || task.previous_ended_by_family) continue;
      if (response.version != kScsiUserParallelTaskResponseCurrentVersion1) continue;
      completed_twice(*c, response, task.completed ? task.completed_at : task.previous_completed_at, true);
      continue;
    }
    complete_task(*c, task, response);
  }
}

void ScsiFamily::complete_task(Controller& c, Task& task, const SCSIUserParallelResponse& response) {
  const std::string& location = location_of(*c.record);
  if (task.ended_by_family) {
    // Ended by a timeout or Stop already: the dext finishing it late is what an abort asks for.
    task.with_dext = false;
    kernel_.trace(c.record->name, "a completion for task " + std::to_string(task.id) + " the family had already ended");
    return;
  }
  // The kernel checks the version first and drops what does not match, whatever it says.
  if (response.version != kScsiUserParallelTaskResponseCurrentVersion1) {
    task.version_dropped = true;
    kernel_.monitor().emit(monitor::ScsiCompletionDropped{kernel_.sim().now(), c.record->name, location, task.target,
                                                          task.id, response.version});
    return;
  }
  if (task.completed) {
    completed_twice(c, response, task.completed_at, false);
    return;
  }
  task.with_dext = false;
  if (response.fControllerTaskIdentifier != task.id || response.fTargetID != task.target) {
    kernel_.monitor().emit(monitor::ScsiCompletionMismatch{kernel_.sim().now(), c.record->name, location, task.target,
                                                           task.id, response.fTargetID,
                                                           response.fControllerTaskIdentifier});
  }
  ScsiOutcome outcome;
  outcome.response = static_cast<ServiceResponse>(response.fServiceResponse);
  outcome.status = static_cast<std::uint8_t>(response.fCompletionStatus);
  outcome.transferred = std::min<std::uint64_t>(response.fBytesTransferred, task.command.length);
  if (response.fSenseLength > 0) {
    const std::size_t n = std::min<std::size_t>(response.fSenseLength, sizeof response.fSenseBuffer);
    outcome.sense.assign(response.fSenseBuffer, response.fSenseBuffer + n);
  }
  ++c.counts.tasks_completed;
  finish_task(c, task, std::move(outcome));
}

void ScsiFamily::completed_twice(const Controller& c, const SCSIUserParallelResponse& response, sim::SimTime first,
                                 bool bundled) {
  kernel_.monitor().emit(monitor::ScsiTaskCompletedTwice{kernel_.sim().now(), c.record->name, location_of(*c.record),
                                                         response.fTargetID, response.fControllerTaskIdentifier, first,
                                                         bundled});
}

void ScsiFamily::finish_task(Controller& c, Task& task, storage::ScsiOutcome outcome, bool complete_dma) {
  task.completed = true;
  task.completed_at = kernel_.sim().now();
  if (task.timeout) {
    kernel_.sim().cancel(task.timeout);
    task.timeout = 0;
  }
  // The device's right to the buffer ends here (when the dext completed the task: it is done with it).
  if (task.dma && complete_dma) task.dma->CompleteDMA(kIODMACommandCompleteDMANoOptions);
  const std::uint64_t controller = c.id, serial = task.serial;
  const std::uint32_t slot = static_cast<std::uint32_t>(&task - c.tasks.data());
  // The storage stack hears a Mach message later; the task is free once it has.
  kernel_.sim().after(kernel_.profile().kernel_call, [this, controller, slot, serial, done = std::move(task.done),
                                                      outcome = std::move(outcome)]() mutable {
    Controller* c = find_id(controller);
    if (!c || slot >= c->tasks.size() || c->tasks[slot].serial != serial) {
      // The controller went away meanwhile, and the buffer with it.
      if (done) done(failure(storage::kStatusDeviceNotPresent));
      return;
    }
    Task& t = c->tasks[slot];
    if (t.command.direction == ScsiCommand::Direction::kFromTarget && t.buffer) {
      IOAddressSegment bytes{};
      t.buffer->GetAddressRange(&bytes);
      outcome.data = {reinterpret_cast<const std::uint8_t*>(bytes.address), t.command.length};
    }
    if (done) done(outcome);
    // `done` may have submitted more; the task is this one still (its serial held it).
    c = find_id(controller);
    if (!c) return;
    Task& freed = c->tasks[slot];
    OSSafeReleaseNULL(freed.previous_action);
    freed.previous_action = freed.action;
    freed.previous_completed_at = freed.completed_at;
    freed.action = nullptr;
    freed.previous_ended_by_family = freed.ended_by_family;
    freed.ended_by_family = false;
    freed.serial = 0;
    freed.command = {};
    // A bundled slot the dext still owns (the family ended its command) is free once handed back.
    if (!freed.with_dext) start_waiting(*c, freed);
  });
}

void ScsiFamily::start_waiting(Controller& c, Task& task) {
  if (c.waiting.empty() || c.stopping) return;
  Waiting next = std::move(c.waiting.front());
  c.waiting.pop_front();
  start_task(c, task, std::move(next));
}

void ScsiFamily::task_timed_out(std::uint64_t controller, std::uint32_t slot, std::uint64_t serial) {
  Controller* c = find_id(controller);
  if (!c || slot >= c->tasks.size() || c->tasks[slot].serial != serial || c->tasks[slot].completed) return;
  Task& task = c->tasks[slot];
  task.timeout = 0;
  ++c->counts.timeouts;
  kernel_.monitor().emit(monitor::ScsiTaskTimedOut{kernel_.sim().now(), c->record->name, location_of(*c->record),
                                                   task.target, task.id, opcode_of(task.command),
                                                   task.command.timeout_ms, task.version_dropped});
  // The family asks the controller to abort it, from the target's thread, and the storage
  // stack hears of the timeout now (the family has ended the task: the abort covers nothing it
  // waits for).
  send_task_management(*c, TaskManagement::kAbortTask, task.target, task.command.lun, serial, {}, nullptr, false);
  task.ended_by_family = true;
  finish_task(*c, task, failure(storage::kStatusTaskTimeout));
}

void ScsiFamily::add_figures(const std::string& service, std::vector<std::pair<std::string, std::string>>& out) const {
  Counts total;
  bool any = false;
  if (auto it = retired_counts_.find(service); it != retired_counts_.end()) {
    total += it->second;
    any = true;
  }
  for (const auto& [s, c] : controllers_) {
    if (c.record->name != service) continue;
    total += c.counts;
    any = true;
  }
  if (!any) return;
  out.emplace_back("scsi_tasks", std::to_string(total.tasks_sent));
  out.emplace_back("scsi_task_messages", std::to_string(total.messages));
  out.emplace_back("scsi_bundled", total.bundled ? "true" : "false");
  out.emplace_back("scsi_timeouts", std::to_string(total.timeouts));
  out.emplace_back("scsi_task_management", std::to_string(total.task_management));
}

kern_return_t ScsiFamily::data_buffer(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                                      uint64_t controller_task, IOBufferMemoryDescriptor** buffer) {
  Controller* c = find(hba);
  if (!c || !buffer) return kIOReturnBadArgument;
  for (Task& t : c->tasks) {
    if (t.serial != 0 && !t.completed && t.id == controller_task && t.target == target) {
      if (!t.buffer) return kIOReturnNotFound;  // a command without data
      t.buffer->retain();  // the caller's reference
      *buffer = t.buffer;
      return kIOReturnSuccess;
    }
  }
  return kIOReturnNotFound;
}

}  // namespace dexthil::driverkit
