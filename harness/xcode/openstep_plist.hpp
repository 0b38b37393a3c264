#pragma once
// Old-style (OpenStep/NeXT) property lists, the format of an Xcode project's project.pbxproj:
// `{ key = value; }`, `( a, b, )`, quoted or bare strings, `<hex data>` and C comments. The parser
// is strict: anything Xcode would not write back is an error naming the file, line and column.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dexthil::xcode {

// Where a value starts. Lines and columns count from 1; a column counts bytes.
struct Position {
  int line = 0;
  int column = 0;
};

struct Entry;

// One value of the list. Numbers and booleans are strings in this format: Xcode writes
// `objectVersion = 56;`, and the reader decides what a string means.
struct Value {
  enum class Kind { kString, kArray, kDictionary, kData };

  Kind kind = Kind::kString;
  Position position;
  std::string text;            // kString: the text with escapes resolved; kData: the bytes
  std::vector<Value> items;    // kArray
  std::vector<Entry> entries;  // kDictionary, in file order (keys are unique)

  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_dictionary() const { return kind == Kind::kDictionary; }
  // The value under `key` in a dictionary, or nullptr (also when this is not a dictionary).
  const Value* find(std::string_view key) const;
  // "a string", "an array", "a dictionary" or "data", for messages.
  const char* kind_name() const;
};

struct Entry {
  std::string key;
  Position key_position;
  Value value;
};

// Parses `text`. On failure returns nullopt and sets *error to "FILE:LINE:COL: error: WHAT", FILE
// being `file_name` as given, e.g. "project.pbxproj:12:5: error: expected ';' after the value of
// 'isa', found '}'". Never throws on malformed input.
std::optional<Value> parse_openstep_plist(std::string_view text, const std::string& file_name, std::string* error);
// Reads and parses the file at `path`; messages name `path` as given.
std::optional<Value> load_openstep_plist(const std::string& path, std::string* error);

}  // namespace dexthil::xcode
