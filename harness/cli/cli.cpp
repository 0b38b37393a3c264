#include "harness/cli/cli.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "harness/checks/finding.hpp"
#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/pcie/topology_print.hpp"
#include "harness/platform/pci_enumeration.hpp"
#include "harness/report/reports.hpp"
#include "harness/runner/determinism.hpp"
#include "harness/runner/isolation.hpp"
#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "harness/xcode/build_settings.hpp"
#include "harness/xcode/xcode_project.hpp"
#include "models/builtin_models.hpp"

#ifndef DEXTHIL_VERSION
#define DEXTHIL_VERSION "unknown"
#endif

namespace dexthil::cli {
namespace {

// Host physical memory set aside for DART page tables when a topology is inspected on its own.
constexpr std::uint64_t kPageTableRegionBase = 0x10'0000'0000;
constexpr std::uint64_t kPageTableRegionSize = 1ULL << 30;

constexpr const char* kMainHelp = R"(usage: dexthil <command> [options]

dexthil runs macOS DriverKit drivers against simulated hardware and reports what
would have panicked or glitched a real Mac.

commands:
  run <file|dir>...     run scenarios and report the results
  list [<file|dir>...]  list scenarios; --models and --checks list what scenarios may use
  topo <file>           enumerate a PCIe topology and print its tree, RIDs and SIDs
  lint-plist <file>     check a dext's Info.plist personalities (and entitlements)
  xcode-target <Foo.xcodeproj> <target>  read a dext target of an Xcode project
  expand-plist <in> <out>  write an Info.plist with its build settings expanded
  version               print the version
  help [command]        print help for a command

Run 'dexthil <command> --help' for a command's options.
)";

constexpr const char* kRunHelp = R"(usage: dexthil run [-j N] [--seed N] [--out DIR] [--dexts DIR]... [--callback-limit S]
                   [--scenario-limit S] [--check-determinism] [--waves DIR] [--quiet] <file|dir>...

Runs every scenario named, and every *.toml below each folder named, in sorted order.
All files are loaded and checked first; any problem in any file stops the run before
it starts, with one message per file naming file, line, column and key.

Each scenario runs in a process of its own, so no scenario can change another's result
and a dext that crashes is a finding, never the end of the run.

options:
  -j N, -jN, --jobs N  run N scenarios at once (default 1); results, trace hashes and reports
              are the same for every N, and are listed in file order
  --seed N    use seed N for every scenario instead of each scenario's own seed
              (scenarios without a seed use 1); the seed is printed with every result
  --out DIR   also write DIR/junit.xml and DIR/summary.json (see docs/reports.md)
  --dexts DIR look for [[dext]] bundles (NAME.dext, as dexthil_add_dext builds them) in DIR;
              may be repeated; after them, the dexts built beside this dexthil (../dexts)
  --callback-limit S  end a dext callback that has run S seconds of wall-clock time without
              returning to its queue, as a dext.hang finding (default 10; 0: never)
  --scenario-limit S  end a scenario's process after S seconds of wall-clock time, as a
              harness error (default 1800): a dext that corrupts the harness's memory can
              leave it stuck, and a nightly run must still finish
  --check-determinism  run every scenario a second time, and a third time evaluating every
              clock edge instead of skipping idle ones (when that is at most 20 M edges);
              a scenario whose trace hash differs fails, naming the first trace record
              that differs
  --waves DIR write every model's signals to DIR/<scenario>/<model>.fst (open with GTKWave);
              without it, each scenario that fails is run again, when --out is given, to
              write DIR/waves/<scenario>/ for 50 us either side of its first finding
  --quiet     print only the summary table and the failures

exit status: 0 every scenario passed, 1 some failed, 2 usage or input error (or a
scenario that could not be set up), 3 harness error (a dexthil bug: rerun, then report it)
)";

constexpr const char* kListHelp = R"(usage: dexthil list [<file|dir>...]
       dexthil list --models
       dexthil list --checks
       dexthil list --sections

Without options, loads the scenarios named (checking them as 'run' does) and prints
one line each: name, duration, seed, models and labels.
  --models    list the model types scenarios may use, with their parameters
  --checks    list the finding ids that [checks] and [[expect]] may name
  --sections  list the scenario sections that plug-ins own (beside the core ones)

