#include "harness/driverkit/kernel/class_registry.hpp"

#include <dlfcn.h>

#include <map>

#include <DriverKit/IORPC.h>

namespace dexthil::driverkit {

namespace {

struct Registry {
  std::map<std::string, std::vector<DextClass>> by_library;  // a path -> what loading it registered
  std::vector<DextClass>* loading = nullptr;                 // collects registrations during dlopen
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::optional<std::vector<DextClass>> load_dext_library(const std::string& path, std::string* error) {
  Registry& r = registry();
  if (auto it = r.by_library.find(path); it != r.by_library.end()) return it->second;
  std::vector<DextClass> registered;
  r.loading = &registered;
  // RTLD_NOW: an undefined symbol is an error here, not a crash later; RTLD_LOCAL keeps two
  // dexts' classes from resolving against each other.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  r.loading = nullptr;
  if (!handle) {
    const char* reason = dlerror();
    *error = path + ": error: cannot load the dext: " + (reason ? reason : "unknown reason");
    return std::nullopt;
  }
  r.by_library[path] = registered;
  return registered;
}

}  // namespace dexthil::driverkit

void dexthil::iig::register_class(const char* name, const OSMetaClass* meta, ClassFactory factory) {
  auto& r = dexthil::driverkit::registry();
  // Outside a load (a class linked into the harness itself) there is no dext to own it.
  if (r.loading) r.loading->push_back({name, meta, factory});
}
