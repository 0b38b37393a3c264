#pragma once
// The macOS kernel as a dext meets it, on the simulated machine: it loads a dext (the shared
// object dexthil_add_dext builds, plus its Info.plist), matches its personalities against the
// nubs its bus plug-ins publish (PCI functions, USB devices and interfaces), runs each matched
// service's life (init, Start, the power tree, Stop,
// free), sends it messages on the queues they are routed to, and tells the run's monitor what
// happened (a service started or stopped, a process crashed, a power change went unanswered):
// the checkers in harness/checks/ turn what a real kernel or libDriverKit would have complained
// about into findings instead of a panic.
//
// Each matched service runs in its own dext process, as on macOS. A crash ends the process: its
// queues are abandoned, the provider gets ClientCrashed (an IOPCIDevice the client had open resets
// its function), the kernel counts the crash against the dext's daily limit, terminates the
// service and rematches the provider, which starts a new process at once (kernel_crash.cpp).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "harness/driverkit/kernel/bus_plugin.hpp"
#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/family_plugin.hpp"
#include "harness/driverkit/kernel/nub_registry.hpp"
#include "harness/driverkit/kernel/user_client.hpp"
#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/driverkit/runtime/dispatch.hpp"
#include "harness/hostmem/page_allocator.hpp"
#include "harness/hostmem/sparse_memory.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/service_events.hpp"
#include "harness/platform/max_bus_delay.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/util/insertion_ordered_set.hpp"

class OSObject;
class IOService;
class IODispatchQueue;
class IOTimerDispatchSource;
class IOServiceNotificationDispatchSource;
class OSDictionary;
class OSArray;

namespace dexthil::driverkit {

class UserClientConnection;
struct DextProcess;
struct LoadedDext;

// When the kernel delivers what. Documented: Start, then (after Start succeeded) the service
// joins the power tree and the first SetPowerState(On) follows. Field: the power-management work
// loop reaches the dext during load, so SetPowerState(On) arrives before Start runs.
struct KernelProfile {
  enum class Order { kDocumented, kPowerBeforeStart };
  std::string name = "documented";
  Order order = Order::kDocumented;
  sim::SimTime first_power_delay = 100 * sim::kMicrosecond;  // from joining the tree to SetPowerState(On)
  sim::SimTime power_ack_limit = 20 * sim::kSecond;          // the kernel waits this long for the acknowledgement
  // A crashing dext, as xnu limits it (boot-args of those names). OSDextStatistics::recordCrash
  // counts a dext's crashes in the last 24 hours; beyond this many its policy is "reboot", which
  // panics the Mac only for Apple's own (platform) dexts (OSKext.h kMaxDextCrashesInOneDayDefault).
  unsigned daily_max_dext_crashes = 3;
  // IOService::doServiceMatch relaunches the same dext on a provider while its IORematchCount is
  // at most this; beyond it, only other personalities may match (IOService.cpp gIODextRelaunchMax:
  // 1000, 10 in the restore environment).
  unsigned dext_relaunch_max = 1000;
  // A dext's call into the kernel and back (a Mach message each way), as config accesses make
  // one. No public figure exists; Mach message round trips on Apple silicon are a few
  // microseconds, so this is an assumption to tune against a real Mac.
  sim::SimTime kernel_call = 2 * sim::kMicrosecond;

