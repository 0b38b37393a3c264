#include "harness/scenario/loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "harness/checks/finding.hpp"
#include "harness/dma/transaction.hpp"
#include "harness/pcie/topology.hpp"
#include "harness/toml/reader.hpp"
#include "harness/usb/device_description.hpp"

namespace fs = std::filesystem;

namespace dexthil::scenario {

const char* to_string(PortKind kind) {
  switch (kind) {
    case PortKind::kPcieFunction: return "PCIe function";
    case PortKind::kHostMemoryDma: return "host-memory DMA";
    case PortKind::kClock: return "clock";
    case PortKind::kUsbDevice: return "USB device";
    case PortKind::kSerialLine: return "serial line";
  }
  return "?";
}

namespace {

using toml_input::Problem;

class Reader : public toml_input::TomlReader {
 public:
  Reader(const std::string& file, const std::vector<ModelTypeInfo>& types,
         const std::vector<std::shared_ptr<const SectionPlugin>>& sections)
      : TomlReader(file), types_(types), sections_(sections) {
    for (const auto& c : checks::known_checks()) known_ids_.push_back(c.id);
    for (const ModelTypeInfo& t : types_) {
      for (const ModelCheck& c : t.checks) known_ids_.push_back(c.id);
    }
  }

  Scenario read(const toml::table& root) {
    Scenario s;
    s.file = file();
    s.pos = pos(root);
    std::vector<std::string_view> keys{"scenario", "host", "kernel", "model",   "mapping", "dext",
                                       "capture",  "fault", "checks", "budgets", "expect"};
    for (const auto& section : sections_) keys.push_back(section->key());
    allow_keys(root, "", keys);

    const toml::table& head = table(root, "scenario", "", true);
    s.pos = pos(head);
    allow_keys(head, "scenario", {"name", "description", "labels", "seed", "duration", "topology"});
    s.name = string(head, "name", "scenario", true).value();
    if (!is_identifier(s.name)) {
      fail(*head.get("name"), "scenario.name",
           "\"" + s.name + "\" is not a valid name (use letters, digits, '-', '_' and '.', at most 64)");
    }
    s.description = string(head, "description", "scenario", false).value_or("");
    s.labels = string_list(head, "labels", "scenario");
    if (const toml::node* seed = head.get("seed")) {
      s.seed = static_cast<std::uint64_t>(integer(*seed, "scenario.seed", 0, INT64_MAX));
    }
    s.duration = duration(head, "duration", "scenario", true, 1, 3600 * sim::kSecond).value();
    if (auto topo = string(head, "topology", "scenario", false)) {
      s.topology = existing_file(head, "topology", "scenario", *topo);
      std::string error;
      auto topology = pcie::load_topology(*s.topology, &error);
      if (!topology) fail(*head.get("topology"), "scenario.topology", "the topology does not load: " + error);
      for (const pcie::Node* ep : topology->endpoints()) endpoints_.insert(ep->name);
      has_topology_ = true;
    }

    if (const toml::node* kernel = root.get("kernel")) {
      const toml::table& t = as_table(*kernel, "kernel");
      allow_keys(t, "kernel", {"profile", "sleep_at", "wake_at", "dart_fault"});
      s.kernel_profile = one_of(t, "profile", "kernel", {"documented", "field"}, "documented");
      s.dart_fault_panics = one_of(t, "dart_fault", "kernel", {"panic", "continue"}, "panic") == "panic";
      s.sleep_at = duration(t, "sleep_at", "kernel", false, 0, s.duration);
      s.wake_at = duration(t, "wake_at", "kernel", false, 0, s.duration);
      if (s.wake_at && (!s.sleep_at || *s.wake_at <= *s.sleep_at)) {
        fail(*t.get("wake_at"), "kernel.wake_at", "a wake needs an earlier sleep_at");
      }
    }

    if (const toml::node* host = root.get("host")) {
      const toml::table& t = as_table(*host, "host");
      allow_keys(t, "host", {"dma_latency"});
      s.host_dma_latency = duration(t, "dma_latency", "host", false, 0, sim::kSecond).value_or(s.host_dma_latency);
    }

    for_each_table(root, "model", [&](const toml::table& t, const std::string& path) {
      s.models.push_back(read_model(t, path));
    });
    std::set<std::string> model_names;
    std::set<std::string> model_endpoints;
    std::set<std::string> usb_ports;  // where models are plugged in
    std::map<std::string, std::vector<std::string>> line_ends;  // serial line -> the models wired to it
    std::map<std::string, std::string> model_places;  // a place a model's port makes -> what it is
    for (std::size_t i = 0; i < s.models.size(); ++i) {
      const ModelSpec& m = s.models[i];
      // One name, one place: a USB port, an interface and a serial line never share a name.
      const auto claim = [&](const std::string& place, const std::string& what, const char* key) {
        const auto [it, fresh] = model_places.emplace(place, what);
        if (!fresh) {
          fail_at(m.pos, "model[" + std::to_string(i) + "]." + key,
                  "\"" + place + "\" is already the name of " + it->second);
        }
        places_.insert(place);
      };
      if (m.endpoint && !model_endpoints.insert(*m.endpoint).second) {
        fail_at(m.pos, "model[" + std::to_string(i) + "].endpoint",
                "another model already sits behind endpoint \"" + *m.endpoint + "\"");
      }
      if (m.usb_port) {
        if (!usb_ports.insert(*m.usb_port).second) {
          fail_at(m.pos, "model[" + std::to_string(i) + "].usb_port",
                  "another model is already plugged into USB port \"" + *m.usb_port + "\"");
        }
        // The device's nub and its interfaces' are places [[expect]] may name.
        claim(*m.usb_port, "model " + m.name + "'s USB port", "usb_port");
        for (std::uint8_t n : find_type(m.type)->port(PortKind::kUsbDevice)->usb_interfaces) {
          claim(usb::DeviceDescription::interface_location(*m.usb_port, n),
                "an interface of model " + m.name + "'s USB device", "usb_port");
        }
      }
      if (m.serial_line) {
        std::vector<std::string>& ends = line_ends[*m.serial_line];
        if (ends.size() == 2) {
          fail_at(m.pos, "model[" + std::to_string(i) + "].serial_line",
                  "serial line \"" + *m.serial_line + "\" already joins " + ends[0] + " and " + ends[1] +
                      "; a line has two ends");
        }
        // Its findings (serial.framing-error) are placed on the line.
        if (ends.empty()) claim(*m.serial_line, "serial line " + *m.serial_line, "serial_line");
        ends.push_back(m.name);
      }
      if (!model_names.insert(s.models[i].name).second) {
        fail_at(s.models[i].pos, "model[" + std::to_string(i) + "].name",
                "a model named \"" + s.models[i].name + "\" is already defined in this scenario");
      }
    }

    std::set<std::string> model_place_names;
    for (const auto& [place, what] : model_places) model_place_names.insert(place);

    // Sections owned by plug-ins, after the models they may refer to and before the dexts that
    // may match the nubs they publish.
    for (const auto& plugin : sections_) {
      const toml::node* node = root.get(plugin->key());
      if (!node) continue;
      const SectionScope scope{s, has_topology_, endpoints_, model_names, usb_ports, model_place_names};
      LoadedSection loaded{std::string(plugin->key()), plugin->read(*node, *this, scope)};
      for (const std::string& place : loaded.data->places()) places_.insert(place);
      s.sections.push_back(std::move(loaded));
    }

    for_each_table(root, "mapping", [&](const toml::table& t, const std::string& path) {
      allow_keys(t, path, {"endpoint", "size", "direction", "rids"});
      MappingSpec m;
      m.pos = pos(t);
      m.endpoint = endpoint(t, path, true).value();
      if (!t.get("size")) fail(t, path + ".size", "missing required key \"size\" (such as \"256KiB\")");
      m.size = size_value(*t.get("size"), path + ".size", false);
      if (m.size == 0) fail(*t.get("size"), path + ".size", "a buffer holds at least one byte");
      const std::string direction = one_of(t, "direction", path, {"both", "device-reads", "device-writes"}, "both");
      m.device_reads = direction != "device-writes";
      m.device_writes = direction != "device-reads";
      m.all_rids = one_of(t, "rids", path, {"own", "all"}, "own") == "all";
      s.mappings.push_back(std::move(m));
    });

    for_each_table(root, "dext", [&](const toml::table& t, const std::string& path) {
      allow_keys(t, path, {"name", "path"});
      DextSpec d;
      d.pos = pos(t);
      d.name = string(t, "name", path, true).value();
      if (d.name.empty() || d.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                               std::string::npos) {
        fail(*t.get("name"), path + ".name", "\"" + d.name + "\" is not a dext bundle name");
      }
      if (auto p = string(t, "path", path, false)) d.path = existing_directory(t, "path", path, *p);
      s.dexts.push_back(std::move(d));
    });
    for_each_table(root, "capture", [&](const toml::table& t, const std::string& path) {
      allow_keys(t, path, {"path", "format"});
      CaptureSpec c;
      c.pos = pos(t);
      c.format = one_of(t, "format", path, {"pcapng", "usbmon", "umockdev"});
      c.path = existing_file(t, "path", path, string(t, "path", path, true).value());
      s.captures.push_back(std::move(c));
    });
    for_each_table(root, "fault", [&](const toml::table& t, const std::string& path) {
      FaultSpec f = read_fault(t, path, model_names);
      for (const ModelSpec& m : s.models) {
        if (m.name == f.target && !m.endpoint && !find_type(m.type)->port(PortKind::kHostMemoryDma)) {
          fail(*t.get("model"), path + ".model",
               "model \"" + f.target + "\" (" + m.type + ") has no host-memory DMA port for a DMA fault to hit");
        }
        if (m.name == f.target && m.endpoint) {
          fail(*t.get("model"), path + ".model",
               "model \"" + f.target + "\" sits behind the topology, and DMA faults are injected only on the direct "
               "memory path; shape the fabric with the topology's [node.stall] instead");
        }
      }
      s.faults.push_back(std::move(f));
    });

    if (const toml::node* checks = root.get("checks")) {
      const toml::table& t = as_table(*checks, "checks");
      for (auto&& [key, value] : t) {
        std::string id(key.str());
        if (!known(id)) fail(value, "checks." + id, "unknown check \"" + id + "\"" + known_checks_hint(id));
        if (!value.is_boolean()) fail(value, "checks." + id, std::string("expected a boolean, got ") + type_name(value));
        s.checks[id] = value.value<bool>().value();
      }
    }
    if (const toml::node* budgets = root.get("budgets")) {
      const toml::table& t = as_table(*budgets, "budgets");
      allow_keys(t, "budgets", {"dma_latency"});
      s.dma_latency_budget = duration(t, "dma_latency", "budgets", false, 1, 3600 * sim::kSecond);
    }
    for_each_table(root, "expect", [&](const toml::table& t, const std::string& path) {
      ExpectSpec e;
      e.pos = pos(t);
      if (t.get("stat")) {
        s.expectations.push_back(figure_expectation(t, path, model_names));
        return;
      }
      allow_keys(t, path, {"finding", "model", "endpoint", "count"});
      if (!t.get("finding")) {
        fail_at(e.pos, path, "an [[expect]] names a \"finding\" the run must produce or a \"stat\" it must reach");
      }
      e.check = string(t, "finding", path, true).value();
      if (!known(e.check)) {
        fail(*t.get("finding"), path + ".finding", "unknown finding \"" + e.check + "\"" + known_checks_hint(e.check));
      }
      if (auto where = string(t, "model", path, false)) {
        if (!model_names.count(*where)) fail(*t.get("model"), path + ".model", "no model named \"" + *where + "\" in this scenario");
        e.where = *where;
      }
      if (t.get("endpoint")) {
        if (e.where) fail(*t.get("endpoint"), path + ".endpoint", "name either \"model\" or \"endpoint\", not both");
        // A topology endpoint, or a place a section put nubs.
        const auto place = string(t, "endpoint", path, true);
        e.where = places_.count(*place) ? place : endpoint(t, path, true);
      }
      if (const toml::node* count = t.get("count")) {
        e.count = static_cast<std::uint32_t>(integer(*count, path + ".count", 0, 1'000'000));
      }
      s.expectations.push_back(std::move(e));
    });
    const bool states_something = std::any_of(s.expectations.begin(), s.expectations.end(), [](const ExpectSpec& e) {
      return e.stat || !e.count || *e.count > 0;
    });
    if (!states_something) {
      fail_at(s.pos, "expect",
              "the scenario states nothing that must happen, so it would pass if nothing happened at all: add an "
              "[[expect]] with a \"stat\" the run must reach (a figure its summary.json lists under \"models\") or a "
              "\"finding\" it must produce (count 0 alone says only what must not happen)");
    }
    return s;
  }

