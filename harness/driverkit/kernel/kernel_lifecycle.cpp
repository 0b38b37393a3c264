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
  record->name = main_service_name(p);
  record->kernel_queue = make_kernel_queue("kernel." + record->name);
  ServiceRecord* rec = record.get();
  p->services.push_back(std::move(record));
  rec->kernel_queue->dispatch_async([this, p, rec] { run_lifecycle(p, rec); });
}

bool Kernel::instantiate(DextProcess* p, ServiceRecord* rec, const DextClass* cls, bool created) {
  IODispatchQueue* default_queue = IODispatchQueue::make_host(*runtime_, kIOServiceDefaultQueueName, 0, p->id);
  queue_owner_[&default_queue->host()] = p;
  p->queues.push_back(default_queue);
  rec->queues[kIOServiceDefaultQueueName] = default_queue;

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
  if (!rec->service || !initialised) {
    rec->stage = ServiceRecord::Stage::kStartFailed;
    start_failed(rec,
                 rec->service ? monitor::ServiceStartFailed::Reason::kInitFailed
                              : monitor::ServiceStartFailed::Reason::kNotAService,
                 kIOReturnSuccess, created);
    return false;
  }
  return true;
}

void Kernel::start_failed(ServiceRecord* rec, monitor::ServiceStartFailed::Reason reason, kern_return_t result,
                          bool created) {
  trace(rec->name, "start failed");
  end_requirements(rec);  // the kernel's object goes: what it required of the platform with it
  monitor_.emit(monitor::ServiceStartFailed{sim_.now(), rec->name, rec->process->nub->location, rec->class_name,
                                            reason, ioreturn_name(result), created});
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
    start_failed(rec, monitor::ServiceStartFailed::Reason::kStartFailed, started);
    return;
  }
  rec->stage = ServiceRecord::Stage::kStarted;
  monitor_.emit(monitor::ServiceStarted{sim_.now(), rec->name, p->nub->location, rec->class_name,
                                        rec->super_start_called});
  if (profile_.order == KernelProfile::Order::kDocumented) {
    join_power_tree(rec);
  }
  if (p->family) {
    p->family->started(*this, *rec);
  } else if (const families::FamilyDefinition* f = families::family_of_kernel_class(p->personality->io_class);
             f && f != &families::driverkit()) {
    // The IOClass asks for a family's kernel half that dexthil lacks: the service runs as a
    // plain IOUserService.
    monitor_.emit(monitor::FamilyNotSimulated{sim_.now(), rec->name, p->nub->location, rec->class_name,
                                              p->personality->io_class, f->name});
  }
}

void Kernel::super_start(IOService* service) {
  if (ServiceRecord* rec = record_of(service)) rec->super_start_called = true;
}

void Kernel::super_stop(IOService* service) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return;
  rec->super_stop_called = true;
  // Called after Stop returned: the stop completes now, on the kernel's thread.
  if (rec->stop_result && rec->stage == ServiceRecord::Stage::kStopping) {
    rec->kernel_queue->dispatch_async([this, rec] { complete_stop(rec); });
  }
}

kern_return_t Kernel::terminate(IOService* service) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  rec->kernel_queue->dispatch_async([this, rec] { stop_service(rec); });
  return kIOReturnSuccess;
}

void Kernel::terminate_all() {
  shutting_down_ = true;  // a provider still recovering from a crash rematches nothing now
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
  service_terminating(rec);    // kIOMessageServiceIsTerminated comes before Stop
  if (p->family) p->family->stopping(*this, *rec);
  rec->super_stop_called = false;  // only a call made for this Stop counts
  rec->stop_result = rec->service->Stop(rec->provider);
  if (p->crashed) return;
  if (!rec->super_stop_called) {
    trace(rec->name, "Stop returned; waiting for Stop(provider, SUPERDISPATCH)");
    return;
  }
  complete_stop(rec);
}

