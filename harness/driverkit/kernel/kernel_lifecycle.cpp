// The kernel: a service's life: instantiation, Start, Stop, free, and the checks at the end.
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

void Kernel::start_process(DextProcess* p) {
  auto record = std::make_unique<ServiceRecord>();
  record->process = p;
  record->provider = p->nub->object;
  record->class_name = p->user_class;
  record->name = p->user_class + "@" + p->nub->location;
  record->kernel_queue = make_kernel_queue("kernel." + record->name);
  ServiceRecord* rec = record.get();
  p->services.push_back(std::move(record));
  rec->kernel_queue->dispatch_async([this, p, rec] { run_lifecycle(p, rec); });
}

bool Kernel::instantiate(DextProcess* p, ServiceRecord* rec, const DextClass* cls) {
  IODispatchQueue* default_queue = IODispatchQueue::make_host(*runtime_, "Default", 0, p->id);
  queue_owner_[&default_queue->host()] = p;
  p->queues.push_back(default_queue);
  rec->queues["Default"] = default_queue;

  // The object is created and initialised in the dext process.
  bool initialised = false;
  default_queue->host().dispatch_sync([&] {
    OSObject* object = cls ? cls->factory() : nullptr;
    rec->service = OSDynamicCast(IOService, object);
    if (!rec->service) {
      if (object) object->release();
      return;
    }
    rec->service->set_record(rec);
    initialised = rec->service->init();
  });
  if (p->crashed) return false;
  if (!rec->service) {
    report_on(rec, "lifecycle.start-failed", "IOUserClass " + rec->class_name + " is not an IOService the dext defines",
              "The personality's IOUserClass must name an IOService subclass declared in the dext's .iig.");
    rec->stage = ServiceRecord::Stage::kStartFailed;
    return false;
  }
  if (!initialised) {
    report_on(rec, "lifecycle.start-failed", rec->class_name + "::init() returned false",
              "The kernel never calls Start on a service whose init failed; the device stays without a driver.");
    rec->stage = ServiceRecord::Stage::kStartFailed;
    return false;
  }
  return true;
}

void Kernel::run_lifecycle(DextProcess* p, ServiceRecord* rec) {
  if (!instantiate(p, rec, p->dext_class)) return;
  if (profile_.order == KernelProfile::Order::kPowerBeforeStart) {
    // Field order: the power-management work loop reaches the service while it is still loading.
    runtime_->sleep_for(profile_.first_power_delay);
    rec->in_power_tree = true;
    send_power_state(rec, PowerState::kOn);
    if (p->crashed) return;
  }
  rec->stage = ServiceRecord::Stage::kStarting;
  const kern_return_t started = rec->service->Start(rec->provider);
  if (p->crashed) return;
  if (started != kIOReturnSuccess) {
    rec->stage = ServiceRecord::Stage::kStartFailed;
    report_on(rec, "lifecycle.start-failed", p->user_class + "::Start returned " + ioreturn_name(started),
              "The kernel does not register a service whose Start failed; the device stays without a driver.");
    return;
  }
  if (!rec->super_start_called) {
    report_on(rec, "lifecycle.super-start",
              p->user_class + "::Start returned kIOReturnSuccess without calling Start(provider, SUPERDISPATCH)",
              "The kernel side of Start (IOService::Start) never ran, so the service is not set up in the kernel; call "
              "Start(provider, SUPERDISPATCH) first in Start.");
  }
  rec->stage = ServiceRecord::Stage::kStarted;
  if (profile_.order == KernelProfile::Order::kDocumented) {
    join_power_tree(rec);
  }
  if (p->family) {
    p->family->started(*this, *rec);
  } else if (const families::FamilyDefinition* f = families::family_of_kernel_class(p->personality->io_class);
             f && f != &families::driverkit()) {
    report_family_not_simulated(rec, *f);
  }
}

// The personality asks for a family's kernel half that dexthil does not have yet: the service
// runs, but none of the family's messages will come, so the run cannot stand for a Mac's.
void Kernel::report_family_not_simulated(const ServiceRecord* rec, const families::FamilyDefinition& f) {
  const Personality& p = *rec->process->personality;
  report_on(rec, "dext.family-not-simulated",
            "IOClass " + p.io_class + " asks for " + std::string(f.name) +
                "'s kernel half, which dexthil does not simulate yet",
            "The kernel started " + rec->class_name + " as a plain IOUserService: Start, Stop and power changes "
            "arrive, but none of " + std::string(f.name) + "'s messages will, so this run does not show how the dext "
            "behaves on a Mac.");
}

void Kernel::super_start(IOService* service) {
  if (ServiceRecord* rec = record_of(service)) rec->super_start_called = true;
}

void Kernel::super_stop(IOService* service) {
  if (ServiceRecord* rec = record_of(service)) rec->super_stop_called = true;
}

kern_return_t Kernel::terminate(IOService* service) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  rec->kernel_queue->dispatch_async([this, rec] { stop_service(rec); });
  return kIOReturnSuccess;
}

