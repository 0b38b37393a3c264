#include "harness/driverkit/kernel/kernel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/libkern/object_registry.hpp"
#include "harness/driverkit/pci/pci_provider.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

namespace dexthil::driverkit {

namespace {

Kernel* g_active = nullptr;

// Process ids tag the objects a process creates, and objects of a crashed process outlive its
// kernel (nothing frees them), so ids are unique across every kernel in this harness process.
std::uint64_t next_process_id() {
  static std::uint64_t next = 1;
  return next++;
}

// libDriverKit's check in OSMetaClassBase::Invoke, as it prints when it fails.
constexpr const char* kQueueAssertion =
    "uioserver.cpp:1654 Assertion failed: notsync || !remote || (msgid == IOService_Start_ID) || queue->OnQueue()";

const char* short_method(const char* method) {
  const char* colon = std::strrchr(method, ':');
  return colon ? colon + 1 : method;
}

std::string seconds(sim::SimTime t) {
  std::ostringstream out;
  out << static_cast<double>(t) / static_cast<double>(sim::kSecond) << " s";
  return out.str();
}

const char* power_name(PowerState s) {
  switch (s) {
    case PowerState::kOff: return "Off";
    case PowerState::kLow: return "Low";
    case PowerState::kOn: return "On";
  }
  return "?";
}

}  // namespace

std::optional<KernelProfile> KernelProfile::named(const std::string& name) {
  KernelProfile p;
  p.name = name;
  if (name == "documented") return p;
  if (name == "field") {
    p.order = Order::kPowerBeforeStart;
    return p;
  }
  return std::nullopt;
}

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

Kernel* Kernel::active() { return g_active; }

Kernel& Kernel::current() {
  if (!g_active) throw std::logic_error("DriverKit call with no simulated kernel running");
  return *g_active;
}

Kernel::Kernel(sim::Simulator& sim, pcie::Fabric& fabric, hostmem::SparseMemory& memory,
               hostmem::PageAllocator& buffers, checks::FindingLog& findings, KernelProfile profile)
    : sim_(sim),
      fabric_(fabric),
      memory_(memory),
      buffers_(buffers),
      findings_(findings),
      profile_(std::move(profile)),
      runtime_(std::make_unique<FiberRuntime>(sim)),
      uninitialised_(sim.random_stream("kernel.uninitialised-memory")),
      previous_active_(g_active) {
  g_active = this;
  runtime_->set_switch_hook([this](DispatchQueue* q) {
    ObjectRegistry::set_current_owner(q ? q->owner() : 0);
    if (q) {
      sim_.trace().record_fields(sim_.now(), q->name(), {'Q', q->owner()}, [q] {
        return q->owner() ? "runs (process " + std::to_string(q->owner()) + ")" : std::string("runs (kernel)");
      });
    }
  });
  runtime_->set_error_hook([this](DispatchQueue* q, std::exception_ptr error) {
    auto it = queue_owner_.find(q);
    if (it == queue_owner_.end()) return false;  // the kernel's own code: a harness bug, let it surface
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    crash(it->second, "dext.exception", "uncaught C++ exception on queue \"" + q->name() + "\": " + what,
          "A dext process dies on an uncaught exception, as it would on macOS.");
    return true;
  });
  runtime_->set_fault_hook([this](DispatchQueue* q, const char* label, const FaultRecord& fault) {
    auto it = queue_owner_.find(q);
    if (it == queue_owner_.end()) return;
    const CrashDescription d = describe_fault(fault, q->name(), label);
    crash(it->second, d.check, d.what, d.why);
  });
  fabric_.set_msi_handler([this](const pcie::Node& from, std::uint64_t, std::uint32_t) {
    for (auto& p : providers_) {
      if (&p->node() == &from) p->msi_received();
    }
  });
}

Kernel::~Kernel() {
  // Unwind every suspended block while the objects it may touch still exist.
  runtime_.reset();
  // The kernel's own references: queues it holds for services that never stopped (a crashed
  // process's), and the nubs. The dext's objects stay as the dext left them.
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      for (auto& [name, queue] : rec->queues) queue->release();
      rec->queues.clear();
    }
  }
  for (auto& provider : providers_) {
    provider->nub()->set_provider_impl(nullptr);
    provider->nub()->release();
  }
  fabric_.set_msi_handler({});
  ObjectRegistry::set_current_owner(0);
  g_active = previous_active_;
}