exit status: 0 success, 2 usage or input error
)";

constexpr const char* kTopoHelp = R"(usage: dexthil topo <file>

Loads a PCIe topology file (docs/topologies.md), enumerates it as firmware would (bus numbers,
BARs, bridge windows, RID-to-SID tables) and prints an lspci -tv-like tree: BDF, IDs, kind,
links and DARTs; for each endpoint its BARs, every requester ID its DMA can arrive with, the
bridge that makes it so, and the SID the root port's PORT_RID2SID table gives it.

exit status: 0 success, 2 usage or input error
)";

constexpr const char* kLintPlistHelp = R"(usage: dexthil lint-plist [--entitlements FILE] [--setting NAME=VALUE]... <Info.plist>

Checks a dext's Info.plist (XML or binary) for mistakes that make it fail on a Mac. Build
settings ($(NAME), ${NAME}) are expanded first, as Xcode expands them when it builds the dext;
--setting defines one (repeat it for more), and any other expands to nothing.
  plist.build-setting          a build setting the plist uses is not defined
  plist.bundle-id              CFBundleIdentifier missing or empty
  plist.missing-key            IOClass, IOProviderClass, IOUserClass or IOUserServerName missing
  plist.server-name            IOUserServerName is not the dext's CFBundleIdentifier
  plist.match-category         IOMatchCategory outside IOResources/IOUserResources matches (on
                               USB only where a standard class, not 255, is named)
  plist.impossible-key         a match key the provider class never has (USB keys on IOPCIDevice,
                               interface keys on IOUSBHostDevice, ...)
  plist.family-class           IOClass left as IOUserService where the family needs its class
  plist.entitlement-format     a transport entitlement that is not an array of dictionaries
  plist.entitlement-coverage   transport entitlements that do not cover the matched IDs
The last three need the dext's entitlements file (--entitlements).

exit status: 0 no findings, 1 findings, 2 usage or input error
)";

constexpr const char* kExpandPlistHelp = R"(usage: dexthil expand-plist [--setting NAME=VALUE]... <Info.plist> <out.plist>

Writes the Info.plist with its build settings ($(NAME), ${NAME}, with Xcode's modifiers such
as :rfc1034identifier) expanded, as an XML plist: what Xcode puts in the dext's bundle.
--setting defines a setting (repeat it for more); a setting the plist uses that is not
defined expands to nothing, as in Xcode, with a warning naming it and the key.

exit status: 0 written, 2 usage or input error
)";

constexpr const char* kXcodeTargetHelp = R"(usage: dexthil xcode-target [--configuration NAME] [--cmake FILE] <Foo.xcodeproj> <target>

Reads a target of an Xcode project (docs/xcode.md): the .iig, C++ and C files of its Sources
phase, its Headers phase, Info.plist (INFOPLIST_FILE), entitlements (CODE_SIGN_ENTITLEMENTS),
header search paths, preprocessor definitions, bundle identifier and product name, with the
build settings of the project, the target and their .xcconfig files expanded. Files that are
not built (Swift, Objective-C, assembly, ...) are listed with the reason.

options:
  --configuration NAME  the build configuration to read (default Release)
  --cmake FILE  instead of describing the target, write FILE: a CMake script of
              set(DEXTHIL_XCODE_<KEY> ...) lines (SOURCES, C_SOURCES, IIG, HEADERS, PLIST,
              ENTITLEMENTS, INCLUDE_DIRS, DEFINITIONS, BUNDLE_IDENTIFIER, PRODUCT_NAME,
              BUILD_SETTINGS, ...) to include() before dexthil_add_dext

exit status: 0 success, 2 usage or input error (one message naming the file, line and column)
)";

constexpr const char* kVersionHelp = R"(usage: dexthil version

Prints the dexthil version.
)";

struct Options {
  std::optional<std::uint64_t> seed;
  unsigned jobs = 1;
  std::uint64_t callback_limit_ms = 10'000;
  double scenario_limit_seconds = 1800;
  std::string out_dir;
  std::string entitlements;
  std::vector<std::pair<std::string, std::string>> settings;  // --setting NAME=VALUE
  std::vector<std::string> dext_dirs;
  std::string configuration;
  std::string cmake_file;
  bool quiet = false;
  bool check_determinism = false;
  std::string waves_dir;
  bool list_models = false;
  bool list_sections = false;
  bool list_checks = false;
  bool help = false;
  std::vector<std::string> paths;
};

