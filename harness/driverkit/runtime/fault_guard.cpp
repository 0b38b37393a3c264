#include "harness/driverkit/runtime/fault_guard.hpp"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

namespace dexthil::driverkit::fault_guard {
namespace {

constexpr int kHangSignal = SIGUSR2;
constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// ---- state the handler reads: plain memory, written only by the thread that runs fibers ----
std::atomic<FaultSink*> g_sink{nullptr};     // the runtime whose fiber is running
std::atomic<std::uint64_t> g_entries{0};     // fiber entries so far: the watchdog's sense of progress
std::atomic<bool> g_hang_requested{false};
std::atomic<std::uint64_t> g_hang_entry{0};  // the fiber entry the watchdog timed out
std::atomic<double> g_hang_seconds{0};
std::atomic<std::uint64_t> g_limit_ms{10'000};
std::atomic<pthread_t> g_fiber_thread{};  // the thread that runs fibers (read by the watchdog)

constexpr int kMaxCodeRanges = 256;
std::uintptr_t g_code_begin[kMaxCodeRanges], g_code_end[kMaxCodeRanges];
std::atomic<int> g_code_ranges{0};

// The record and the stack the escape routine runs on (one fault is handled at a time: the
// escape routine leaves this stack for good when it switches to the scheduler).
FaultRecord g_record;
FaultSink* g_escape_sink = nullptr;
alignas(64) unsigned char g_escape_stack[64 * 1024];

bool g_installed = false;
bool g_watchdog_running = false;

// ---- the stack pool ----
struct Pool {
  std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<GuardedStack> free;
  std::vector<std::uintptr_t> guards;  // the lowest address of each stack's guard page
};
Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: stacks of abandoned fibers stay mapped
  return *p;
}

bool in_dext_code(std::uintptr_t pc) {
  const int n = g_code_ranges.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    if (g_code_begin[i] <= pc && pc < g_code_end[i]) return true;
  }
  return false;
}

std::uintptr_t context_pc(const ucontext_t* uc) {
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
#error "fault_guard: add this architecture's program counter"
#endif
}

[[noreturn]] void escape_entry() {
  g_escape_sink->escape_from_fault(g_record);
  std::abort();  // escape_from_fault switches away for good
}

// Returning from the handler now resumes in escape_entry on the escape stack, with the signal
// mask the fiber had (the kernel's sigreturn restores it).
void redirect_to_escape(ucontext_t* uc) {
  std::uintptr_t sp = (reinterpret_cast<std::uintptr_t>(g_escape_stack) + sizeof g_escape_stack) & ~std::uintptr_t{15};
#if defined(__x86_64__)
  sp -= sizeof(std::uintptr_t);  // as if called: a (null) return address below a 16-byte boundary
  *reinterpret_cast<std::uintptr_t*>(sp) = 0;
  uc->uc_mcontext.gregs[REG_RSP] = static_cast<greg_t>(sp);
  uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(&escape_entry);
#elif defined(__aarch64__)
  uc->uc_mcontext.sp = sp;
  uc->uc_mcontext.regs[30] = 0;
  uc->uc_mcontext.pc = reinterpret_cast<std::uintptr_t>(&escape_entry);
#endif
}

// Async-signal-safe output for a harness fault: the process is about to die.
void write_text(const char* s) {
  ssize_t ignored = write(STDERR_FILENO, s, std::strlen(s));
  (void)ignored;
}
void write_hex(std::uintptr_t v) {
  char buf[2 + 16 + 1];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v);
  *--p = 'x';
  *--p = '0';
  write_text(p);
}

void harness_fault(int sig, const siginfo_t* info, std::uintptr_t pc) {
  write_text("dexthil: internal error: ");
  write_text(signal_name(sig));
  write_text(" (");
  write_text(signal_code_text(sig, info->si_code));
  write_text(") at address ");
  write_hex(reinterpret_cast<std::uintptr_t>(info->si_addr));
  write_text(", pc ");
  write_hex(pc);
  write_text(" in the harness itself, not in dext code; backtrace:\n");
  void* frames[48];
  backtrace_symbols_fd(frames, backtrace(frames, 48), STDERR_FILENO);
  // Let the signal do what it does by default: the parent reports the dead scenario process.
  signal(sig, SIG_DFL);
  if (sig == SIGABRT) raise(SIGABRT);
}