std::unique_ptr<DispatchQueue> Kernel::make_kernel_queue(const std::string& name) {
  return std::make_unique<DispatchQueue>(*runtime_, name);
}

void Kernel::trace(std::string_view source, std::string_view message) {
  sim_.trace().record(sim_.now(), source, message);
}

void Kernel::report(checks::Finding finding) {
  if (finding.time == 0) finding.time = sim_.now();
  trace("kernel", "finding " + finding.check + " on " + finding.where);
  findings_.add(std::move(finding));
}

void Kernel::report_on(const ServiceRecord* rec, std::string check, std::string what, std::string why) {
  report({std::move(check), rec->name, 0, std::move(what), std::move(why), rec->process->node->name});
}

void Kernel::fill_from_seed(unsigned char* bytes, std::size_t length) {
  for (std::size_t i = 0; i < length; i += 8) {
    const std::uint64_t v = uninitialised_.next_u64();
    std::memcpy(bytes + i, &v, std::min<std::size_t>(8, length - i));
  }
}

std::uint64_t Kernel::mach_ticks() const {
  // Apple silicon's timebase: 24 MHz, mach_timebase_info 125/3 (41.67 ns per tick).
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(sim_.now()) * 3 / 125'000);
}

sim::SimTime Kernel::ticks_to_time(std::uint64_t ticks) {
  const unsigned __int128 t = static_cast<unsigned __int128>(ticks) * 125'000 / 3;
  return t >= sim::kNever ? sim::kNever : static_cast<sim::SimTime>(t);
}

// ---- loading and matching ----

bool Kernel::load_dext(const std::string& library, const std::string& info_plist, std::string* error) {
  auto info = load_info_plist(info_plist, error);
  if (!info) return false;
  auto classes = load_dext_library(library, error);
  if (!classes) return false;
  for (const Personality& p : info->personalities) {
    if (p.user_class.empty()) continue;
    if (std::none_of(classes->begin(), classes->end(), [&](const DextClass& c) { return c.name == p.user_class; })) {
      std::string list;
      for (const auto& c : *classes) list += (list.empty() ? "" : ", ") + c.name;
      *error = info_plist + ": error: IOKitPersonalities." + p.name + ".IOUserClass: class '" + p.user_class +
               "' is not in " + library + " (it has: " + (list.empty() ? "no iig classes" : list) + ")";
      return false;
    }
  }
  dexts_.push_back(std::make_unique<LoadedDext>(LoadedDext{library, std::move(*info), std::move(*classes)}));
  return true;
}

void Kernel::start_matching() {
  std::set<const LoadedDext*> matched;
  for (pcie::Node* node : fabric_.topology().endpoints()) {
    const LoadedDext* best_dext = nullptr;
    const Personality* best = nullptr;
    for (const auto& d : dexts_) {
      const Personality* p = best_pci_match(d->info, node->ids.vendor, node->ids.device, node->class_code);
      if (p && p->provider_class == "IOPCIDevice" && (!best || p->probe_score > best->probe_score)) {
        best = p;
        best_dext = d.get();
      }
    }
    if (!best) continue;
    matched.insert(best_dext);
    IOPCIDevice* nub = pci_nub(node->name);
    auto process = std::make_unique<DextProcess>();
    process->id = next_process_id();
    process->server_name = best->user_server_name.empty() ? best_dext->info.bundle_id : best->user_server_name;
    process->user_class = best->user_class;
    for (const DextClass& c : best_dext->classes) {
      if (c.name == best->user_class) process->dext_class = &c;
    }
    process->dext = best_dext;
    process->personality = best;
    process->node = node;
    process->nub = nub;
    processes_.push_back(std::move(process));
    start_process(processes_.back().get());
  }
  for (const auto& d : dexts_) {
    if (!matched.count(d.get())) report_no_match(*d);
  }
}

