#include "harness/driverkit/kernel/class_registry.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>

#include <DriverKit/IORPC.h>

#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/runtime/fault_guard.hpp"
#include "harness/util/hex.hpp"

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

// In the child of probe_initializers: where the crash happened, into the pipe, then the signal's
// default action.
int g_probe_pipe = -1;
void probe_crashed(int signal) {
  void* frames[32];
  const int n = backtrace(frames, 32);
  backtrace_symbols_fd(frames, n, g_probe_pipe);
  ::signal(signal, SIG_DFL);
  raise(signal);
}

// A dext's static initializers run when its library is loaded, which on a Mac is the dext
// process starting. One that crashes would take the harness down with it, so they run first in
// a child process: a crash there is the dext's, reported as a load error with the signal and
// where it happened. The child's output is dropped (the real load prints it).
bool probe_initializers(const std::string& file, const std::string& shown_as, std::string* error) {
  int fds[2];
  if (pipe(fds) != 0) return true;  // cannot probe: load as before
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return true;
  }
  if (child == 0) {
    close(fds[0]);
    g_probe_pipe = fds[1];
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) ::signal(sig, probe_crashed);
    dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    _exit(0);  // a failed dlopen is reported by the real load, with dlerror's text
  }
  close(fds[1]);
  std::string where;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) where.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFSIGNALED(status)) return true;
  // backtrace_symbols_fd's lines are "file(+0xOFFSET)[0xADDRESS]": the dext's own frames, in order.
  std::vector<std::uintptr_t> offsets;
  for (std::size_t at = 0; (at = where.find(file + "(+0x", at)) != std::string::npos; ++at) {
    offsets.push_back(std::stoull(where.substr(at + file.size() + 2), nullptr, 16));
  }
  const std::map<std::uintptr_t, std::string> named = addr2line(file, offsets);
  std::string frames;
  for (std::uintptr_t o : offsets) {
    auto it = named.find(o);
    frames += "\n  " + (it != named.end() ? it->second + " " : std::string()) + "(" +
              std::filesystem::path(shown_as).filename().string() + "+" + util::hex(o) + ")";
  }
  *error = shown_as + ": error: the dext crashed while loading: " + fault_guard::signal_name(WTERMSIG(status)) +
           " in its static initializers, which run as its process starts, before any DriverKit call; on a Mac the "
           "process would die at launch" + (frames.empty() ? std::string(".") : ", in:" + frames);
  return false;
}

std::optional<std::vector<DextClass>> load(const std::string& file, const std::string& shown_as, std::string* error) {
  if (!probe_initializers(file, shown_as, error)) return std::nullopt;
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
