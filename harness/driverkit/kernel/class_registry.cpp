#include "harness/driverkit/kernel/class_registry.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
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

// In the child of probe_initializers: the dext's own frames, as offsets into its file, into the
// pipe (dladdr: glibc's backtrace_symbols names a frame by its nearest dynamic symbol, not its
// offset), then the signal's default action.
int g_probe_pipe = -1;
const char* g_probe_file = nullptr;
void probe_crashed(int signal) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  for (int i = 0; i < n; ++i) {
    Dl_info info{};
    if (!dladdr(frames[i], &info) || !info.dli_fname || std::strcmp(info.dli_fname, g_probe_file) != 0) continue;
    char line[32];
    const int length = std::snprintf(line, sizeof line, "%lx\n",
                                     static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(frames[i]) -
                                                                reinterpret_cast<std::uintptr_t>(info.dli_fbase)));
    if (write(g_probe_pipe, line, static_cast<size_t>(length)) < 0) break;
  }
  ::signal(signal, SIG_DFL);
  raise(signal);
}

// How long a dext's static initializers may run, in wall time, before they count as hung.
constexpr int kProbeLimitMs = 10000;

// A dext's static initializers run when its library is loaded, which on a Mac is the dext
// process starting. One that crashes, exits or hangs would take the harness with it, so they
// run first in a child process, and what they did there fails the load in their words. The
// child's output is dropped (the real load prints it).
bool probe_initializers(const std::string& file, const std::string& shown_as, std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return true;  // cannot probe: load as before
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return true;
  }
  if (child == 0) {
    close(fds[0]);
    g_probe_pipe = fds[1];
    g_probe_file = file.c_str();
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) ::signal(sig, probe_crashed);
    dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);  // a failed dlopen is reported by the real load
    const char loaded[] = "loaded\n";
    if (write(fds[1], loaded, sizeof loaded - 1) < 0) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  std::string said;
  char buffer[4096];
  bool hung = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, kProbeLimitMs);
    if (ready == 0) {
      hung = true;
      kill(child, SIGKILL);
      break;
    }
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t n = ready > 0 ? read(fds[0], buffer, sizeof buffer) : -1;
    if (n <= 0) break;
    said.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!hung && WIFEXITED(status) && said.find("loaded\n") != std::string::npos) return true;
  std::vector<std::uintptr_t> offsets;
  for (std::size_t at = 0; at < said.size();) {
    const std::size_t end = said.find('\n', at);
    const std::string line = said.substr(at, end - at);
    if (!line.empty() && line != "loaded") offsets.push_back(std::stoull(line, nullptr, 16));
    at = end == std::string::npos ? said.size() : end + 1;
  }
  const std::map<std::uintptr_t, std::string> named = addr2line(file, offsets);
  std::string frames;
  for (std::uintptr_t o : offsets) {
    auto it = named.find(o);
    frames += "\n  " + (it != named.end() ? it->second + " " : std::string()) + "(" +
              std::filesystem::path(shown_as).filename().string() + "+" + util::hex(o) + ")";
  }
  std::string what;
  if (hung) {
    what = "its static initializers did not return within " + std::to_string(kProbeLimitMs / 1000) +
           " s of wall time, so the dext process never gets past its launch";
  } else if (WIFSIGNALED(status)) {
    what = std::string("the dext crashed while loading: ") + fault_guard::signal_name(WTERMSIG(status)) +
           " in its static initializers, so the dext process dies at launch";
  } else {
    what = "its static initializers ended the process (exit status " + std::to_string(WEXITSTATUS(status)) +
           "), so the dext process dies at launch";
  }
  *error = shown_as + ": error: " + what +
           ". Static initializers run as the process starts, before any DriverKit call. dexthil runs the dext as "
           "built for this host, so one that reads the CPU (CPUID, the time-stamp counter) sees this machine, not "
           "a Mac" + (frames.empty() ? std::string(".") : ". Where:" + frames);
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