  // "documented" or "field"; nullopt for any other name.
  static std::optional<KernelProfile> named(const std::string& name);
};

// Power states of the kernel's power tree for a dext service.
enum class PowerState : std::uint32_t { kOff = 0, kLow = 1, kOn = 2 };
PowerState power_state_for(std::uint32_t capability_flags);
std::uint32_t capability_flags_for(PowerState state);

// The kernel's record of one service instance.
struct ServiceRecord {
  DextProcess* process = nullptr;
  IOService* service = nullptr;
  IOService* provider = nullptr;
  std::string class_name;  // the dext class (IOUserClass)
  std::string io_class;    // a service IOService::Create made: its dictionary's IOClass
  std::string name;        // "Class@location" (the nub's), for findings
  std::map<std::string, IODispatchQueue*> queues;  // "Default" and the names given to SetDispatchQueue
  enum class Stage { kCreated, kStarting, kStarted, kStartFailed, kStopping, kStopped } stage = Stage::kCreated;
  bool released = false;  // stopped, and the kernel's references dropped
  bool registered = false;  // RegisterService called: notification sources can match it
  bool super_start_called = false;
  bool super_stop_called = false;
  // Stop returned this, and the kernel waits for Stop(provider, SUPERDISPATCH), which a dext may
  // call later (from the cancel handler of the last source it cancelled), as xnu allows.
  std::optional<kern_return_t> stop_result;
  bool in_power_tree = false;
  PowerState power = PowerState::kOn;  // the device's state as the kernel has set it
  std::optional<std::uint32_t> ack_pending;  // flags of a SetPowerState not yet acknowledged
  std::unique_ptr<FiberRuntime::Blocker> ack_waiter;
  PowerState saved_for_wake = PowerState::kOn;
  // SetPowerOverride: the service's own ChangePowerState decides its state, whatever its children
  // and power clients want (IOServicePM's powerOverrideOnPriv). A dext's service has neither
  // here, so this only records it.
  bool power_override = false;
  std::uint64_t max_bus_stall_ns = 0;  // its RequireMaxBusStall, in the platform's MaxBusDelay until it ends
  std::set<std::uint64_t> pm_assertions;
  std::unique_ptr<DispatchQueue> kernel_queue;  // the kernel's own thread for this service's life and power changes
  // What the service last published with SetProperties (numbers, booleans, strings), as text:
  // kept by the kernel, as ioreg shows it, after the object itself is gone.
  std::vector<std::pair<std::string, std::string>> published;
  // Terminated with kIOServiceTerminateWithRematch (its provider's crash recovery reset its
  // device): once it has stopped, the kernel matches its nub again.
  bool rematch_on_stop = false;
};

// Figures about one service for reports and [[expect]] stat entries.
struct ServiceFigures {
  std::string service;  // "Class@endpoint"
  std::vector<std::pair<std::string, std::string>> values;
};

// One dext process: one matched service on one provider nub. It knows nothing of the bus: the
// nub's bus plug-in answers for everything bus-specific.
struct DextProcess {
  std::uint64_t id = 0;
  std::string server_name;  // IOUserServerName
  std::string user_class;   // IOUserClass
  const DextClass* dext_class = nullptr;
  const LoadedDext* dext = nullptr;
  const Personality* personality = nullptr;  // the one that matched
  Nub* nub = nullptr;                         // the provider it matched
  FamilyPlugin* family = nullptr;             // the kernel half its IOClass names, if a family's
  bool crashed = false;
  std::vector<std::unique_ptr<ServiceRecord>> services;
  std::vector<IODispatchQueue*> queues;  // every queue the process created
};

struct LoadedDext {
  std::string library;  // the shared object
  DextInfo info;        // its Info.plist
  std::vector<DextClass> classes;  // the classes it registered
};

class Kernel {
 public:
  // What the kernel and its buses observe goes to `monitor` as events (monitor/device_events.hpp,
  // monitor/service_events.hpp); the checkers subscribed there judge it.
  Kernel(sim::Simulator& sim, hostmem::SparseMemory& memory, hostmem::PageAllocator& buffers,
         monitor::Monitor& monitor, KernelProfile profile = {});
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // The kernel the running dext code belongs to. Host DriverKit classes use it; there is one
  // per run, and only while it exists.
  static Kernel* active();
  static Kernel& current();  // throws std::logic_error when no kernel exists

