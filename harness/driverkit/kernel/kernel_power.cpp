// The kernel: the power tree (SetPowerState and its acknowledgement, driver power requests,
// system sleep and wake). The device's power changes go to the monitor (DevicePowerChanged), where
// DeviceAccessChecker judges access while powered off.
#include "harness/driverkit/kernel/kernel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <DriverKit/DriverKit.h>

#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/kernel/kernel_internal.hpp"
#include "harness/driverkit/libkern/object_registry.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"
#include "harness/monitor/device_events.hpp"

namespace dexthil::driverkit {

using namespace kernel_internal;

PowerState power_state_for(std::uint32_t flags) {
  if (flags & kIOServicePowerCapabilityOn) return PowerState::kOn;
  if (flags & kIOServicePowerCapabilityLow) return PowerState::kLow;
  return PowerState::kOff;
}

std::uint32_t capability_flags_for(PowerState state) {
  switch (state) {
    case PowerState::kOff: return kIOServicePowerCapabilityOff;
    case PowerState::kLow: return kIOServicePowerCapabilityLow;
    case PowerState::kOn: return kIOServicePowerCapabilityOn;
  }
  return 0;
}

void Kernel::join_power_tree(ServiceRecord* rec) {
  rec->in_power_tree = true;
  // The first power change after joining is always delivered.
  runtime_->sleep_for(profile_.first_power_delay);
  send_power_state(rec, PowerState::kOn);
}

// On the service's kernel queue: sends SetPowerState and waits for the acknowledgement (the
// dext calling SetPowerState(flags, SUPERDISPATCH), or an error return) up to the limit.
void Kernel::send_power_state(ServiceRecord* rec, PowerState state) {
  if (rec->process->crashed || !rec->service) return;
  const std::uint32_t flags = capability_flags_for(state);
  if (state != PowerState::kOff) {  // powered before the driver hears of it
    monitor_.emit(monitor::DevicePowerChanged{sim_.now(), rec->name, rec->process->nub->location, true});
  }
  rec->ack_pending = flags;
  rec->ack_waiter = std::make_unique<FiberRuntime::Blocker>(*runtime_);
  FiberRuntime::Blocker* waiter = rec->ack_waiter.get();
  const sim::SimTime sent = sim_.now();
  const sim::EventId timeout = sim_.after(profile_.power_ack_limit, [this, rec, waiter, state, sent] {
    if (rec->ack_waiter.get() != waiter || !rec->ack_pending) return;
    rec->ack_pending.reset();
    trace(rec->name, std::string("SetPowerState(") + power_name(state) + ") not acknowledged: the kernel gives up");
    monitor_.emit(monitor::PowerChangeUnacknowledged{sim_.now(), rec->name, rec->process->nub->location,
                                                     power_name(state), sent, profile_.power_ack_limit, false});
    waiter->signal();
  });
  trace(rec->name, std::string("SetPowerState(") + power_name(state) + ") sent");
  const kern_return_t result = rec->service->SetPowerState(flags);
  if (result != kIOReturnSuccess) rec->ack_pending.reset();  // an error acknowledges at once
  if (rec->ack_pending && !rec->process->crashed) waiter->wait();
  sim_.cancel(timeout);
  if (rec->process->crashed) return;
  rec->power = state;
  trace(rec->name, std::string("power state ") + power_name(state));
  if (state == PowerState::kOff) {
    monitor_.emit(monitor::DevicePowerChanged{sim_.now(), rec->name, rec->process->nub->location, false});
  }
}

kern_return_t Kernel::acknowledge_power(IOService* service, std::uint32_t flags) {
  ServiceRecord* rec = record_of(service);
  (void)flags;
  // xnu: the kernel side of SetPowerState answers kIOReturnNotReady when no change is pending.
  if (!rec || !rec->ack_pending) return kIOReturnNotReady;
  rec->ack_pending.reset();
  if (rec->ack_waiter) rec->ack_waiter->signal();
  return kIOReturnSuccess;
}

kern_return_t Kernel::change_power_state(IOService* service, std::uint32_t flags) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  // xnu's ChangePowerState_Impl takes only the three capability values.
  if (flags != kIOServicePowerCapabilityOff && flags != kIOServicePowerCapabilityLow &&
      flags != kIOServicePowerCapabilityOn) {
    return kIOReturnBadArgument;
  }
  // Before the service joins the power tree there is nothing to change, and it still succeeds.
  if (!rec->in_power_tree) {
    trace(rec->name, "ChangePowerState before joining the power tree: nothing to change");
    return kIOReturnSuccess;
  }
  // The driver's desire decides: no children or clients of a dext's service want power here, so
  // with or without SetPowerOverride it is the state the service goes to.
  const PowerState state = power_state_for(flags);
  rec->kernel_queue->dispatch_async([this, rec, state] { send_power_state(rec, state); });
  return kIOReturnSuccess;
}