void Kernel::complete_stop(ServiceRecord* rec) {
  DextProcess* p = rec->process;
  if (p->crashed || rec->stage != ServiceRecord::Stage::kStopping) return;
  rec->stage = ServiceRecord::Stage::kStopped;
  if (p->family) p->family->stopped(*this, *rec);
  const std::vector<monitor::LeftRunning> left = left_running_after_stop(rec);
  const kern_return_t stopped = *rec->stop_result;
  monitor_.emit(monitor::ServiceStopped{sim_.now(), rec->name, p->nub->location, rec->class_name,
                                        ioreturn_name(stopped), stopped == kIOReturnSuccess, true, left});
  // The kernel drops its references: the service (free() runs in the dext) and its queues.
  IODispatchQueue* default_queue = rec->queues[kIOServiceDefaultQueueName];
  default_queue->host().dispatch_sync([rec] {
    rec->service->set_record(nullptr);
    rec->service->release();
  });
  if (p->crashed) return;
  for (auto& [name, queue] : rec->queues) {
    if (name != kIOServiceDefaultQueueName) queue->release();
  }
  rec->queues.clear();
  default_queue->release();
  std::erase(p->queues, default_queue);
  rec->released = true;
  end_requirements(rec);
  monitor_.emit(monitor::ServiceEnded{sim_.now(), rec->name, p->nub->location});
  // Leaks are counted once the process's last service (the driver and its user clients) is gone;
  // another may still be between its Stop and its release on another kernel thread.
  const bool all_gone = std::all_of(p->services.begin(), p->services.end(), [](const auto& r) {
    return r->released || r->stage == ServiceRecord::Stage::kStartFailed;
  });
  if (all_gone) report_leaks(p);
  // Terminated to be matched again (its device was reset under it): the nub is free now.
  if (rec->rematch_on_stop && !shutting_down_ && !has_driver(*p->nub)) {
    trace(p->nub->location, "rematching after its driver was terminated");
    match(*p->nub);
  }
}

std::vector<monitor::LeftRunning> Kernel::left_running_after_stop(const ServiceRecord* rec) {
  std::vector<monitor::LeftRunning> left;
  // What it left on its provider, if the provider is a nub (a user client's is the service).
  if (Nub* nub = registry_.find(rec->provider)) left = nub->bus->left_after_stop(*nub, rec->service, rec->name);
  for (IOTimerDispatchSource* timer : timers_) {
    if (timer->armed() && timer->target_service() == rec->service) {
      left.push_back({"an IOTimerDispatchSource of " + rec->name + " is still armed after Stop returned",
                      "The timer can fire into a service being torn down. Cancel it, or disarm it with WakeAtTime(0, "
                      "UINT64_MAX, 0), in Stop."});
    }
  }
  return left;
}

void Kernel::report_leaks(DextProcess* p) {
  const std::string service = main_service_name(p);
  for (const LiveObject& o : ObjectRegistry::alive_owned_by(p->id)) {
    trace(service, o.class_name + " still alive");
    monitor_.emit(monitor::DextObjectAlive{sim_.now(), service, p->nub->location, o.class_name, o.file, o.line,
                                           o.retain_count});
  }
}

void Kernel::finish() {
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (rec->stage == ServiceRecord::Stage::kStopping && rec->stop_result && !rec->super_stop_called &&
          !p->crashed) {
        // Stop returned, and nothing ever called its kernel side: the service never stopped.
        trace(rec->name, "Stop(provider, SUPERDISPATCH) never called by the end of the run");
        monitor_.emit(monitor::ServiceStopped{sim_.now(), rec->name, p->nub->location, rec->class_name,
                                              ioreturn_name(*rec->stop_result), *rec->stop_result == kIOReturnSuccess,
                                              false, left_running_after_stop(rec.get())});
      }
      if (rec->ack_pending && !p->crashed) {
        trace(rec->name, "SetPowerState unacknowledged at the end of the run");
        monitor_.emit(monitor::PowerChangeUnacknowledged{sim_.now(), rec->name, p->nub->location, "", 0,
                                                         profile_.power_ack_limit, true});
      }
    }
  }
}

// ---- messages and queues ----

}  // namespace dexthil::driverkit