  // Loads a dext's shared object and Info.plist. False with *error naming the file and problem.
  bool load_dext(const std::string& library, const std::string& info_plist, std::string* error);
  // A bus: it publishes its nubs now (and may publish more later, as devices arrive).
  void add_bus(std::unique_ptr<BusPlugin> bus);
  // A family's kernel half, for services whose IOClass is one of its kernel classes.
  void add_family(std::unique_ptr<FamilyPlugin> family);
  // For bus plug-ins: a nub joins the registry. Once matching has started it is matched at once.
  Nub& publish(BusPlugin& bus, std::string provider_class, std::string location, IOService* object,
               NubProperties properties);
  // Matches every loaded personality against every published nub (the highest probe score wins
  // per nub), starts each matched service on the kernel's thread, and reports each loaded dext
  // that matched nothing.
  void start_matching();
  const NubRegistry& registry() const { return registry_; }
  Nub* nub(std::string_view location) const { return registry_.find(location); }
  // System sleep drives every service in the power tree to Off; wake restores what it had.
  void system_sleep();
  void system_wake();
  // Stops and frees every service (Stop, leaving the power tree, free), as at shutdown.
  void terminate_all();
  // The device behind the nub at `location` is gone (surprise removal, unplug): the kernel
  // terminates the nub and the services on it, so each gets Stop and is freed, as IOKit
  // terminates a removed device's clients.
  void device_removed(const std::string& location);
  // End-of-run checks (leaks, unacknowledged power changes). Call after the simulation ran out.
  void finish();
  // Kills the process whose started service sits on the nub at `location`, as a crash would
  // (fault injection: [[dext_crash]]); `why` goes into its crash report. False when no started
  // service is there.
  bool kill_process(const std::string& location, const std::string& why);

  // An application opens a connection to a started service (IOServiceOpen with `type`); the
  // kernel owns the connection. See user_client.hpp.
  UserClientConnection* open_user_client(const ServiceRecord* service, std::uint32_t type);

  // What ran: services by name, for tests and reports.
  std::vector<const ServiceRecord*> services() const;
  std::vector<const DextProcess*> processes() const;
  // The crashes of the dext (its IOUserServerName) in the last 24 hours of simulated time, as
  // OSDextStatistics counts them: only processes whose service had started.
  unsigned crash_count(const std::string& server_name) const;
  // The platform's bus-stall limit: every service's RequireMaxBusStall, system-wide. Platforms
  // that bound stalls with it register a handler (the PCI bus does, for its fabric).
  platform::MaxBusDelay& max_bus_delay() { return max_bus_delay_; }
  // Per service, its last process's stage and power state, how many processes ran it, and what
  // it last published with SetProperties; in the order the services were first started.
  std::vector<ServiceFigures> service_figures() const;

  sim::Simulator& sim() { return sim_; }
  FiberRuntime& runtime() { return *runtime_; }
  monitor::Monitor& monitor() { return monitor_; }
  hostmem::SparseMemory& memory() { return memory_; }
  hostmem::PageAllocator& buffers() { return buffers_; }
  // Memory below 4 GiB for IODMACommand's bounce buffers, which a Mac without an IOMMU uses
  // when the dext's memory lies above what its device addresses (xnu's double buffering).
  static constexpr std::uint64_t kBouncePoolBase = 0x1000'0000, kBouncePoolSize = 256ULL << 20;
  hostmem::PageAllocator& bounce_pages() { return bounce_pages_; }
  const KernelProfile& profile() const { return profile_; }
  // A record in the run's trace (what the trace hash covers) at the current simulated time.
  void trace(std::string_view source, std::string_view message);

