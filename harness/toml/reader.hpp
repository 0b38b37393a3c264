#pragma once
// Reading the project's TOML inputs (scenarios, topologies) with one precise message for the
// first problem: "file:line:column: error: key.path: what is wrong". Readers for each format
// derive from TomlReader and call its typed accessors, which throw on any problem.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "harness/sim/time.hpp"
#include "harness/toml/position.hpp"

namespace dexthil::toml_input {

// Thrown by the accessors; parse() turns it into the message.
struct Problem {
  Position pos;
  std::string key;
  std::string message;
};

// Parses `text` (read from `path`) and hands the root table to `read`. Returns false with the
// one-line message in *error on a syntax error or a Problem thrown by `read`.
bool parse(const std::string& text, const std::string& path, const std::function<void(const toml::table&)>& read,
           std::string* error);
// Reads the whole file; false with "path: error: ..." when it cannot.
bool read_file(const std::string& path, std::string* text, std::string* error);

class TomlReader {
 public:
  explicit TomlReader(std::string file);

  Position pos(const toml::node& node) const;
  [[noreturn]] void fail(const toml::node& node, const std::string& key, std::string message) const;
  [[noreturn]] void fail_at(const Position& where, const std::string& key, std::string message) const;
  static std::string join(const std::string& path, std::string_view key);
  static const char* type_name(const toml::node& node);

  void allow_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> allowed) const;
  void allow_keys(const toml::table& t, const std::string& path, std::span<const std::string_view> allowed) const;
  const toml::table& as_table(const toml::node& node, const std::string& path) const;
  const toml::table& table(const toml::table& parent, std::string_view key, const std::string& path, bool required) const;
  // [[key]] arrays of tables: fn(table, "key[i]").
  void for_each_table(const toml::table& root, std::string_view key,
                      const std::function<void(const toml::table&, const std::string&)>& fn) const;
  // The same, for the value of a top-level key already in hand (`key` names it in messages).
  void for_each_table(const toml::node& node, const std::string& key,
                      const std::function<void(const toml::table&, const std::string&)>& fn) const;

  std::optional<std::string> string(const toml::table& t, std::string_view key, const std::string& path, bool required) const;
  std::vector<std::string> string_list(const toml::table& t, std::string_view key, const std::string& path) const;
  std::int64_t integer(const toml::node& node, const std::string& path, std::int64_t min, std::int64_t max) const;
  std::optional<std::int64_t> integer(const toml::table& t, std::string_view key, const std::string& path,
                                      std::int64_t min, std::int64_t max) const;
  std::optional<bool> boolean(const toml::table& t, std::string_view key, const std::string& path) const;
  std::optional<double> number(const toml::table& t, std::string_view key, const std::string& path, double min, double max) const;
  std::optional<sim::SimTime> duration(const toml::table& t, std::string_view key, const std::string& path, bool required,
                                       sim::SimTime min, sim::SimTime max) const;
  sim::SimTime duration_value(const toml::node& node, const std::string& path, sim::SimTime min, sim::SimTime max) const;
  // "16KiB", "4 MiB", "512B": a byte count; must be a power of two when `power_of_two`.
  std::uint64_t size_value(const toml::node& node, const std::string& path, bool power_of_two) const;
  std::string one_of(const toml::table& t, std::string_view key, const std::string& path,
                     std::initializer_list<std::string_view> options, std::optional<std::string_view> fallback = {}) const;
  // A path relative to the file's folder that must name an existing file; returns it resolved.
  std::string existing_file(const toml::table& t, std::string_view key, const std::string& path, const std::string& value) const {
    return existing_path(t, key, path, value, false);
  }
  std::string existing_directory(const toml::table& t, std::string_view key, const std::string& path,
                                 const std::string& value) const {
    return existing_path(t, key, path, value, true);
  }
  std::string existing_path(const toml::table& t, std::string_view key, const std::string& path, const std::string& value,
                            bool directory) const;
  // Letters, digits, '-', '_' and '.', 1 to 64 characters.
  static bool is_identifier(const std::string& s);

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::filesystem::path base_dir_;
};

}  // namespace dexthil::toml_input
