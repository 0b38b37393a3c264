#include <gtest/gtest.h>

#include <algorithm>

#include "harness/pcie/tests/machine.hpp"
#include "harness/platform/max_bus_delay.hpp"

namespace dexthil::pcie {
namespace {

using testing::Machine;

// Keeps the latency breakdown of the last DMA.
struct LatencyProbe final : DmaPathObserver {
  void on_dma(const DmaPath& path, const Fabric&) override { last = path.latency; }
  LatencyBreakdown last;
};

TEST(Latency, AspmExitLatencyEncodingsAsLinuxReadsThem) {
  EXPECT_EQ(l0s_exit_latency(0), 64 * sim::kNanosecond);
  EXPECT_EQ(l0s_exit_latency(4), 1024 * sim::kNanosecond);
  EXPECT_EQ(l1_exit_latency(0), sim::kMicrosecond);
  EXPECT_EQ(l1_exit_latency(3), 8 * sim::kMicrosecond);
  EXPECT_EQ(l1_exit_latency(7), 128 * sim::kMicrosecond);  // encoding 7 reads as "more than 64 us"
}

TEST(Latency, SerializationCountsEncodingAndTlpOverhead) {
  // 512 bytes in 64-byte completions on Gen3 x4: (512 + 8 * 24) bytes at 8 GT/s * 128/130 * 4 lanes / 8.
  EXPECT_EQ(serialization_time(512, 64, 3, 4), 178'750u);
  // 4 KiB in 128-byte TLPs on Gen1 x4: (4096 + 32 * 24) bytes at 1 GB/s.
  EXPECT_EQ(serialization_time(4096, 128, 1, 4), 4'864'000u);
}

TEST(Latency, HopsSerializationAndIotlbMissesAddUp) {
  Machine m("direct");
  LatencyProbe probe;
  m.fabric->add_observer(&probe);
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.dma("dev", false, iova, 512);
  // Hops: root port 150 ns + endpoint 100 ns, up and back.
  EXPECT_EQ(probe.last.hops, 500 * sim::kNanosecond);
  EXPECT_EQ(probe.last.serialization, 178'750u);
  EXPECT_EQ(probe.last.iotlb, 250 * sim::kNanosecond);  // first touch of the page walks the tables
  EXPECT_EQ(probe.last.aspm, 0u);                      // ASPM supported but not enabled in direct.toml
  EXPECT_EQ(m.last_latency(), probe.last.total());
  m.dma("dev", false, iova + 512, 512);
  EXPECT_EQ(probe.last.iotlb, 0u);  // now an IOTLB hit
}

// A write train crosses the links as its TLPs do, back to back, and the DART translates each TLP
// as it arrives: one table walk for the page, then IOTLB hits.
TEST(Latency, AWriteTrainTakesItsTlpsTimeAndEachTlpIsTranslated) {
  Machine m("direct");
  LatencyProbe probe;
  m.fabric->add_observer(&probe);
  const std::uint64_t iova = m.prepare("dev", 16384);
  const iommu::Dart& dart = m.dart_of("dev");
  const std::uint64_t hits = dart.tlb_hits(), misses = dart.tlb_misses();
  std::vector<std::uint8_t> data(4096);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 13 + (i >> 8));
  const dma::DmaCompletion c = m.dma("dev", true, iova, 4096, data, 128);
  EXPECT_EQ(c.status, dma::CompletionStatus::kSuccessful);
  // 4 KiB in 128-byte TLPs on Gen3 x4: (4096 + 32 * 24) bytes at 8 GT/s * 128/130 * 4 lanes / 8.
  EXPECT_EQ(probe.last.serialization, 1'235'000u);
  EXPECT_EQ(probe.last.iotlb, 250 * sim::kNanosecond);
  EXPECT_EQ(m.last_latency(), probe.last.total());
  EXPECT_EQ(dart.tlb_misses() - misses, 1u);
  EXPECT_EQ(dart.tlb_hits() - hits, 31u);
  std::vector<std::uint8_t> landed(4096);
  const std::uint32_t sid = m.fabric->sid_for(m.root_of("dev"), m.node("dev").bdf.rid());
  m.memory.read(dart.lookup(sid, iova).value(), landed);
  EXPECT_EQ(landed, data);
}

// A stream the kernel set to bypass has no tables to walk: its DMA pays no IOTLB miss, and
// reaches the physical address it names.
TEST(Latency, ABypassedStreamPaysNoTableWalk) {
  Machine m("direct");
  LatencyProbe probe;
  m.fabric->add_observer(&probe);
  iommu::Dart& dart = m.dart_of("dev");
  const std::uint32_t sid = m.fabric->sid_for(m.root_of("dev"), m.node("dev").bdf.rid());
  // TCR bypass: T8110 TCR at 0x1000 + 4 * SID, bit 1; T8020 TCR at 0x100 + 4 * SID, bit 8.
  const bool t8110 = dart.config().generation == iommu::DartGeneration::kT8110;
  dart.write32((t8110 ? 0x1000 : 0x100) + 4 * sid, t8110 ? 1u << 1 : 1u << 8);
  const std::uint64_t walks = dart.tlb_misses();
  std::vector<std::uint8_t> data(4096, 0x3c);
  EXPECT_EQ(m.dma("dev", true, 0x4000'0000, 4096, data, 128).status, dma::CompletionStatus::kSuccessful);
  EXPECT_EQ(probe.last.iotlb, 0u);
  EXPECT_EQ(dart.tlb_misses(), walks);
  std::vector<std::uint8_t> landed(4096);
  m.memory.read(0x4000'0000, landed);
  EXPECT_EQ(landed, data);
}

const char* kAspmTopology = R"(
[topology]
name = "aspm"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[node.link]
aspm = ["L1"]
aspm_enabled = ["L1"]
l1_exit = 3
[[node]]
name = "up"
kind = "switch-upstream"
parent = "rp0"
ids = "10b5:8747"
[node.link]
aspm = ["L1"]
l1_exit = 0
[[node]]
name = "down"
kind = "switch-downstream"
parent = "up"
ids = "10b5:8747"
[node.link]
aspm = ["L0s", "L1"]
aspm_enabled = ["L1"]
l1_exit = 1
[[node]]
name = "dev"
kind = "endpoint"
parent = "down"
ids = "1234:5678"
[node.link]
aspm = ["L0s", "L1"]
aspm_enabled = ["L1"]
l1_exit = 2
l1_entry_idle = "20us"
)";

TEST(Latency, L1ExitIsPaidAfterIdleAndGrowsByOneMicrosecondPerSwitch) {
  Machine m("aspm", 1, kAspmTopology);
  LatencyProbe probe;
  m.fabric->add_observer(&probe);
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.sim.run_until(100 * sim::kMicrosecond);
  m.dma("dev", false, iova, 64);
  // The endpoint's link exits L1 in max(4 us, 2 us) and one switch lies above it: 5 us. The
  // upper link has L1 enabled only on the root port's end, so it never enters L1.
  EXPECT_EQ(probe.last.aspm, 5 * sim::kMicrosecond);
  m.dma("dev", false, iova, 64);  // busy link: no exit to pay
  EXPECT_EQ(probe.last.aspm, 0u);
  m.sim.run_until(m.sim.now() + 15 * sim::kMicrosecond);  // idle, but below this link's 20 us entry time
  m.dma("dev", false, iova, 64);
  EXPECT_EQ(probe.last.aspm, 0u);
  // Turning L1 off in the endpoint's Link Control (as SetASPMState would) removes the cost.
  m.sim.run_until(m.sim.now() + 50 * sim::kMicrosecond);
  const std::uint16_t cap = m.node("dev").config.find_capability(cfg::kCapPciExpress);
  m.fabric->config_write(m.node("dev").bdf, cap + 0x10, 2, 0);
  m.dma("dev", false, iova, 64);
  EXPECT_EQ(probe.last.aspm, 0u);
}

TEST(Latency, ThePlatformsBusStallLimitBoundsInjectedStallsAndLeavesAspmAlone) {
  // The field's rare 400 us read stall, on the endpoint's link, behind L1 exits as above.
  Machine m("aspm", 1, std::string(kAspmTopology) + "[node.stall]\nkind = \"fixed\"\ndelay = \"400us\"\n");
  LatencyProbe probe;
  m.fabric->add_observer(&probe);
  const std::uint64_t iova = m.prepare("dev", 16384);
  m.sim.run_until(100 * sim::kMicrosecond);
  m.dma("dev", false, iova, 64);
  EXPECT_EQ(probe.last.stall, 400 * sim::kMicrosecond);
  EXPECT_EQ(probe.last.aspm, 5 * sim::kMicrosecond);
  // A service requires kIOMaxBusStall25usec: the platform's MaxBusDelay handler bounds the stall
  // while it is required. The link still enters L1 and pays its exit: xnu sets no ASPM limit.
  platform::MaxBusDelay delay;
  delay.add_handler([&](std::optional<sim::SimTime> limit, std::string_view holder) {
    m.platform->apply_max_bus_delay(limit, holder);
  });
  int service = 0;
  delay.require(&service, "Fpga@dev", 25 * sim::kMicrosecond);
  EXPECT_EQ(m.fabric->stall_bound(), 25 * sim::kMicrosecond);
  m.sim.run_until(m.sim.now() + 100 * sim::kMicrosecond);
  const sim::SimTime issued = m.sim.now();
  m.dma("dev", false, iova, 64);
  EXPECT_EQ(probe.last.stall, 25 * sim::kMicrosecond);
  EXPECT_EQ(probe.last.aspm, 5 * sim::kMicrosecond);
  EXPECT_EQ(m.last_latency(), probe.last.total());
  EXPECT_LT(m.sim.now() - issued, 400 * sim::kMicrosecond);
  // The requirement ends (kIOMaxBusStallNone, or the service goes away): the 400 us stall is back.
  delay.release(&service);
  EXPECT_EQ(m.fabric->stall_bound(), std::nullopt);
  m.dma("dev", false, iova, 64);
  EXPECT_EQ(probe.last.stall, 400 * sim::kMicrosecond);
}

TEST(Latency, StallDistributionsHaveTheirShapeAndFollowTheSeed) {
  sim::Random r(42);
  StallSpec fixed{.kind = StallSpec::Kind::kFixed, .fixed = 3 * sim::kMicrosecond};
  EXPECT_EQ(fixed.sample(r), 3 * sim::kMicrosecond);

  StallSpec uniform{.kind = StallSpec::Kind::kUniform, .min = 5 * sim::kMicrosecond, .max = 40 * sim::kMicrosecond};
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const sim::SimTime s = uniform.sample(r);
    ASSERT_GE(s, uniform.min);
    ASSERT_LE(s, uniform.max);
    sum += static_cast<double>(s);
  }
  EXPECT_NEAR(sum / 10000, 22.5e6, 0.5e6);

  StallSpec lognormal{.kind = StallSpec::Kind::kLognormal, .median = 10 * sim::kMicrosecond, .sigma = 0.5};
  std::vector<sim::SimTime> v;
  for (int i = 0; i < 10001; ++i) v.push_back(lognormal.sample(r));
  std::nth_element(v.begin(), v.begin() + 5000, v.end());
  EXPECT_NEAR(static_cast<double>(v[5000]), 10e6, 0.3e6);

  StallSpec heavy{.kind = StallSpec::Kind::kHeavyTail, .min = 5 * sim::kMicrosecond, .max = 40 * sim::kMicrosecond,
                  .spike = 400 * sim::kMicrosecond, .spike_probability = 0.01};
  int spikes = 0;
  for (int i = 0; i < 20000; ++i) spikes += heavy.sample(r) > 400 * sim::kMicrosecond;
  EXPECT_GT(spikes, 140);  // about 200
  EXPECT_LT(spikes, 260);

  sim::Random a(7), b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(heavy.sample(a), heavy.sample(b));
}

TEST(Latency, InjectedStallOnALinkReachesTheDeviceDeterministically) {
  const std::string text = R"(
[topology]
name = "stalls"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
[[node]]
name = "fpga"
kind = "endpoint"
parent = "rp0"
ids = "1234:abcd"
[node.stall]
kind = "heavy-tail"
min = "5us"
max = "40us"
spike = "400us"
spike_probability = 0.02
)";
  auto latencies = [&](std::uint64_t seed) {
    Machine m("stalls", seed, text);
    const std::uint64_t iova = m.prepare("fpga", 16384);
    std::vector<sim::SimTime> out;
    for (int i = 0; i < 500; ++i) {
      m.dma("fpga", false, iova, 64);
      out.push_back(m.last_latency());
    }
    return out;
  };
  const auto a = latencies(3), b = latencies(3), c = latencies(4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto spikes = std::count_if(a.begin(), a.end(), [](sim::SimTime t) { return t > 400 * sim::kMicrosecond; });
  EXPECT_GT(spikes, 2);  // about 10 of 500
  EXPECT_LT(spikes, 25);
  EXPECT_GE(*std::min_element(a.begin(), a.end()), 5 * sim::kMicrosecond);
}

}  // namespace
}  // namespace dexthil::pcie