  // ---- for the host DriverKit classes ----
  kern_return_t deliver(OSObject* target, std::uint64_t msgid, const char* method, bool sync,
                        const std::function<void()>& body);
  // Runs `work` on the queue a message to `target.method` is routed to, or else on `fallback`.
  void post(OSObject* target, std::uint64_t msgid, IODispatchQueue* fallback, std::function<void()> work);
  DextProcess* current_process();  // the process whose code is running, if any
  // A call the calling dext made that dexthil cannot carry out yet (dext.not-simulated), and
  // what the dext got instead.
  void not_simulated(std::string_view api, std::string_view what,
                     std::string_view outcome = "it returned kIOReturnUnsupported");
  void queue_created(IODispatchQueue* queue);
  void queue_freed(IODispatchQueue* queue);
  void timer_created(IOTimerDispatchSource* timer) { timers_.insert(timer); }
  void timer_freed(IOTimerDispatchSource* timer) { timers_.erase(timer); }
  kern_return_t set_dispatch_queue(IOService* service, const char* name, IODispatchQueue* queue);
  void super_start(IOService* service);
  void super_stop(IOService* service);
  kern_return_t acknowledge_power(IOService* service, std::uint32_t flags);
  void properties_published(IOService* service, const OSDictionary* properties);
  // The service's registry entry as a new dictionary: its personality's keys (the matched one,
  // or the IOUserClass of a service IOService::Create made) and "IOUserServiceProperties"
  // holding what the dext set.
  OSDictionary* registry_properties(IOService* service, const OSDictionary* user_properties);
  // IOService::CopyProviderProperties: the provider chain's properties, nearest first.
  OSArray* provider_properties(IOService* service, const OSArray* keys);
  // IOService::SearchProperty: the service's own property `name`, else (up_the_service_plane)
  // the nearest provider's; retained, or null when none has it.
  OSObject* search_property(IOService* service, const char* name, bool up_the_service_plane,
                            const OSDictionary* user_properties);
  IOService* provider_of(const IOService* service);
  // IOServiceNotificationDispatchSource: a new source hears of the registered services it
  // matches at once; RegisterService makes a service visible to the sources (matched).
  void notification_source_added(IOServiceNotificationDispatchSource* source);
  void notification_source_removed(IOServiceNotificationDispatchSource* source);
  void service_registered(IOService* service);
  void service_freed(const IOService* service);  // sources forget it
  // One registry entry's properties (a dext service's or a nub's) as a new dictionary, and in
  // *above the entry it is attached to (null for a nub).
  OSDictionary* entry_properties(IOService* entry, IOService** above);
  kern_return_t join_power_tree_now(IOService* service);
  kern_return_t change_power_state(IOService* service, std::uint32_t flags);
  kern_return_t set_power_override(IOService* service, bool enable);
  kern_return_t require_max_bus_stall(IOService* service, std::uint64_t ns);
  kern_return_t create_pm_assertion(IOService* service, std::uint32_t bits, std::uint64_t* id, bool synced);
  kern_return_t terminate(IOService* service);
  kern_return_t create_service(IOService* self, IOService* provider, const char* key, IOService** result);
  void close_user_client(UserClientConnection* connection, ServiceRecord* client);
  std::uint64_t mach_ticks() const;  // simulated mach absolute time
  // A registry entry ID for a dext's service, after the nubs' (NubRegistry), in the order asked.
  std::uint64_t next_registry_entry_id() { return 0x100001000 + next_entry_id_++; }
  // The simulated Mac's clocks in the units DriverKit's timer clocks use. They keep no sleep gap
  // (system sleep is a power transition here), so uptime and monotonic time read alike; real
  // time counts from kSimulatedEpochSeconds.
  enum class Clock { kMachTicks, kNanoseconds, kRealTimeNanoseconds };
  static constexpr std::uint64_t kSimulatedEpochSeconds = 1'767'225'600;  // 2026-01-01T00:00:00Z
  std::uint64_t read_clock(Clock clock) const;
  // The clock a kIOTimerClock* option names (WakeAtTime, SleepWithDeadline); nullopt for others.
  static std::optional<Clock> timer_clock(std::uint64_t option);
  // The simulated time at which `clock` reads `value` (kNever when it never does).
  static sim::SimTime clock_time(Clock clock, std::uint64_t value);
  // Fills memory the platform hands out uninitialised (IOMalloc) from the run's seed.
  void fill_from_seed(unsigned char* bytes, std::size_t length);
  static sim::SimTime ticks_to_time(std::uint64_t ticks);

