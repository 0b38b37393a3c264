#pragma once
// Xcode build settings as one target in one configuration sees them: the levels they are set at,
// `$(inherited)`, `$(NAME)` expansion with modifiers, conditional assignments, .xcconfig files and
// the word splitting of list settings (docs/xcode.md).
#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dexthil::xcode {

// The build a conditional assignment (NAME[sdk=driverkit*][arch=arm64] = ...) is matched against:
// a dext built with the DriverKit SDK for Apple silicon. Patterns may use `*`; a condition on
// anything else (variant, an unknown key) does not hold, so its assignment is ignored.
struct Conditions {
  std::string sdk = "driverkit";
  std::string arch = "arm64";
  std::string config = "Release";
};

// What a target's defaults are made from (see BuildSettings::set_target_defaults).
struct TargetDefaults {
  std::string project_path;  // the .xcodeproj folder, absolute
  std::string source_root;   // absolute; the folder holding the .xcodeproj unless projectDirPath moves it
  std::string target_name;
  std::string product_type;        // e.g. com.apple.product-type.driver-extension
  std::string development_region;  // PBXProject's developmentRegion; empty: en
  std::string configuration;
};

// One word of a list setting, expanded.
struct ListWord {
  std::string text;                    // after expansion
  std::string source;                  // as written, quotes and escapes removed, before expansion
  std::vector<std::string> undefined;  // settings it referenced that no level sets (they gave "")
};

class BuildSettings {
 public:
  // Lowest first. A value's `$(inherited)` is the value of the same setting from the levels below.
  enum Level { kDefaults, kProjectXcconfig, kProject, kTargetXcconfig, kTarget };
  static constexpr int kLevelCount = 5;
  static const char* level_name(Level level);

  BuildSettings() = default;
  explicit BuildSettings(Conditions conditions);
  const Conditions& conditions() const { return conditions_; }

  // Sets the defaults level, documented setting by setting in docs/xcode.md:
  //   PROJECT_FILE_PATH      the .xcodeproj
  //   PROJECT_DIR, SRCROOT, SOURCE_ROOT  source_root
  //   PROJECT_NAME, PROJECT  the .xcodeproj's name without the extension
  //   TARGET_NAME, TARGETNAME  the target's name
  //   PRODUCT_NAME           $(PRODUCT_BUNDLE_IDENTIFIER) for a driver extension (the DriverKit
  //                          SDK's default: a dext is named after its bundle ID), else $(TARGET_NAME)
  //   EXECUTABLE_NAME        $(PRODUCT_NAME)
  //   FULL_PRODUCT_NAME      $(PRODUCT_NAME).dext, and WRAPPER_EXTENSION dext (driver extensions)
  //   PRODUCT_BUNDLE_PACKAGE_TYPE  DEXT (driver extensions)
  //   DEVELOPMENT_LANGUAGE   development_region, else en
  //   CONFIGURATION          configuration
  //   SDKROOT, PLATFORM_NAME driverkit
  //   CURRENT_ARCH           conditions().arch
  // DRIVERKIT_DEPLOYMENT_TARGET has no default: it comes from the project or an xcconfig.
  void set_target_defaults(const TargetDefaults& defaults);

  // Sets NAME at `level`. `origin` ("file:line:col") starts messages about this value.
  void set(Level level, const std::string& name, std::string value, std::string origin = "");
  // An assignment as a pbxproj buildSettings key or an .xcconfig line writes it: NAME, or
  // NAME[cond][cond,cond] with cond KEY=PATTERN. A conditional assignment counts only when all its
  // conditions hold, and then wins over the level's unconditional value; the last assignment of a
  // key wins. False with *error ("ORIGIN: error: ...") when the key is malformed.
  bool assign(Level level, std::string_view key, std::string value, const std::string& origin, std::string* error);
  // Reads an .xcconfig file into `level`: `NAME[cond] = VALUE` lines (a final ';' is dropped), `//`
  // comments, `#include "FILE"` (relative to the including file; an error when missing) and
  // `#include? "FILE"` (skipped when missing). False with "FILE:LINE:COL: error: ..." otherwise.
  bool load_xcconfig(Level level, const std::string& path, std::string* error);

  // Every .xcconfig file read so far, #included ones too, in reading order (for rebuilding when
  // one changes); a missing #include? file is not one.
  const std::vector<std::string>& xcconfig_files() const { return xcconfig_files_; }

  // The value as written at the highest level setting it, or nullptr.
  const std::string* raw(std::string_view name) const;
  // The value as written at `level` (conditional assignments applied), or nullptr.
  const std::string* raw(std::string_view name, Level level) const;
  // Every name some level sets, sorted.
  std::vector<std::string> names() const;

  // Expands $(NAME), ${NAME} and $NAME (NAME ends at the first character outside A-Za-z0-9_),
  // recursively; a NAME may itself hold references ($(FOO_$(BAR))). Modifiers follow the name:
  // $(NAME:lower), :upper, :identifier, :c99extidentifier, :rfc1034identifier and
  // :default=TEXT (TEXT when NAME expands to ""). A name no level sets expands to "" and is added
  // once to *undefined (may be null). $(inherited) in free text is "". Nullopt with *error on a
  // cycle ("error: build setting cycle: A -> B -> A"), an unterminated reference or an unknown
  // modifier.
  std::optional<std::string> expand(std::string_view text, std::vector<std::string>* undefined,
                                    std::string* error) const;
  // The expanded value of NAME; "" when no level sets it (NAME is then not reported undefined).
  std::optional<std::string> value(std::string_view name, std::vector<std::string>* undefined,
                                   std::string* error) const;
  // NAME as a list (HEADER_SEARCH_PATHS, GCC_PREPROCESSOR_DEFINITIONS, ...): the value is split into
  // words first (split_words), then each word is expanded on its own, so a path holding spaces
  // stays one word. An unquoted word that is exactly one reference, $(inherited) or $(OTHER), is
  // replaced by the words of that list (OTHER as set by the project or an xcconfig; a default is
  // one word). Words that expand to "" are dropped.
  std::optional<std::vector<ListWord>> list(std::string_view name, std::string* error) const;

 private:
  struct Assigned {
    std::optional<std::string> plain, conditional;
    std::string plain_origin, conditional_origin;
  };
  struct Resolved {
    const std::string* value = nullptr;
    const std::string* origin = nullptr;
    int level = -1;
  };
  friend class Expander;

  // The value of `name` at the highest level at most `max_level`.
  Resolved find(std::string_view name, int max_level) const;
  bool conditions_hold(std::string_view conditions, const std::string& origin, bool* hold, std::string* error) const;
  bool load_xcconfig_file(Level level, const std::string& path, std::vector<std::string>* stack, std::string* error);

  Conditions conditions_;
  std::array<std::map<std::string, Assigned, std::less<>>, kLevelCount> levels_;
  std::vector<std::string> xcconfig_files_;
};

// Splits a list setting's value into words as Xcode does: whitespace separates words; "..." and
// '...' group (the quotes are removed, "" is an empty word); a backslash outside single quotes
// takes the next character literally; whitespace inside $(...) or ${...} does not split. Nullopt
// with *error on an unterminated quote.
std::optional<std::vector<std::string>> split_words(std::string_view text, std::string* error);

// Whether `value` matches a condition pattern in which `*` stands for any run of characters.
bool condition_matches(std::string_view pattern, std::string_view value);

}  // namespace dexthil::xcode