 private:
  // [[expect]] stat = "OWNER.NAME" with at_least / at_most / equals.
  ExpectSpec figure_expectation(const toml::table& t, const std::string& path, const std::set<std::string>& model_names) {
    allow_keys(t, path, {"stat", "at_least", "at_most", "equals"});
    ExpectSpec e;
    e.pos = pos(t);
    e.stat = string(t, "stat", path, true).value();
    const auto dot = e.stat->rfind('.');
    const std::string owner = dot == std::string::npos ? "" : e.stat->substr(0, dot);
    const auto at = owner.find('@');
    const bool known = model_names.count(owner) ||
                       (at != std::string::npos && at > 0 &&
                        (endpoints_.count(owner.substr(at + 1)) || places_.count(owner.substr(at + 1))));
    if (dot == std::string::npos || dot + 1 == e.stat->size() || !known) {
      fail(*t.get("stat"), path + ".stat",
           "\"" + *e.stat + "\" is not MODEL.NAME (a model of this scenario) or CLASS@ENDPOINT.NAME (a dext service on an "
           "endpoint of its topology, on a place a section such as [[usb_device]] publishes, or on IOUserResources)");
    }
    e.at_least = integer(t, "at_least", path, INT64_MIN, INT64_MAX);
    e.at_most = integer(t, "at_most", path, INT64_MIN, INT64_MAX);
    if (const toml::node* equals = t.get("equals")) {
      if (const auto* i = equals->as_integer()) {
        e.equals = std::to_string(i->get());
      } else if (const auto* b = equals->as_boolean()) {
        e.equals = b->get() ? "true" : "false";
      } else if (const auto* str = equals->as_string()) {
        e.equals = str->get();
      } else {
        fail(*equals, path + ".equals", std::string("expected an integer, boolean or string, got ") + type_name(*equals));
      }
    }
    if (!e.at_least && !e.at_most && !e.equals) {
      fail_at(e.pos, path, "a \"stat\" expectation needs \"at_least\", \"at_most\" or \"equals\"");
    }
    if (e.at_least && e.at_most && *e.at_least > *e.at_most) {
      fail(*t.get("at_most"), path + ".at_most", "is below at_least");
    }
    return e;
  }

