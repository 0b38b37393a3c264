// dexthil's performance figures: event throughput, the gain from skipping idle clock edges, and
// the cost of driving a Verilated model through the kernel compared with a bare Verilator loop.
// After Google Benchmark's table it prints the ratios the project sets goals for.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "Vsync_fifo.h"
#include "harness/sim/simulator.hpp"
#include "models/common/fifo_traffic.hpp"

namespace {

using dexthil::models::FifoTraffic;
using dexthil::models::FifoTrafficConfig;
namespace sim = dexthil::sim;

constexpr sim::SimTime kPeriod = 4000;  // 250 MHz

// Raw event queue: a steady heap of 1024 pending events, one popped and one pushed per item.
void BM_EventQueue(benchmark::State& state) {
  sim::EventQueue q;
  sim::Random r(1);
  std::uint64_t sink = 0;
  for (int i = 0; i < 1024; ++i) q.schedule(r.uniform(0, 1'000'000), [&sink] { ++sink; });
  sim::SimTime t = 0;
  sim::EventCallback cb;
  for (auto _ : state) {
    q.pop(&t, &cb);
    cb();
    q.schedule(t + r.uniform(1, 1'000'000), [&sink] { ++sink; });
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueue);

// Events through the whole kernel: 64 independent timers, each re-arming itself.
void BM_SimulatorEvents(benchmark::State& state) {
  constexpr std::uint64_t kEvents = 1'000'000;
  for (auto _ : state) {
    sim::Simulator s(1);
    std::uint64_t fired = 0;
    std::function<void(std::uint64_t)> arm = [&](std::uint64_t k) {
      s.after(100 + k, [&, k] {
        if (++fired < kEvents) arm(k);
      });
    };
    for (std::uint64_t k = 0; k < 64; ++k) arm(k);
    s.run_until(sim::kNever);
    benchmark::DoNotOptimize(fired);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_SimulatorEvents)->Unit(benchmark::kMillisecond);

// A mostly idle model: a 64-word burst through the FIFO every 100 us for 20 ms of simulated time.
void mostly_idle(benchmark::State& state, bool skip_idle) {
  std::uint64_t edges = 0;
  for (auto _ : state) {
    sim::Simulator s(3, {.skip_idle = skip_idle});
    FifoTraffic t("fifo", s, {.words_per_burst = 64, .burst_interval = 100 * sim::kMicrosecond, .bursts = 200});
    s.attach(t, s.add_clock("clk", kPeriod));
    edges = s.run_until(20 * sim::kMillisecond).clock_edges;
    if (t.popped() != 64 * 200) state.SkipWithError("traffic did not complete");
  }
  state.counters["edges"] = static_cast<double>(edges);
}
void BM_MostlyIdle_SkipIdle(benchmark::State& state) { mostly_idle(state, true); }
void BM_MostlyIdle_EveryCycle(benchmark::State& state) { mostly_idle(state, false); }
BENCHMARK(BM_MostlyIdle_SkipIdle)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MostlyIdle_EveryCycle)->Unit(benchmark::kMillisecond);

constexpr std::uint64_t kBusyCycles = 1'000'000;

// The FIFO kept busy, driven by the kernel: one clock edge per cycle through FifoTraffic.
void BM_FifoThroughKernel(benchmark::State& state) {
  for (auto _ : state) {
    sim::Simulator s(4);
    FifoTraffic t("fifo", s, {.words_per_burst = kBusyCycles * 4, .burst_interval = 0, .bursts = 1});
    s.attach(t, s.add_clock("clk", kPeriod));
    s.run_until(kBusyCycles * kPeriod);
    benchmark::DoNotOptimize(t.popped());
  }
  state.SetItemsProcessed(state.iterations() * kBusyCycles);
}
BENCHMARK(BM_FifoThroughKernel)->Unit(benchmark::kMillisecond);

// The same stimulus and checking as FifoTraffic::on_clock_edge, in a bare Verilator loop.
void BM_FifoBareVerilator(benchmark::State& state) {
  for (auto _ : state) {
    sim::Random random = sim::Random(4).stream("fifo");
    Vsync_fifo top;
    top.rst_n = 0;
    top.clk = 0;
    top.eval();
    top.clk = 1;
    top.eval();
    top.rst_n = 1;
    std::uint64_t pushed = 0, popped = 0, errors = 0, max_count = 0;
    for (std::uint64_t c = 0; c < kBusyCycles; ++c) {
      top.push = random.chance(0.7) && !top.full;
      top.push_data = static_cast<std::uint32_t>(pushed * 2654435761u + 1);
      top.pop = random.chance(0.6) && !top.empty;
      top.clk = 0;
      top.eval();
      if (top.pop) {
        if (top.pop_data != static_cast<std::uint32_t>(popped * 2654435761u + 1)) ++errors;
        ++popped;
      }
      pushed += top.push;
      top.clk = 1;
      top.eval();
      if (top.count > max_count) max_count = top.count;
    }
    if (errors) state.SkipWithError("FIFO order error");
    benchmark::DoNotOptimize(max_count);
  }
  state.SetItemsProcessed(state.iterations() * kBusyCycles);
}
BENCHMARK(BM_FifoBareVerilator)->Unit(benchmark::kMillisecond);

// Keeps each benchmark's time per iteration so the ratios can be printed after the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) seconds_[r.benchmark_name()] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // b / a, or a negative number when either is missing (filtered out).
  double ratio(const std::string& a, const std::string& b) const {
    auto ia = seconds_.find(a), ib = seconds_.find(b);
    if (ia == seconds_.end() || ib == seconds_.end() || ia->second <= 0) return -1;
    return ib->second / ia->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

void print_ratio(const char* what, double value, double goal) {
  if (value < 0) return;
  std::printf("%-58s %8.2f  (goal >= %.2f: %s)\n", what, value, goal, value >= goal ? "met" : "NOT MET");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nratios\n");
  print_ratio("idle-skip speed-up (every-cycle time / skip-idle time)",
              reporter.ratio("BM_MostlyIdle_SkipIdle", "BM_MostlyIdle_EveryCycle"), 50);
  print_ratio("kernel-driven FIFO eval rate / bare Verilator loop rate",
              reporter.ratio("BM_FifoThroughKernel", "BM_FifoBareVerilator"), 0.8);
  benchmark::Shutdown();
  return 0;
}
