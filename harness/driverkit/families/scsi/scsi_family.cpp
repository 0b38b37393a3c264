#include "harness/driverkit/families/scsi/scsi_family.hpp"

#include <DriverKit/IOKitKeys.h>
#include <DriverKit/OSNumber.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"
#include "harness/monitor/scsi_events.hpp"

namespace dexthil::driverkit {
namespace {

// The keys the family reads after UserInitializeController, every one required.
constexpr const char* kRequiredConstraints[] = {
    kIOMaximumSegmentCountReadKey,          kIOMaximumSegmentCountWriteKey,
    kIOMaximumSegmentByteCountReadKey,      kIOMaximumSegmentByteCountWriteKey,
    kIOMinimumSegmentAlignmentByteCountKey, kIOMaximumSegmentAddressableBitCountKey,
    kIOMinimumHBADataAlignmentMaskKey,
};

}  // namespace

const std::string& ScsiFamily::location_of(const ServiceRecord& record) {
  static const std::string none;
  return record.process && record.process->nub ? record.process->nub->location : none;
}

const families::FamilyDefinition& ScsiFamily::definition() const { return families::scsi_controller(); }

ScsiFamily::Controller* ScsiFamily::find(const IOService* service) {
  auto it = controllers_.find(service);
  return it == controllers_.end() ? nullptr : &it->second;
}

const ScsiFamily::Controller* ScsiFamily::controller(const IOService* service) const {
  auto it = controllers_.find(service);
  return it == controllers_.end() ? nullptr : &it->second;
}

void ScsiFamily::started(Kernel&, ServiceRecord& service) {
  // A service at the address of one that went away without Stop (its process crashed).
  retire(service.service);
  Controller& c = controllers_[service.service];
  c.id = next_controller_id_++;
  c.record = &service;
  c.hba = OSDynamicCast(IOUserSCSIParallelInterfaceController, service.service);
  if (!c.hba) {
    failed(c, "Start", kIOReturnSuccess,
           "succeeded, but the dext's class is not a subclass of IOUserSCSIParallelInterfaceController, which its "
           "IOClass names");
    return;
  }
  bring_up(c);
}

void ScsiFamily::stopping(Kernel&, ServiceRecord& service) {
  if (Controller* c = find(service.service)) end_commands(*c);
}

void ScsiFamily::crashed(Kernel&, ServiceRecord& service) {
  // Kept until the service's address is used again or the run ends: its tasks' preparations are
  // the crash recovery's to end.
  if (Controller* c = find(service.service)) end_commands(*c);
}

void ScsiFamily::stopped(Kernel&, ServiceRecord& service) {
  retire(service.service);
}

void ScsiFamily::retire(const IOService* service) {
  Controller* c = find(service);
  if (!c) return;
  retired_counts_[c->record->name] += c->counts;
  release_tasks(*c);
  controllers_.erase(service);
}

bool ScsiFamily::failed(const Controller& c, std::string_view step, kern_return_t result, std::string_view why) {
  const std::string name = result == kIOReturnSuccess ? std::string() : ioreturn_name(result);
  kernel_.monitor().emit(monitor::ScsiControllerStepFailed{kernel_.sim().now(), c.record->name, location_of(*c.record),
                                                           step, name, why});
  return false;
}

bool ScsiFamily::bring_up(Controller& c) {
  IOUserSCSIParallelInterfaceController& hba = *c.hba;
  auto step = [&c](const char* name) { c.steps.emplace_back(name); };

  step("UserInitializeController");
  const kern_return_t init = hba.UserInitializeController();
  if (init != kIOReturnSuccess) return failed(c, "UserInitializeController", init);
  monitor::ScsiHbaConstraintsMissing missing{kernel_.sim().now(), c.record->name, location_of(*c.record),
                                             c.constraints_reported, {}};
  for (const char* key : kRequiredConstraints) {
    if (!c.constraints.contains(key)) missing.missing.emplace_back(key);
  }
  if (!missing.missing.empty()) {
    kernel_.monitor().emit(missing);
    return false;
  }

  // A question the controller must answer with success.
  auto ask = [&](const char* name, auto&& call) {
    step(name);
    const kern_return_t r = call();
    return r == kIOReturnSuccess || failed(c, name, r);
  };
  DMAOutputSegmentType segments = kDMAOutputSegmentHost64;
  if (!ask("UserReportInitiatorIdentifier", [&] { return hba.UserReportInitiatorIdentifier(&c.initiator_id); }) ||
      !ask("UserReportHighestSupportedDeviceID", [&] { return hba.UserReportHighestSupportedDeviceID(&c.highest_id); }) ||
      !ask("UserReportMaximumTaskCount", [&] { return hba.UserReportMaximumTaskCount(&c.max_tasks); })) {
    return false;
  }
  if (c.max_tasks == 0) {
    return failed(c, "UserReportMaximumTaskCount", kIOReturnSuccess,
                  "answered 0 tasks (the controller must take at least one, or it does not load)");
  }
  if (!ask("UserReportHBAHighestLogicalUnitNumber", [&] { return hba.UserReportHBAHighestLogicalUnitNumber(&c.highest_lun); }) ||
      !ask("UserDoesHBAPerformAutoSense", [&] { return hba.UserDoesHBAPerformAutoSense(&c.auto_sense); }) ||
      !ask("UserGetDMASpecification", [&] {
        return hba.UserGetDMASpecification(&c.max_transfer, &c.alignment, &c.address_bits, &segments);
      })) {
    return false;
  }
  // One identifier per task the family allocates; each must be its own.
  step("UserMapHBAData");
  std::set<std::uint32_t> seen;
  for (std::uint32_t i = 0; i < c.max_tasks; ++i) {
    std::uint32_t id = 0;
    if (const kern_return_t r = hba.UserMapHBAData(&id); r != kIOReturnSuccess) return failed(c, "UserMapHBAData", r);
    if (!seen.insert(id).second) {
      return failed(c, "UserMapHBAData", kIOReturnSuccess,
                    "gave task identifier " + std::to_string(id) + " twice (each task needs its own, as "
                    "fControllerTaskIdentifier tells the dext which task a request is)");
    }
    c.task_ids.push_back(id);
  }
  // The shared command and response buffers, a slot per task; an error opts out of bundled
  // tasks, and tasks come one by one through UserProcessParallelTask.
  step("UserMapBundledParallelTaskCommandAndResponseBuffers");
  c.bundled = c.counts.bundled = map_bundle_buffers(c);
  allocate_tasks(c);
  if (!ask("UserStartController", [&] { return hba.UserStartController(); })) return false;
  c.started = true;
  bool manages = false;
  if (!ask("UserDoesHBAPerformDeviceManagement", [&] { return hba.UserDoesHBAPerformDeviceManagement(&manages); })) {
    return false;
  }
  if (!manages) {
    // The family scans every ID up to the highest (inclusive) and creates the present ones.
    for (std::uint64_t id = 0; id <= c.highest_id; ++id) {
      bool present = false;
      if (hba.UserTargetPresentForID(id, &present) == kIOReturnSuccess && present) create_target(&hba, id, nullptr);
    }
  }
  return true;
}

bool ScsiFamily::map_bundle_buffers(Controller& c) {
  const std::uint64_t tasks = c.task_ids.size();
  if (IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, tasks * sizeof(SCSIUserParallelTask), 0,
                                       &c.bundle_commands) != kIOReturnSuccess ||
      IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, tasks * sizeof(SCSIUserParallelResponse), 0,
                                       &c.bundle_responses) != kIOReturnSuccess) {
    OSSafeReleaseNULL(c.bundle_commands);
    OSSafeReleaseNULL(c.bundle_responses);
    return false;
  }
  if (c.hba->UserMapBundledParallelTaskCommandAndResponseBuffers(c.bundle_commands, c.bundle_responses) ==
      kIOReturnSuccess) {
    return true;
  }
  OSSafeReleaseNULL(c.bundle_commands);
  OSSafeReleaseNULL(c.bundle_responses);
  return false;
}