  // An endpoint of the scenario's topology, named by `endpoint` in table t.
  std::optional<std::string> endpoint(const toml::table& t, const std::string& path, bool required) const {
    return read_endpoint(*this, t, path, required, has_topology_, endpoints_);
  }

  const ModelTypeInfo* find_type(const std::string& name) const {
    for (const ModelTypeInfo& i : types_) {
      if (i.type == name) return &i;
    }
    return nullptr;
  }

  // A port a [[model]] names by a key (usb_port, serial_line), in the words of its errors.
  struct NamedPort {
    PortKind kind;
    const char* key;
    const char* no_port;  // "<kind> port, so it cannot ..."
    const char* noun;     // what the name names: "port", "line"
    const char* example;
    const char* missing;  // "is a USB device: give it ..."
  };
  // The name, refused on a type without that kind of port and required where the type requires
  // it; a name, and never a topology endpoint's.
  std::optional<std::string> named_port(const toml::table& t, const std::string& path, const ModelSpec& m,
                                        const ModelTypeInfo& type, const NamedPort& p) const {
    std::optional<std::string> name = string(t, p.key, path, false);
    const PortSpec* spec = type.port(p.kind);
    const std::string at_path = path + "." + p.key;
    if (!name) {
      if (spec && spec->required) {
        fail_at(m.pos, at_path,
                "model type " + m.type + " " + p.missing + " (" + p.key + " = \"" + p.example + "\")");
      }
      return name;
    }
    const toml::node& at = *t.get(p.key);
    if (!spec) fail(at, at_path, "model type " + m.type + " has no " + p.no_port + " (its ports: " + ports_of(type) + ")");
    check_place_name(*this, at, at_path, *name, p.noun, p.example, endpoints_);
    return name;
  }