// A number of seconds ("2.5"), or -1 when `text` is not one.
double seconds_or_negative(const std::string& text) {
  try {
    std::size_t used = 0;
    const double seconds = std::stod(text, &used);
    return used == text.size() ? seconds : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// Parses options common to the subcommands; `allowed` names the ones this command takes.
bool parse_options(const std::vector<std::string>& args, std::size_t first, std::initializer_list<std::string_view> allowed,
                   Options* o, std::ostream& err) {
  auto takes = [&](std::string_view name) {
    for (auto a : allowed) {
      if (a == name) return true;
    }
    return false;
  };
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      o->help = true;
    } else if (a == "--seed" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --seed needs a value\n";
        return false;
      }
      const std::string& v = args[++i];
      std::uint64_t seed = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
      if (ec != std::errc() || end != v.data() + v.size()) {
        err << "dexthil: --seed takes a whole number from 0 to 18446744073709551615, got \"" << v << "\"\n";
        return false;
      }
      o->seed = seed;
    } else if ((a == "-j" || a == "--jobs" || (a.rfind("-j", 0) == 0 && a.size() > 2)) && takes("--jobs")) {
      unsigned jobs = 0;
      const std::string v = a.size() > 2 && a[1] == 'j' ? a.substr(2) : i + 1 < args.size() ? args[++i] : "";
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), jobs);
      if (ec != std::errc() || end != v.data() + v.size() || jobs == 0 || jobs > 256) {
        err << "dexthil: " << a << " takes a whole number from 1 to 256, got \"" << v << "\"\n";
        return false;
      }
      o->jobs = jobs;
    } else if (a == "--callback-limit" && takes(a)) {
      const std::string v = i + 1 < args.size() ? args[++i] : "";
      const double seconds = seconds_or_negative(v);
      if (!(seconds >= 0 && seconds <= 86400)) {
        err << "dexthil: --callback-limit takes seconds from 0 to 86400, got \"" << v << "\"\n";
        return false;
      }
      o->callback_limit_ms = static_cast<std::uint64_t>(seconds * 1000.0 + 0.5);
    } else if (a == "--scenario-limit" && takes(a)) {
      const std::string v = i + 1 < args.size() ? args[++i] : "";
      const double seconds = seconds_or_negative(v);
      if (!(seconds > 0 && seconds <= 604800)) {
        err << "dexthil: --scenario-limit takes seconds above 0 and up to 604800, got \"" << v << "\"\n";
        return false;
      }
      o->scenario_limit_seconds = seconds;
    } else if (a == "--out" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --out needs a folder\n";
        return false;
      }
      o->out_dir = args[++i];
    } else if (a == "--entitlements" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --entitlements needs a file\n";
        return false;
      }
      o->entitlements = args[++i];
    } else if (a == "--setting" && takes(a)) {
      const std::string v = i + 1 < args.size() ? args[++i] : "";
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        err << "dexthil: --setting takes NAME=VALUE, got \"" << v << "\"\n";
        return false;
      }
      o->settings.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (a == "--dexts" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --dexts needs a folder\n";
        return false;
      }
      o->dext_dirs.push_back(args[++i]);
    } else if (a == "--configuration" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --configuration needs a name\n";
        return false;
      }
      o->configuration = args[++i];
    } else if (a == "--cmake" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --cmake needs a file\n";
        return false;
      }
      o->cmake_file = args[++i];
    } else if (a == "--quiet" && takes(a)) {
      o->quiet = true;
    } else if (a == "--check-determinism" && takes(a)) {
      o->check_determinism = true;
    } else if (a == "--waves" && takes(a)) {
      if (i + 1 >= args.size()) {
        err << "dexthil: --waves needs a folder\n";
        return false;
      }
      o->waves_dir = args[++i];
    } else if (a == "--models" && takes(a)) {
      o->list_models = true;
    } else if (a == "--checks" && takes(a)) {
      o->list_checks = true;
    } else if (a == "--sections" && takes(a)) {
      o->list_sections = true;
    } else if (a.size() > 1 && a[0] == '-') {
      err << "dexthil: unknown option \"" << a << "\" for '" << args[0] << "' (see 'dexthil " << args[0] << " --help')\n";
      return false;
    } else {
      o->paths.push_back(a);
    }
  }
  return true;
}

