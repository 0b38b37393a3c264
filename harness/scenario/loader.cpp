#include "harness/scenario/loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "harness/checks/finding.hpp"
#include "harness/dma/transaction.hpp"

namespace fs = std::filesystem;

namespace dexthil::scenario {

std::string SourcePos::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

// Thrown inside the loader, caught in load_text(): the first problem ends the file.
struct Problem {
  SourcePos pos;
  std::string key;
  std::string message;
};

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

class Reader {
 public:
  Reader(const std::string& file, const std::vector<ModelTypeInfo>& types) : file_(file), types_(types) {
    base_dir_ = fs::path(file).parent_path();
  }

  Scenario read(const toml::table& root) {
    Scenario s;
    s.file = file_;
    s.pos = pos(root);
    allow_keys(root, "", {"scenario", "host", "model", "dext", "capture", "fault", "checks", "budgets", "expect"});

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
    if (auto topo = string(head, "topology", "scenario", false)) s.topology = existing_file(head, "topology", "scenario", *topo);

    if (const toml::node* host = root.get("host")) {
      const toml::table& t = as_table(*host, "host");
      allow_keys(t, "host", {"dma_latency"});
      s.host_dma_latency = duration(t, "dma_latency", "host", false, 0, sim::kSecond).value_or(s.host_dma_latency);
    }

    for_each_table(root, "model", [&](const toml::table& t, const std::string& path) {
      s.models.push_back(read_model(t, path));
    });
    std::set<std::string> model_names;
    for (std::size_t i = 0; i < s.models.size(); ++i) {
      if (!model_names.insert(s.models[i].name).second) {
        fail_at(s.models[i].pos, "model[" + std::to_string(i) + "].name",
                "a model named \"" + s.models[i].name + "\" is already defined in this scenario");
      }
    }

    for_each_table(root, "dext", [&](const toml::table& t, const std::string& path) {
      allow_keys(t, path, {"name", "path"});
      DextSpec d;
      d.pos = pos(t);
      d.name = string(t, "name", path, true).value();
      d.path = existing_file(t, "path", path, string(t, "path", path, true).value());
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
      s.faults.push_back(read_fault(t, path, model_names));
    });

    if (const toml::node* checks = root.get("checks")) {
      const toml::table& t = as_table(*checks, "checks");
      for (auto&& [key, value] : t) {
        std::string id(key.str());
        if (!checks::is_known_check(id)) fail(value, "checks." + id, "unknown check \"" + id + "\"" + known_checks_hint());
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
      allow_keys(t, path, {"finding", "model", "count"});
      ExpectSpec e;
      e.pos = pos(t);
      e.check = string(t, "finding", path, true).value();
      if (!checks::is_known_check(e.check)) {
        fail(*t.get("finding"), path + ".finding", "unknown finding \"" + e.check + "\"" + known_checks_hint());
      }
      if (auto where = string(t, "model", path, false)) {
        if (!model_names.count(*where)) fail(*t.get("model"), path + ".model", "no model named \"" + *where + "\" in this scenario");
        e.where = *where;
      }
      if (const toml::node* count = t.get("count")) {
        e.count = static_cast<std::uint32_t>(integer(*count, path + ".count", 0, 1'000'000));
      }
      s.expectations.push_back(std::move(e));
    });
    return s;
  }