kern_return_t Kernel::set_power_override(IOService* service, bool enable) {
  ServiceRecord* rec = record_of(service);
  // IOServicePM's powerOverrideOnPriv/OffPriv act on the service's power-management state,
  // which exists once it joined the tree.
  if (!rec || !rec->in_power_tree) return kIOReturnNotReady;
  rec->power_override = enable;
  return kIOReturnSuccess;
}

kern_return_t Kernel::require_max_bus_stall(IOService* service, std::uint64_t ns) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  // xnu's RequireMaxBusStall_Impl: the value must fit 32 bits. IOService::requireMaxBusStall on
  // Apple silicon: only the kIOMaxBusStall* values.
  switch (ns) {
    case kIOMaxBusStall40usec:
    case kIOMaxBusStall30usec:
    case kIOMaxBusStall25usec:
    case kIOMaxBusStall20usec:
    case kIOMaxBusStall10usec:
    case kIOMaxBusStall5usec:
    case kIOMaxBusStallNone: break;
    default: return kIOReturnBadArgument;
  }
  rec->max_bus_stall_ns = ns;
  // requireMaxCpuDelay: one entry per service; the smallest of all services' is the platform's.
  max_bus_delay_.require(rec, rec->name, ns * sim::kNanosecond);
  const std::optional<sim::SimTime> limit = max_bus_delay_.limit();
  trace(rec->name, "RequireMaxBusStall(" + std::to_string(ns) + "): the platform's MaxBusDelay is " +
                       (limit ? sim::format_time(*limit) + ", held by " + max_bus_delay_.holder() : std::string("none")));
  return kIOReturnSuccess;
}

void Kernel::end_requirements(ServiceRecord* rec) {
  if (!rec->max_bus_stall_ns) return;
  rec->max_bus_stall_ns = 0;
  max_bus_delay_.release(rec);
  const std::optional<sim::SimTime> limit = max_bus_delay_.limit();
  trace(rec->name, "its bus stall requirement ends: the platform's MaxBusDelay is " +
                       (limit ? sim::format_time(*limit) + ", held by " + max_bus_delay_.holder() : std::string("none")));
}

kern_return_t Kernel::create_pm_assertion(IOService* service, std::uint32_t bits, std::uint64_t* id, bool synced) {
  ServiceRecord* rec = record_of(service);
  if (!rec || !id) return kIOReturnBadArgument;
  if (bits & ~(kIOServicePMAssertionCPUBit | kIOServicePMAssertionForceFullWakeupBit)) return kIOReturnBadArgument;
  // Apple's CreatePMAssertion documentation: a synced assertion must stop an imminent sleep, so
  // it takes only the CPU bit, and once the sleep can no longer be stopped it is refused with
  // kIOReturnBusy and not created. An unsynced one is created and the sleep goes on.
  if (synced && (bits & ~std::uint32_t{kIOServicePMAssertionCPUBit})) return kIOReturnBadArgument;
  if (synced && sleeping_) return kIOReturnBusy;
  *id = next_assertion_id_++;
  rec->pm_assertions.insert(*id);
  return kIOReturnSuccess;
}

void Kernel::system_sleep() {
  sleeping_ = true;  // the sleep is forced, so irreversible from here until the wake
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (p->crashed || !rec->in_power_tree || rec->stage != ServiceRecord::Stage::kStarted) continue;
      ServiceRecord* r = rec.get();
      rec->kernel_queue->dispatch_async([this, r] {
        r->saved_for_wake = r->power;
        send_power_state(r, PowerState::kOff);
      });
    }
  }
}

void Kernel::system_wake() {
  sleeping_ = false;
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (p->crashed || !rec->in_power_tree || rec->stage != ServiceRecord::Stage::kStarted) continue;
      ServiceRecord* r = rec.get();
      rec->kernel_queue->dispatch_async([this, r] { send_power_state(r, r->saved_for_wake); });
    }
  }
}

}  // namespace dexthil::driverkit
