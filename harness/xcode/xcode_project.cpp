#include "harness/xcode/xcode_project.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "harness/xcode/openstep_plist.hpp"

namespace dexthil::xcode {
namespace {

namespace fs = std::filesystem;

struct Fail {
  std::string message;
};

std::string normal(const fs::path& p) {
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

template <class T>
void add_unique(std::vector<T>* v, const T& x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The objects of one project.pbxproj. Every accessor checks what it reads, so a malformed project
// gives one message naming the file, the position, and the object's isa and ID.
class Pbx {
 public:
  Pbx(std::string file, Value root) : file_(std::move(file)), root_(std::move(root)) {
    if (!root_.is_dictionary()) {
      fail(root_, std::string("expected a dictionary at the top level, found ") + root_.kind_name());
    }
    const Value* objects = root_.find("objects");
    if (!objects) fail(root_, "the top-level dictionary has no 'objects'");
    if (!objects->is_dictionary()) {
      fail(*objects, std::string("'objects' should be a dictionary, found ") + objects->kind_name());
    }
    for (const Entry& e : objects->entries) {
      if (!e.value.is_dictionary()) {
        fail(e.value, "object " + e.key + " should be a dictionary, found " + e.value.kind_name());
      }
      const Value* isa = e.value.find("isa");
      if (!isa || !isa->is_string()) fail(e.value, "object " + e.key + " has no 'isa' string");
      objects_.emplace(e.key, &e.value);
    }
  }

  const std::string& file() const { return file_; }
  const Value& root() const { return root_; }

  std::string at(const Value& v) const {
    return file_ + ":" + std::to_string(v.position.line) + ":" + std::to_string(v.position.column);
  }
  [[noreturn]] void fail(const Value& where, const std::string& what) const {
    throw Fail{at(where) + ": error: " + what};
  }
  [[noreturn]] void fail(const std::string& what) const { throw Fail{file_ + ": error: " + what}; }

  const Value& object(const std::string& id) const { return *objects_.at(id); }
  const std::string& isa(const std::string& id) const { return object(id).find("isa")->text; }

  // What messages call an object: "PBXFileReference 62A475682515567200B50752 (NullDriver.cpp)".
  std::string describe(const std::string& id) const {
    const std::string label = display_name(id);
    return isa(id) + " " + id + (label.empty() ? "" : " (" + label + ")");
  }
  std::string display_name(const std::string& id) const {
    for (const char* key : {"name", "path", "productName"}) {
      if (const Value* v = object(id).find(key); v && v->is_string() && !v->text.empty()) return v->text;
    }
    return "";
  }

  // The string under `key` of object `id`; "" when absent unless `required`.
  const std::string& string_of(const std::string& id, std::string_view key, bool required = false) const {
    static const std::string kEmpty;
    const Value* v = object(id).find(key);
    if (!v) {
      if (required) fail(object(id), describe(id) + " has no '" + std::string(key) + "'");
      return kEmpty;
    }
    if (!v->is_string()) {
      fail(*v, "'" + std::string(key) + "' of " + describe(id) + " should be a string, found " + v->kind_name());
    }
    return v->text;
  }

  // The array under `key` of object `id`; empty when absent unless `required`.
  const std::vector<Value>& array_of(const std::string& id, std::string_view key, bool required = false) const {
    static const std::vector<Value> kEmpty;
    const Value* v = object(id).find(key);
    if (!v) {
      if (required) fail(object(id), describe(id) + " has no '" + std::string(key) + "'");
      return kEmpty;
    }
    if (!v->is_array()) {
      fail(*v, "'" + std::string(key) + "' of " + describe(id) + " should be an array, found " + v->kind_name());
    }
    return v->items;
  }

  // The ID that `ref` (found under `key` of object `from`) names, which must be in objects and,
  // when `want` is given, have one of those isas.
  const std::string& follow(const Value& ref, const std::string& from, std::string_view key,
                            std::initializer_list<std::string_view> want = {}) const {
    if (!ref.is_string()) {
      fail(ref,
           "'" + std::string(key) + "' of " + describe(from) + " should be an object ID, found " + ref.kind_name());
    }
    if (!objects_.count(ref.text)) {
      fail(ref,
           describe(from) + " refers to " + ref.text + " in its " + std::string(key) + ", which is not in objects");
    }
    if (want.size() && std::find(want.begin(), want.end(), isa(ref.text)) == want.end()) {
      std::vector<std::string> names(want.begin(), want.end());
      fail(ref, describe(from) + " refers to " + describe(ref.text) + " in its " + std::string(key) +
                    ", which should be a " + join(names, " or "));
    }
    return ref.text;
  }
  // The PBXProject that rootObject names.
  const std::string& root_object() const {
    const Value* ref = root_.find("rootObject");
    if (!ref) fail(root_, "the top-level dictionary has no 'rootObject'");
    if (!ref->is_string()) fail(*ref, std::string("'rootObject' should be an object ID, found ") + ref->kind_name());
    if (!objects_.count(ref->text)) fail(*ref, "'rootObject' refers to " + ref->text + ", which is not in objects");
    if (isa(ref->text) != "PBXProject") {
      fail(*ref, "'rootObject' refers to " + describe(ref->text) + ", which should be a PBXProject");
    }
    return ref->text;
  }
  const std::string& follow_key(const std::string& from, std::string_view key,
                                std::initializer_list<std::string_view> want = {}) const {
    const Value* ref = object(from).find(key);
    if (!ref) fail(object(from), describe(from) + " has no '" + std::string(key) + "'");
    return follow(*ref, from, key, want);
  }

 private:
  std::string file_;
  Value root_;
  std::unordered_map<std::string, const Value*> objects_;
};

// Where files and groups are: each object's path resolved through its sourceTree and, for
// "<group>", the chain of groups from the main group down to it.
class Locator {
 public:
  struct Location {
    std::string path;  // absolute; empty when `skip` says why the object is not a file dexthil reads
    std::string skip;
  };

  Locator(const Pbx& pbx, const std::string& main_group, std::string source_root)
      : pbx_(pbx), main_group_(main_group), source_root_(std::move(source_root)) {
    std::deque<std::string> queue{main_group};
    std::set<std::string> seen{main_group};
    while (!queue.empty()) {
      const std::string group = queue.front();
      queue.pop_front();
      for (const Value& child : pbx_.array_of(group, "children")) {
        const std::string& id = pbx_.follow(child, group, "children");
        if (!seen.insert(id).second) continue;
        parent_.emplace(id, group);
        if (pbx_.object(id).find("children")) queue.push_back(id);
      }
    }
  }

  Location locate(const std::string& id, const BuildSettings& settings) const {
    const std::string& path = pbx_.string_of(id, "path");
    const Value* tree_value = pbx_.object(id).find("sourceTree");
    const std::string tree = tree_value ? pbx_.string_of(id, "sourceTree") : "<group>";
    std::string base;
    if (tree == "<group>") {
      const auto parent = parent_.find(id);
      if (parent == parent_.end()) {
        if (id != main_group_) {
          pbx_.fail(pbx_.object(id), pbx_.describe(id) + " is in no group below the main group, so its path "
                                                         "relative to its group cannot be resolved");
        }
        base = source_root_;
      } else {
        Location p = locate(parent->second, settings);
        if (!p.skip.empty()) return p;
        base = p.path;
      }
    } else if (tree == "SOURCE_ROOT") {
      base = source_root_;
    } else if (tree == "<absolute>") {
      if (!fs::path(path).is_absolute()) {
        pbx_.fail(pbx_.object(id), pbx_.describe(id) + " has sourceTree <absolute> but a relative path '" + path + "'");
      }
    } else if (tree == "BUILT_PRODUCTS_DIR") {
      return {"", "made by the build (BUILT_PRODUCTS_DIR), not a file in the project"};
    } else if (tree == "SDKROOT" || tree == "DEVELOPER_DIR") {
      return {"", "part of Xcode or its SDK (" + tree + "); dexthil has its own DriverKit"};
    } else {
      // Any other build setting may name a source tree (Xcode's custom source trees).
      std::string error;
      std::vector<std::string> undefined;
      auto value = settings.raw(tree) ? settings.value(tree, &undefined, &error) : std::optional<std::string>("");
      if (!value) pbx_.fail(pbx_.object(id), error);
      if (value->empty()) return {"", "relative to " + tree + ", which no build setting sets"};
      base = fs::path(*value).is_absolute() ? *value : (fs::path(source_root_) / *value).string();
    }
    return {normal(path.empty() ? fs::path(base) : fs::path(base) / path), ""};
  }

 private:
  const Pbx& pbx_;
  std::string main_group_;
  std::string source_root_;
  std::unordered_map<std::string, std::string> parent_;
};

enum class FileKind { kCpp, kC, kIig, kHeader, kOther };

// A file's kind from the type Xcode recorded (explicitFileType, else lastKnownFileType), or from its
// extension when the type says nothing more.
FileKind kind_of(const std::string& type, const std::string& path, std::string* reason) {
  static const std::pair<const char*, const char*> kIgnoredTypes[] = {
      {"sourcecode.swift", "Swift: dexthil builds C, C++ and .iig"},
      {"sourcecode.c.objc", "Objective-C, which DriverKit does not have"},
      {"sourcecode.cpp.objcpp", "Objective-C++, which DriverKit does not have"},
      {"sourcecode.asm", "assembly for the Mac's processor: dexthil builds for the host's"},
      {"sourcecode.asm.asm", "assembly for the Mac's processor: dexthil builds for the host's"},
      {"sourcecode.asm.llvm", "assembly for the Mac's processor: dexthil builds for the host's"},
      {"sourcecode.metal", "Metal shaders, which DriverKit does not have"},
  };
  if (type == "sourcecode.cpp.cpp") return FileKind::kCpp;
  if (type == "sourcecode.c.c") return FileKind::kC;
  if (type == "sourcecode.iig") return FileKind::kIig;
  if (type == "sourcecode.c.h" || type == "sourcecode.cpp.h") return FileKind::kHeader;
  for (const auto& [t, why] : kIgnoredTypes) {
    if (type == t) {
      *reason = why;
      return FileKind::kOther;
    }
  }
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".cpp" || ext == ".cc" || ext == ".cxx" || ext == ".c++" || ext == ".cp" || ext == ".C") {
    return FileKind::kCpp;
  }
  if (ext == ".c") return FileKind::kC;
  if (ext == ".iig") return FileKind::kIig;
  if (ext == ".h" || ext == ".hpp" || ext == ".hh" || ext == ".hxx") return FileKind::kHeader;
  if (ext == ".swift") {
    *reason = "Swift: dexthil builds C, C++ and .iig";
  } else if (ext == ".m" || ext == ".mm") {
    *reason = "Objective-C, which DriverKit does not have";
  } else if (ext == ".s" || ext == ".S" || ext == ".asm") {
    *reason = "assembly for the Mac's processor: dexthil builds for the host's";
  } else {
    *reason = "not a C, C++ or .iig file" + (type.empty() ? std::string() : " (file type " + type + ")");
  }
  return FileKind::kOther;
}

class TargetLoader {
 public:
  TargetLoader(const Pbx& pbx, XcodeTarget* out) : pbx_(pbx), t_(*out) {}

  void load(const std::string& target_name, const std::string& configuration) {
    const std::string& project = pbx_.root_object();
    const std::string target = find_target(project, target_name);
    t_.name = target_name;
    t_.configuration = configuration;
    t_.product_type = pbx_.string_of(target, "productType");

    const std::string target_config = find_configuration(target, configuration);
    const std::string project_config = find_configuration(project, configuration);
    const std::string& dir_path = pbx_.string_of(project, "projectDirPath");
    t_.source_root = normal(fs::path(t_.project).parent_path() / dir_path);
    locator_.emplace(pbx_, pbx_.follow_key(project, "mainGroup"), t_.source_root);

    t_.settings = BuildSettings(Conditions{"driverkit", "arm64", configuration});
    TargetDefaults defaults;
    defaults.project_path = t_.project;
    defaults.source_root = t_.source_root;
    defaults.target_name = target_name;
    defaults.product_type = t_.product_type;
    defaults.development_region = pbx_.string_of(project, "developmentRegion");
    defaults.configuration = configuration;
    t_.settings.set_target_defaults(defaults);
    read_configuration(project_config, BuildSettings::kProjectXcconfig, BuildSettings::kProject);
    read_configuration(target_config, BuildSettings::kTargetXcconfig, BuildSettings::kTarget);
    t_.xcconfig_files = t_.settings.xcconfig_files();

    if (const auto& synced = pbx_.array_of(target, "fileSystemSynchronizedGroups"); !synced.empty()) {
      pbx_.fail(synced.front(), pbx_.describe(target) +
                                    " takes its files from folders synchronized with the file system "
                                    "(PBXFileSystemSynchronizedRootGroup, Xcode 16), which dexthil does not read yet; "
                                    "in Xcode, choose Convert to Group on each such folder");
    }
    read_patterns();
    for (const Value& ref : pbx_.array_of(target, "buildPhases")) read_phase(pbx_.follow(ref, target, "buildPhases"));
    // The project's file type wins over the extension, as in Xcode: a compiler must be told (-x).
    if (!as_cpp_.empty()) {
      t_.notes.push_back("compiled as C++ (their file type in the project says so): " + join(as_cpp_, ", "));
    }
    if (!as_c_.empty()) {
      t_.notes.push_back("compiled as C (their file type in the project says so): " + join(as_c_, ", "));
    }
    read_settings();
  }

 private:
  std::string find_target(const std::string& project, const std::string& name) {
    std::vector<std::string> names;
    for (const Value& ref : pbx_.array_of(project, "targets", true)) {
      const std::string& id =
          pbx_.follow(ref, project, "targets", {"PBXNativeTarget", "PBXAggregateTarget", "PBXLegacyTarget"});
      const std::string& target_name = pbx_.string_of(id, "name", true);
      if (target_name != name) {
        names.push_back(target_name);
        continue;
      }
      if (pbx_.isa(id) != "PBXNativeTarget") {
        pbx_.fail(pbx_.object(id), "target '" + name + "' is a " + pbx_.isa(id) + " (" + id +
                                       "), which compiles nothing; dexthil reads PBXNativeTarget targets");
      }
      return id;
    }
    pbx_.fail("no target named '" + name +
              "' in the project (its targets: " + (names.empty() ? std::string("none") : join(names, ", ")) + ")");
  }

  // The XCBuildConfiguration called `name` in the configuration list of `owner` (project or target).
  std::string find_configuration(const std::string& owner, const std::string& name) {
    const std::string& list = pbx_.follow_key(owner, "buildConfigurationList", {"XCConfigurationList"});
    std::vector<std::string> names;
    for (const Value& ref : pbx_.array_of(list, "buildConfigurations", true)) {
      const std::string& id = pbx_.follow(ref, list, "buildConfigurations", {"XCBuildConfiguration"});
      const std::string& config_name = pbx_.string_of(id, "name", true);
      if (config_name == name) return id;
      names.push_back(config_name);
    }
    pbx_.fail(pbx_.object(owner), pbx_.describe(owner) + " has no configuration '" + name + "' (it has " +
                                      (names.empty() ? std::string("none") : join(names, ", ")) + ")");
  }

  void read_configuration(const std::string& config, BuildSettings::Level xcconfig_level, BuildSettings::Level level) {
    std::string error;
    if (pbx_.object(config).find("baseConfigurationReferenceAnchor")) {
      pbx_.fail(pbx_.object(config), pbx_.describe(config) +
                                         " takes its .xcconfig from a folder synchronized with the file system "
                                         "(baseConfigurationReferenceAnchor), which dexthil does not read yet");
    }
    if (pbx_.object(config).find("baseConfigurationReference")) {
      const std::string& ref = pbx_.follow_key(config, "baseConfigurationReference", {"PBXFileReference"});
      const Locator::Location where = locator_->locate(ref, t_.settings);
      if (!where.skip.empty()) {
        pbx_.fail(*pbx_.object(config).find("baseConfigurationReference"),
                  "the .xcconfig of " + pbx_.describe(config) + " is " + where.skip);
      }
      if (!t_.settings.load_xcconfig(xcconfig_level, where.path, &error)) {
        throw Fail{error + " (the base configuration of " + pbx_.describe(config) + ")"};
      }
    }
    const Value* settings = pbx_.object(config).find("buildSettings");
    if (!settings) return;
    if (!settings->is_dictionary()) {
      pbx_.fail(*settings, "'buildSettings' of " + pbx_.describe(config) + " should be a dictionary, found " +
                               settings->kind_name());
    }
    for (const Entry& e : settings->entries) {
      std::string value;
      if (e.value.is_string()) {
        value = e.value.text;
      } else if (e.value.is_array()) {
        // A list setting written as an array is its elements joined by spaces, then split again.
        for (const Value& item : e.value.items) {
          if (!item.is_string()) {
            pbx_.fail(item,
                      "the elements of build setting '" + e.key + "' should be strings, found " + item.kind_name());
          }
          value += (value.empty() ? "" : " ") + item.text;
        }
      } else {
        pbx_.fail(e.value, "build setting '" + e.key + "' should be a string or an array of strings, found " +
                               e.value.kind_name());
      }
      if (!t_.settings.assign(level, e.key, value, pbx_.at(e.value), &error)) throw Fail{error};
    }
  }

  void read_patterns() {
    for (const char* name : {"EXCLUDED_SOURCE_FILE_NAMES", "INCLUDED_SOURCE_FILE_NAMES"}) {
      std::string error;
      auto words = t_.settings.list(name, &error);
      if (!words) throw Fail{error};
      for (const ListWord& w : *words) (name[0] == 'E' ? excluded_ : included_).push_back(w.text);
    }
  }

  // The EXCLUDED_SOURCE_FILE_NAMES pattern that keeps `path` out of the build, or "".
  std::string excluded_by(const std::string& path) const {
    auto matches = [&](const std::string& pattern) {
      return fnmatch(pattern.c_str(), fs::path(path).filename().c_str(), 0) == 0 ||
             fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
    };
    for (const std::string& p : included_) {
      if (matches(p)) return "";
    }
    for (const std::string& p : excluded_) {
      if (matches(p)) return p;
    }
    return "";
  }

  void read_phase(const std::string& phase) {
    const std::string& isa = pbx_.isa(phase);
    if (isa == "PBXShellScriptBuildPhase") {
      t_.notes.push_back("the Run Script phase '" + pbx_.display_name(phase) + "' is not run");
      return;
    }
    const bool sources = isa == "PBXSourcesBuildPhase";
    const bool headers = isa == "PBXHeadersBuildPhase";
    const bool frameworks = isa == "PBXFrameworksBuildPhase";
    if (!sources && !headers && !frameworks) return;
    for (const Value& ref : pbx_.array_of(phase, "files")) {
      const std::string& build_file = pbx_.follow(ref, phase, "files", {"PBXBuildFile"});
      if (frameworks) {
        read_linked(build_file);
      } else {
        read_build_file(build_file, sources);
      }
    }
  }

  // A library the target links: those of other targets are not built by dexthil, so say so.
  void read_linked(const std::string& build_file) {
    if (!pbx_.object(build_file).find("fileRef")) return;
    const std::string& ref = pbx_.follow_key(build_file, "fileRef");
    if (pbx_.isa(ref) != "PBXFileReference" && pbx_.isa(ref) != "PBXReferenceProxy") return;
    const Locator::Location where = locator_->locate(ref, t_.settings);
    if (where.skip.starts_with("made by the build")) {
      t_.notes.push_back("links " + pbx_.display_name(ref) +
                         ", which another target builds; dexthil does not build it");
    }
  }

  void read_build_file(const std::string& build_file, bool sources) {
    const Value& object = pbx_.object(build_file);
    if (!object.find("fileRef")) {
      const Value* product = object.find("productRef");
      if (!product) pbx_.fail(object, pbx_.describe(build_file) + " has neither 'fileRef' nor 'productRef'");
      const std::string& id = pbx_.follow(*product, build_file, "productRef");
      t_.ignored.push_back({pbx_.display_name(id), "a Swift package product"});
      return;
    }
    const std::string& ref = pbx_.follow_key(build_file, "fileRef");
    const std::string& isa = pbx_.isa(ref);
    std::vector<std::string> files;
    if (isa == "PBXFileReference") {
      files.push_back(ref);
    } else if (isa == "PBXVariantGroup") {
      // A localized file: each language's copy is a child.
      for (const Value& child : pbx_.array_of(ref, "children")) files.push_back(pbx_.follow(child, ref, "children"));
    } else {
      t_.ignored.push_back(
          {pbx_.display_name(ref), std::string("a ") + isa + ", not a file" +
                                       (isa == "PBXReferenceProxy" ? " (a product of another project)" : "")});
      return;
    }
    std::vector<std::string> platforms;
    if (object.find("platformFilter")) platforms.push_back(pbx_.string_of(build_file, "platformFilter"));
    for (const Value& p : pbx_.array_of(build_file, "platformFilters")) {
      if (!p.is_string()) pbx_.fail(p, "the platformFilters of " + pbx_.describe(build_file) + " should be strings");
      platforms.push_back(p.text);
    }
    const bool for_mac = platforms.empty() || std::count(platforms.begin(), platforms.end(), "macos") ||
                         std::count(platforms.begin(), platforms.end(), "driverkit");
    std::string flags;
    if (const Value* settings = object.find("settings"); settings && settings->is_dictionary()) {
      if (const Value* f = settings->find("COMPILER_FLAGS"); f && f->is_string()) flags = f->text;
    }
    for (const std::string& file : files) {
      if (pbx_.isa(file) != "PBXFileReference") {
        t_.ignored.push_back({pbx_.display_name(file), "a " + pbx_.isa(file) + ", not a file"});
        continue;
      }
      const Locator::Location where = locator_->locate(file, t_.settings);
      if (!where.skip.empty()) {
        t_.ignored.push_back({pbx_.display_name(file), where.skip});
        continue;
      }
      if (!for_mac) {
        t_.ignored.push_back({where.path, "built only for " + join(platforms, ", ") + " (platformFilter), not macOS"});
        continue;
      }
      if (!sources) {
        t_.headers.push_back(where.path);
        continue;
      }
      if (const std::string pattern = excluded_by(where.path); !pattern.empty()) {
        t_.ignored.push_back({where.path, "matches EXCLUDED_SOURCE_FILE_NAMES '" + pattern + "'"});
        continue;
      }
      std::string type = pbx_.string_of(file, "explicitFileType");
      if (type.empty()) type = pbx_.string_of(file, "lastKnownFileType");
      std::string reason;
      const FileKind kind = kind_of(type, where.path, &reason);
      std::string unused;
      const FileKind by_extension = kind_of("", where.path, &unused);
      if (kind == FileKind::kCpp && by_extension == FileKind::kC) as_cpp_.push_back(fs::path(where.path).filename());
      if (kind == FileKind::kC && by_extension == FileKind::kCpp) as_c_.push_back(fs::path(where.path).filename());
      switch (kind) {
        case FileKind::kCpp: t_.cpp_sources.push_back(where.path); break;
        case FileKind::kC: t_.c_sources.push_back(where.path); break;
        case FileKind::kIig: t_.iig_files.push_back(where.path); break;
        case FileKind::kHeader:
          t_.ignored.push_back({where.path, "a header in the Sources phase compiles to nothing (it is #included)"});
          break;
        case FileKind::kOther: t_.ignored.push_back({where.path, reason}); break;
      }
      if (!flags.empty()) {
        t_.notes.push_back("the COMPILER_FLAGS '" + flags + "' of " + fs::path(where.path).filename().string() +
                           " are not passed on");
      }
    }
  }

  std::string expanded(const char* name) {
    std::string error;
    auto v = t_.settings.value(name, &t_.undefined_settings, &error);
    if (!v) throw Fail{error};
    return *v;
  }

  std::string absolute(const std::string& path) const {
    if (path.empty()) return "";
    return normal(fs::path(path).is_absolute() ? fs::path(path) : fs::path(t_.source_root) / path);
  }

  std::vector<ListWord> words(const char* name) {
    std::string error;
    auto list = t_.settings.list(name, &error);
    if (!list) throw Fail{error};
    return *list;
  }

  void read_settings() {
    t_.info_plist = absolute(expanded("INFOPLIST_FILE"));
    t_.entitlements = absolute(expanded("CODE_SIGN_ENTITLEMENTS"));
    t_.bundle_identifier = expanded("PRODUCT_BUNDLE_IDENTIFIER");
    t_.product_name = expanded("PRODUCT_NAME");
    t_.deployment_target = expanded("DRIVERKIT_DEPLOYMENT_TARGET");
    for (const char* name : {"HEADER_SEARCH_PATHS", "USER_HEADER_SEARCH_PATHS"}) {
      for (const ListWord& w : words(name)) add_search_path(name, w.text, w);
    }
    for (const ListWord& w : words("GCC_PREPROCESSOR_DEFINITIONS")) {
      for (const auto& u : w.undefined) add_unique(&t_.undefined_settings, u);
      t_.definitions.push_back(w.text);
    }
    read_flags();
  }

  // One header search path: `text` (from `w`, a word of setting `name`) made absolute.
  void add_search_path(const std::string& name, std::string text, const ListWord& w) {
    if (w.source.starts_with("$(SDKROOT)") || w.source.starts_with("${SDKROOT}") ||
        w.source.starts_with("$(DEVELOPER_DIR)") || w.source.starts_with("${DEVELOPER_DIR}")) {
      t_.notes.push_back(name + " '" + w.source + "' dropped: dexthil's own DriverKit headers stand in for the SDK's");
      return;
    }
    if (!w.undefined.empty()) {
      // "$(BUILT_PRODUCTS_DIR)/include" without the setting would be "/include": drop it and say so.
      for (const auto& u : w.undefined) add_unique(&t_.undefined_settings, u);
      t_.notes.push_back(name + " '" + w.source + "' dropped: it uses " + join(w.undefined, ", ") +
                         ", which nothing sets");
      return;
    }
    SearchPath p;
    if (text == "**" || text.ends_with("/**")) {
      p.recursive = true;
      text.resize(text.size() - 2);
      if (text.empty()) text = ".";
    }
    p.path = absolute(text);
    auto same = std::find_if(t_.header_search_paths.begin(), t_.header_search_paths.end(),
                             [&](const SearchPath& q) { return q.path == p.path; });
    if (same == t_.header_search_paths.end()) {
      t_.header_search_paths.push_back(p);
    } else {
      same->recursive |= p.recursive;
    }
  }

  // Some projects pass include folders and macros as compiler flags (OTHER_CFLAGS = -I "path"):
  // -I, -iquote, -isystem and -D are read like the settings made for them; other flags are named
  // in a note, as dexthil_add_dext chooses its own.
  void read_flags() {
    for (const char* name : {"OTHER_CFLAGS", "OTHER_CPLUSPLUSFLAGS"}) {
      const std::vector<ListWord> flags = words(name);
      std::vector<std::string> dropped;
      for (std::size_t i = 0; i < flags.size(); ++i) {
        const std::string& f = flags[i].text;
        const bool path_next = f == "-I" || f == "-iquote" || f == "-isystem";
        if (path_next || (f.starts_with("-I") && f.size() > 2)) {
          if (path_next && i + 1 == flags.size()) {
            dropped.push_back(f);
          } else {
            const ListWord& w = path_next ? flags[++i] : flags[i];
            add_search_path(name, path_next ? w.text : w.text.substr(2), w);
          }
        } else if (f == "-D" || (f.starts_with("-D") && f.size() > 2)) {
          if (f == "-D" && i + 1 == flags.size()) {
            dropped.push_back(f);
          } else {
            const ListWord& w = f == "-D" ? flags[++i] : flags[i];
            for (const auto& u : w.undefined) add_unique(&t_.undefined_settings, u);
            add_unique(&t_.definitions, f == "-D" ? w.text : w.text.substr(2));
          }
        } else {
          dropped.push_back(f);
        }
      }
      if (!dropped.empty()) t_.notes.push_back(std::string(name) + " '" + join(dropped, " ") + "' are not passed on");
    }
  }

  const Pbx& pbx_;
  XcodeTarget& t_;
  std::optional<Locator> locator_;
  std::vector<std::string> excluded_, included_;
  std::vector<std::string> as_cpp_, as_c_;  // names whose file type overrides their extension
};

}  // namespace

std::optional<XcodeTarget> load_xcode_target(const std::string& xcodeproj, const std::string& target_name,
                                             const std::string& configuration, std::string* error) {
  std::string given = xcodeproj;
  while (given.size() > 1 && given.back() == '/') given.pop_back();
  const std::string file = (fs::path(given) / "project.pbxproj").string();
  std::error_code ec;
  if (!fs::is_directory(given, ec)) {
    *error = given + ": error: no such folder (an Xcode project is a folder, NAME.xcodeproj)";
    return std::nullopt;
  }
  if (!fs::is_regular_file(file, ec)) {
    *error = given + ": error: no project.pbxproj in this folder (an Xcode project is a folder, NAME.xcodeproj)";
    return std::nullopt;
  }
  auto root = load_openstep_plist(file, error);
  if (!root) return std::nullopt;
  try {
    const Pbx pbx(file, std::move(*root));
    XcodeTarget target;
    target.project = normal(fs::absolute(given, ec));
    TargetLoader(pbx, &target).load(target_name, configuration.empty() ? "Release" : configuration);
    return target;
  } catch (const Fail& f) {
    *error = f.message;
    return std::nullopt;
  }
}

std::vector<std::string> include_dirs(const XcodeTarget& target) {
  std::vector<std::string> out;
  for (const SearchPath& p : target.header_search_paths) {
    add_unique(&out, p.path);
    if (!p.recursive) continue;
    std::vector<std::string> below;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(p.path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec)) below.push_back(normal(it->path()));
    }
    std::sort(below.begin(), below.end());
    for (const auto& d : below) add_unique(&out, d);
  }
  return out;
}