// Loads and validates every scenario; prints each problem. Returns false on any problem.
bool load_all(const std::vector<std::string>& paths, const runner::ModelCatalog& catalog,
              std::vector<scenario::Scenario>* scenarios, std::ostream& err) {
  std::vector<std::string> errors;
  std::vector<std::string> files = scenario::collect_scenario_files(paths, &errors);
  scenario::ScenarioLoader loader(catalog.infos(), catalog.sections());
  for (const std::string& file : files) {
    std::string error;
    if (auto s = loader.load(file, &error)) {
      scenarios->push_back(std::move(*s));
    } else {
      errors.push_back(error);
    }
  }
  scenario::check_unique_names(*scenarios, &errors);
  for (const std::string& e : errors) err << e << "\n";
  if (!errors.empty()) {
    err << "dexthil: " << errors.size() << " problem" << (errors.size() == 1 ? "" : "s")
        << " in the scenario files; nothing was run\n";
  }
  return errors.empty();
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string wall(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  return buf;
}

std::string upper(const char* s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c - ('a' <= c && c <= 'z' ? 32 : 0));
  return out;
}

// The harness's own dexts, built beside the binary: <build>/bin/dexthil -> <build>/dexts.
std::string builtin_dext_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("dexts") : (exe.parent_path().parent_path() / "dexts").string();
}

// Runs each failing scenario again (the same seed gives the same run) with waveforms for the
// window around its first finding, or the last 100 us of the run when no finding explains it.
void write_failure_waves(const std::vector<scenario::Scenario>& scenarios, const runner::ModelCatalog& catalog,
                         const runner::RunOptions& options, const std::string& out_dir,
                         std::vector<runner::ScenarioResult>* results) {
  constexpr sim::SimTime kSide = 50 * sim::kMicrosecond;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    runner::ScenarioResult& r = (*results)[i];
    if (r.outcome != runner::Outcome::kFail || scenarios[i].models.empty()) continue;
    runner::RunOptions waves = options;
    waves.waves_dir = out_dir + "/waves";
    if (!r.findings.empty()) {
      const sim::SimTime first = r.findings.front().finding.time;
      waves.waves_from = first > kSide ? first - kSide : 0;
      waves.waves_to = first + kSide;
    } else {
      waves.waves_from = r.simulated > 2 * kSide ? r.simulated - 2 * kSide : 0;
    }
    runner::run_isolated({scenarios[i]}, catalog, waves, 1, {});
    r.notes.push_back("waveforms: " + waves.waves_dir + "/" + r.name + "/ (" + sim::format_time(waves.waves_from) +
                      " to " + (waves.waves_to == sim::kNever ? std::string("the end") : sim::format_time(waves.waves_to)) +
                      ", one .fst per model; open with GTKWave)");
  }
}

