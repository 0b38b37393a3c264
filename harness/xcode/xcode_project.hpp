#pragma once
// One target of an Xcode project (Foo.xcodeproj/project.pbxproj) in one configuration: the files
// its Sources phase compiles, its Info.plist and entitlements, its header search paths and
// preprocessor definitions, and its resolved build settings (docs/xcode.md).
#include <optional>
#include <string>
#include <vector>

#include "harness/xcode/build_settings.hpp"

namespace dexthil::xcode {

inline constexpr const char* kDriverExtensionProductType = "com.apple.product-type.driver-extension";

// A file of a build phase that dexthil does not build, and why.
struct IgnoredFile {
  std::string path;  // absolute when it could be resolved, else as the project names it
  std::string reason;
};

struct SearchPath {
  std::string path;        // absolute, normalised, without a trailing '/'
  bool recursive = false;  // written with a trailing "/**": the folder and every folder below it
};

struct XcodeTarget {
  std::string project;      // the .xcodeproj folder, absolute
  std::string source_root;  // SRCROOT, absolute
  std::string name;
  std::string product_type;   // e.g. com.apple.product-type.driver-extension
  std::string configuration;  // e.g. Release
  // The Sources phase, split by kind, in phase order; absolute paths.
  std::vector<std::string> cpp_sources;         // C++: .cpp .cc .cxx .c++ .cp .C
  std::vector<std::string> c_sources;           // C: .c
  std::vector<std::string> iig_files;           // .iig
  std::vector<std::string> headers;             // the Headers phase
  std::vector<IgnoredFile> ignored;             // phase files not built (Swift, Objective-C, assembly, ...)
  std::string info_plist;                       // INFOPLIST_FILE, absolute; empty when not set
  std::string entitlements;                     // CODE_SIGN_ENTITLEMENTS, absolute; empty when not set
  std::vector<SearchPath> header_search_paths;  // HEADER_SEARCH_PATHS then USER_HEADER_SEARCH_PATHS
  std::vector<std::string> definitions;         // GCC_PREPROCESSOR_DEFINITIONS: NAME or NAME=VALUE
  std::string bundle_identifier;                // PRODUCT_BUNDLE_IDENTIFIER, expanded
  std::string product_name;                     // PRODUCT_NAME, expanded
  std::string deployment_target;                // DRIVERKIT_DEPLOYMENT_TARGET; empty when not set
  std::vector<std::string> xcconfig_files;      // every .xcconfig read (base configurations and their #includes)
  // Settings the values above referenced that nothing sets (they expanded to ""), e.g.
  // DEVELOPMENT_TEAM; and notes on what was read but dropped (a file's COMPILER_FLAGS).
  std::vector<std::string> undefined_settings;
  std::vector<std::string> notes;
  BuildSettings settings;  // every level, for expanding the Info.plist later

  bool is_driver_extension() const { return product_type == kDriverExtensionProductType; }
};

// Loads `target_name` in `configuration` from the Xcode project folder `xcodeproj` (Foo.xcodeproj).
// Nullopt with *error otherwise: "FILE:LINE:COL: error: WHAT" (or "FILE: error: WHAT"), naming the
// object's isa and ID where one is involved, the available targets when the name is unknown and
// the available configurations when the configuration is unknown. A target that is not a driver
// extension loads too; product_type says what it is.
std::optional<XcodeTarget> load_xcode_target(const std::string& xcodeproj, const std::string& target_name,
                                             const std::string& configuration, std::string* error);

// The folders to pass as -I, in order and without repeats: each search path, and for a recursive
// one also every folder below it (sorted; folders that do not exist are kept as they are).
std::vector<std::string> include_dirs(const XcodeTarget& target);

// The value as one quoted CMake argument: "..." with \, " and $ escaped, and newlines, tabs and
// carriage returns written as \n, \t and \r. As a list element, ';' is escaped too (\;), so the
// element stays whole (foreach(... IN LISTS) gives it back with a plain ';').
std::string cmake_quote(const std::string& value, bool list_element);
// Whether a CMake list can hold `value` as one element: not when it ends in a backslash (which
// escapes the separator after it, however many there are) or opens more '[' than it closes (CMake
// does not split a list inside square brackets).
bool fits_cmake_list(const std::string& value);
// A CMake script of set(DEXTHIL_XCODE_<KEY> ...) lines. Lists: SOURCES, C_SOURCES, IIG, HEADERS,
// INCLUDE_DIRS (include_dirs()), DEFINITIONS, XCCONFIGS (xcconfig_files) and BUILD_SETTINGS
// (NAME=VALUE for every setting, expanded, by name); single values ("" when not set): TARGET, CONFIGURATION,
// PRODUCT_TYPE, PLIST, ENTITLEMENTS, BUNDLE_IDENTIFIER, PRODUCT_NAME and DEPLOYMENT_TARGET. A setting no CMake list can
// hold is left out of BUILD_SETTINGS with a comment saying so. Nullopt with *error when a setting
// cannot be expanded, or a path or definition cannot be a list element.
std::optional<std::string> cmake_script(const XcodeTarget& target, std::string* error);

}  // namespace dexthil::xcode
