// The kernel's core: construction, the trace, time, and messaging (which queue a
// message runs on, libDriverKit's queue assertion). Matching, lifecycle, power and crashes are
// in kernel_matching.cpp, kernel_lifecycle.cpp, kernel_power.cpp and kernel_crash.cpp.
#include "harness/driverkit/kernel/kernel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <DriverKit/DriverKit.h>

#include "harness/driverkit/buses/resources/resources_bus.hpp"
#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/kernel/kernel_internal.hpp"
#include "harness/driverkit/libkern/object_registry.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

namespace dexthil::driverkit {

namespace kernel_internal {
std::uint64_t next_process_id() {
  static std::uint64_t next = 1;
  return next++;
}
}  // namespace kernel_internal

using namespace kernel_internal;

namespace {
Kernel* g_active = nullptr;
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

Kernel* Kernel::active() { return g_active; }

Kernel& Kernel::current() {
  if (!g_active) throw std::logic_error("DriverKit call with no simulated kernel running");
  return *g_active;
}

Kernel::Kernel(sim::Simulator& sim, hostmem::SparseMemory& memory, hostmem::PageAllocator& buffers,
               monitor::Monitor& monitor, KernelProfile profile)
    : sim_(sim),
      memory_(memory),
      buffers_(buffers),
      monitor_(monitor),
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
  crash_queue_ = make_kernel_queue("kernel.ClientCrashed");
  // Every Mac has its resources nub before any dext loads.
  add_bus(std::make_unique<ResourcesBus>(*this));
}

Kernel::~Kernel() {
  // Unwind every suspended block while the objects it may touch still exist.
  runtime_.reset();
  // The kernel's own references: queues it holds for services that never stopped (a crashed
  // process's), and the nubs (the buses release theirs). The dext's objects stay as the dext
  // left them.
  for (auto& p : processes_) {
    for (auto& rec : p->services) {
      for (auto& [name, queue] : rec->queues) queue->release();
      rec->queues.clear();
    }
  }
  families_.clear();  // they may hold kernel objects prepared for DMA on the buses' nubs
  buses_.clear();
  ObjectRegistry::set_current_owner(0);
  g_active = previous_active_;
}

std::unique_ptr<DispatchQueue> Kernel::make_kernel_queue(const std::string& name) {
  return std::make_unique<DispatchQueue>(*runtime_, name);
}

void Kernel::trace(std::string_view source, std::string_view message) {
  sim_.trace().record(sim_.now(), source, message);
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

std::uint64_t Kernel::read_clock(Clock clock) const {
  const std::uint64_t ns = static_cast<std::uint64_t>(sim_.now() / sim::kNanosecond);
  switch (clock) {
    case Clock::kMachTicks:
      return mach_ticks();
    case Clock::kNanoseconds:
      return ns;
    case Clock::kRealTimeNanoseconds:
      return kSimulatedEpochSeconds * 1'000'000'000ull + ns;
  }
  return ns;
}

std::optional<Kernel::Clock> Kernel::timer_clock(std::uint64_t option) {
  switch (option) {
    case kIOTimerClockMachAbsoluteTime:
    case kIOTimerClockMachContinuousTime:
      return Clock::kMachTicks;
    case kIOTimerClockUptimeRaw:
    case kIOTimerClockMonotonicRaw:
      return Clock::kNanoseconds;
    case kIOTimerClockRealTime:
      return Clock::kRealTimeNanoseconds;
    default:
      return std::nullopt;
  }
}

sim::SimTime Kernel::clock_time(Clock clock, std::uint64_t value) {
  switch (clock) {
    case Clock::kMachTicks:
      return ticks_to_time(value);
    case Clock::kRealTimeNanoseconds: {
      constexpr std::uint64_t epoch_ns = kSimulatedEpochSeconds * 1'000'000'000ull;
      return clock_time(Clock::kNanoseconds, value < epoch_ns ? 0 : value - epoch_ns);
    }
    case Clock::kNanoseconds:
      break;
  }
  const unsigned __int128 t = static_cast<unsigned __int128>(value) * sim::kNanosecond;
  return t >= sim::kNever ? sim::kNever : static_cast<sim::SimTime>(t);
}

sim::SimTime Kernel::ticks_to_time(std::uint64_t ticks) {
  // Rounded up: at the time returned, mach_absolute_time() reads `ticks` already, so a deadline
  // in ticks never fires a tick early (rounding down, 2 of 3 deadlines would read one less).
  const unsigned __int128 t = (static_cast<unsigned __int128>(ticks) * 125'000 + 2) / 3;
  return t >= sim::kNever ? sim::kNever : static_cast<sim::SimTime>(t);
}

// ---- loading and matching ----

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

void Kernel::not_simulated(std::string_view api, std::string_view what, std::string_view outcome) {
  const DextProcess* p = current_process();
  // Once per process and call: a dext that retries is not a flood of findings.
  std::string key = std::to_string(p ? p->id : 0) + "\n" + std::string(api) + "\n" + std::string(what);
  if (!not_simulated_seen_.insert(std::move(key)).second) return;
  const ServiceRecord* main = p && !p->services.empty() ? p->services.front().get() : nullptr;
  monitor_.emit(monitor::NotSimulated{sim_.now(), main ? std::string_view(main->name) : std::string_view(),
                                      p && p->nub ? std::string_view(p->nub->location) : std::string_view(), api, what,
                                      outcome});
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
  if (std::strcmp(name, kIOServiceDefaultQueueName) != 0 && !service->_DeclaresQueue(name)) return kIOReturnBadArgument;
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
  // IOUserClient's own route for ExternalMethod is optional: without that queue, calls
  // serialize on Default (libDriverKit's behaviour), where a class's own QUEUENAME asserts.
  constexpr std::uint64_t kExternalMethod = IOUserClient__ExternalMethod_ID;
  if (!queue) {
    if (routed && sync && msgid != IOService_Start_ID && msgid != kExternalMethod) {
      crash(p, "dext.queue-assertion", kQueueAssertion,
            std::string("The kernel sent ") + name + " synchronously, and " + p->user_class + " routes " + name +
                " to queue \"" + routed + "\" (QUEUENAME), but the dext had not yet called SetDispatchQueue(\"" +
                routed + "\", ...): the message could only run off its queue, so libDriverKit asserted and the "
                "process crashed. Only Start is exempt. Under kernel profile '" + profile_.name +
                "' the message arrived " +
                (rec->stage == ServiceRecord::Stage::kCreated ? "during load, before Start ran"
                                                              : "after Start, and no SetDispatchQueue had named the queue") +
                "; create the queue and call SetDispatchQueue(\"" + routed + "\", queue) in init (or in Start, for a "
                "method the kernel sends only after Start), or route the method to Default.");
      return kIOReturnIPCError;
    }
    queue = rec->queues[kIOServiceDefaultQueueName];
  }
  if (!caller) throw std::logic_error(std::string("kernel message ") + name + " sent outside a kernel thread");
  sim_.trace().record_fields(sim_.now(), rec->name, {'M', msgid, sync}, [&] {
    return std::string("message ") + method + (sync ? " (sync) on " : " on ") + queue->host().name();
  });
  queue->host().dispatch_sync(body, method);
  return p->crashed ? kIOReturnIPCError : kIOReturnSuccess;
}

void Kernel::post(OSObject* target, std::uint64_t msgid, IODispatchQueue* fallback, std::function<void()> work) {
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
                             [&] { return "posts an action to " + queue->host().name(); });
  queue->host().dispatch_async(std::move(work));
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

OSDictionary* Kernel::registry_properties(IOService* service, const OSDictionary* user_properties) {
  OSDictionary* dict = OSDictionary::withCapacity(16);
  if (!dict) return nullptr;
  auto set = [dict](const char* key, OSObject* value) {
    if (!value) return;
    dict->setObject(key, value);
    value->release();
  };
  const ServiceRecord* rec = record_of(service);
  const Personality* personality = rec ? rec->process->personality : nullptr;
  const bool main_service = rec && !rec->process->services.empty() && rec->process->services.front().get() == rec;
  if (personality && main_service) {
    for (const auto& [key, value] : personality->properties) {
      if (const auto* text = std::get_if<std::string>(&value)) {
        set(key.c_str(), OSString::withCString(text->c_str()));
      } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
        set(key.c_str(), OSNumber::withNumber(static_cast<std::uint64_t>(*number), 64));
      } else {
        dict->setObject(key.c_str(), std::get<bool>(value) ? kOSBooleanTrue : kOSBooleanFalse);
      }
    }
  } else if (rec) {
    // A service IOService::Create made: its registry entry holds the dictionary it came from.
    if (!rec->io_class.empty()) set("IOClass", OSString::withCString(rec->io_class.c_str()));
    set("IOUserClass", OSString::withCString(rec->class_name.c_str()));
  }
  if (user_properties) {
    OSDictionary* copy = OSDictionary::withCapacity(user_properties->getCount());
    user_properties->iterateObjects([copy](const char* key, const OSMetaClassBase* value) {
      copy->setObject(key, value);
      return false;
    });
    set("IOUserServiceProperties", copy);
  }
  return dict;
}

IOService* Kernel::provider_of(const IOService* service) {
  const ServiceRecord* rec = record_of(const_cast<IOService*>(service));
  return rec ? rec->provider : nullptr;
}

OSDictionary* Kernel::entry_properties(IOService* entry, IOService** above) {
  *above = nullptr;
  if (const ServiceRecord* rec = record_of(entry)) {
    *above = rec->provider;
    return registry_properties(entry, nullptr);
  }
  OSDictionary* dict = OSDictionary::withCapacity(8);
  const Nub* nub = registry_.find(static_cast<const IOService*>(entry));
  if (!nub) return dict;
  for (const auto& [key, value] : nub->properties) {
    OSObject* object = nullptr;
    if (const auto* n = std::get_if<std::uint64_t>(&value)) object = OSNumber::withNumber(*n, 64);
    else if (const auto* text = std::get_if<std::string>(&value)) object = OSString::withCString(text->c_str());
    if (object) {
      dict->setObject(key.c_str(), object);
      object->release();
    } else {
      dict->setObject(key.c_str(), std::get<bool>(value) ? kOSBooleanTrue : kOSBooleanFalse);
    }
  }
  return dict;
}

OSArray* Kernel::provider_properties(IOService* service, const OSArray* keys) {
  const ServiceRecord* rec = record_of(service);
  if (!rec) return nullptr;
  auto wanted = [keys](const char* key) {
    if (!keys) return true;
    for (std::uint32_t i = 0; i < keys->getCount(); ++i) {
      const auto* k = OSDynamicCast(OSString, keys->getObject(i));
      if (k && k->isEqualTo(key)) return true;
    }
    return false;
  };
  OSArray* out = OSArray::withCapacity(2);
  // Up the chain: a service IOService::Create made sits on another service of the process; the
  // chain ends at the nub the bus published.
  for (IOService* provider = rec->provider; provider;) {
    OSDictionary* all = entry_properties(provider, &provider);
    OSDictionary* dict = OSDictionary::withCapacity(8);
    all->iterateObjects([&](const char* key, const OSMetaClassBase* value) {
      if (wanted(key)) dict->setObject(key, value);
      return false;
    });
    all->release();
    out->setObject(dict);
    dict->release();
  }
  return out;
}

OSObject* Kernel::search_property(IOService* service, const char* name, bool up_the_service_plane,
                                  const OSDictionary* user_properties) {
  OSObject* found = nullptr;
  auto look = [&found, name](OSDictionary* dict) {
    if (const OSMetaClassBase* value = dict->getObject(name)) {
      found = const_cast<OSObject*>(static_cast<const OSObject*>(value));
      found->retain();
    }
    dict->release();
    return found != nullptr;
  };
  if (look(registry_properties(service, user_properties)) || !up_the_service_plane) return found;
  IOService* provider = provider_of(service);
  while (provider) {
    if (look(entry_properties(provider, &provider))) break;
  }
  return found;
}

kern_return_t Kernel::join_power_tree_now(IOService* service) {
  ServiceRecord* rec = record_of(service);
  if (!rec) return kIOReturnNotReady;
  if (rec->in_power_tree) return kIOReturnSuccess;
  rec->kernel_queue->dispatch_async([this, rec] {
    if (!rec->in_power_tree) join_power_tree(rec);
  });
  return kIOReturnSuccess;
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
  for (ServiceFigures& f : out) {
    for (const auto& family : families_) family->add_figures(f.service, f.values);
  }
  return out;
}

std::vector<const DextProcess*> Kernel::processes() const {
  std::vector<const DextProcess*> out;
  for (auto& p : processes_) out.push_back(p.get());
  return out;
}

unsigned Kernel::crash_count(const std::string& server_name) const {
  const auto it = crash_times_.find(server_name);
  if (it == crash_times_.end()) return 0;
  // The last day's, as OSDextStatistics::getCrashCount answers after its last recordCrash.
  const sim::SimTime now = sim_.now(), day = 86400 * sim::kSecond;
  return static_cast<unsigned>(
      std::count_if(it->second.begin(), it->second.end(), [&](sim::SimTime t) { return now <= day || t >= now - day; }));
}

}  // namespace dexthil::driverkit

// The hook iig-generated and host wrappers call (declared in <DriverKit/IORPC.h>).
kern_return_t dexthil::iig::deliver(OSObject* target, std::uint64_t msgid, const char* method, bool sync,
                                    const std::function<void()>& body) {
  dexthil::driverkit::Kernel* kernel = dexthil::driverkit::Kernel::active();
  if (!kernel) {
    body();
    return kIOReturnSuccess;
  }
  return kernel->deliver(target, msgid, method, sync, body);
}