int command_run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {"--seed", "--out", "--dexts", "--quiet", "--jobs", "--callback-limit", "--check-determinism",
                                  "--waves", "--scenario-limit"}, &o, err)) {
    return kExitUsage;
  }
  if (o.help) {
    out << kRunHelp;
    return kExitPass;
  }
  if (o.paths.empty()) {
    err << "dexthil: 'run' needs at least one scenario file or folder\n" << kRunHelp;
    return kExitUsage;
  }
  const runner::ModelCatalog catalog = models::builtin_catalog();
  std::vector<scenario::Scenario> scenarios;
  if (!load_all(o.paths, catalog, &scenarios, err)) return kExitUsage;

  runner::RunOptions run_options;
  run_options.seed = o.seed;
  run_options.dext_dirs = o.dext_dirs;
  run_options.dext_dirs.push_back(builtin_dext_dir());
  run_options.callback_limit_ms = o.callback_limit_ms;
  run_options.waves_dir = o.waves_dir;
  run_options.scenario_limit_seconds = o.scenario_limit_seconds;
  std::size_t finished = 0;
  std::vector<runner::ScenarioResult> results = runner::run_isolated(
      scenarios, catalog, run_options, o.jobs, [&](std::size_t, const runner::ScenarioResult& r) {
        ++finished;
        if (o.quiet) return;
        out << "[" << finished << "/" << scenarios.size() << "] " << pad(upper(runner::to_string(r.outcome)), 6) << r.name
            << "  (" << sim::format_time(r.simulated) << " simulated in " << wall(r.wall_seconds) << ", seed " << r.seed
            << ", " << r.finding_count() << " finding" << (r.finding_count() == 1 ? "" : "s") << ")\n"
            << std::flush;
      });
  if (o.check_determinism) {
    if (!o.quiet) out << "checking determinism: every scenario again, and without idle skipping\n" << std::flush;
    runner::check_determinism(scenarios, catalog, run_options, o.jobs, &results);
  }
  if (o.waves_dir.empty() && !o.out_dir.empty()) write_failure_waves(scenarios, catalog, run_options, o.out_dir, &results);

  std::size_t width = 8;
  for (const auto& r : results) width = std::max(width, r.name.size() + 2);
  out << "\n" << pad("scenario", width) << pad("result", 15) << pad("findings", 12) << pad("simulated", 13)
      << pad("wall", 10) << "seed\n";
  std::size_t counts[runner::kOutcomeCount] = {};
  for (const auto& r : results) {
    ++counts[static_cast<int>(r.outcome)];
    const std::uint64_t expected = r.expected_count();
    out << pad(r.name, width) << pad(runner::to_string(r.outcome), 15)
        << pad(std::to_string(r.finding_count()) + (expected ? " (" + std::to_string(expected) + " exp)" : ""), 12)
        << pad(sim::format_time(r.simulated), 13) << pad(wall(r.wall_seconds), 10) << r.seed << "\n";
  }
  out << results.size() << " scenario" << (results.size() == 1 ? "" : "s") << ": " << counts[0] << " pass, " << counts[1]
      << " fail, " << counts[2] << " error" << (counts[3] ? ", " + std::to_string(counts[3]) + " harness error" : "")
      << "\n";

  for (const auto& r : results) {
    if (r.outcome != runner::Outcome::kPass) continue;
    for (const auto& n : r.notes) out << "note: " << r.name << ": " << n << "\n";
  }
  for (const auto& r : results) {
    if (r.outcome == runner::Outcome::kPass) continue;
    out << "\n" << upper(runner::to_string(r.outcome)) << " " << r.name << " (" << r.file << ", seed " << r.seed
        << "; rerun with: dexthil run --seed " << r.seed << " " << r.file << ")\n";
    for (const auto& f : r.failures) out << "  - " << f << "\n";
    for (const auto& n : r.notes) out << "  note: " << n << "\n";
    for (const auto& f : r.findings) {
      out << "  [" << f.finding.check << "] " << f.finding.where << " at " << sim::format_time(f.finding.time) << ": "
          << f.finding.what << "\n      " << f.finding.why << (f.expected ? " (expected)" : "") << "\n";
    }
    for (const auto& h : r.held_back) {
      out << "  ... and " << h.held.count << " more [" << h.held.check << "] on " << h.held.where
          << " (counted, not listed)" << (h.expected ? " (expected)" : "") << "\n";
    }
  }

  if (!o.out_dir.empty()) {
    std::string error;
    if (!report::write_reports(o.out_dir, {DEXTHIL_VERSION, o.seed}, results, &error)) {
      err << "dexthil: " << error << "\n";
      return kExitUsage;
    }
    out << "\nreports: " << o.out_dir << "/junit.xml, " << o.out_dir << "/summary.json\n";
  }
  if (counts[3]) return kExitHarness;
  if (counts[2]) return kExitUsage;
  return counts[1] ? kExitFail : kExitPass;
}

std::string describe_param(const scenario::ParamSpec& p) {
  switch (p.kind) {
    case scenario::ParamKind::kInteger:
      return "integer " + std::to_string(p.min) + ".." + std::to_string(p.max) + ", default " +
             std::to_string(p.default_value.integer);
    case scenario::ParamKind::kDuration: return "duration, default " + sim::format_time(p.default_value.duration);
    case scenario::ParamKind::kBool: return std::string("boolean, default ") + (p.default_value.boolean ? "true" : "false");
    case scenario::ParamKind::kString: return "string, default \"" + p.default_value.string + "\"";
  }
  return "";
}