// A dext none of whose personalities matched a nub: the kernel never starts it, which on a Mac
// looks like nothing at all. Name the personality and function that came closest, and why not.
void Kernel::report_no_match(const LoadedDext& dext) {
  const Personality* closest = nullptr;
  const pcie::Node* closest_node = nullptr;
  std::vector<std::string> closest_why;
  for (const Personality& p : dext.info.personalities) {
    for (const pcie::Node* node : fabric_.topology().endpoints()) {
      std::vector<std::string> why = pci_mismatches(p, node->ids.vendor, node->ids.device, node->class_code);
      if (why.empty()) continue;  // it matched, and lost on IOProbeScore to another dext
      if (!closest || why.size() < closest_why.size()) {
        closest = &p;
        closest_node = node;
        closest_why = std::move(why);
      }
    }
  }
  const std::string name = dext.info.bundle_id.empty() ? dext.library : dext.info.bundle_id;
  std::string why;
  for (const std::string& w : closest_why) why += (why.empty() ? "" : "; ") + w;
  if (closest) {
    char ids[16];
    std::snprintf(ids, sizeof ids, "%04x:%04x", closest_node->ids.vendor, closest_node->ids.device);
    why = "Closest: personality \"" + closest->name + "\" against " + closest_node->name + " (" + ids + ", " +
          closest_node->bdf.str() + "): " + why + ".";
  } else {
    why = dext.info.personalities.empty() ? "The Info.plist has no IOKitPersonalities." : "The topology has no PCI function.";
  }
  report({"dext.no-match", name, 0, name + " matched nothing: the kernel started none of its personalities",
          why + " The kernel starts a dext only for a nub one of its personalities matches; `dexthil topo` lists the "
                "functions' IDs.",
          closest_node ? closest_node->name : std::string()});
}

IOPCIDevice* Kernel::pci_nub(const std::string& endpoint) {
  pcie::Node* node = fabric_.node(endpoint);
  if (!node || node->is_bridge()) return nullptr;
  for (auto& p : providers_) {
    if (&p->node() == node) return p->nub();
  }
  IOPCIDevice* nub = OSTypeAlloc(IOPCIDevice);
  nub->init();
  providers_.push_back(std::make_unique<PciProvider>(*this, *node, nub));
  nub->set_provider_impl(providers_.back().get());
  return nub;
}

void Kernel::start_process(DextProcess* p) {
  auto record = std::make_unique<ServiceRecord>();
  record->process = p;
  record->provider = p->nub;
  record->class_name = p->user_class;
  record->name = p->user_class + "@" + p->node->name;
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
  if (state != PowerState::kOff) rec->device_off = false;  // powered before the driver hears of it
  rec->ack_pending = flags;
  rec->ack_waiter = std::make_unique<FiberRuntime::Blocker>(*runtime_);
  FiberRuntime::Blocker* waiter = rec->ack_waiter.get();
  const sim::SimTime sent = sim_.now();
  const sim::EventId timeout = sim_.after(profile_.power_ack_limit, [this, rec, waiter, state, sent] {
    if (rec->ack_waiter.get() != waiter || !rec->ack_pending) return;
    rec->ack_pending.reset();
    report_on(rec, "power.ack-timeout",
              "SetPowerState(" + std::string(power_name(state)) + ") sent at " + seconds(sent) +
              " was not acknowledged within " + seconds(profile_.power_ack_limit),
              "The kernel waits up to 20 s for a dext to acknowledge a power change by calling SetPowerState(flags, "
              "SUPERDISPATCH) (or returning an error), then gives up on it and the system's power change stalls "
              "meanwhile. Call the superclass when the device has reached the state.");
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
  if (state == PowerState::kOff) rec->device_off = true;
}

void Kernel::super_start(IOService* service) {
  if (ServiceRecord* rec = record_of(service)) rec->super_start_called = true;
}

void Kernel::super_stop(IOService* service) {
  if (ServiceRecord* rec = record_of(service)) rec->super_stop_called = true;
}

void Kernel::acknowledge_power(IOService* service, std::uint32_t flags) {
  ServiceRecord* rec = record_of(service);
  if (!rec || !rec->ack_pending) return;
  (void)flags;
  rec->ack_pending.reset();
  if (rec->ack_waiter) rec->ack_waiter->signal();
}

kern_return_t Kernel::change_power_state(IOService* service, std::uint32_t flags) {
  ServiceRecord* rec = record_of(service);
  if (!rec || !rec->in_power_tree) return kIOReturnNotReady;
  const PowerState state = power_state_for(flags);
  if (rec->power_override && state != PowerState::kOn) {
    rec->deferred_power_request = flags;  // the override keeps the device on until it is dropped
    return kIOReturnSuccess;
  }
  rec->kernel_queue->dispatch_async([this, rec, state] { send_power_state(rec, state); });
  return kIOReturnSuccess;
}

kern_return_t Kernel::set_power_override(IOService* service, bool enable) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  rec->power_override = enable;
  if (!enable && rec->deferred_power_request) {
    const std::uint32_t flags = *rec->deferred_power_request;
    rec->deferred_power_request.reset();
    return change_power_state(service, flags);
  }
  return kIOReturnSuccess;
}

kern_return_t Kernel::require_max_bus_stall(IOService* service, std::uint64_t ns) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  rec->max_bus_stall_ns = ns;
  fabric_.set_max_bus_stall(*rec->process->node, ns * sim::kNanosecond);
  return kIOReturnSuccess;
}