void capture(FaultRecord::Kind kind, int sig, const siginfo_t* info, std::uintptr_t pc) {
  g_record.frame_count = 0;  // (field by field: a whole FaultRecord is too big for the alternate stack)
  g_record.hang_seconds = 0;
  g_record.kind = kind;
  g_record.signal = sig;
  g_record.code = info ? info->si_code : 0;
  g_record.address = info ? reinterpret_cast<std::uintptr_t>(info->si_addr) : 0;
  g_record.pc = pc;
  // backtrace() walks from here through the signal frame into the interrupted code; keep the
  // frames from the interrupted instruction on.
  static void* raw[FaultRecord::kMaxFrames + 8];  // static: the alternate stack is small
  const int n = backtrace(raw, FaultRecord::kMaxFrames + 8);
  int first = -1;
  for (int i = 0; i < n; ++i) {
    if (reinterpret_cast<std::uintptr_t>(raw[i]) == pc) {
      first = i;
      break;
    }
  }
  if (first < 0) {
    g_record.frames[0] = reinterpret_cast<void*>(pc);
    g_record.frame_count = 1;
    return;
  }
  for (int i = first; i < n && g_record.frame_count < FaultRecord::kMaxFrames; ++i) {
    g_record.frames[g_record.frame_count++] = raw[i];
  }
}

void on_signal(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  const std::uintptr_t pc = context_pc(uc);
  FaultSink* sink = g_sink.load(std::memory_order_acquire);
  const bool fiber_thread = pthread_equal(pthread_self(), g_fiber_thread.load()) != 0;
  if (sig == kHangSignal) {
    // Only the callback the watchdog timed, still running in the dext's own code, is ended;
    // otherwise the watchdog asks again shortly (the harness's state is never cut off
    // half-updated, and a callback that started since is not blamed).
    if (!fiber_thread || !sink || !g_hang_requested.load() || g_entries.load() != g_hang_entry.load() ||
        !sink->dext_fiber_running() || !in_dext_code(pc)) {
      return;
    }
    g_hang_requested = false;
    capture(FaultRecord::Kind::kHang, sig, nullptr, pc);
    g_record.hang_seconds = g_hang_seconds.load();
  } else {
    // Only a fault on the fiber thread while a dext fiber runs is the dext's; anything else (the
    // watchdog thread, a signal sent to the process) is the harness's.
    if (!fiber_thread || !sink || !sink->dext_fiber_running()) {
      harness_fault(sig, info, pc);
      return;
    }
    const bool overflow = sig == SIGSEGV && in_guard_page(reinterpret_cast<std::uintptr_t>(info->si_addr));
    capture(overflow ? FaultRecord::Kind::kStackOverflow : FaultRecord::Kind::kSignal, sig, info, pc);
  }
  g_escape_sink = sink;
  redirect_to_escape(uc);
}

void watchdog_loop() {
  std::uint64_t seen = 0;
  auto since = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint64_t limit = g_limit_ms.load();
    const std::uint64_t entries = g_entries.load(std::memory_order_acquire);
    const auto now = std::chrono::steady_clock::now();
    if (limit == 0 || g_sink.load(std::memory_order_acquire) == nullptr || entries != seen) {
      seen = entries;
      since = now;
      continue;
    }
    const double ran = std::chrono::duration<double>(now - since).count();
    if (ran * 1000.0 >= static_cast<double>(limit)) {
      g_hang_seconds = ran;
      g_hang_entry = entries;
      g_hang_requested = true;
      pthread_kill(g_fiber_thread.load(), kHangSignal);
    }
  }
}

void after_fork_in_child() {
  // Threads do not survive fork: the child starts its own watchdog when it needs one.
  g_watchdog_running = false;
  g_sink = nullptr;
  g_hang_requested = false;
}

}  // namespace