  static std::string ports_of(const ModelTypeInfo& type) {
    std::string list;
    for (const PortSpec& p : type.ports) list += (list.empty() ? "" : ", ") + std::string(to_string(p.kind));
    return list.empty() ? "none" : list;
  }

  bool known(const std::string& id) const {
    return std::find(known_ids_.begin(), known_ids_.end(), id) != known_ids_.end();
  }

  // The known ids of the same family ("dma." for "dma.timeout"), or the families when none match.
  std::string known_checks_hint(const std::string& id) const {
    const std::string family = id.substr(0, id.find('.') + 1);
    std::string same, families;
    for (const std::string& known : known_ids_) {
      if (!family.empty() && known.rfind(family, 0) == 0) same += (same.empty() ? "" : ", ") + known;
      const std::string f = known.substr(0, known.find('.') + 1) + "*";
      if (families.find(f) == std::string::npos) families += (families.empty() ? "" : ", ") + f;
    }
    return same.empty() ? " (known families: " + families + "; `dexthil list --checks` lists every id)"
                        : " (known: " + same + ")";
  }

  ModelSpec read_model(const toml::table& t, const std::string& path) const {
    allow_keys(t, path, {"name", "type", "clock", "endpoint", "usb_port", "serial_line", "params"});
    ModelSpec m;
    m.pos = pos(t);
    m.name = string(t, "name", path, true).value();
    if (!is_identifier(m.name)) fail(*t.get("name"), path + ".name", "\"" + m.name + "\" is not a valid model name");
    m.type = string(t, "type", path, true).value();
    const ModelTypeInfo* type = find_type(m.type);
    if (!type) {
      std::string list;
      for (const auto& i : types_) list += (list.empty() ? "" : ", ") + i.type;
      fail(*t.get("type"), path + ".type", "unknown model type \"" + m.type + "\" (known: " + list + ")");
    }
    const PortSpec* clock_port = type->port(PortKind::kClock);
    if (!clock_port) {
      if (const toml::node* given = t.get("clock")) {
        fail(*given, path + ".clock",
             "model type " + m.type + " has no clock port, so it takes no clock (its ports: " + ports_of(*type) + ")");
      }
    } else if (clock_port->required || t.get("clock")) {
      std::string clock = string(t, "clock", path, false).value_or("250MHz");
      std::string error;
      auto period = sim::parse_frequency(clock, &error);
      if (!period) fail(t.get("clock") ? *t.get("clock") : static_cast<const toml::node&>(t), path + ".clock", error);
      if (period->rounded() < 100) fail(*t.get("clock"), path + ".clock", "\"" + clock + "\" is above the 10 GHz limit");
      m.clock = *period;
    }
    m.endpoint = endpoint(t, path, false);
    const PortSpec* pcie = type->port(PortKind::kPcieFunction);
    if (m.endpoint && !pcie) {
      fail(*t.get("endpoint"), path + ".endpoint",
           "model type " + m.type + " has no PCIe function port, so it cannot sit behind an endpoint (its ports: " +
               ports_of(*type) + ")");
    }
    if (!m.endpoint && pcie && pcie->required) {
      fail_at(m.pos, path + ".endpoint",
              "model type " + m.type + " is a PCIe function: give it the topology endpoint it sits behind");
    }
    m.usb_port = named_port(t, path, m, *type,
                            {PortKind::kUsbDevice, "usb_port", "USB device port, so it cannot plug into a USB port",
                             "port", "usb1.port1", "is a USB device: give it the USB port it plugs into"});
    m.serial_line = named_port(t, path, m, *type,
                               {PortKind::kSerialLine, "serial_line",
                                "serial port, so it cannot be wired to a serial line", "line", "com1",
                                "has a serial port: give it the line it is wired to"});

    const toml::table& params = table(t, "params", path, false);
    const std::string ppath = path + ".params";
    for (auto&& [key, value] : params) {
      auto spec = std::find_if(type->params.begin(), type->params.end(), [&](const ParamSpec& p) { return p.name == key.str(); });
      if (spec == type->params.end()) {
        std::string list;
        for (const auto& p : type->params) list += (list.empty() ? "" : ", ") + p.name;
        fail(value, join(ppath, key.str()),
             "unknown parameter \"" + std::string(key.str()) + "\" for model type " + m.type + " (known: " + list + ")");
      }
    }
    for (const ParamSpec& spec : type->params) {
      ParamValue v = spec.default_value;
      v.kind = spec.kind;
      const std::string kpath = join(ppath, spec.name);
      if (const toml::node* node = params.get(spec.name)) {
        v.pos = pos(*node);
        switch (spec.kind) {
          case ParamKind::kInteger: v.integer = integer(*node, kpath, spec.min, spec.max); break;
          case ParamKind::kDuration:
            v.duration = duration_value(*node, kpath, static_cast<sim::SimTime>(std::max<std::int64_t>(spec.min, 0)),
                                        static_cast<sim::SimTime>(spec.max));
            break;
          case ParamKind::kBool:
            if (!node->is_boolean()) fail(*node, kpath, std::string("expected a boolean, got ") + type_name(*node));
            v.boolean = node->value<bool>().value();
            break;
          case ParamKind::kString:
            if (!node->is_string()) fail(*node, kpath, std::string("expected a string, got ") + type_name(*node));
            v.string = node->value<std::string>().value();
            break;
        }
      }
      m.params[spec.name] = v;
    }
    return m;
  }