kern_return_t Kernel::create_pm_assertion(IOService* service, std::uint32_t bits, std::uint64_t* id) {
  ServiceRecord* rec = record_of(service);
  if (!rec || !id) return kIOReturnBadArgument;
  if (bits & ~(kIOServicePMAssertionCPUBit | kIOServicePMAssertionForceFullWakeupBit)) return kIOReturnBadArgument;
  *id = next_assertion_id_++;
  rec->pm_assertions.insert(*id);
  return kIOReturnSuccess;
}

void Kernel::system_sleep() {
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
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      if (p->crashed || !rec->in_power_tree || rec->stage != ServiceRecord::Stage::kStarted) continue;
      ServiceRecord* r = rec.get();
      rec->kernel_queue->dispatch_async([this, r] { send_power_state(r, r->saved_for_wake); });
    }
  }
}

// ---- Stop, free, termination ----

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

void Kernel::stop_service(ServiceRecord* rec) {
  DextProcess* p = rec->process;
  if (p->crashed || rec->stage != ServiceRecord::Stage::kStarted) return;
  rec->stage = ServiceRecord::Stage::kStopping;
  rec->in_power_tree = false;  // leaving the tree: no more power changes
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
  // Leaks are counted once the process's last service (the driver and its user clients) is gone;
  // another may still be between its Stop and its release on another kernel thread.
  const bool all_gone = std::all_of(p->services.begin(), p->services.end(), [](const auto& r) {
    return r->released || r->stage == ServiceRecord::Stage::kStartFailed;
  });
  if (all_gone) report_leaks(p);
}