 private:
  std::uint64_t next_entry_id_ = 0;
  // Starts a service for the best personality matching the nub in each match category (one
  // when none names its own), and returns their dexts.
  std::vector<const LoadedDext*> match(Nub& nub);
  // A new process for a personality of `dext` on `nub`; `fresh_image`: map the library afresh
  // (a relaunch: its globals start again as the library defines them).
  DextProcess* new_process(Nub& nub, const LoadedDext& dext, const Personality& personality, bool fresh_image);
  void start_process(DextProcess* process);
  void report_no_match(const LoadedDext& dext);
  void run_lifecycle(DextProcess* process, ServiceRecord* record);
  // Stop has returned and its kernel side ran: the service is stopped, the kernel lets it go.
  void complete_stop(ServiceRecord* record);
  // Makes the service object in the process (its Default queue, the class's factory, init).
  // `created`: by IOService::Create (a user client), not matched on a nub.
  bool instantiate(DextProcess* process, ServiceRecord* record, const DextClass* cls, bool created = false);
  void start_failed(ServiceRecord* record, monitor::ServiceStartFailed::Reason reason,
                    kern_return_t result = kIOReturnSuccess, bool created = false);
  void send_power_state(ServiceRecord* record, PowerState state);
  void join_power_tree(ServiceRecord* record);
  void stop_service(ServiceRecord* record);
  // Its termination begins: the notification sources that matched it hear of it.
  void service_terminating(ServiceRecord* record);
  // Whether a registered dext service matches an IOService matching dictionary (the keys
  // IOServiceNotificationDispatchSource.h lists).
  bool service_matches(const OSDictionary* matching, ServiceRecord* record);
  // The process dies: `kind` names the cause (dext.queue-assertion, dext.exception, dext.signal, ...),
  // `report` is the crash as macOS reports it and `explanation` what it means.
  void crash(DextProcess* process, const std::string& kind, const std::string& report, const std::string& explanation);
  // OSDextStatistics::recordCrash: the dext's crashes in the last day, this one included.
  unsigned record_crash(const std::string& server_name);
  // After the provider's crash recovery: terminate (with rematch) the services on `others`, and
  // rematch the crashed process's nub if the kernel relaunches it.
  void after_client_crashed(DextProcess* process, std::vector<Nub*> others, bool relaunch);
  // Whether a live process has a service on the nub that is being created, starting or started.
  bool has_driver(const Nub& nub) const;
  // The service's requirements on the platform end (xnu's IOService::free requires no bus stall).
  void end_requirements(ServiceRecord* record);
  // What a service left running when its Stop returned (on its nub, and its armed timers).
  std::vector<monitor::LeftRunning> left_running_after_stop(const ServiceRecord* record);
  void report_leaks(DextProcess* process);
  ServiceRecord* record_of(OSObject* object) const;
  std::unique_ptr<DispatchQueue> make_kernel_queue(const std::string& name);

  sim::Simulator& sim_;
  hostmem::SparseMemory& memory_;
  hostmem::PageAllocator& buffers_;
  hostmem::PageAllocator bounce_pages_{kBouncePoolBase, kBouncePoolSize};
  monitor::Monitor& monitor_;
  KernelProfile profile_;
  std::unique_ptr<FiberRuntime> runtime_;
  std::vector<std::unique_ptr<LoadedDext>> dexts_;
  std::vector<std::unique_ptr<LoadedDext>> restarted_images_;  // fresh copies loaded for restarted processes
  std::vector<std::unique_ptr<DextProcess>> processes_;
  std::map<const DispatchQueue*, DextProcess*> queue_owner_;
  std::map<std::string, std::vector<sim::SimTime>> crash_times_;  // by IOUserServerName: recorded crashes
  std::unique_ptr<DispatchQueue> crash_queue_;  // the kernel's thread for providers' crash recovery, one at a time
  bool shutting_down_ = false;                  // terminate_all ran: nothing is rematched any more
  platform::MaxBusDelay max_bus_delay_;
  NubRegistry registry_;
  std::vector<std::unique_ptr<BusPlugin>> buses_;
  std::vector<std::unique_ptr<FamilyPlugin>> families_;
  bool matching_started_ = false;
  std::vector<std::unique_ptr<UserClientConnection>> connections_;
  std::uint64_t next_assertion_id_ = 1;
  std::vector<IOServiceNotificationDispatchSource*> notification_sources_;
  std::set<std::string> not_simulated_seen_;  // process, call and what: reported once
  bool sleeping_ = false;  // between system_sleep() and system_wake(): a synced PM assertion is refused
  sim::Random uninitialised_;  // what fill_from_seed writes
  util::InsertionOrderedSet<IOTimerDispatchSource*> timers_;
  Kernel* previous_active_ = nullptr;
};

}  // namespace dexthil::driverkit