 private:
  SourcePos pos(const toml::node& node) const {
    return SourcePos{file_, node.source().begin.line, node.source().begin.column};
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& key, std::string message) const {
    throw Problem{pos(node), key, std::move(message)};
  }
  [[noreturn]] void fail_at(const SourcePos& where, const std::string& key, std::string message) const {
    throw Problem{where, key, std::move(message)};
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  void allow_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, value] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(value, join(path, key.str()), "unknown key \"" + std::string(key.str()) + "\" (allowed here: " + list + ")");
      }
    }
  }

  const toml::table& as_table(const toml::node& node, const std::string& path) const {
    if (!node.is_table()) fail(node, path, std::string("expected a table, got ") + type_name(node));
    return *node.as_table();
  }

  const toml::table& table(const toml::table& parent, std::string_view key, const std::string& path, bool required) const {
    static const toml::table empty;
    const toml::node* node = parent.get(key);
    if (!node) {
      if (required) fail(parent, join(path, key), "missing required table [" + join(path, key) + "]");
      return empty;
    }
    return as_table(*node, join(path, key));
  }

  // [[key]] arrays of tables; a single [key] table is a common slip and gets its own message.
  template <class Fn>
  void for_each_table(const toml::table& root, std::string_view key, Fn fn) const {
    const toml::node* node = root.get(key);
    if (!node) return;
    if (node->is_table()) {
      fail(*node, std::string(key), "write [[" + std::string(key) + "]] (an array of tables), not [" + std::string(key) + "]");
    }
    if (!node->is_array_of_tables()) fail(*node, std::string(key), std::string("expected [[") + std::string(key) + "]] tables, got " + type_name(*node));
    const toml::array& arr = *node->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      fn(*arr.get(i)->as_table(), std::string(key) + "[" + std::to_string(i) + "]");
    }
  }

  std::optional<std::string> string(const toml::table& t, std::string_view key, const std::string& path, bool required) const {
    const toml::node* node = t.get(key);
    if (!node) {
      if (required) fail(t, join(path, key), "missing required key \"" + std::string(key) + "\"");
      return std::nullopt;
    }
    if (!node->is_string()) fail(*node, join(path, key), std::string("expected a string, got ") + type_name(*node));
    std::string value = node->value<std::string>().value();
    if (required && value.empty()) fail(*node, join(path, key), "must not be empty");
    return value;
  }

  std::vector<std::string> string_list(const toml::table& t, std::string_view key, const std::string& path) const {
    std::vector<std::string> out;
    const toml::node* node = t.get(key);
    if (!node) return out;
    if (!node->is_array()) fail(*node, join(path, key), std::string("expected an array of strings, got ") + type_name(*node));
    const toml::array& arr = *node->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const toml::node& item = *arr.get(i);
      if (!item.is_string()) {
        fail(item, join(path, key) + "[" + std::to_string(i) + "]", std::string("expected a string, got ") + type_name(item));
      }
      out.push_back(item.value<std::string>().value());
    }
    return out;
  }

  std::int64_t integer(const toml::node& node, const std::string& path, std::int64_t min, std::int64_t max) const {
    if (!node.is_integer()) fail(node, path, std::string("expected an integer, got ") + type_name(node));
    std::int64_t v = node.value<std::int64_t>().value();
    if (v < min || v > max) {
      fail(node, path, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    return v;
  }

  std::optional<sim::SimTime> duration(const toml::table& t, std::string_view key, const std::string& path, bool required,
                                       sim::SimTime min, sim::SimTime max) const {
    const toml::node* node = t.get(key);
    const std::string full = join(path, key);
    if (!node) {
      if (required) fail(t, full, "missing required key \"" + std::string(key) + "\" (a duration such as \"10ms\")");
      return std::nullopt;
    }
    return duration_value(*node, full, min, max);
  }

  sim::SimTime duration_value(const toml::node& node, const std::string& path, sim::SimTime min, sim::SimTime max) const {
    if (node.is_integer() || node.is_floating_point()) {
      fail(node, path, "a duration needs a unit: write it as a string such as \"10ms\" or \"250ns\"");
    }
    if (!node.is_string()) fail(node, path, std::string("expected a duration string such as \"10ms\", got ") + type_name(node));
    std::string text = node.value<std::string>().value();
    std::string error;
    auto t = sim::parse_duration(text, &error);
    if (!t) fail(node, path, error);
    if (*t < min || *t > max) {
      fail(node, path, "\"" + text + "\" is out of range (" + sim::format_time(min) + " to " + sim::format_time(max) + ")");
    }
    return *t;
  }

  std::string one_of(const toml::table& t, std::string_view key, const std::string& path, std::initializer_list<std::string_view> options) const {
    std::string value = string(t, key, path, true).value();
    if (std::find(options.begin(), options.end(), value) == options.end()) {
      std::string list;
      for (auto o : options) list += (list.empty() ? "" : ", ") + std::string(o);
      fail(*t.get(key), join(path, key), "\"" + value + "\" is not one of: " + list);
    }
    return value;
  }

  std::string existing_file(const toml::table& t, std::string_view key, const std::string& path, const std::string& value) const {
    fs::path p(value);
    if (p.is_relative()) p = base_dir_ / p;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      fail(*t.get(key), join(path, key), "file \"" + value + "\" does not exist (looked for " + p.lexically_normal().string() + ")");
    }
    return p.lexically_normal().string();
  }

  static std::string known_checks_hint() {
    std::string list;
    for (const auto& c : checks::known_checks()) list += (list.empty() ? "" : ", ") + std::string(c.id);
    return " (known: " + list + ")";
  }

  ModelSpec read_model(const toml::table& t, const std::string& path) const {
    allow_keys(t, path, {"name", "type", "clock", "params"});
    ModelSpec m;
    m.pos = pos(t);
    m.name = string(t, "name", path, true).value();
    if (!is_identifier(m.name)) fail(*t.get("name"), path + ".name", "\"" + m.name + "\" is not a valid model name");
    m.type = string(t, "type", path, true).value();
    auto type = std::find_if(types_.begin(), types_.end(), [&](const ModelTypeInfo& i) { return i.type == m.type; });
    if (type == types_.end()) {
      std::string list;
      for (const auto& i : types_) list += (list.empty() ? "" : ", ") + i.type;
      fail(*t.get("type"), path + ".type", "unknown model type \"" + m.type + "\" (known: " + list + ")");
    }
    std::string clock = string(t, "clock", path, false).value_or("250MHz");
    std::string error;
    auto period = sim::parse_frequency_period(clock, &error);
    if (!period) fail(t.get("clock") ? *t.get("clock") : static_cast<const toml::node&>(t), path + ".clock", error);
    if (*period < 100) fail(*t.get("clock"), path + ".clock", "\"" + clock + "\" is above the 10 GHz limit");
    m.clock_period = *period;

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

  std::string file_;
  fs::path base_dir_;
  const std::vector<ModelTypeInfo>& types_;
};

}  // namespace

std::optional<Scenario> ScenarioLoader::load(const std::string& path, std::string* error) const {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    *error = path + ": error: no such scenario file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    *error = path + ": error: cannot read the file";
    return std::nullopt;
  }
  return load_text(buffer.str(), path, error);
}

std::optional<Scenario> ScenarioLoader::load_text(const std::string& text, const std::string& path, std::string* error) const {
  try {
    toml::table root = toml::parse(text, path);
    return Reader(path, model_types_).read(root);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    *error = path + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
             ": error: TOML syntax: " + std::string(e.description());
  } catch (const Problem& p) {
    *error = p.pos.str() + ": error: " + p.key + ": " + p.message;
  }
  return std::nullopt;
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