void Kernel::check_io_after_stop(ServiceRecord* rec) {
  const std::string& node = rec->process->node->name;
  auto found = [&](const std::string& what, const std::string& why) {
    report_on(rec, "lifecycle.io-after-stop", what, why);
  };
  for (auto& provider : providers_) {
    if (provider->nub() != rec->provider) continue;
    for (IOInterruptDispatchSource* source : provider->sources) {
      if (source->enabled()) {
        found("an IOInterruptDispatchSource on " + node + " is still enabled after Stop returned",
              "Interrupts can still reach a handler of a service being torn down. Disable or cancel interrupt sources "
              "in Stop, before calling Stop(provider, SUPERDISPATCH).");
      }
    }
    for (IODMACommand* command : provider->prepared_commands) {
      (void)command;
      found("an IODMACommand for " + node + " is still prepared after Stop returned",
            "The device may still DMA into memory the driver is about to free. Stop the device's DMA and call "
            "CompleteDMA in Stop.");
    }
    if (provider->open_client == rec->service) {
      found(node + " is still open by " + rec->name + " after Stop returned",
            "Close the provider in Stop, or the next client cannot open it.");
      provider->open_client = nullptr;
    }
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
    report({"dext.leak", p->user_class + "@" + p->node->name, 0,
            o.class_name + " created at " + o.file + ":" + std::to_string(o.line) + " is still alive (retain count " +
                std::to_string(o.retain_count) + ") after the service was freed",
            "Every object the dext creates must be released by the time its service is freed; an OSAction that is "
            "never released also keeps its target (usually the service) alive.",
            p->node->name});
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

ServiceRecord* Kernel::record_of(OSObject* object) const {
  IOService* service = OSDynamicCast(IOService, object);
  return service ? service->record() : nullptr;
}

DextProcess* Kernel::current_process() {
  DispatchQueue* q = runtime_->current_queue();
  if (!q) return nullptr;
  auto it = queue_owner_.find(q);
  return it == queue_owner_.end() ? nullptr : it->second;
}

void Kernel::queue_created(IODispatchQueue* queue) {
  DextProcess* p = current_process();
  if (!p) return;
  queue->host().set_owner(p->id);
  queue_owner_[&queue->host()] = p;
  p->queues.push_back(queue);
}

void Kernel::queue_freed(IODispatchQueue* queue) {
  auto it = queue_owner_.find(&queue->host());
  if (it == queue_owner_.end()) return;
  std::erase(it->second->queues, queue);
  queue_owner_.erase(it);
}

kern_return_t Kernel::set_dispatch_queue(IOService* service, const char* name, IODispatchQueue* queue) {
  ServiceRecord* rec = record_of(service);
  if (!name || !queue) return kIOReturnBadArgument;
  if (std::strcmp(name, "Default") != 0 && !service->_DeclaresQueue(name)) return kIOReturnBadArgument;
  if (!rec) return kIOReturnNotReady;
  queue->retain();
  IODispatchQueue*& slot = rec->queues[name];
  if (slot) slot->release();
  slot = queue;
  return kIOReturnSuccess;
}

kern_return_t Kernel::deliver(OSObject* target, std::uint64_t msgid, const char* method, bool sync,
                              const std::function<void()>& body) {
  DispatchQueue* caller = runtime_->current_queue();
  ServiceRecord* rec = record_of(target);
  const bool remote = caller == nullptr || queue_owner_.find(caller) == queue_owner_.end();
  if (!remote || !rec) {
    body();  // the dext calling its own method: a plain call in its process
    return kIOReturnSuccess;
  }
  DextProcess* p = rec->process;
  if (p->crashed) return kIOReturnIPCError;
  const char* name = short_method(method);
  const char* routed = target->_RoutedQueue(msgid);
  IODispatchQueue* queue = nullptr;
  if (routed) {
    auto it = rec->queues.find(routed);
    if (it != rec->queues.end()) queue = it->second;
  }
  if (!queue) {
    if (routed && sync && msgid != IOService_Start_ID) {
      crash(p, "dext.queue-assertion", kQueueAssertion,
            std::string("The kernel sent ") + name + " synchronously, and " + p->user_class + " routes " + name +
                " to queue \"" + routed + "\" (QUEUENAME), but the dext had not yet called SetDispatchQueue(\"" +
                routed + "\", ...): the message could only run off its queue, so libDriverKit asserted and the "
                "process crashed. Only Start is exempt. Under kernel profile '" + profile_.name +
                "' the message arrived " +
                (rec->stage == ServiceRecord::Stage::kCreated ? "during load, before Start ran" : "before the queue existed") +
                "; create the queue in init, or route the method to Default.");
      return kIOReturnIPCError;
    }
    queue = rec->queues["Default"];
  }
  if (!caller) throw std::logic_error(std::string("kernel message ") + name + " sent outside a kernel thread");
  sim_.trace().record_fields(sim_.now(), rec->name, {'M', msgid, sync}, [&] {
    return std::string("message ") + method + (sync ? " (sync) on " : " on ") + queue->host().name();
  });
  queue->host().dispatch_sync(body, method);
  return p->crashed ? kIOReturnIPCError : kIOReturnSuccess;
}

void Kernel::post(OSObject* target, std::uint64_t msgid, IODispatchQueue* fallback, std::function<void()> work,
                  const char* label) {
  ServiceRecord* rec = record_of(target);
  IODispatchQueue* queue = fallback;
  if (rec) {
    if (rec->process->crashed) return;
    if (const char* routed = target->_RoutedQueue(msgid)) {
      auto it = rec->queues.find(routed);
      if (it != rec->queues.end()) queue = it->second;
    }
  }
  if (!queue || queue->host().abandoned()) return;
  sim_.trace().record_fields(sim_.now(), rec ? std::string_view(rec->name) : std::string_view("kernel"), {'P', msgid},
                             [&] { return "posts " + std::string(label ? label : "an action") + " to " + queue->host().name(); });
  queue->host().dispatch_async(std::move(work), label);
}

void Kernel::crash(DextProcess* p, const std::string& check, const std::string& what, const std::string& why) {
  if (p->crashed) return;
  p->crashed = true;
  for (IODispatchQueue* q : p->queues) q->host().abandon();
  for (auto& rec : p->services) {
    if (rec->ack_waiter) rec->ack_waiter->signal();  // the kernel stops waiting on a dead process
    rec->ack_pending.reset();
  }
  for (auto& provider : providers_) {
    if (provider->nub() == p->nub) provider->open_client = nullptr;  // the kernel closes for a dead client
  }
  const std::string where = p->user_class + "@" + p->node->name;
  report({check, where, 0, what, why, p->node->name});
  const std::string key = p->server_name + "@" + p->node->name;
  const unsigned count = ++crashes_[key];
  const bool restart = count <= profile_.crash_loop_limit;
  report({"dext.crashed", where, 0,
          "IOUserServer(" + p->server_name + "): ClientCrashed (crash " + std::to_string(count) + " on " +
              p->node->name + ")",
          restart ? "The kernel saw the dext process die and starts it again for " + p->node->name + " (restart " +
                        std::to_string(count) + " of " + std::to_string(profile_.crash_loop_limit) + ")."
                  : std::string("The kernel saw the dext process die."),
          p->node->name});
  if (!restart) {
    report({"dext.crash-loop", where, 0,
            p->server_name + " crashed " + std::to_string(count) + " times on " + p->node->name + "; not restarted",
            "The dext crashes the same way on every start, so the device never gets a working driver. Fix the first "
            "crash reported for it.",
            p->node->name});
    return;
  }
  sim_.after(profile_.restart_delay, [this, p] {
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
    next->node = p->node;
    next->nub = p->nub;
    processes_.push_back(std::move(next));
    start_process(processes_.back().get());
  });
}

void Kernel::device_access(IOPCIDevice* provider, const char* accessor) {
  for (auto& p : processes_) {
    if (p->nub != provider || p->crashed) continue;
    for (auto& rec : p->services) {
      if (!rec->device_off) continue;
      report_on(rec.get(), "power.access-while-off",
                std::string(accessor) + " on " + p->node->name + " while the device is powered off",
                "The dext acknowledged SetPowerState(Off) and the kernel then turned the device off; register access now "
                "reads all-ones or hangs the bus on a real Mac. Stop timers, interrupts and I/O before acknowledging Off, "
                "and touch the device again only after SetPowerState(On).");
      rec->device_off = false;  // one finding per off period
    }
  }
}

std::vector<const ServiceRecord*> Kernel::services() const {
  std::vector<const ServiceRecord*> out;
  for (auto& p : processes_) {
    for (auto& r : p->services) out.push_back(r.get());
  }
  return out;
}

void Kernel::properties_published(IOService* service, const OSDictionary* properties) {
  ServiceRecord* rec = record_of(service);
  if (!rec || !properties) return;
  rec->published.clear();
  properties->iterateObjects([rec](const char* key, const OSMetaClassBase* value) {
    if (const auto* n = OSDynamicCast(OSNumber, value)) {
      rec->published.emplace_back(key, std::to_string(n->unsigned64BitValue()));
    } else if (const auto* b = OSDynamicCast(OSBoolean, value)) {
      rec->published.emplace_back(key, b->isTrue() ? "true" : "false");
    } else if (const auto* str = OSDynamicCast(OSString, value)) {
      rec->published.emplace_back(key, str->getCStringNoCopy());
    }
    return false;
  });
}

std::vector<ServiceFigures> Kernel::service_figures() const {
  std::vector<ServiceFigures> out;
  std::map<std::string, std::size_t> index;
  std::map<std::string, unsigned> processes;
  for (const auto& p : processes_) {
    for (const auto& rec : p->services) {
      ++processes[rec->name];
      if (index.emplace(rec->name, out.size()).second) out.push_back({rec->name, {}});
    }
  }
  const char* stages[] = {"created", "starting", "started", "start-failed", "stopping", "stopped"};
  for (const auto& p : processes_) {
    for (const auto& rec : p->services) {
      ServiceFigures& f = out[index[rec->name]];  // the last process's record wins
      f.values = {{"stage", stages[static_cast<int>(rec->stage)]},
                  {"power", power_name(rec->power)},
                  {"processes", std::to_string(processes[rec->name])},
                  {"crashed", p->crashed ? "true" : "false"}};
      f.values.insert(f.values.end(), rec->published.begin(), rec->published.end());
    }
  }
  return out;
}

std::vector<const DextProcess*> Kernel::processes() const {
  std::vector<const DextProcess*> out;
  for (auto& p : processes_) out.push_back(p.get());
  return out;
}

unsigned Kernel::crash_count(const std::string& server_name) const {
  unsigned n = 0;
  for (const auto& [key, count] : crashes_) {
    if (key.rfind(server_name + "@", 0) == 0) n += count;
  }
  return n;
}

// The hook iig-generated and host wrappers call (declared in <DriverKit/IORPC.h>).
}  // namespace dexthil::driverkit

kern_return_t dexthil::iig::deliver(OSObject* target, std::uint64_t msgid, const char* method, bool sync,
                                    const std::function<void()>& body) {
  dexthil::driverkit::Kernel* kernel = dexthil::driverkit::Kernel::active();
  if (!kernel) {
    body();
    return kIOReturnSuccess;
  }
  return kernel->deliver(target, msgid, method, sync, body);
}