int command_list(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {"--models", "--checks", "--sections"}, &o, err)) return kExitUsage;
  if (o.help) {
    out << kListHelp;
    return kExitPass;
  }
  const runner::ModelCatalog catalog = models::builtin_catalog();
  if (o.list_models) {
    for (const auto& t : catalog.infos()) {
      out << t.type << ": " << t.summary << "\n";
      std::string ports;
      for (const auto& p : t.ports) {
        // A required clock is never missing: the loader gives 250 MHz when the scenario does not.
        const char* note = !p.required ? "" : p.kind == scenario::PortKind::kClock ? " (250MHz unless given)" : " (required)";
        ports += (ports.empty() ? "" : ", ") + std::string(scenario::to_string(p.kind)) + note;
      }
      out << "  ports: " << (ports.empty() ? "none" : ports) << "\n";
      for (const auto& p : t.params) out << "  " << pad(p.name, 18) << p.summary << " (" << describe_param(p) << ")\n";
    }
    return kExitPass;
  }
  if (o.list_checks) {
    for (const auto& c : checks::known_checks()) out << pad(c.id, 28) << c.summary << "\n";
    for (const auto& t : catalog.infos()) {
      for (const auto& c : t.checks) out << pad(c.id, 28) << c.summary << " (model type " << t.type << ")\n";
    }
    return kExitPass;
  }
  if (o.list_sections) {
    std::size_t width = 0;  // the longest name, and two spaces
    for (const auto& section : catalog.sections()) width = std::max(width, section->key().size() + 6);
    for (const auto& section : catalog.sections()) out << pad("[[" + std::string(section->key()) + "]]", width) << section->summary() << "\n";
    return kExitPass;
  }
  if (o.paths.empty()) {
    err << "dexthil: 'list' needs scenario files or folders, or --models / --checks / --sections\n";
    return kExitUsage;
  }
  std::vector<scenario::Scenario> scenarios;
  if (!load_all(o.paths, catalog, &scenarios, err)) return kExitUsage;
  for (const auto& s : scenarios) {
    std::string models;
    for (const auto& m : s.models) models += (models.empty() ? "" : ",") + m.name + ":" + m.type;
    std::string labels;
    for (const auto& l : s.labels) labels += (labels.empty() ? "" : ",") + l;
    out << s.name << "  duration " << sim::format_time(s.duration) << "  seed "
        << (s.seed ? std::to_string(*s.seed) : std::to_string(runner::kDefaultSeed) + " (default)") << "  models "
        << (models.empty() ? "-" : models) << "  labels " << (labels.empty() ? "-" : labels) << "  " << s.file << "\n";
  }
  return kExitPass;
}

int command_topo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {}, &o, err)) return kExitUsage;
  if (o.help) {
    out << kTopoHelp;
    return kExitPass;
  }
  if (o.paths.size() != 1) {
    err << "dexthil: 'topo' takes one topology file\n" << kTopoHelp;
    return kExitUsage;
  }
  std::string error;
  auto topology = pcie::load_topology(o.paths[0], &error);
  if (!topology) {
    err << error << "\n";
    return kExitUsage;
  }
  try {
    sim::Simulator sim(runner::kDefaultSeed);
    hostmem::SparseMemory memory;
    hostmem::PageAllocator tables(kPageTableRegionBase, kPageTableRegionSize);
    pcie::Fabric fabric(std::move(*topology), sim, memory, tables);
    platform::enumerate_pci(fabric);
    out << pcie::render_tree(fabric);
  } catch (const std::runtime_error& e) {
    err << e.what() << "\n";
    return kExitUsage;
  }
  return kExitPass;
}

// The --setting values as the target level of an Xcode build; false with a message when a
// name is not a build setting's.
bool command_line_settings(const Options& o, xcode::BuildSettings* settings, std::ostream& err) {
  for (const auto& [name, value] : o.settings) {
    std::string error;
    if (!settings->assign(xcode::BuildSettings::kTarget, name, value, "--setting", &error)) {
      err << "dexthil: " << error << "\n";
      return false;
    }
  }
  return true;
}

