#include "harness/runner/run.hpp"

#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/runner/run_context.hpp"
#include "harness/runner/usb_host.hpp"
#include "harness/serial/serial_line.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include "harness/checks/dart_fault_checker.hpp"
#include "harness/checks/dma_budget_checker.hpp"
#include "harness/checks/dma_path_checker.hpp"
#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/checks/serial_line_checker.hpp"
#include "harness/dma/direct_memory.hpp"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/fault_guard.hpp"
#include "harness/hostmem/page_allocator.hpp"
#include "harness/hostmem/sparse_memory.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/platform/dart_error_handler.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::runner {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kError: return "error";
    case Outcome::kHarnessError: return "harness-error";
  }
  return "error";
}

namespace {

// Parts of the schema whose engines arrive with later parts of the harness. A scenario using
// them is refused as an input error rather than run without them and reported as passing.
std::optional<std::string> unsupported_part(const scenario::Scenario& s) {
  if (!s.captures.empty()) return s.captures[0].pos.str() + ": capture: this build has no capture replay yet";
  return std::nullopt;
}

// "model.stat" against the figures the run reported; a reason when it does not hold.
std::optional<std::string> judge_figure(const scenario::ExpectSpec& e, const ScenarioResult& result) {
  const std::string& stat = *e.stat;
  const auto dot = stat.rfind('.');
  const std::string owner = stat.substr(0, dot), name = stat.substr(dot + 1);
  const std::string at = e.pos.str() + ": expected " + stat;
  const ModelStats* figures = nullptr;
  std::string owners;
  for (const ModelStats& m : result.models) {
    if (m.model == owner) figures = &m;
    owners += (owners.empty() ? "" : ", ") + m.model;
  }
  if (!figures) {
    return at + ", but nothing in the run is called " + owner + " (it has: " + (owners.empty() ? "nothing" : owners) +
           ")" + (owner.find('@') != std::string::npos ? "; did the dext match and start?" : "");
  }
  const std::string* value = nullptr;
  std::string names;
  for (const auto& [k, v] : figures->values) {
    if (k == name) value = &v;
    names += (names.empty() ? "" : ", ") + k;
  }
  if (!value) return at + ", but " + owner + " has no figure " + name + " (it has: " + names + ")";
  if (e.equals && *value != *e.equals) return at + " to be " + *e.equals + ", was " + *value;
  if (e.at_least || e.at_most) {
    // An integer, or a decimal figure such as a rate ("317.8").
    double n = 0;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
    if (ec != std::errc() || end != value->data() + value->size()) return at + " to be a number, was \"" + *value + "\"";
    if (e.at_least && n < static_cast<double>(*e.at_least)) {
      return at + " at least " + std::to_string(*e.at_least) + ", was " + *value;
    }
    if (e.at_most && n > static_cast<double>(*e.at_most)) {
      return at + " at most " + std::to_string(*e.at_most) + ", was " + *value;
    }
  }
  return std::nullopt;
}

void judge(const scenario::Scenario& s, ScenarioResult* result) {
  for (const scenario::ExpectSpec& e : s.expectations) {
    if (e.stat) {
      if (auto why = judge_figure(e, *result)) result->failures.push_back(*why);
      continue;
    }
    std::uint64_t seen = 0;
    for (JudgedFinding& f : result->findings) {
      if (f.finding.check == e.check && (!e.where || f.finding.matched_name() == *e.where)) {
        f.expected = true;
        ++seen;
      }
    }
    for (JudgedHeldBack& h : result->held_back) {
      if (h.held.check == e.check && (!e.where || h.held.subject == *e.where)) {
        h.expected = true;
        seen += h.held.count;
      }
    }
    const bool ok = e.count ? seen == *e.count : seen > 0;
    if (!ok) {
      const std::string what = "\"" + e.check + "\"" + (e.where ? " on " + *e.where : "");
      result->failures.push_back(e.pos.str() + ": expected " +
                                 (e.count ? std::to_string(*e.count) : std::string("at least one")) + " finding " + what +
                                 ", saw " + std::to_string(seen));
    }
  }
  for (const JudgedFinding& f : result->findings) {
    if (!f.expected && !f.finding.informational) {
      result->failures.push_back("unexpected finding " + f.finding.check + " on " + f.finding.where + " at " +
                                 sim::format_time(f.finding.time) + ": " + f.finding.what);
    }
  }
  for (const JudgedHeldBack& h : result->held_back) {
    if (!h.expected && !h.held.informational) {
      result->failures.push_back("and " + std::to_string(h.held.count) + " more unexpected " + h.held.check + " on " +
                                 h.held.where + " (not listed)");
    }
  }
  result->outcome = result->failures.empty() ? Outcome::kPass : Outcome::kFail;
}

dma::DmaFault to_dma_fault(const scenario::FaultSpec& f) {
  dma::DmaFault fault;
  fault.request_index = f.request;
  if (f.kind == "dma-completion-status") {
    fault.kind = dma::DmaFault::Kind::kCompletionStatus;
    dma::parse_completion_status(f.status, &fault.status);
  } else if (f.kind == "dma-stall") {
    fault.kind = dma::DmaFault::Kind::kStall;
    fault.stall = f.stall;
  } else {
    fault.kind = dma::DmaFault::Kind::kCorruptRead;
  }
  return fault;
}

// Host physical memory regions: DART page tables, and buffers the scenario prepares for DMA.
constexpr std::uint64_t kTableRegion = 0x10'0000'0000, kTableRegionSize = 1ULL << 30;
constexpr std::uint64_t kBufferRegion = 0x20'0000'0000, kBufferRegionSize = 64ULL << 30;

// The scenario's PCIe hardware and the platform software that set it up.
struct PcieMachine {
  std::unique_ptr<pcie::Fabric> fabric;
  std::unique_ptr<platform::PciePlatform> platform;
};

// Builds the scenario's fabric, lets the platform enumerate it, and prepares its [[mapping]]
// buffers the way the kernel would: under the SID of the endpoint's own RID (macOS), or under
// every alias Linux's pci_for_each_dma_alias yields for it.
PcieMachine build_fabric(const scenario::Scenario& s, sim::Simulator& sim, hostmem::SparseMemory& memory,
                         hostmem::PageAllocator& tables, hostmem::PageAllocator& buffers) {
  std::string error;
  auto topology = pcie::load_topology(*s.topology, &error);
  if (!topology) throw std::runtime_error(error);
  PcieMachine machine;
  machine.fabric = std::make_unique<pcie::Fabric>(std::move(*topology), sim, memory, tables);
  machine.platform = std::make_unique<platform::PciePlatform>(*machine.fabric);
  pcie::Fabric* fabric = machine.fabric.get();
  for (const scenario::MappingSpec& m : s.mappings) {
    const pcie::Node& ep = *fabric->node(m.endpoint);
    const pcie::Node& rp = *ep.root_port();
    const std::vector<std::uint32_t> sids = machine.platform->mapping_sids(
        ep, m.all_rids ? platform::PciePlatform::AliasPolicy::kEveryAlias : platform::PciePlatform::AliasPolicy::kOwnRid);
    const std::uint64_t pages = (m.size + iommu::Dart::kPageSize - 1) / iommu::Dart::kPageSize;
    const std::uint64_t pa = buffers.allocate(pages);
    if (!machine.platform->mapper(rp).prepare(ep.name, sids, pa, m.size, {m.device_reads, m.device_writes},
                                              ep.dma_address_bits, sim.now(), &error)) {
      throw std::runtime_error(m.pos.str() + ": mapping for " + ep.name + ": " + error);
    }
  }
  return machine;
}

}  // namespace