kern_return_t ScsiFamily::report_constraints(IOUserSCSIParallelInterfaceController* hba, OSDictionary* constraints) {
  Controller* c = find(hba);
  if (!c || !constraints) return kIOReturnBadArgument;
  c->constraints_reported = true;
  constraints->iterateObjects([c](const char* key, const OSMetaClassBase* value) {
    if (const OSNumber* n = OSDynamicCast(OSNumber, value)) c->constraints[key] = n->unsigned64BitValue();
    return false;
  });
  return kIOReturnSuccess;
}

kern_return_t ScsiFamily::create_target(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                                        OSDictionary*) {
  Controller* c = find(hba);
  if (!c) return kIOReturnNotReady;
  // The kernel runs UserInitializeTargetForID on the Default queue before this returns.
  auto queue = c->record->queues.find(kIOServiceDefaultQueueName);
  if (queue != c->record->queues.end() && queue->second->OnQueue()) {
    kernel_.monitor().emit(monitor::ScsiCreateTargetDeadlock{kernel_.sim().now(), c->record->name,
                                                            location_of(*c->record), target});
    return kIOReturnBusy;
  }
  if (c->targets.contains(target)) return kIOReturnSuccess;
  c->steps.push_back("UserInitializeTargetForID(" + std::to_string(target) + ")");
  const kern_return_t r = hba->UserInitializeTargetForID(target);
  if (r != kIOReturnSuccess) return r;
  target_created(*c, target);
  return kIOReturnSuccess;
}

void ScsiFamily::target_created(Controller& c, std::uint64_t target) {
  c.targets.insert(target);
  ports_.push_back(
      std::make_unique<ScsiTargetPort>(*this, c.id, c.record->name, location_of(*c.record), target, c.max_transfer));
  // The storage stack above starts on it once the creation has returned, as IOSCSIParallelFamily
  // registers the device and the peripheral driver matches it later.
  if (on_target_) {
    ScsiTargetPort* port = ports_.back().get();
    kernel_.sim().after(0, [this, port] { on_target_(*port); });
  }
}

kern_return_t ScsiFamily::destroy_target(IOUserSCSIParallelInterfaceController* hba, SCSITargetIdentifier target) {
  Controller* c = find(hba);
  if (!c) return kIOReturnNotReady;
  return c->targets.erase(target) ? kIOReturnSuccess : kIOReturnNotFound;
}

kern_return_t ScsiFamily::set_properties(IOUserSCSIParallelInterfaceController* hba, std::optional<SCSIDeviceIdentifier>,
                                         OSDictionary* properties) {
  return find(hba) && properties ? kIOReturnSuccess : kIOReturnBadArgument;
}

kern_return_t ScsiFamily::remove_properties(IOUserSCSIParallelInterfaceController* hba,
                                            std::optional<SCSIDeviceIdentifier>, OSArray* keys) {
  return find(hba) && keys ? kIOReturnSuccess : kIOReturnBadArgument;
}

kern_return_t ScsiFamily::media_parameters_changed(IOUserSCSIParallelInterfaceController* hba) {
  return find(hba) ? kIOReturnSuccess : kIOReturnNotReady;
}


}  // namespace dexthil::driverkit