  FaultSpec read_fault(const toml::table& t, const std::string& path, const std::set<std::string>& models) const {
    allow_keys(t, path, {"kind", "model", "request", "status", "stall"});
    FaultSpec f;
    f.pos = pos(t);
    f.kind = one_of(t, "kind", path, {"dma-completion-status", "dma-stall", "dma-corrupt-read"});
    f.target = string(t, "model", path, true).value();
    if (!models.count(f.target)) fail(*t.get("model"), path + ".model", "no model named \"" + f.target + "\" in this scenario");
    const toml::node* request = t.get("request");
    if (!request) fail(t, path + ".request", "missing required key \"request\" (which DMA request, counting from 0)");
    f.request = static_cast<std::uint64_t>(integer(*request, path + ".request", 0, INT64_MAX));
    if (f.kind == "dma-completion-status") {
      f.status = one_of(t, "status", path, {"UR", "CA", "CRS"});
    } else if (t.get("status")) {
      fail(*t.get("status"), path + ".status", "\"status\" applies only to kind \"dma-completion-status\"");
    }
    if (f.kind == "dma-stall") {
      f.stall = duration(t, "stall", path, true, 1, sim::kSecond).value();
    } else if (t.get("stall")) {
      fail(*t.get("stall"), path + ".stall", "\"stall\" applies only to kind \"dma-stall\"");
    }
    return f;
  }

