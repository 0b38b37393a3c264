#include "harness/driverkit/kernel/crash_report.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/util/hex.hpp"

namespace dexthil::driverkit {

namespace {

std::string demangle(const char* name) {
  if (!name) return "";
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? out.get() : name;
}

std::string file_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}


// The macOS crash report's "Exception Type" for what killed the process, and what it means here.
struct MacException {
  const char* type;
  const char* note;
};
MacException mac_exception(int sig) {
  switch (sig) {
    case SIGSEGV: return {"EXC_BAD_ACCESS (SIGSEGV)", "the dext read or wrote memory it does not own"};
    case SIGBUS: return {"EXC_BAD_ACCESS (SIGBUS)", "the dext touched memory that has no backing (or a misaligned access)"};
    case SIGFPE:
      return {"EXC_ARITHMETIC (SIGFPE)",
              "an integer division by zero. On an Intel Mac it traps like this; on Apple silicon an integer division "
              "by zero does not trap (SDIV/UDIV give 0), so there the same bug gives a wrong value silently"};
    case SIGILL:
      return {"EXC_BAD_INSTRUCTION (SIGILL)",
              "an illegal instruction, usually __builtin_trap() or a compiler-inserted trap for undefined behaviour "
              "(on Apple silicon the same trap is EXC_BREAKPOINT (SIGTRAP))"};
    case SIGABRT: return {"EXC_CRASH (SIGABRT)", "abort() was called: an assertion, std::terminate, or a library that gave up"};
    default: return {"EXC_CRASH", "a fatal signal"};
  }
}

}  // namespace

std::map<std::uintptr_t, std::string> addr2line(const std::string& library, const std::vector<std::uintptr_t>& offsets) {
  std::map<std::uintptr_t, std::string> out;
  std::string command = "addr2line -C -f -p -e '" + library + "'";
  for (std::uintptr_t o : offsets) command += " " + util::hex(o);
  command += " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char line[4096];
  for (std::uintptr_t o : offsets) {
    if (!fgets(line, sizeof line, pipe)) break;
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.find("??") == std::string::npos) out[o] = text;
  }
  pclose(pipe);
  return out;
}