int command_lint_plist(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {"--entitlements", "--setting"}, &o, err)) return kExitUsage;
  if (o.help) {
    out << kLintPlistHelp;
    return kExitPass;
  }
  if (o.paths.size() != 1) {
    err << "dexthil: 'lint-plist' takes one Info.plist\n" << kLintPlistHelp;
    return kExitUsage;
  }
  xcode::BuildSettings settings;
  if (!command_line_settings(o, &settings, err)) return kExitUsage;
  std::string error;
  auto info = driverkit::load_info_plist(o.paths[0], &error, &settings);
  if (!info) {
    err << error << "\n";
    return kExitUsage;
  }
  std::optional<driverkit::Entitlements> entitlements;
  if (!o.entitlements.empty()) {
    entitlements = driverkit::load_entitlements(o.entitlements, &error);
    if (!entitlements) {
      err << error << "\n";
      return kExitUsage;
    }
  }
  const auto findings = driverkit::lint(*info, entitlements ? &*entitlements : nullptr);
  for (const auto& f : findings) {
    out << info->file << ": " << f.where << ": [" << f.rule << "] " << f.what << "\n    " << f.why << "\n";
  }
  out << findings.size() << " finding" << (findings.size() == 1 ? "" : "s") << " in " << info->personalities.size()
      << " personalit" << (info->personalities.size() == 1 ? "y" : "ies") << "\n";
  return findings.empty() ? kExitPass : kExitFail;
}

int command_expand_plist(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {"--setting"}, &o, err)) return kExitUsage;
  if (o.help) {
    out << kExpandPlistHelp;
    return kExitPass;
  }
  if (o.paths.size() != 2) {
    err << "dexthil: 'expand-plist' takes an Info.plist and the file to write\n" << kExpandPlistHelp;
    return kExitUsage;
  }
  xcode::BuildSettings settings;
  if (!command_line_settings(o, &settings, err)) return kExitUsage;
  std::vector<driverkit::UnsetSetting> unset;
  std::string error;
  if (!driverkit::write_expanded_info_plist(o.paths[0], o.paths[1], settings, &unset, &error)) {
    err << error << "\n";
    return kExitUsage;
  }
  for (const driverkit::UnsetSetting& u : unset) {
    err << o.paths[0] << ": warning: " << u.where << ": $(" << u.name
        << ") is not a defined build setting; it expands to nothing, as in Xcode\n";
  }
  return kExitPass;
}

// A path relative to `root` when it lies below it (shorter to read), marked when it does not exist.
std::string shown(const std::string& path, const std::string& root) {
  std::string s = path;
  if (path.size() > root.size() + 1 && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/') {
    s = path.substr(root.size() + 1);
  }
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? s : s + "  (missing)";
}

void print_xcode_target(const xcode::XcodeTarget& t, std::ostream& out) {
  auto or_none = [](const std::string& s) { return s.empty() ? std::string("(not set)") : s; };
  auto file = [&](const std::string& s) { return s.empty() ? std::string("(not set)") : shown(s, t.source_root); };
  out << "target:            " << t.name << "\n"
      << "product type:      " << or_none(t.product_type)
      << (t.is_driver_extension() ? "" : " (not a driver extension)") << "\n"
      << "configuration:     " << t.configuration << "\n"
      << "project:           " << t.project << "\n"
      << "source root:       " << t.source_root << " (the paths below are relative to it)\n"
      << "product name:      " << or_none(t.product_name) << "\n"
      << "bundle identifier: " << or_none(t.bundle_identifier) << "\n"
      << "deployment target: " << (t.deployment_target.empty() ? "(not set)" : "DriverKit " + t.deployment_target)
      << "\n"
      << "Info.plist:        " << file(t.info_plist) << "\n"
      << "entitlements:      " << file(t.entitlements) << "\n";
  auto files = [&](const char* title, const std::vector<std::string>& paths) {
    out << title << (paths.empty() ? ": none\n" : " (" + std::to_string(paths.size()) + "):\n");
    for (const auto& p : paths) out << "  " << shown(p, t.source_root) << "\n";
  };
  files("xcconfig files", t.xcconfig_files);
  files("iig files", t.iig_files);
  files("C++ sources", t.cpp_sources);
  files("C sources", t.c_sources);
  files("headers", t.headers);
  const auto& paths = t.header_search_paths;
  out << "header search paths" << (paths.empty() ? ": none\n" : " (" + std::to_string(paths.size()) + "):\n");
  for (const auto& p : paths) {
    out << "  " << shown(p.path, t.source_root) << (p.recursive ? " (and every folder below it)" : "") << "\n";
  }
  out << "definitions" << (t.definitions.empty() ? ": none\n" : " (" + std::to_string(t.definitions.size()) + "):\n");
  for (const auto& d : t.definitions) out << "  " << d << "\n";
  out << "not built" << (t.ignored.empty() ? ": none\n" : " (" + std::to_string(t.ignored.size()) + "):\n");
  for (const auto& i : t.ignored) out << "  " << shown(i.path, t.source_root) << ": " << i.reason << "\n";
  for (const auto& n : t.notes) out << "note: " << n << "\n";
  if (!t.undefined_settings.empty()) {
    std::string names;
    for (const auto& u : t.undefined_settings) names += (names.empty() ? "" : ", ") + u;
    out << "note: these build settings are used but set nowhere, so they expand to \"\": " << names << "\n";
  }
}

