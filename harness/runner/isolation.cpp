#include "harness/runner/isolation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

#include "harness/driverkit/runtime/fault_guard.hpp"
#include "harness/runner/result_codec.hpp"

namespace dexthil::runner {

namespace {

struct Child {
  std::size_t index;
  int result_fd;
  int alive_fd;  // read end of a pipe whose write end only the child holds: EOF when it ends
  std::chrono::steady_clock::time_point started;
};

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string bytes;
  char buf[65536];
  lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  return bytes;
}

// In the child: run, hand the result over, and leave without running the parent's atexit
// handlers or flushing its stdio buffers a second time.
[[noreturn]] void child_main(const scenario::Scenario& s, const ModelCatalog& catalog, const RunOptions& options, int fd) {
  ScenarioResult result;
  try {
    result = run_scenario(s, catalog, options);
  } catch (const std::exception& e) {
    result.name = s.name;
    result.file = s.file;
    result.outcome = Outcome::kHarnessError;
    result.failures.push_back(std::string("harness error: ") + e.what());
  }
  const bool sent = write_all(fd, encode_result(result));
  std::fflush(nullptr);  // what the dext printed, before _exit skips stdio's own flushing
  _exit(sent ? 0 : 3);
}

ScenarioResult harness_error(const scenario::Scenario& s, const RunOptions& options, std::string why, double wall) {
  ScenarioResult r;
  r.name = s.name;
  r.file = s.file;
  r.labels = s.labels;
  r.seed = options.seed.value_or(s.seed.value_or(kDefaultSeed));
  r.outcome = Outcome::kHarnessError;
  r.failures.push_back(std::move(why));
  r.wall_seconds = wall;
  return r;
}

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return std::string("died of ") + driverkit::fault_guard::signal_name(sig) + " (signal " + std::to_string(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

std::vector<ScenarioResult> run_isolated(const std::vector<scenario::Scenario>& scenarios, const ModelCatalog& catalog,
                                         const RunOptions& options, unsigned jobs, const ResultCallback& on_result) {
  if (jobs == 0) jobs = 1;
  std::vector<ScenarioResult> results(scenarios.size());
  std::map<pid_t, Child> running;
  // Whatever happens, no child outlives this call (a fork that fails midway, an exception).
  struct Reaper {
    std::map<pid_t, Child>& children;
    ~Reaper() {
      for (auto& [pid, child] : children) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        close(child.result_fd);
        close(child.alive_fd);
      }
    }
  } reaper{running};
  std::size_t next = 0;
  auto start = [&](std::size_t index) {
    const int fd = memfd_create("dexthil-result", MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) != 0) {
      close(fd);
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    // What this process has buffered must not be written again by the child.
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      close(fd);
      close(alive[0]);
      close(alive[1]);
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      close(alive[0]);
      child_main(scenarios[index], catalog, options, fd);
    }
    close(alive[1]);
    running[pid] = {index, fd, alive[0], std::chrono::steady_clock::now()};
  };
  const auto limit = std::chrono::duration<double>(options.scenario_limit_seconds);
  while (next < scenarios.size() || !running.empty()) {
    while (running.size() < jobs && next < scenarios.size()) start(next++);
    // Wait until a child ends (its pipe closes) or the earliest one runs out of wall-clock time.
    std::vector<pollfd> fds;
    std::vector<pid_t> pids;
    auto soonest = std::chrono::steady_clock::time_point::max();
    for (const auto& [pid, child] : running) {
      fds.push_back({child.alive_fd, POLLIN, 0});
      pids.push_back(pid);
      soonest = std::min(soonest, child.started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit));
    }
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - std::chrono::steady_clock::now());
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait_ms.count() + 1, 0, 60'000)));
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    pid_t pid = -1;
    bool timed_out = false;
    for (std::size_t i = 0; i < fds.size() && pid < 0; ++i) {
      if (fds[i].revents) pid = pids[i];
    }
    if (pid < 0) {
      for (const auto& [p, child] : running) {
        if (std::chrono::steady_clock::now() - child.started >= limit) {
          pid = p;
          timed_out = true;
          kill(pid, SIGKILL);  // stuck: a dext that corrupted the harness's memory can leave it so
          break;
        }
      }
      if (pid < 0) continue;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    auto it = running.find(pid);
    const Child child = it->second;
    running.erase(it);
    close(child.alive_fd);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - child.started).count();
    const scenario::Scenario& s = scenarios[child.index];
    ScenarioResult result;
    if (timed_out) {
      result = harness_error(s, options,
                             "harness error: the scenario's process was still running after " +
                                 std::to_string(static_cast<long long>(options.scenario_limit_seconds)) +
                                 " s of wall-clock time (dexthil run --scenario-limit) and was ended. A dext that "
                                 "corrupted the harness's memory (a heap overflow) can leave it stuck; rerun this "
                                 "scenario alone, under the asan preset, to find where.",
                             wall);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      std::string error;
      if (auto decoded = decode_result(read_all(child.result_fd), &error)) {
        result = std::move(*decoded);
      } else {
        result = harness_error(s, options, "harness error: the scenario's process returned a garbled result: " + error, wall);
      }
    } else {
      result = harness_error(s, options,
                             "harness error: the scenario's process " + how_it_ended(status) +
                                 " before it reported a result. This is a dexthil bug, not the dext's (dext crashes "
                                 "are findings); its message is above. Rerun this scenario alone to reproduce it.",
                             wall);
    }
    close(child.result_fd);
    results[child.index] = std::move(result);
    if (on_result) on_result(child.index, results[child.index]);
  }
  return results;
}

}  // namespace dexthil::runner
