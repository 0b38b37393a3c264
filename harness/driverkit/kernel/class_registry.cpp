#include "harness/driverkit/kernel/class_registry.hpp"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>

#include <DriverKit/IORPC.h>

#include "harness/driverkit/runtime/fault_guard.hpp"

namespace dexthil::driverkit {

namespace {

struct Registry {
  std::map<std::string, std::vector<DextClass>> by_library;  // a path -> what loading it registered
  std::vector<DextClass>* loading = nullptr;                 // collects registrations during dlopen
  std::vector<std::unique_ptr<DextLibraryInfo>> libraries;   // every loaded copy
};

Registry& registry() {
  static Registry r;
  return r;
}

// Finds where the dynamic loader put the object loaded from `loaded_as`.
bool locate(const std::string& loaded_as, DextLibraryInfo* info) {
  struct Search {
    const std::string* name;
    DextLibraryInfo* info;
    bool found;
  } search{&loaded_as, info, false};
  dl_iterate_phdr(
      [](dl_phdr_info* phdr, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (!phdr->dlpi_name || *s->name != phdr->dlpi_name) return 0;
        std::uintptr_t lo = UINTPTR_MAX, hi = 0;
        for (int i = 0; i < phdr->dlpi_phnum; ++i) {
          const ElfW(Phdr)& h = phdr->dlpi_phdr[i];
          if (h.p_type != PT_LOAD) continue;
          lo = std::min<std::uintptr_t>(lo, phdr->dlpi_addr + h.p_vaddr);
          hi = std::max<std::uintptr_t>(hi, phdr->dlpi_addr + h.p_vaddr + h.p_memsz);
        }
        s->info->base = phdr->dlpi_addr;
        s->info->begin = lo;
        s->info->end = hi;
        s->found = true;
        return 1;
      },
      &search);
  return search.found;
}

std::optional<std::vector<DextClass>> load(const std::string& file, const std::string& shown_as, std::string* error) {
  Registry& r = registry();
  std::vector<DextClass> registered;
  r.loading = &registered;
  // RTLD_NOW: an undefined symbol is an error here, not a crash later; RTLD_LOCAL keeps two
  // dexts' classes from resolving against each other.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  r.loading = nullptr;
  if (!handle) {
    const char* reason = dlerror();
    *error = shown_as + ": error: cannot load the dext: " + (reason ? reason : "unknown reason");
    return std::nullopt;
  }
  auto info = std::make_unique<DextLibraryInfo>();
  info->path = shown_as;
  if (locate(file, info.get())) {
    fault_guard::add_dext_code_range(info->begin, info->end);
    r.libraries.push_back(std::move(info));
  }
  return registered;
}

}  // namespace

std::optional<std::vector<DextClass>> load_dext_library(const std::string& path, std::string* error) {
  Registry& r = registry();
  if (auto it = r.by_library.find(path); it != r.by_library.end()) return it->second;
  auto classes = load(path, path, error);
  if (classes) r.by_library[path] = *classes;
  return classes;
}

std::optional<std::vector<DextClass>> load_fresh_dext_copy(const std::string& path, std::string* error) {
  // The loader keeps one copy per file, so a new process image needs a new file.
  static std::atomic<unsigned> copies{0};
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path copy = fs::temp_directory_path(ec) / ("dexthil-" + std::to_string(getpid()) + "-" +
                                                       std::to_string(copies++) + "-" + fs::path(path).filename().string());
  fs::copy_file(path, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    *error = path + ": error: cannot copy the dext for a new process: " + ec.message();
    return std::nullopt;
  }
  auto classes = load(copy.string(), path, error);
  fs::remove(copy, ec);  // the mapping stays; the name is not needed any more
  return classes;
}

const DextLibraryInfo* dext_library_at(std::uintptr_t address) {
  for (const auto& lib : registry().libraries) {
    if (lib->begin <= address && address < lib->end) return lib.get();
  }
  return nullptr;
}

}  // namespace dexthil::driverkit

void dexthil::iig::register_class(const char* name, const OSMetaClass* meta, ClassFactory factory) {
  auto& r = dexthil::driverkit::registry();
  // Outside a load (a class linked into the harness itself) there is no dext to own it.
  if (r.loading) r.loading->push_back({name, meta, factory});
}