std::string cmake_quote(const std::string& value, bool list_element) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '$': out += "\\$"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case ';': out += list_element ? "\\;" : ";"; break;
      default: out.push_back(c);
    }
  }
  return out + "\"";
}

bool fits_cmake_list(const std::string& value) {
  // CMake splits a list at each ';' not preceded by a backslash and not inside square brackets; a
  // ']' with no '[' open is plain text.
  int open = 0;
  for (const char c : value) {
    if (c == '[') {
      ++open;
    } else if (c == ']' && open > 0) {
      --open;
    }
  }
  return open == 0 && (value.empty() || value.back() != '\\');
}

std::optional<std::string> cmake_script(const XcodeTarget& t, std::string* error) {
  std::string out = "# Generated by dexthil xcode-target from " + t.project + " (target " + t.name +
                    ", configuration " + t.configuration + "): do not edit.\n";
  auto scalar = [&](const char* key, const std::string& value) {
    out += std::string("set(DEXTHIL_XCODE_") + key + " " + cmake_quote(value, false) + ")\n";
  };
  auto list = [&](const char* key, const std::vector<std::string>& values) {
    out += std::string("set(DEXTHIL_XCODE_") + key;
    if (values.empty()) out += " \"\"";
    for (const auto& v : values) out += (values.size() > 1 ? "\n    " : " ") + cmake_quote(v, true);
    out += ")\n";
  };
  auto check = [&](const char* key, const std::vector<std::string>& values) {
    for (const auto& v : values) {
      if (fits_cmake_list(v)) continue;
      *error = t.project + ": error: " + key + " '" + v + "' of target '" + t.name +
               "' cannot be an element of a CMake list (it ends in a backslash or leaves a '[' open)";
      return false;
    }
    return true;
  };
  const std::vector<std::string> dirs = include_dirs(t);
  for (const auto& [key, values] : {std::pair<const char*, const std::vector<std::string>*>{"SOURCES", &t.cpp_sources},
                                    {"C_SOURCES", &t.c_sources},
                                    {"IIG", &t.iig_files},
                                    {"HEADERS", &t.headers},
                                    {"INCLUDE_DIRS", &dirs},
                                    {"DEFINITIONS", &t.definitions},
                                    {"XCCONFIGS", &t.xcconfig_files}}) {
    if (!check(key, *values)) return std::nullopt;
  }
  scalar("TARGET", t.name);
  scalar("CONFIGURATION", t.configuration);
  scalar("PRODUCT_TYPE", t.product_type);
  list("SOURCES", t.cpp_sources);
  list("C_SOURCES", t.c_sources);
  list("IIG", t.iig_files);
  list("HEADERS", t.headers);
  scalar("PLIST", t.info_plist);
  scalar("ENTITLEMENTS", t.entitlements);
  list("INCLUDE_DIRS", dirs);
  list("DEFINITIONS", t.definitions);
  scalar("BUNDLE_IDENTIFIER", t.bundle_identifier);
  scalar("PRODUCT_NAME", t.product_name);
  scalar("DEPLOYMENT_TARGET", t.deployment_target);
  list("XCCONFIGS", t.xcconfig_files);
  std::vector<std::string> settings;
  for (const std::string& name : t.settings.names()) {
    std::string problem;
    auto value = t.settings.value(name, nullptr, &problem);
    if (!value) {  // a setting nothing here needs must not stop the export (an unknown modifier, a cycle)
      out += "# " + name + " is left out of DEXTHIL_XCODE_BUILD_SETTINGS: " + problem + "\n";
      continue;
    }
    std::string entry = name + "=" + *value;
    if (fits_cmake_list(entry)) {
      settings.push_back(std::move(entry));
    } else {
      out += "# " + name + " is left out of DEXTHIL_XCODE_BUILD_SETTINGS: a CMake list cannot hold its value\n";
    }
  }
  list("BUILD_SETTINGS", settings);
  return out;
}

}  // namespace dexthil::xcode
