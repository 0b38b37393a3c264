// The kernel: a dext process dies. As xnu handles it (IOUserServer::clientClose and finalize,
// IOService::terminateWorker and doServiceMatch, OSDextStatistics::recordCrash):
//  - the provider of each service the process had gets ClientCrashed; an IOPCIDevice the client
//    had open resets its function (the bus plug-in's client_crashed);
//  - if the service had started, the crash counts against the dext's daily limit
//    (daily_max_dext_crashes, 3): beyond it an Apple dext would panic the Mac, a third-party dext
//    goes on;
//  - a started service is terminated to rematch the same dext on its provider: once the provider's
//    recovery is done a new process starts, with no delay of its own, while the provider's
//    IORematchCount is within dextrelaunch (1000). A service that never started is only detached.
#include "harness/driverkit/kernel/kernel.hpp"

#include <DriverKit/IOServiceNotificationDispatchSource.h>

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

namespace {
// OSDextStatistics::recordCrash counts the crashes of the last day (of mach continuous time).
constexpr sim::SimTime kCrashWindow = 86400 * sim::kSecond;
}  // namespace

unsigned Kernel::record_crash(const std::string& server_name) {
  std::vector<sim::SimTime>& times = crash_times_[server_name];
  const sim::SimTime now = sim_.now();
  std::erase_if(times, [&](sim::SimTime t) { return now > kCrashWindow && t < now - kCrashWindow; });
  times.push_back(now);
  return static_cast<unsigned>(times.size());
}

void Kernel::crash(DextProcess* p, const std::string& kind, const std::string& report, const std::string& explanation) {
  if (p->crashed) return;
  p->crashed = true;
  for (IODispatchQueue* q : p->queues) q->host().abandon();
  // Its notification sources died with it: a relaunched process of the same dext has its own.
  std::erase_if(notification_sources_, [p](IOServiceNotificationDispatchSource* s) { return s->owner() == p->id; });
  for (auto& rec : p->services) {
    if (rec->ack_waiter) rec->ack_waiter->signal();  // the kernel stops waiting on a dead process
    rec->ack_pending.reset();
    end_requirements(rec.get());  // its services are gone: so is what they required of the platform
    monitor_.emit(monitor::ServiceEnded{sim_.now(), rec->name, p->nub->location});
    if (p->family) p->family->crashed(*this, *rec);
  }
  const std::string where = main_service_name(p);
  Nub& nub = *p->nub;
  // The process's main service (its user clients' provider is the service itself, in the same
  // process: they get no ClientCrashed). One that was stopping or whose Start failed had already
  // left its provider.
  ServiceRecord* main = p->services.empty() ? nullptr : p->services.front().get();
  using Stage = ServiceRecord::Stage;
  const bool attached = main && (main->stage == Stage::kCreated || main->stage == Stage::kStarting ||
                                 main->stage == Stage::kStarted);
  const bool started = main && main->stage == Stage::kStarted;
  BusPlugin::CrashRecovery recovery;
  if (attached) {
    recovery = nub.bus->client_crashed(nub, main->service, where, started);
  } else if (main) {
    nub.bus->client_died(nub, main->service);
  }

  // The dext's statistics count an unexpected exit of a started service.
  const unsigned today = started ? record_crash(p->server_name) : 0;
  bool relaunch = false;
  unsigned rematch_count = 0;
  if (started) {
    // Terminated with kIOServiceTerminateWithRematchCurrentDext: IORematchCount 0, 1, 2, ...
    rematch_count = nub.rematch_count ? *nub.rematch_count + 1 : 0;
    nub.rematch_count = rematch_count;
    nub.rematch_personality = p->personality;
    relaunch = profile_.dext_relaunch_max != 0 && rematch_count <= profile_.dext_relaunch_max && !nub.terminated &&
               !shutting_down_;
  }
  std::string others;
  for (Nub* n : recovery.terminated) {
    for (const auto& q : processes_) {
      if (q->nub != n || q->crashed) continue;
      for (const auto& rec : q->services) {
        if (rec->stage == Stage::kStarted && registry_.find(rec->provider) == n) {
          others += (others.empty() ? "" : ", ") + rec->name;
        }
      }
    }
  }
  trace(where, "ClientCrashed (" + kind + ")" + (started ? ", crash " + std::to_string(today) + " today" : "") +
                   (relaunch ? ", rematching " + nub.location : ", not relaunched"));
  monitor::DextCrashed event;
  event.time = sim_.now();
  event.service = where;
  event.location = nub.location;
  event.server = p->server_name;
  event.kind = kind;
  event.report = report;
  event.explanation = explanation;
  event.started = started;
  event.crashes_today = today;
  event.daily_limit = profile_.daily_max_dext_crashes;
  event.provider_recovery = recovery.what;
  event.reset_type = recovery.reset_type;
  event.reset = recovery.reset;
  event.also_terminated = others;
  event.relaunching = relaunch;
  event.rematch_count = rematch_count;
  event.relaunch_limit = profile_.dext_relaunch_max;
  monitor_.emit(event);

  // The provider's recovery, then the terminations and the rematch, on the kernel's thread: one
  // recovery at a time, as IOPCIBridge runs them on its configuration work loop.
  crash_queue_->dispatch_async([this, p, perform = std::move(recovery.perform), nubs = recovery.terminated, relaunch] {
    if (perform) perform();
    after_client_crashed(p, nubs, relaunch);
  });
}

bool Kernel::kill_process(const std::string& location, const std::string& why) {
  for (auto& p : processes_) {
    if (p->crashed || !p->nub || p->nub->location != location || p->services.empty()) continue;
    if (p->services.front()->stage != ServiceRecord::Stage::kStarted) continue;
    trace(main_service_name(p.get()), "killed: " + why);
    crash(p.get(), "dext.signal", "EXC_CRASH (SIGKILL): the process was killed (" + why + ")",
          "The dext's process ended without a chance to clean up, as a crash does: the kernel reacts as it "
          "does to any crash of a started service (ClientCrashed, the provider's recovery, a relaunch).");
    return true;
  }
  return false;
}

void Kernel::after_client_crashed(DextProcess* p, std::vector<Nub*> others, bool relaunch) {
  // The drivers of the other functions the reset reached are terminated with rematch
  // (IOPCIBridge::childClientCrashRecoveryGated): each gets Stop, and its nub is matched again
  // once it has stopped.
  for (Nub* n : others) {
    for (auto& q : processes_) {
      if (q->nub != n || q->crashed) continue;
      for (auto& rec : q->services) {
        if (rec->stage != ServiceRecord::Stage::kStarted || registry_.find(rec->provider) != n) continue;
        ServiceRecord* r = rec.get();
        r->rematch_on_stop = true;
        trace(r->name, "terminated: its device was reset by the crash recovery of " + p->nub->location);
        r->kernel_queue->dispatch_async([this, r] { stop_service(r); });
      }
    }
  }
  if (!relaunch || shutting_down_ || p->nub->terminated || has_driver(*p->nub)) return;
  // launchUserServer logs the dext's crash count as it starts the new process.
  const auto it = crash_times_.find(p->server_name);
  trace(p->nub->location, "Driver " + p->server_name + " has crashed " +
                              std::to_string(it == crash_times_.end() ? 0 : it->second.size()) + " time(s)");
  match(*p->nub);
}

}  // namespace dexthil::driverkit
