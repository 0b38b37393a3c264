#pragma once
// A scenario as loaded and validated from its file: everything a run needs, with every value
// checked and defaulted, and the file position of each part for later messages.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/scenario/section.hpp"
#include "harness/sim/time.hpp"
#include "harness/toml/position.hpp"

namespace dexthil::scenario {

using SourcePos = toml_input::Position;

enum class ParamKind { kInteger, kDuration, kBool, kString };

struct ParamValue {
  ParamKind kind = ParamKind::kInteger;
  std::int64_t integer = 0;
  sim::SimTime duration = 0;
  bool boolean = false;
  std::string string;
  // Where the scenario gave it (its value's position); unset for a default.
  std::optional<toml_input::Position> pos = std::nullopt;

  // For ParamSpec defaults.
  static ParamValue of_integer(std::int64_t v) { return {ParamKind::kInteger, v, 0, false, {}}; }
  static ParamValue of_duration(sim::SimTime v) { return {ParamKind::kDuration, 0, v, false, {}}; }
  static ParamValue of_string(std::string v) { return {ParamKind::kString, 0, 0, false, std::move(v)}; }
};

// What a model type accepts in its [model.params] table.
struct ParamSpec {
  std::string name;
  ParamKind kind;
  std::string summary;
  ParamValue default_value;
  std::int64_t min = INT64_MIN;  // integers, and durations in picoseconds
  std::int64_t max = INT64_MAX;
};

// What a model type connects to. A scenario gives a model exactly the ports its type declares.
enum class PortKind {
  kPcieFunction,   // sits behind a topology endpoint: MMIO, config space, MSI, DMA through the fabric
  kHostMemoryDma,  // DMA straight to host memory (after [host] dma_latency), when not behind an endpoint
  kClock,          // a clock input: the model is evaluated on its edges, at `clock` (required: 250 MHz if not
                   // given; optional: no clock unless given)
  kUsbDevice,      // plugs into a USB host port (`usb_port`): its descriptors become USB nubs dexts match
  kSerialLine,     // one end of a serial line (`serial_line`): a UART, wired to the model on the other end
};
struct PortSpec {
  PortSpec(PortKind kind, bool required = false, std::vector<std::uint8_t> usb_interfaces = {})
      : kind(kind), required(required), usb_interfaces(std::move(usb_interfaces)) {}
  PortKind kind;
  bool required = false;
  // kUsbDevice: the interface numbers of the device's configuration, so that a scenario may name
  // the places its interface nubs get ("usb1.port1.if0") before the model runs.
  std::vector<std::uint8_t> usb_interfaces;
};
const char* to_string(PortKind kind);

// A finding id a model type raises, with its one-line summary (beside the core ids in
// checks::known_checks): adding a device adds its own ids without editing the core list.
struct ModelCheck {
  std::string id;
  std::string summary;
};

struct ModelTypeInfo {
  std::string type;
  std::string summary;
  std::vector<ParamSpec> params;
  std::vector<PortSpec> ports;
  std::vector<ModelCheck> checks;

  const PortSpec* port(PortKind kind) const {
    for (const PortSpec& p : ports) {
      if (p.kind == kind) return &p;
    }
    return nullptr;
  }
};

struct ModelSpec {
  std::string name;
  std::string type;
  // With a clock port: its rate, exact (22.5792 MHz stays 22.5792 MHz); 250 MHz unless given.
  std::optional<sim::Period> clock;
  std::optional<std::string> endpoint;       // the topology endpoint the model sits behind
  std::optional<std::string> usb_port;       // the USB host port it is plugged into ("usb1.port1")
  std::optional<std::string> serial_line;    // the serial line its UART is wired to ("com1")
  std::map<std::string, ParamValue> params;  // every ParamSpec of the type, defaults filled in
  SourcePos pos;

  std::int64_t integer(const std::string& key) const { return params.at(key).integer; }
  // Where a parameter's value is, for an error about it: its own position when the scenario gave
  // it, else the [[model]]'s.
  const SourcePos& param_pos(const std::string& key) const {
    const ParamValue& v = params.at(key);
    return v.pos ? *v.pos : pos;
  }
  sim::SimTime duration(const std::string& key) const { return params.at(key).duration; }
};

// A dext bundle as dexthil_add_dext lays it out: NAME.dext/ holding libNAME.so and Info.plist.
struct DextSpec {
  std::string name;                 // the bundle's name (the dexthil_add_dext target)
  std::optional<std::string> path;  // its NAME.dext folder, resolved against the scenario's folder;
                                    // absent: looked up in the runner's dext folders
  SourcePos pos;
};

struct CaptureSpec {
  std::string path;
  std::string format;  // "pcapng", "usbmon", "umockdev"
  SourcePos pos;
};

// A buffer the harness prepares for DMA before the run, as a driver's PrepareForDMA would.
struct MappingSpec {
  std::string endpoint;
  std::uint64_t size = 0;
  bool device_reads = true;
  bool device_writes = true;
  bool all_rids = false;  // map under every RID the DMA can arrive with (Linux), not only the own RID (macOS)
  SourcePos pos;
};

struct FaultSpec {
  std::string kind;    // "dma-completion-status", "dma-stall", "dma-corrupt-read"
  std::string target;  // a model name
  std::uint64_t request = 0;
  std::string status;  // for dma-completion-status: "UR", "CA", "CRS"
  sim::SimTime stall = 0;
  SourcePos pos;
};

// What a run must produce: a finding (`check`), or a figure the run reports (`stat`).
struct ExpectSpec {
  std::string check;                 // a finding id; empty for a figure
  std::optional<std::string> where;  // a model or endpoint name; any when absent
  std::optional<std::uint32_t> count;  // exactly this many; at least one when absent
  // "OWNER.NAME": a model's statistic, or a dext service's figure ("Class@endpoint.stage")
  std::optional<std::string> stat;
  std::optional<std::int64_t> at_least, at_most;
  std::optional<std::string> equals;  // compared as text; numbers and booleans as TOML writes them
  SourcePos pos;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::vector<std::string> labels;
  std::optional<std::uint64_t> seed;
  sim::SimTime duration = 0;
  std::optional<std::string> topology;  // resolved path
  sim::SimTime host_dma_latency = 500 * sim::kNanosecond;
  std::vector<ModelSpec> models;
  std::vector<DextSpec> dexts;
  std::string kernel_profile = "documented";  // [kernel] profile: "documented" or "field"
  std::optional<sim::SimTime> sleep_at;        // [kernel] sleep_at: system sleep at this time
  std::optional<sim::SimTime> wake_at;         // [kernel] wake_at: and wake (after sleep_at)
  // [kernel] dart_fault: "panic" (true, the default: the first DART error panics the Mac and the
  // run stops there) or "continue" (false: the refused DMA completes with UR and the run goes on).
  bool dart_fault_panics = true;
  std::vector<CaptureSpec> captures;
  std::vector<MappingSpec> mappings;
  std::vector<FaultSpec> faults;
  std::vector<LoadedSection> sections;  // read by their plug-ins (section.hpp), in file order of their keys
  std::map<std::string, bool> checks;  // check id -> enabled; absent means enabled
  std::optional<sim::SimTime> dma_latency_budget;
  std::vector<ExpectSpec> expectations;
  SourcePos pos;

  bool check_enabled(const std::string& id) const {
    auto it = checks.find(id);
    return it == checks.end() || it->second;
  }
};

}  // namespace dexthil::scenario
