// The kernel: a dext process dies (ClientCrashed) and the kernel restarts it, up to its limit.
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

void Kernel::crash(DextProcess* p, const std::string& kind, const std::string& report, const std::string& explanation) {
  if (p->crashed) return;
  p->crashed = true;
  for (IODispatchQueue* q : p->queues) q->host().abandon();
  for (auto& rec : p->services) {
    if (rec->ack_waiter) rec->ack_waiter->signal();  // the kernel stops waiting on a dead process
    rec->ack_pending.reset();
    monitor_.emit(monitor::ServiceEnded{sim_.now(), rec->name, p->nub->location});
  }
  p->nub->bus->client_died(*p->nub);  // the kernel closes what a dead client had open
  const std::string where = main_service_name(p);
  const std::string key = p->server_name + "@" + p->nub->location;
  const unsigned count = ++crashes_[key];
  const bool restart = count <= profile_.crash_loop_limit;
  trace(where, "ClientCrashed (" + kind + ")" + (restart ? ", restarting" : ", not restarted"));
  monitor_.emit(monitor::DextCrashed{sim_.now(), where, p->nub->location, p->server_name, kind, report, explanation,
                                     count, profile_.crash_loop_limit, restart});
  if (!restart) return;
  sim_.after(profile_.restart_delay, [this, p] {
    if (p->nub->terminated) return;  // the device went away meanwhile: nothing to restart for
    // A new process maps the dext afresh: its globals start as the library defines them.
    std::string error;
    auto classes = load_fresh_dext_copy(p->dext->library, &error);
    if (!classes) throw std::runtime_error("restarting " + p->server_name + ": " + error);
    auto image = std::make_unique<LoadedDext>(LoadedDext{p->dext->library, p->dext->info, std::move(*classes)});
    auto next = std::make_unique<DextProcess>();
    next->id = next_process_id();
    next->server_name = p->server_name;
    next->user_class = p->user_class;
    for (const DextClass& c : image->classes) {
      if (c.name == p->user_class) next->dext_class = &c;
    }
    next->dext = image.get();
    restarted_images_.push_back(std::move(image));
    next->personality = p->personality;
    next->nub = p->nub;
    next->family = p->family;
    processes_.push_back(std::move(next));
    start_process(processes_.back().get());
  });
}

}  // namespace dexthil::driverkit