int command_xcode_target(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse_options(args, 1, {"--configuration", "--cmake"}, &o, err)) return kExitUsage;
  if (o.help) {
    out << kXcodeTargetHelp;
    return kExitPass;
  }
  if (o.paths.size() != 2) {
    err << "dexthil: 'xcode-target' takes an Xcode project folder and a target name\n" << kXcodeTargetHelp;
    return kExitUsage;
  }
  std::string error;
  auto target = xcode::load_xcode_target(o.paths[0], o.paths[1], o.configuration, &error);
  if (!target) {
    err << error << "\n";
    return kExitUsage;
  }
  if (o.cmake_file.empty()) {
    print_xcode_target(*target, out);
    return kExitPass;
  }
  auto script = xcode::cmake_script(*target, &error);
  if (!script) {
    err << error << "\n";
    return kExitUsage;
  }
  // Written beside the destination and renamed over it, so a failed run leaves no half-written file.
  const std::string temporary = o.cmake_file + ".tmp";
  std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
  file << *script;
  file.close();
  std::error_code ec;
  if (!file) {
    std::filesystem::remove(temporary, ec);
    err << "dexthil: cannot write " << temporary << "\n";
    return kExitUsage;
  }
  std::filesystem::rename(temporary, o.cmake_file, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temporary, ec);
    err << "dexthil: cannot rename " << temporary << " to " << o.cmake_file << ": " << why << "\n";
    return kExitUsage;
  }
  out << "wrote " << o.cmake_file << " (target " << target->name << ", configuration " << target->configuration
      << ")\n";
  return kExitPass;
}

}  // namespace

int main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool /*interactive*/) {
  if (args.empty()) {
    err << kMainHelp;
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    if (command == "help" && args.size() > 1) {
      if (args[1] == "run") out << kRunHelp;
      else if (args[1] == "list") out << kListHelp;
      else if (args[1] == "version") out << kVersionHelp;
      else if (args[1] == "topo") out << kTopoHelp;
      else if (args[1] == "lint-plist") out << kLintPlistHelp;
      else if (args[1] == "xcode-target") out << kXcodeTargetHelp;
      else if (args[1] == "expand-plist") out << kExpandPlistHelp;
      else {
        err << "dexthil: no command named \"" << args[1] << "\"\n" << kMainHelp;
        return kExitUsage;
      }
      return kExitPass;
    }
    out << kMainHelp;
    return kExitPass;
  }
  if (command == "run") return command_run(args, out, err);
  if (command == "list") return command_list(args, out, err);
  if (command == "topo") return command_topo(args, out, err);
  if (command == "lint-plist") return command_lint_plist(args, out, err);
  if (command == "xcode-target") return command_xcode_target(args, out, err);
  if (command == "expand-plist") return command_expand_plist(args, out, err);
  if (command == "version" || command == "--version") {
    Options o;
    if (!parse_options(args, 1, {}, &o, err)) return kExitUsage;
    if (o.help) {
      out << kVersionHelp;
      return kExitPass;
    }
    out << "dexthil " << DEXTHIL_VERSION << "\n";
    return kExitPass;
  }
  err << "dexthil: unknown command \"" << command << "\"\n" << kMainHelp;
  return kExitUsage;
}

}  // namespace dexthil::cli