void install() {
  g_fiber_thread = pthread_self();
  if (!g_installed) {
    g_installed = true;
    pthread_atfork(nullptr, nullptr, &after_fork_in_child);
    // backtrace() loads the unwinder on first use; do that now, not inside a handler.
    void* warm[2];
    backtrace(warm, 2);
    stack_t alt{};
    alt.ss_size = 256 * 1024;
    alt.ss_sp = mmap(nullptr, alt.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt.ss_sp == MAP_FAILED) throw std::bad_alloc();
    sigaltstack(&alt, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = &on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : kFaultSignals) sigaction(sig, &sa, nullptr);
    sa.sa_flags |= SA_RESTART;
    sigaction(kHangSignal, &sa, nullptr);
  }
  if (!g_watchdog_running) {
    g_watchdog_running = true;
    std::thread(&watchdog_loop).detach();
  }
}

void fiber_entered(FaultSink* sink) {
  g_entries.fetch_add(1, std::memory_order_relaxed);
  g_sink.store(sink, std::memory_order_release);
}

void fiber_left() { g_sink.store(nullptr, std::memory_order_release); }

void set_callback_limit_ms(std::uint64_t ms) { g_limit_ms = ms; }
std::uint64_t callback_limit_ms() { return g_limit_ms; }

void add_dext_code_range(std::uintptr_t begin, std::uintptr_t end) {
  const int n = g_code_ranges.load();
  if (n >= kMaxCodeRanges) return;  // more copies than any run restarts: older ones still match
  g_code_begin[n] = begin;
  g_code_end[n] = end;
  g_code_ranges.store(n + 1, std::memory_order_release);
}

GuardedStack allocate_stack(std::size_t size) {
  Pool& p = pool();
  size = (size + p.page - 1) / p.page * p.page;
  for (std::size_t i = 0; i < p.free.size(); ++i) {
    if (p.free[i].size == size) {
      GuardedStack s = p.free[i];
      p.free[i] = p.free.back();
      p.free.pop_back();
      return s;
    }
  }
  void* base = mmap(nullptr, size + p.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                    -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (mprotect(base, p.page, PROT_NONE) != 0) {
    munmap(base, size + p.page);
    throw std::bad_alloc();
  }
  p.guards.push_back(reinterpret_cast<std::uintptr_t>(base));
  return {static_cast<unsigned char*>(base) + p.page + size, size};
}

void release_stack(const GuardedStack& stack) { pool().free.push_back(stack); }

bool in_guard_page(std::uintptr_t address) {
  const Pool& p = pool();
  for (std::uintptr_t g : p.guards) {
    if (g <= address && address < g + p.page) return true;
  }
  return false;
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGUSR2: return "SIGUSR2";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "signal";
  }
}

const char* signal_code_text(int signal, int code) {
  if (signal == SIGABRT && (code == SI_USER || code == SI_TKILL)) return "abort() was called";
  if (code == SI_USER || code == SI_TKILL) return "sent by a process";
  switch (signal) {
    case SIGSEGV:
      if (code == SEGV_MAPERR) return "address not mapped";
      if (code == SEGV_ACCERR) return "invalid permissions for mapped object";
      break;
    case SIGBUS:
      if (code == BUS_ADRALN) return "invalid address alignment";
      if (code == BUS_ADRERR) return "nonexistent physical address";
      if (code == BUS_OBJERR) return "object-specific hardware error";
      break;
    case SIGFPE:
      if (code == FPE_INTDIV) return "integer divide by zero";
      if (code == FPE_INTOVF) return "integer overflow";
      if (code == FPE_FLTDIV) return "floating-point divide by zero";
      break;
    case SIGILL:
      if (code == ILL_ILLOPC) return "illegal opcode";
      if (code == ILL_ILLOPN) return "illegal operand";
      if (code == ILL_PRVOPC) return "privileged opcode";
      break;
    default: break;
  }
  return "no further detail";
}

}  // namespace dexthil::driverkit::fault_guard