namespace {

// A scenario that cannot be set up as written (a dext that does not load): its own message.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Simulated time the kernel gets after the scenario's duration to stop and free every service.
constexpr sim::SimTime kDextTeardown = 100 * sim::kMillisecond;

std::string find_dext_bundle(const scenario::DextSpec& d, const std::vector<std::string>& dirs) {
  if (d.path) return *d.path;
  std::string looked;
  for (const std::string& dir : dirs) {
    const std::filesystem::path bundle = std::filesystem::path(dir) / (d.name + ".dext");
    std::error_code ec;
    if (std::filesystem::is_directory(bundle, ec)) return bundle.string();
    looked += (looked.empty() ? "" : ", ") + bundle.string();
  }
  throw SetupError(d.pos.str() + ": dext " + d.name + ": no bundle " + d.name + ".dext (looked in " +
                   (looked.empty() ? std::string("no folders") : looked) + "; give its path, or --dexts DIR)");
}

}  // namespace

ScenarioResult run_scenario(const scenario::Scenario& s, const ModelCatalog& catalog, const RunOptions& options) {
  ScenarioResult result;
  result.name = s.name;
  result.file = s.file;
  result.labels = s.labels;
  result.seed = options.seed.value_or(s.seed.value_or(kDefaultSeed));
  const auto wall_start = std::chrono::steady_clock::now();
  auto wall_seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  driverkit::fault_guard::set_callback_limit_ms(options.callback_limit_ms);
  if (auto why = unsupported_part(s)) {
    result.failures.push_back(*why);
    return result;
  }

  try {
    sim::Simulator sim(result.seed, {options.skip_idle, options.keep_trace_records});
    hostmem::SparseMemory memory;
    checks::FindingLog findings;
    hostmem::PageAllocator tables(kTableRegion, kTableRegionSize);
    hostmem::PageAllocator buffers(kBufferRegion, kBufferRegionSize);
    // What the kernel and its buses observe comes here as events; the checkers below judge it.
    monitor::Monitor monitor;
    checks::DriverKitCheckers driverkit_checkers(monitor, findings, sim.trace());
    checks::SerialLineChecker serial_checker(monitor, findings, sim.trace());
    std::optional<checks::DmaBudgetChecker> budget_checker;
    if (s.dma_latency_budget) budget_checker.emplace(findings, sim, *s.dma_latency_budget);
    // Declared after the simulator so they are destroyed first: pending events refer to them.
    PcieMachine pcie_machine;
    std::optional<checks::DartFaultChecker> dart_checker;
    std::optional<checks::DmaPathChecker> path_checker;
    // What macOS does on a DART error: panic ([kernel] dart_fault), after the checkers judged it.
    std::optional<platform::DartErrorHandler> dart_errors;
    if (s.topology) {
      pcie_machine = build_fabric(s, sim, memory, tables, buffers);
      dart_checker.emplace(findings, *pcie_machine.platform);
      path_checker.emplace(findings, *pcie_machine.platform);
      pcie_machine.fabric->add_observer(&*dart_checker);
      pcie_machine.fabric->add_observer(&*path_checker);
      if (budget_checker) pcie_machine.fabric->add_observer(&*budget_checker);
      dart_errors.emplace(sim, s.dart_fault_panics ? platform::DartFaultAction::kPanic : platform::DartFaultAction::kContinue);
      pcie_machine.fabric->add_observer(&*dart_errors);
    }
    pcie::Fabric* fabric = pcie_machine.fabric.get();
    std::vector<std::unique_ptr<dma::DirectMemoryUpstream>> upstreams;
    UsbHost usb_host;  // before the models, which may hold its ports
    // Each serial line the models are wired to (the loader allows two per line), its ends in the
    // order the models are listed; a line with one model ends in an unconnected plug.
    std::vector<std::unique_ptr<serial::SerialLine>> serial_lines;
    std::map<const scenario::ModelSpec*, serial::SerialLine::End*> serial_ends;
    {
      std::map<std::string, std::vector<const scenario::ModelSpec*>> wired;
      for (const scenario::ModelSpec& m : s.models) {
        if (m.serial_line) wired[*m.serial_line].push_back(&m);
      }
      for (const auto& [name, ends] : wired) {
        auto& line = serial_lines.emplace_back(std::make_unique<serial::SerialLine>(
            sim, &monitor, name, serial::Settings{}, ends[0]->name, ends.size() > 1 ? ends[1]->name : "nothing"));
        for (std::size_t e = 0; e < ends.size(); ++e) serial_ends[ends[e]] = &line->end(static_cast<unsigned>(e));
      }
    }
    std::vector<std::unique_ptr<ScenarioModel>> models;
    for (const scenario::ModelSpec& spec : s.models) {
      const ModelType* type = catalog.find(spec.type);
      if (!type) throw std::runtime_error(spec.pos.str() + ": model type \"" + spec.type + "\" is not built in");
      // A model gets exactly the ports its type declares.
      dma::DmaUpstream* upstream = nullptr;
      if (spec.endpoint) {
        upstream = &fabric->upstream(*fabric->node(*spec.endpoint));
      } else if (type->info.port(scenario::PortKind::kHostMemoryDma)) {
        auto& direct = upstreams.emplace_back(std::make_unique<dma::DirectMemoryUpstream>(sim, memory, s.host_dma_latency));
        for (const scenario::FaultSpec& f : s.faults) {
          if (f.target == spec.name) direct->add_fault(to_dma_fault(f));
        }
        upstream = direct.get();
      }
      sim::ClockDomain* clock = spec.clock ? &sim.add_clock(spec.name + ".clk", *spec.clock) : nullptr;
      std::optional<sim::WaveRequest> waves;
      if (!options.waves_dir.empty()) {
        const std::filesystem::path dir = std::filesystem::path(options.waves_dir) / s.name;
        std::filesystem::create_directories(dir);
        waves = sim::WaveRequest{(dir / (spec.name + ".fst")).string(), options.waves_from, options.waves_to,
                                 clock ? std::max<sim::SimTime>(1, clock->nominal_period() / 2) : sim::kNanosecond};
      }
      ModelContext context{sim,
                           s,
                           spec,
                           clock,
                           upstream,
                           findings,
                           spec.endpoint ? fabric : nullptr,
                           spec.endpoint ? fabric->node(*spec.endpoint) : nullptr,
                           waves ? &*waves : nullptr,
                           spec.usb_port ? &usb_host.model_port(*spec.usb_port, spec.name,
                                                                type->info.port(scenario::PortKind::kUsbDevice)
                                                                    ->usb_interfaces)
                                         : nullptr,
                           spec.serial_line ? serial_ends.at(&spec) : nullptr};
      models.push_back(type->create(context));
    }

    // The kernel goes after the models: its dexts drive them, and it is torn down first.
    std::unique_ptr<driverkit::Kernel> kernel;
    driverkit::ScsiFamily* scsi_family = nullptr;
    // The USB host stops forwarding to the kernel's USB bus before the kernel (declared above) goes.
    struct UsbKernelLink {
      UsbHost& host;
      ~UsbKernelLink() { host.detach_kernel(); }
    } usb_kernel_link{usb_host};
    if (!s.dexts.empty()) {
      kernel = std::make_unique<driverkit::Kernel>(sim, memory, buffers, monitor,
                                                   *driverkit::KernelProfile::named(s.kernel_profile));
      // The buses publish their nubs; dexts are matched against them below.
      if (fabric) kernel->add_bus(std::make_unique<driverkit::PciBus>(*kernel, *pcie_machine.platform));
      // The families' kernel halves dexthil has (the others are dext.family-not-simulated).
      auto scsi = std::make_unique<driverkit::ScsiFamily>(*kernel);
      scsi_family = scsi.get();
      kernel->add_family(std::move(scsi));
      usb_host.attach_kernel(*kernel);
    }
    // Sections owned by plug-ins ([[hotplug]], [[usb_device]], ...) take their part in the run.
    RunContext context{sim, s, findings, monitor, fabric, kernel.get(), usb_host, {}, scsi_family, {}, {}};
    for (std::size_t i = 0; i < models.size(); ++i) context.models.emplace_back(&s.models[i], models[i].get());
    for (const scenario::LoadedSection& section : s.sections) section.data->apply(context);
    if (kernel) {
      for (const scenario::DextSpec& d : s.dexts) {
        const std::string bundle = find_dext_bundle(d, options.dext_dirs);
        std::string error;
        if (!kernel->load_dext(bundle + "/lib" + d.name + ".so", bundle + "/Info.plist", &error)) {
          throw SetupError(d.pos.str() + ": dext " + d.name + ": " + error);
        }
      }
      kernel->start_matching();
      if (s.sleep_at) sim.at(*s.sleep_at, [k = kernel.get()] { k->system_sleep(); });
      if (s.wake_at) sim.at(*s.wake_at, [k = kernel.get()] { k->system_wake(); });
    }

    sim::RunStats stats = sim.run_until(s.duration);
    if (dart_errors && dart_errors->panic()) {
      // The Mac panicked: the run ends where the machine did. No shutdown, no end-of-run checks
      // (a panicked kernel stops no service and leaks nothing); the models report only what went
      // wrong before.
      const platform::DartPanic& panic = *dart_errors->panic();
      findings.add(checks::panic_finding(panic));
      if (kernel) usb_host.detach_kernel();
      for (auto& m : models) m->halted(sim.now());
      result.notes.push_back("the machine panicked at " + sim::format_time(panic.time) + " (DART " + panic.dart +
                             " error, see kernel.panic): the run stopped there and its later events were not simulated");
    } else {
      for (const auto& end : context.at_duration_end) end();
      if (kernel) {
        // Shutdown: every service is stopped and freed, then the end-of-run checks.
        kernel->terminate_all();
        const sim::RunStats teardown = sim.run_until(s.duration + kDextTeardown);
        stats.events += teardown.events;
        stats.clock_edges += teardown.clock_edges;
        kernel->finish();
        usb_host.detach_kernel();  // nothing a model does from here on reaches the kernel
      }
      for (auto& m : models) m->finish(sim.now());
    }

    for (const checks::Finding& f : findings.all()) {
      if (s.check_enabled(f.check)) result.findings.push_back({f, false});
    }
    for (const checks::HeldBack& h : findings.held_back()) {
      if (s.check_enabled(h.check)) result.held_back.push_back({h, false});
    }
    for (std::size_t i = 0; i < models.size(); ++i) result.models.push_back({s.models[i].name, models[i]->stats()});
    if (kernel) {
      for (driverkit::ServiceFigures& f : kernel->service_figures()) {
        result.models.push_back({std::move(f.service), std::move(f.values)});
      }
    }
    RunContext::Figures section_figures;
    for (const auto& figures : context.figures) figures(section_figures);
    for (auto& [owner, values] : section_figures) result.models.push_back({std::move(owner), std::move(values)});
    result.simulated = sim.now();
    result.events = stats.events;
    result.clock_edges = stats.clock_edges;
    result.trace_hash = sim.trace().hash();
    result.trace_records = sim.trace().count();
    result.trace = sim.trace().records();
    // Models go before the simulator whose clocks they hold.
    models.clear();
    judge(s, &result);
  } catch (const SetupError& e) {
    result.outcome = Outcome::kError;
    result.failures.push_back(e.what());
  } catch (const std::bad_alloc&) {
    result.outcome = Outcome::kHarnessError;
    result.failures.push_back("harness error: out of memory");
  } catch (const std::exception& e) {
    result.outcome = Outcome::kHarnessError;
    result.failures.push_back(std::string("harness error: ") + e.what());
  }
  result.wall_seconds = wall_seconds();
  return result;
}

}  // namespace dexthil::runner
