#include "harness/toml/reader.hpp"

#include <span>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dexthil::toml_input {
namespace {
std::string comma_list(std::span<const std::string_view> items) {
  std::string list;
  for (auto i : items) list += (list.empty() ? "" : ", ") + std::string(i);
  return list;
}
}  // namespace

bool parse(const std::string& text, const std::string& path, const std::function<void(const toml::table&)>& read,
           std::string* error) {
  try {
    toml::table root = toml::parse(text, path);
    read(root);
    return true;
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    *error = path + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
             ": error: TOML syntax: " + std::string(e.description());
  } catch (const Problem& p) {
    *error = p.pos.str() + ": error: " + p.key + ": " + p.message;
  }
  return false;
}

bool read_file(const std::string& path, std::string* text, std::string* error) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    *error = path + ": error: no such file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    *error = path + ": error: cannot read the file";
    return false;
  }
  *text = buffer.str();
  return true;
}

TomlReader::TomlReader(std::string file) : file_(std::move(file)), base_dir_(fs::path(file_).parent_path()) {}

Position TomlReader::pos(const toml::node& node) const {
  return Position{file_, node.source().begin.line, node.source().begin.column};
}

void TomlReader::fail(const toml::node& node, const std::string& key, std::string message) const {
  throw Problem{pos(node), key, std::move(message)};
}

void TomlReader::fail_at(const Position& where, const std::string& key, std::string message) const {
  throw Problem{where, key, std::move(message)};
}

std::string TomlReader::join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

const char* TomlReader::type_name(const toml::node& node) {
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

bool TomlReader::is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

void TomlReader::allow_keys(const toml::table& t, const std::string& path,
                            std::initializer_list<std::string_view> allowed) const {
  allow_keys(t, path, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

void TomlReader::allow_keys(const toml::table& t, const std::string& path, std::span<const std::string_view> allowed) const {
  for (auto&& [key, value] : t) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
      fail(value, join(path, key.str()),
           "unknown key \"" + std::string(key.str()) + "\" (allowed here: " + comma_list(allowed) + ")");
    }
  }
}

const toml::table& TomlReader::as_table(const toml::node& node, const std::string& path) const {
  if (!node.is_table()) fail(node, path, std::string("expected a table, got ") + type_name(node));
  return *node.as_table();
}

const toml::table& TomlReader::table(const toml::table& parent, std::string_view key, const std::string& path,
                                     bool required) const {
  static const toml::table empty;
  const toml::node* node = parent.get(key);
  if (!node) {
    if (required) fail(parent, join(path, key), "missing required table [" + join(path, key) + "]");
    return empty;
  }
  return as_table(*node, join(path, key));
}

void TomlReader::for_each_table(const toml::table& root, std::string_view key,
                                const std::function<void(const toml::table&, const std::string&)>& fn) const {
  const toml::node* node = root.get(key);
  if (node) for_each_table(*node, std::string(key), fn);
}

void TomlReader::for_each_table(const toml::node& node, const std::string& k,
                                const std::function<void(const toml::table&, const std::string&)>& fn) const {
  // A single [key] table where [[key]] was meant is a common slip and gets its own message.
  if (node.is_table()) fail(node, k, "write [[" + k + "]] (an array of tables), not [" + k + "]");
  if (!node.is_array_of_tables()) fail(node, k, "expected [[" + k + "]] tables, got " + type_name(node));
  const toml::array& arr = *node.as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) fn(*arr.get(i)->as_table(), k + "[" + std::to_string(i) + "]");
}

