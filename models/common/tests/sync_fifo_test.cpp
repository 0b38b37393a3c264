// sync_fifo.sv driven directly (cycle by cycle) and through the simulation kernel.
#include <gtest/gtest.h>

#include "Vsync_fifo.h"
#include "Vsync_fifo_d5.h"
#include "harness/sim/simulator.hpp"
#include "models/common/fifo_traffic.hpp"
#include "models/common/verilated_clock.hpp"

namespace dexthil::models {
namespace {

// One clock cycle with the given inputs.
template <class Fifo>
void cycle(Fifo& f, bool push, std::uint32_t data, bool pop) {
  f.push = push;
  f.push_data = data;
  f.pop = pop;
  clock_cycle(f);
}

template <class Fifo>
void reset(Fifo& f) {
  f.push = 0;
  f.pop = 0;
  reset_cycles(f, 1);
}

TEST(SyncFifo, FirstWordFallsThroughAndOrderIsKept) {
  Vsync_fifo f;
  reset(f);
  EXPECT_TRUE(f.empty);
  EXPECT_EQ(f.count, 0);
  cycle(f, true, 0x11, false);
  EXPECT_FALSE(f.empty);
  EXPECT_EQ(f.pop_data, 0x11u);  // visible without a pop
  cycle(f, true, 0x22, false);
  cycle(f, true, 0x33, true);  // push and pop together
  EXPECT_EQ(f.count, 2);
  EXPECT_EQ(f.pop_data, 0x22u);
  cycle(f, false, 0, true);
  EXPECT_EQ(f.pop_data, 0x33u);
  cycle(f, false, 0, true);
  EXPECT_TRUE(f.empty);
  EXPECT_FALSE(f.overflow);
  EXPECT_FALSE(f.underflow);
}

TEST(SyncFifo, FullDropsPushesAndFlagsOverflowUntilReset) {
  Vsync_fifo f;
  reset(f);
  for (std::uint32_t i = 0; i < 16; ++i) cycle(f, true, i, false);
  EXPECT_TRUE(f.full);
  EXPECT_EQ(f.count, 16);
  EXPECT_FALSE(f.overflow);
  cycle(f, true, 99, false);
  EXPECT_TRUE(f.overflow);
  EXPECT_EQ(f.count, 16);
  for (std::uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(f.pop_data, i);  // 99 never went in
    cycle(f, false, 0, true);
  }
  EXPECT_TRUE(f.overflow);  // sticky
  reset(f);
  EXPECT_FALSE(f.overflow);
}

TEST(SyncFifo, PopWhenEmptyFlagsUnderflow) {
  Vsync_fifo f;
  reset(f);
  cycle(f, false, 0, true);
  EXPECT_TRUE(f.underflow);
  EXPECT_TRUE(f.empty);
}

TEST(SyncFifo, NonPowerOfTwoDepthWrapsCorrectly) {
  Vsync_fifo_d5 f;  // WIDTH=8, DEPTH=5
  reset(f);
  std::uint32_t next_in = 0, next_out = 0;
  for (int round = 0; round < 40; ++round) {
    const bool push = !f.full && round % 3 != 2;
    const bool pop = !f.empty && round % 2 == 1;
    if (pop) {
      EXPECT_EQ(f.pop_data, next_out++ & 0xff);
    }
    cycle(f, push, next_in & 0xff, pop);
    if (push) ++next_in;
    EXPECT_LE(f.count, 5);
  }
  cycle(f, true, 0, false);
  while (!f.full) cycle(f, true, 0, false);
  EXPECT_EQ(f.count, 5);
  EXPECT_FALSE(f.overflow);
  EXPECT_FALSE(f.underflow);
}

TEST(SyncFifo, RandomTrafficThroughTheKernelKeepsOrder) {
  sim::Simulator sim(2024);
  sim::ClockDomain& clk = sim.add_clock("clk", 4000);
  FifoTraffic traffic("fifo", sim, {.words_per_burst = 500, .burst_interval = 100 * sim::kMicrosecond, .bursts = 4});
  sim.attach(traffic, clk);
  sim.run_until(sim::kSecond);
  EXPECT_EQ(traffic.pushed(), 2000u);
  EXPECT_EQ(traffic.popped(), 2000u);
  EXPECT_EQ(traffic.order_errors(), 0u);
  EXPECT_FALSE(traffic.sticky_error());
  EXPECT_EQ(traffic.max_count(), 16u);  // pushes outpace pops, so the FIFO does fill
}

TEST(SyncFifo, IdleSkippingGivesTheSameTraceAsEveryCycle) {
  auto run = [](bool skip_idle) {
    sim::Simulator sim(5, {.skip_idle = skip_idle});
    sim::ClockDomain& clk = sim.add_clock("clk", 4000);
    FifoTraffic traffic("fifo", sim, {.words_per_burst = 100, .burst_interval = 50 * sim::kMicrosecond, .bursts = 5});
    sim.attach(traffic, clk);
    sim::RunStats stats = sim.run_until(sim::kMillisecond);
    return std::tuple{sim.trace().hash(), sim.trace().count(), traffic.popped(), stats.clock_edges};
  };
  auto [hash_skip, records_skip, popped_skip, edges_skip] = run(true);
  auto [hash_all, records_all, popped_all, edges_all] = run(false);
  EXPECT_EQ(hash_skip, hash_all);
  EXPECT_EQ(records_skip, records_all);
  EXPECT_EQ(popped_skip, popped_all);
  EXPECT_EQ(edges_all, 250'000u);  // 1 ms at 250 MHz
  EXPECT_LT(edges_skip * 10, edges_all);
}

}  // namespace
}  // namespace dexthil::models