  const std::vector<ModelTypeInfo>& types_;
  const std::vector<std::shared_ptr<const SectionPlugin>>& sections_;
  // Where nubs are: every Mac's resources nub, and where sections put theirs.
  std::set<std::string> places_{"IOUserResources"};
  std::vector<std::string> known_ids_;  // the core finding ids and those the model types add
  bool has_topology_ = false;
  std::set<std::string> endpoints_;
};

}  // namespace

void check_place_name(const toml_input::TomlReader& in, const toml::node& at, const std::string& path,
                      const std::string& name, std::string_view noun, std::string_view example,
                      const std::set<std::string>& endpoints) {
  if (!toml_input::TomlReader::is_identifier(name)) {
    in.fail(at, path, "\"" + name + "\" is not a " + std::string(noun) + " name (such as \"" + std::string(example) + "\")");
  }
  if (endpoints.count(name)) in.fail(at, path, "\"" + name + "\" is already a topology endpoint's name");
}

std::optional<std::string> read_endpoint(const toml_input::TomlReader& in, const toml::table& t, const std::string& path,
                                         bool required, bool has_topology, const std::set<std::string>& endpoints) {
  auto name = in.string(t, "endpoint", path, required);
  if (!name) return std::nullopt;
  if (!has_topology) {
    in.fail(*t.get("endpoint"), path + ".endpoint", "names an endpoint, but the scenario has no topology (scenario.topology)");
  }
  if (!endpoints.count(*name)) {
    std::string list;
    for (const auto& e : endpoints) list += (list.empty() ? "" : ", ") + e;
    in.fail(*t.get("endpoint"), path + ".endpoint", "the topology has no endpoint \"" + *name + "\" (endpoints: " + list + ")");
  }
  return name;
}

std::optional<Scenario> ScenarioLoader::load(const std::string& path, std::string* error) const {
  std::string text;
  if (!toml_input::read_file(path, &text, error)) {
    if (error->ends_with("no such file")) *error = path + ": error: no such scenario file";
    return std::nullopt;
  }
  return load_text(text, path, error);
}

std::optional<Scenario> ScenarioLoader::load_text(const std::string& text, const std::string& path, std::string* error) const {
  std::optional<Scenario> scenario;
  toml_input::parse(text, path, [&](const toml::table& root) { scenario = Reader(path, model_types_, sections_).read(root); }, error);
  return scenario;
}

std::vector<std::string> collect_scenario_files(const std::vector<std::string>& args, std::vector<std::string>* errors) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(arg, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".toml") found.push_back(it->path().string());
      }
      if (ec) errors->push_back(arg + ": error: cannot list the folder: " + ec.message());
      if (found.empty() && !ec) errors->push_back(arg + ": error: folder holds no scenario files (*.toml)");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(arg, ec)) {
      files.push_back(arg);
    } else {
      errors->push_back(arg + ": error: no such scenario file or folder");
    }
  }
  return files;
}

void check_unique_names(const std::vector<Scenario>& scenarios, std::vector<std::string>* errors) {
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (scenarios[i].name == scenarios[j].name) {
        errors->push_back(scenarios[i].pos.str() + ": error: scenario.name: \"" + scenarios[i].name +
                          "\" is already the name of the scenario in " + scenarios[j].file);
        break;
      }
    }
  }
}

}  // namespace dexthil::scenario