std::optional<std::string> TomlReader::string(const toml::table& t, std::string_view key, const std::string& path,
                                              bool required) const {
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

std::vector<std::string> TomlReader::string_list(const toml::table& t, std::string_view key, const std::string& path) const {
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

std::int64_t TomlReader::integer(const toml::node& node, const std::string& path, std::int64_t min, std::int64_t max) const {
  if (!node.is_integer()) fail(node, path, std::string("expected an integer, got ") + type_name(node));
  const std::int64_t v = node.value<std::int64_t>().value();
  if (v < min || v > max) {
    fail(node, path, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
  }
  return v;
}

std::optional<std::int64_t> TomlReader::integer(const toml::table& t, std::string_view key, const std::string& path,
                                                std::int64_t min, std::int64_t max) const {
  const toml::node* node = t.get(key);
  if (!node) return std::nullopt;
  return integer(*node, join(path, key), min, max);
}

std::optional<bool> TomlReader::boolean(const toml::table& t, std::string_view key, const std::string& path) const {
  const toml::node* node = t.get(key);
  if (!node) return std::nullopt;
  if (!node->is_boolean()) fail(*node, join(path, key), std::string("expected a boolean, got ") + type_name(*node));
  return node->value<bool>().value();
}

std::optional<double> TomlReader::number(const toml::table& t, std::string_view key, const std::string& path, double min,
                                         double max) const {
  const toml::node* node = t.get(key);
  if (!node) return std::nullopt;
  if (!node->is_number()) fail(*node, join(path, key), std::string("expected a number, got ") + type_name(*node));
  const double v = node->value<double>().value();
  if (!(v >= min && v <= max)) {
    fail(*node, join(path, key), std::to_string(v) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
  }
  return v;
}

std::optional<sim::SimTime> TomlReader::duration(const toml::table& t, std::string_view key, const std::string& path,
                                                 bool required, sim::SimTime min, sim::SimTime max) const {
  const toml::node* node = t.get(key);
  if (!node) {
    if (required) fail(t, join(path, key), "missing required key \"" + std::string(key) + "\" (a duration such as \"10ms\")");
    return std::nullopt;
  }
  return duration_value(*node, join(path, key), min, max);
}

sim::SimTime TomlReader::duration_value(const toml::node& node, const std::string& path, sim::SimTime min,
                                        sim::SimTime max) const {
  if (node.is_integer() || node.is_floating_point()) {
    fail(node, path, "a duration needs a unit: write it as a string such as \"10ms\" or \"250ns\"");
  }
  if (!node.is_string()) fail(node, path, std::string("expected a duration string such as \"10ms\", got ") + type_name(node));
  const std::string text = node.value<std::string>().value();
  std::string error;
  auto t = sim::parse_duration(text, &error);
  if (!t) fail(node, path, error);
  if (*t < min || *t > max) {
    fail(node, path, "\"" + text + "\" is out of range (" + sim::format_time(min) + " to " + sim::format_time(max) + ")");
  }
  return *t;
}

std::uint64_t TomlReader::size_value(const toml::node& node, const std::string& path, bool power_of_two) const {
  if (!node.is_string()) fail(node, path, std::string("expected a size such as \"16KiB\", got ") + type_name(node));
  const std::string text = node.value<std::string>().value();
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (value > (UINT64_MAX - 9) / 10) fail(node, path, "\"" + text + "\" is too large");
    value = value * 10 + static_cast<std::uint64_t>(text[i++] - '0');
  }
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = text.substr(i);
  std::uint64_t scale = 0;
  if (unit == "B") scale = 1;
  else if (unit == "KiB") scale = 1ULL << 10;
  else if (unit == "MiB") scale = 1ULL << 20;
  else if (unit == "GiB") scale = 1ULL << 30;
  if (i == 0 || scale == 0) fail(node, path, "expected a size such as \"16KiB\" (units B, KiB, MiB, GiB), got \"" + text + "\"");
  if (value > UINT64_MAX / scale) fail(node, path, "\"" + text + "\" is too large");
  const std::uint64_t bytes = value * scale;
  if (power_of_two && (bytes == 0 || (bytes & (bytes - 1)) != 0)) fail(node, path, "\"" + text + "\" is not a power of two");
  return bytes;
}

std::string TomlReader::one_of(const toml::table& t, std::string_view key, const std::string& path,
                               std::initializer_list<std::string_view> options, std::optional<std::string_view> fallback) const {
  auto value = string(t, key, path, !fallback.has_value());
  if (!value) return std::string(*fallback);
  if (std::find(options.begin(), options.end(), *value) == options.end()) {
    fail(*t.get(key), join(path, key), "\"" + *value + "\" is not one of: " + comma_list(options));
  }
  return *value;
}

std::string TomlReader::existing_path(const toml::table& t, std::string_view key, const std::string& path,
                                      const std::string& value, bool directory) const {
  fs::path p(value);
  if (p.is_relative()) p = base_dir_ / p;
  std::error_code ec;
  if (directory ? !fs::is_directory(p, ec) : !fs::is_regular_file(p, ec)) {
    fail(*t.get(key), join(path, key),
         std::string(directory ? "folder" : "file") + " \"" + value + "\" does not exist (looked for " +
             p.lexically_normal().string() + ")");
  }
  std::string normal = p.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();  // "dir/." normalises to "dir/"
  return normal;
}

}  // namespace dexthil::toml_input