std::vector<DextFrame> symbolise_dext_frames(const FaultRecord& fault) {
  struct Raw {
    std::uintptr_t pc;  // the instruction itself (return addresses step back into the call)
    const DextLibraryInfo* lib;
  };
  std::vector<Raw> raw;
  int last_dext = -1;
  for (int i = 0; i < fault.frame_count; ++i) {
    const auto pc = reinterpret_cast<std::uintptr_t>(fault.frames[i]) - (i == 0 ? 0 : 1);
    raw.push_back({pc, dext_library_at(pc)});
    if (raw.back().lib) last_dext = i;
  }
  std::map<const DextLibraryInfo*, std::vector<std::uintptr_t>> offsets;
  for (int i = 0; i <= last_dext; ++i) {
    if (raw[i].lib) offsets[raw[i].lib].push_back(raw[i].pc - raw[i].lib->base);
  }
  std::map<const DextLibraryInfo*, std::map<std::uintptr_t, std::string>> lines;
  for (const auto& [lib, list] : offsets) lines[lib] = addr2line(lib->path, list);

  std::vector<DextFrame> out;
  int outside = 0;
  std::vector<std::string> outside_libraries;  // each once, in the order met
  for (int i = 0; i <= last_dext; ++i) {
    if (!raw[i].lib) {
      ++outside;
      Dl_info info{};
      const std::string lib = dladdr(reinterpret_cast<void*>(raw[i].pc), &info) && info.dli_fname
                                  ? file_name(info.dli_fname)
                                  : std::string("?");
      if (std::find(outside_libraries.begin(), outside_libraries.end(), lib) == outside_libraries.end()) {
        outside_libraries.push_back(lib);
      }
      continue;
    }
    const std::uintptr_t offset = raw[i].pc - raw[i].lib->base;
    if (!out.empty() && outside == 0 && out.back().offset == offset && out.back().library == file_name(raw[i].lib->path)) {
      ++out.back().repeats;  // the same call again: a recursion
      continue;
    }
    DextFrame f;
    f.index = i;
    f.outside_frames_before = outside;
    for (const std::string& lib : outside_libraries) {
      f.outside_libraries += (f.outside_libraries.empty() ? "" : ", ") + lib;
    }
    outside = 0;
    outside_libraries.clear();
    f.library = file_name(raw[i].lib->path);
    f.offset = offset;
    const auto& known = lines[raw[i].lib];
    if (auto it = known.find(f.offset); it != known.end()) {
      // addr2line -p: "function at file:line"
      const std::string& text = it->second;
      const auto at = text.rfind(" at ");
      f.function = at == std::string::npos ? text : text.substr(0, at);
      if (at != std::string::npos) f.location = file_name(text.substr(at + 4));
    } else {
      Dl_info info{};
      if (dladdr(reinterpret_cast<void*>(raw[i].pc), &info) && info.dli_sname) f.function = demangle(info.dli_sname);
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string format_frame(const DextFrame& f) {
  std::string line;
  if (f.outside_frames_before) {
    line = "(" + std::to_string(f.outside_frames_before) + " frame" + (f.outside_frames_before == 1 ? "" : "s") +
           " outside the dext: " + f.outside_libraries + ")\n    ";
  }
  line += "#" + std::to_string(f.index) + " " + (f.function.empty() ? std::string("?") : f.function);
  if (!f.location.empty()) line += " at " + f.location;
  line += " (" + f.library + "+" + util::hex(f.offset) + ")";
  if (f.repeats) line += ", and the same frame " + std::to_string(f.repeats) + " more times below it";
  return line;
}

namespace {

// The message the block was running: the innermost dext frame that is a method's implementation.
std::string method_of(const std::vector<DextFrame>& frames, const char* label) {
  for (const DextFrame& f : frames) {
    const auto impl = f.function.find("_Impl(");
    if (impl != std::string::npos) return f.function.substr(0, impl);
  }
  return label ? label : "";
}

}  // namespace

CrashDescription describe_fault(const FaultRecord& fault, const std::string& queue, const char* label) {
  CrashDescription d;
  const std::vector<DextFrame> dext_frames = symbolise_dext_frames(fault);
  const std::string method = method_of(dext_frames, label);
  const std::string in = " on queue \"" + queue + "\"" + (method.empty() ? std::string() : " in " + method);
  std::string frames;
  for (const DextFrame& f : dext_frames) frames += "\n    " + format_frame(f);
  const std::string backtrace = frames.empty() ? std::string() : " Backtrace of the dext's frames:" + frames;
  switch (fault.kind) {
    case FaultRecord::Kind::kStackOverflow:
      d.check = "dext.stack-overflow";
      d.what = "EXC_BAD_ACCESS (SIGSEGV): thread stack size exceeded" + in;
      d.why = "The block ran past the bottom of its stack into the guard page below it (deep or endless recursion, "
              "or large arrays on the stack), and the dext process died, as macOS reports \"Thread stack size "
              "exceeded due to excessive recursion\". Dispatch queue threads have small stacks: move big buffers to "
              "IOMalloc'd memory and make recursion iterative." + backtrace;
      break;
    case FaultRecord::Kind::kHang: {
      char ran[32];
      std::snprintf(ran, sizeof ran, "%.1f", fault.hang_seconds);
      d.check = "dext.hang";
      d.what = std::string("callback still running after ") + ran + " s of wall-clock time" + in;
      d.why = "The block never returned to its dispatch queue, so nothing else on that queue can run and every "
              "synchronous message to it waits forever; simulated time cannot move while it spins. macOS would "
              "leave the dext hung (its device dead to the system); the harness ends the process so the run can "
              "report it (dexthil run --callback-limit sets the wall-clock limit)." + backtrace;
      break;
    }
    case FaultRecord::Kind::kSignal: {
      const MacException e = mac_exception(fault.signal);
      d.check = "dext.signal";
      d.what = std::string(e.type) + ": " + fault_guard::signal_name(fault.signal) + " (" +
               fault_guard::signal_code_text(fault.signal, fault.code) + ")" +
               (fault.signal == SIGSEGV || fault.signal == SIGBUS ? " at address " + util::hex(fault.address) : "") + in;
      d.why = std::string("The dext process died of a signal: ") + e.note +
              ". On macOS the dext's crash report shows the same exception and the kernel logs ClientCrashed for "
              "its services." + backtrace;
      break;
    }
  }
  return d;
}

}  // namespace dexthil::driverkit
