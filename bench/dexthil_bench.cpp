// dexthil's performance figures: event throughput, the gain from skipping idle clock edges, and
// the cost of driving a Verilated model through the kernel compared with a bare Verilator loop.
// After Google Benchmark's table it prints the ratios the project sets goals for.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IODMACommand.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include "Vsync_fifo.h"
#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/dispatch.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/platform/pcie_platform.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/util/heap_tuning.hpp"
#include "models/common/fifo_traffic.hpp"
#include "models/common/verilated_clock.hpp"
#include "models/dma_testdev/dma_testdev.hpp"

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
std::uint64_t fifo_through_kernel(std::uint64_t cycles) {
  sim::Simulator s(4);
  FifoTraffic t("fifo", s, {.words_per_burst = cycles * 4, .burst_interval = 0, .bursts = 1});
  s.attach(t, s.add_clock("clk", kPeriod));
  s.run_until(cycles * kPeriod);
  return t.popped();
}

// The same stimulus and checking as FifoTraffic::on_clock_edge, in a bare Verilator loop.
std::uint64_t fifo_bare_verilator(std::uint64_t cycles) {
  sim::Random random = sim::Random(4).stream("fifo");
  Vsync_fifo top;
  top.push = 0;
  top.pop = 0;
  dexthil::models::reset_cycles(top);
  std::uint64_t pushed = 0, popped = 0, errors = 0, max_count = 0;
  for (std::uint64_t c = 0; c < cycles; ++c) {
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
  benchmark::DoNotOptimize(max_count);
  return errors ? 0 : popped;
}

void BM_FifoThroughKernel(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fifo_through_kernel(kBusyCycles));
  state.SetItemsProcessed(state.iterations() * kBusyCycles);
}
BENCHMARK(BM_FifoThroughKernel)->Unit(benchmark::kMillisecond);

void BM_FifoBareVerilator(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fifo_bare_verilator(kBusyCycles));
  state.SetItemsProcessed(state.iterations() * kBusyCycles);
}
BENCHMARK(BM_FifoBareVerilator)->Unit(benchmark::kMillisecond);

// Both loops alternately within each iteration, timed separately: a shared VM's noise then hits
// both alike, which makes this the figure the ratio goal is judged on.
void BM_FifoKernelVsBarePaired(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  double kernel_s = 0, bare_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    const std::uint64_t a = fifo_bare_verilator(kBusyCycles / 4);
    auto t1 = Clock::now();
    const std::uint64_t b = fifo_through_kernel(kBusyCycles / 4);
    auto t2 = Clock::now();
    if (a != b) state.SkipWithError("the two loops did different work");
    bare_s += std::chrono::duration<double>(t1 - t0).count();
    kernel_s += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["rate_ratio"] = bare_s / kernel_s;  // kernel rate / bare rate
}
BENCHMARK(BM_FifoKernelVsBarePaired)->Unit(benchmark::kMillisecond);

// ---- PCIe fabric and DART (issue 3) ----