void Kernel::terminate_all() {
  // Open connections close first, as the applications' ports die with the services.
  for (auto& c : connections_) c->close();
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (p->crashed || rec->stage != ServiceRecord::Stage::kStarted) continue;
      auto* client = OSDynamicCast(IOUserClient, rec->service);
      if (client && client->connection()) continue;  // its connection's close stops it
      ServiceRecord* r = rec.get();
      rec->kernel_queue->dispatch_async([this, r] { stop_service(r); });
    }
  }
}

void Kernel::device_removed(const std::string& location) {
  Nub* nub = registry_.find(location);
  if (!nub || nub->terminated) return;
  nub->terminated = true;
  trace(location, "nub terminated: device removed");
  for (auto& p : processes_) {
    if (p->crashed || p->nub != nub) continue;
    for (auto& rec : p->services) {
      if (rec->stage != ServiceRecord::Stage::kStarted) continue;
      ServiceRecord* r = rec.get();
      rec->kernel_queue->dispatch_async([this, r] { stop_service(r); });
    }
  }
}

void Kernel::stop_service(ServiceRecord* rec) {
  DextProcess* p = rec->process;
  if (p->crashed || rec->stage != ServiceRecord::Stage::kStarted) return;
  rec->stage = ServiceRecord::Stage::kStopping;
  rec->in_power_tree = false;  // leaving the tree: no more power changes
  if (p->family) p->family->stopping(*this, *rec);
  const kern_return_t stopped = rec->service->Stop(rec->provider);
  if (p->crashed) return;
  if (stopped != kIOReturnSuccess) {
    report_on(rec, "lifecycle.stop-failed", rec->class_name + "::Stop returned " + ioreturn_name(stopped),
              "Stop cannot fail: the kernel terminates the service whatever Stop returns.");
  }
  if (!rec->super_stop_called) {
    report_on(rec, "lifecycle.super-stop",
              rec->class_name + "::Stop returned without calling Stop(provider, SUPERDISPATCH)",
              "The kernel side of Stop never ran, so the service is never fully terminated; call Stop(provider, "
              "SUPERDISPATCH) last in Stop.");
  }
  rec->stage = ServiceRecord::Stage::kStopped;
  check_io_after_stop(rec);
  // The kernel drops its references: the service (free() runs in the dext) and its queues.
  IODispatchQueue* default_queue = rec->queues["Default"];
  default_queue->host().dispatch_sync([rec] {
    rec->service->set_record(nullptr);
    rec->service->release();
  });
  if (p->crashed) return;
  for (auto& [name, queue] : rec->queues) {
    if (name != "Default") queue->release();
  }
  rec->queues.clear();
  default_queue->release();
  std::erase(p->queues, default_queue);
  rec->released = true;
  monitor_.emit(monitor::ServiceEnded{sim_.now(), rec->name, p->nub->location});
  // Leaks are counted once the process's last service (the driver and its user clients) is gone;
  // another may still be between its Stop and its release on another kernel thread.
  const bool all_gone = std::all_of(p->services.begin(), p->services.end(), [](const auto& r) {
    return r->released || r->stage == ServiceRecord::Stage::kStartFailed;
  });
  if (all_gone) report_leaks(p);
}

void Kernel::check_io_after_stop(ServiceRecord* rec) {
  auto found = [&](const std::string& what, const std::string& why) {
    report_on(rec, "lifecycle.io-after-stop", what, why);
  };
  // What it left on its provider, if the provider is a nub (a user client's is the service).
  if (Nub* nub = registry_.find(rec->provider)) {
    for (const BusPlugin::Leftover& l : nub->bus->left_after_stop(*nub, rec->service, rec->name)) found(l.what, l.why);
  }
  for (IOTimerDispatchSource* timer : timers_) {
    if (timer->armed() && timer->target_service() == rec->service) {
      found("an IOTimerDispatchSource of " + rec->name + " is still armed after Stop returned",
            "The timer can fire into a service being torn down. Cancel it, or disarm it with WakeAtTime(0, UINT64_MAX, "
            "0), in Stop.");
    }
  }
}

void Kernel::report_leaks(DextProcess* p) {
  for (const LiveObject& o : ObjectRegistry::alive_owned_by(p->id)) {
    report({"dext.leak", p->user_class + "@" + p->nub->location, 0,
            o.class_name + " created at " + o.file + ":" + std::to_string(o.line) + " is still alive (retain count " +
                std::to_string(o.retain_count) + ") after the service was freed",
            "Every object the dext creates must be released by the time its service is freed; an OSAction that is "
            "never released also keeps its target (usually the service) alive.",
            p->nub->location});
  }
}

void Kernel::finish() {
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (rec->ack_pending && !p->crashed) {
        report_on(rec.get(), "power.ack-timeout",
                  "a SetPowerState was still unacknowledged when the run ended",
                  "The kernel waits up to 20 s for the dext to call SetPowerState(flags, SUPERDISPATCH) or return an "
                  "error; this one never did.");
      }
    }
  }
}

// ---- messages and queues ----

}  // namespace dexthil::driverkit