// A root port and one endpoint, enumerated, with a 2 MiB buffer prepared at IOVA 0x80000000.
struct FabricRig {
  FabricRig() : sim(1) {
    std::string error;
    auto t = dexthil::pcie::load_topology_text(R"(
[topology]
name = "bench"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "dev"
kind = "endpoint"
parent = "rp0"
ids = "1234:5678"
bars = [{ size = "16KiB" }]
)", "bench.toml", &error);
    fabric = std::make_unique<dexthil::pcie::Fabric>(std::move(*t), sim, memory, tables);
    platform = std::make_unique<dexthil::platform::PciePlatform>(*fabric);
    auto iova = platform->mapper(*fabric->node("rp0")).prepare("dev", {1}, 0x20'0000'0000, kBuffer, {}, 64, 0, &error);
    if (!iova || iova->iova != 0x8000'0000) std::abort();
    std::vector<std::uint8_t> fill(kBuffer, 0xa5);
    memory.write(0x20'0000'0000, fill);
  }
  static constexpr std::uint64_t kBuffer = 2 << 20;  // 128 DART pages: more than the 64-entry IOTLB holds
  sim::Simulator sim;
  dexthil::hostmem::SparseMemory memory;
  dexthil::hostmem::PageAllocator tables{0x10'0000'0000, 1 << 30};
  std::unique_ptr<dexthil::pcie::Fabric> fabric;
  std::unique_ptr<dexthil::platform::PciePlatform> platform;
};

// DART translations with every page in the IOTLB (4 pages, 64-entry TLB).
void BM_DartTranslateWarmTlb(benchmark::State& state) {
  FabricRig rig;
  auto& dart = *rig.fabric->dart(*rig.fabric->node("rp0"));
  std::uint64_t i = 0, sink = 0;
  for (auto _ : state) sink += dart.translate(1, 0x8000'0000 + (i++ & 3) * 16384, false).pa;
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.counters["tlb_hit_rate"] = static_cast<double>(dart.tlb_hits()) / static_cast<double>(dart.tlb_hits() + dart.tlb_misses());
}
BENCHMARK(BM_DartTranslateWarmTlb);

// Translations that always miss: 65 mapped pages in turn through the 64-entry FIFO IOTLB evict
// each page just before it comes round again, so every translation walks the tables.
void BM_DartTranslateTlbMiss(benchmark::State& state) {
  FabricRig rig;
  auto& dart = *rig.fabric->dart(*rig.fabric->node("rp0"));
  std::uint64_t i = 0, sink = 0;
  for (auto _ : state) sink += dart.translate(1, 0x8000'0000 + (i++ % 65) * 16384, false).pa;
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.counters["tlb_hit_rate"] = static_cast<double>(dart.tlb_hits()) / static_cast<double>(dart.tlb_hits() + dart.tlb_misses());
}
BENCHMARK(BM_DartTranslateTlbMiss);

// 4 KiB device reads through the fabric, RID-to-SID lookup, DART (warm TLB) and host memory,
// with their completions delivered by the kernel: simulated DMA bytes per wall second.
void BM_FabricDmaRead4KiB(benchmark::State& state) {
  FabricRig rig;
  auto& upstream = rig.fabric->upstream(*rig.fabric->node("dev"));
  std::uint64_t completed = 0, i = 0;
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k) {
      dexthil::dma::DmaRequest r;
      r.address = 0x8000'0000 + (i++ & 3) * 4096;  // four pages' worth, always warm
      r.length = 4096;
      upstream.submit(std::move(r), [&completed](dexthil::dma::DmaCompletion c) { completed += c.data.size(); });
    }
    rig.sim.run_until(sim::kNever);
  }
  if (completed != static_cast<std::uint64_t>(state.iterations()) * 64 * 4096) state.SkipWithError("not every read completed");
  state.SetBytesProcessed(static_cast<std::int64_t>(completed));
}
BENCHMARK(BM_FabricDmaRead4KiB);

// Host MMIO reads of the RTL test device's registers, one after another as a driver's polling
// loop issues them: the request down the path, the register read on the device's register bus at
// its next clock edge, the completion back. Wall cost per simulated access.
void BM_MmioReadRoundTrip(benchmark::State& state) {
  FabricRig rig;
  dexthil::pcie::Node& dev = *rig.fabric->node("dev");
  dexthil::models::DmaTestdev device("testdev", rig.sim, *rig.fabric, dev);
  rig.sim.attach(device, rig.sim.add_clock("testdev.clk", 4000));
  const std::uint64_t id_register = dev.bar_addresses.at(0) + dexthil::models::testdev::kId;
  std::uint64_t reads = 0, wrong = 0;
  for (auto _ : state) {
    int left = 1000;
    std::function<void(const dexthil::pcie::MmioResult&)> next = [&](const dexthil::pcie::MmioResult& r) {
      ++reads;
      wrong += r.value != dexthil::models::testdev::kIdValue;
      if (--left > 0) rig.fabric->mmio_read(id_register, 4, next);
    };
    rig.fabric->mmio_read(id_register, 4, next);
    rig.sim.run_until(sim::kNever);
  }
  if (wrong || reads != static_cast<std::uint64_t>(state.iterations()) * 1000) state.SkipWithError("a read went wrong");
  state.counters["reads_per_second"] = benchmark::Counter(static_cast<double>(reads), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MmioReadRoundTrip)->Unit(benchmark::kMillisecond);

// The floor: a plain memcpy of the same 4 KiB reads from the buffer into a fresh vector.
void BM_Memcpy4KiB(benchmark::State& state) {
  std::vector<std::uint8_t> source(FabricRig::kBuffer, 0xa5);
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::vector<std::uint8_t> out(4096);
    std::memcpy(out.data(), source.data() + (i++ & 3) * 4096, 4096);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
}
BENCHMARK(BM_Memcpy4KiB);

// ---- DriverKit on the host ----

// A synchronous message as the kernel sends one to a dext: from the kernel's thread onto the
// dext's queue, the method runs, and back (two fiber switches and two simulator events).
void BM_DispatchedMethodCall(benchmark::State& state) {
  sim::Simulator sim(1);
  dexthil::driverkit::FiberRuntime runtime(sim);
  dexthil::driverkit::DispatchQueue kernel(runtime, "kernel"), dext(runtime, "Default");
  std::uint64_t calls = 0;
  for (auto _ : state) {
    kernel.dispatch_async([&] {
      for (int k = 0; k < 1000; ++k) dext.dispatch_sync([&] { ++calls; });
    });
    sim.run_until(sim::kNever);
  }
  if (calls != static_cast<std::uint64_t>(state.iterations()) * 1000) state.SkipWithError("calls went missing");
  state.counters["calls_per_second"] = benchmark::Counter(static_cast<double>(calls), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DispatchedMethodCall)->Unit(benchmark::kMillisecond);

// A queue switch: a block on one queue hands work to another with DispatchAsync, back and forth.
void BM_QueueSwitch(benchmark::State& state) {
  sim::Simulator sim(1);
  dexthil::driverkit::FiberRuntime runtime(sim);
  dexthil::driverkit::DispatchQueue a(runtime, "a"), b(runtime, "b");
  std::uint64_t switches = 0;
  std::function<void(int)> hop = [&](int left) {
    ++switches;
    if (left == 0) return;
    ((left & 1) ? a : b).dispatch_async([&hop, left] { hop(left - 1); });
  };
  for (auto _ : state) {
    a.dispatch_async([&] { hop(1000); });
    sim.run_until(sim::kNever);
  }
  state.counters["switches_per_second"] = benchmark::Counter(static_cast<double>(switches), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_QueueSwitch)->Unit(benchmark::kMillisecond);

// IODMACommand::PrepareForDMA + CompleteDMA of a 16 KiB buffer on the direct topology: the
// DART map and unmap, IOVA allocation and the mapping record.
void BM_PrepareCompleteDma(benchmark::State& state) {
  sim::Simulator sim(1);
  dexthil::hostmem::SparseMemory memory;
  dexthil::hostmem::PageAllocator tables(0x10'0000'0000, 1 << 30), buffers(0x20'0000'0000, 1 << 30);
  std::string error;
  auto topology = dexthil::pcie::load_topology("fixtures/topologies/direct.toml", &error);
  if (!topology) {
    state.SkipWithError(error.c_str());
    return;
  }
  dexthil::pcie::Fabric fabric(std::move(*topology), sim, memory, tables);
  dexthil::platform::PciePlatform platform(fabric);
  dexthil::monitor::Monitor monitor;
  dexthil::driverkit::Kernel kernel(sim, memory, buffers, monitor);
  kernel.add_bus(std::make_unique<dexthil::driverkit::PciBus>(kernel, platform));
  IOPCIDevice* nub = OSDynamicCast(IOPCIDevice, kernel.nub("dev")->object);
  IOBufferMemoryDescriptor* buffer = nullptr;
  IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 16384, 0, &buffer);
  buffer->SetLength(16384);
  IODMACommandSpecification spec = {};
  spec.maxAddressBits = 64;
  IODMACommand* command = nullptr;
  IODMACommand::Create(nub, 0, &spec, &command);
  std::uint64_t pairs = 0;
  for (auto _ : state) {
    uint64_t flags = 0;
    uint32_t count = 1;
    IOAddressSegment segment;
    if (command->PrepareForDMA(0, buffer, 0, 0, &flags, &count, &segment) != kIOReturnSuccess ||
        command->CompleteDMA(0) != kIOReturnSuccess) {
      state.SkipWithError("PrepareForDMA/CompleteDMA failed");
      break;
    }
    ++pairs;
  }
  state.counters["pairs_per_second"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
  command->release();
  buffer->release();
}
BENCHMARK(BM_PrepareCompleteDma);

// Keeps each benchmark's time per iteration so the ratios can be printed after the table. With
// --benchmark_repetitions the median of the repetitions is used: it shrugs off a noisy neighbour.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      // Benchmarks with arguments are told apart by their full name (BM_LsiModelIo/bytes:4096/...).
      const std::string name = r.run_name.args.empty() ? r.run_name.function_name : r.run_name.str();
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (median) {
        medians_[name] = r.GetAdjustedRealTime();
      } else if (r.run_type == Run::RT_Iteration) {
        seconds_[name] = r.GetAdjustedRealTime();
      }
      if (median || r.run_type == Run::RT_Iteration) {
        for (const auto& [counter, value] : r.counters) counters_[name + "." + counter] = value.value;
        counters_[name + ".bytes_per_second"] = r.GetAdjustedRealTime() > 0 && r.counters.count("bytes_per_second")
                                                    ? r.counters.at("bytes_per_second").value
                                                    : counters_[name + ".bytes_per_second"];
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // b / a, or a negative number when either is missing (filtered out).
  // Bytes per second, from the benchmark's median (or only) run.
  double bytes_per_second(const std::string& name) const { return counter(name + ".bytes_per_second"); }
  double counter(const std::string& key) const {
    auto it = counters_.find(key);
    return it == counters_.end() ? -1 : it->second;
  }
  double ratio(const std::string& a, const std::string& b) const {
    const double ta = time_of(a), tb = time_of(b);
    return ta > 0 && tb > 0 ? tb / ta : -1;
  }

 private:
  double time_of(const std::string& name) const {
    if (auto it = medians_.find(name); it != medians_.end()) return it->second;
    if (auto it = seconds_.find(name); it != seconds_.end()) return it->second;
    return -1;
  }
  std::map<std::string, double> seconds_;  // last repetition
  std::map<std::string, double> medians_;
  std::map<std::string, double> counters_;  // "benchmark.counter"
};

void print_ratio(const char* what, double value, double goal) {
  if (value < 0) return;
  std::printf("%-58s %8.2f  (goal >= %.2f: %s)\n", what, value, goal, value >= goal ? "met" : "NOT MET");
}

}  // namespace

int main(int argc, char** argv) {
  dexthil::util::keep_freed_heap_memory();  // as dexthil's own main does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nratios\n");
  print_ratio("idle-skip speed-up (every-cycle time / skip-idle time)",
              reporter.ratio("BM_MostlyIdle_SkipIdle", "BM_MostlyIdle_EveryCycle"), 50);
  print_ratio("kernel-driven FIFO eval rate / bare Verilator loop rate (paired)",
              reporter.counter("BM_FifoKernelVsBarePaired.rate_ratio"), 0.8);
  print_ratio("kernel-driven FIFO eval rate / bare Verilator loop rate (separate runs)",
              reporter.ratio("BM_FifoThroughKernel", "BM_FifoBareVerilator"), 0.8);
  const double dma = reporter.bytes_per_second("BM_FabricDmaRead4KiB");
  const double copy = reporter.bytes_per_second("BM_Memcpy4KiB");
  if (dma > 0) {
    std::printf("%-58s %8.2f GB/s  (goal >= 2.00 GB/s: %s)\n", "simulated DMA data per wall second, 4 KiB reads, warm TLB",
                dma / 1e9, dma >= 2e9 ? "met" : "NOT MET");
  }
  if (dma > 0 && copy > 0) std::printf("%-58s %8.3f\n", "  ... divided by plain memcpy of the same bytes", dma / copy);
  // The LSI53C1030 model (bench/lsi_bench.cpp): verified simulated data per wall second against
  // memcpy of the same bytes, and the checkers' cost.
  const char* kLsi = "BM_LsiModelIo/bytes:";
  for (const char* io : {"4096/random:1/qd:32", "524288/random:0/qd:32"}) {
    const std::string on = std::string(kLsi) + io + "/checkers:1", off = std::string(kLsi) + io + "/checkers:0";
    const double with = reporter.bytes_per_second(on), without = reporter.bytes_per_second(off);
    if (with > 0 && copy > 0) {
      std::printf("%-58s %8.4f\n", (std::string("LSI ") + io + ": simulated bytes / memcpy bytes").c_str(), with / copy);
    }
    if (with > 0 && without > 0) {
      std::printf("%-58s %8.2f\n", (std::string("LSI ") + io + ": checkers off / on").c_str(), without / with);
    }
  }
  const double lsi_seq = reporter.bytes_per_second(std::string(kLsi) + "524288/random:0/qd:1/checkers:1");
  for (const char* qd : {"1", "32"}) {
    const double seq = reporter.bytes_per_second(std::string(kLsi) + "524288/random:0/qd:" + qd + "/checkers:1");
    if (seq > 0) {
      std::printf("%-58s %8.2f GB/s  (goal >= 1.00 GB/s: %s)\n",
                  (std::string("LSI model: 512 KiB sequential, QD ") + qd + ", checkers on").c_str(), seq / 1e9,
                  seq >= 1e9 ? "met" : "NOT MET");
    }
  }
  const double lsi_iops = reporter.counter(std::string(kLsi) + "4096/random:1/qd:32/checkers:1.simulated_iops");
  if (lsi_iops > 0) {
    std::printf("%-58s %8.0f k  (goal >= 250 k: %s)\n", "LSI model: 4 KiB random IOPS, QD 32, checkers on",
                lsi_iops / 1e3, lsi_iops >= 250e3 ? "met" : "NOT MET");
  }
  // Through the dext (bench/lsi_dext_bench.cpp): the whole path, against the model alone.
  const char* kDext = "BM_LsiDextIo/bytes:";
  const double dext_seq = reporter.bytes_per_second(std::string(kDext) + "524288/qd:8/bundled:0");
  if (dext_seq > 0) {
    std::printf("%-58s %8.2f GB/s\n", "LSI through lsi_mpt: 512 KiB sequential, QD 8", dext_seq / 1e9);
    if (lsi_seq > 0) std::printf("%-58s %8.2f\n", "  ... divided by the model alone (512 KiB, QD 1)", dext_seq / lsi_seq);
  }
  for (const char* bundled : {"0", "1"}) {
    const double iops = reporter.counter(std::string(kDext) + "4096/qd:32/bundled:" + bundled + ".simulated_iops");
    if (iops > 0) {
      std::printf("%-58s %8.1f k\n",
                  (std::string("LSI through lsi_mpt: 4 KiB random IOPS, QD 32") + (bundled[0] == '1' ? ", bundled" : ""))
                      .c_str(),
                  iops / 1e3);
    }
  }
  benchmark::Shutdown();
  return 0;
}
