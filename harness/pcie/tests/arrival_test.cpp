// When a DMA takes effect, and what sharing a link costs: a write's data reaches host memory
// when the request arrives at the root complex, not when the device issues it; a read never
// passes an earlier write from the same function; and two functions behind one switch queue for
// its upstream link.
#include <gtest/gtest.h>

#include <optional>

#include "harness/pcie/tests/machine.hpp"

namespace dexthil::pcie {
namespace {

using testing::Machine;

// Two endpoints behind one switch, every link Gen1 x1 so serialization is long enough to see.
const char* kSharedSwitch = R"(
[topology]
name = "shared"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
hop_latency = "100ns"
[node.link]
gen = 1
width = 1
[[node]]
name = "sw-up"
kind = "switch-upstream"
parent = "rp0"
ids = "10b5:8747"
hop_latency = "100ns"
[node.link]
gen = 1
width = 1
[[node]]
name = "sw-down0"
kind = "switch-downstream"
parent = "sw-up"
device = 8
ids = "10b5:8747"
[node.link]
gen = 1
width = 1
[[node]]
name = "sw-down1"
kind = "switch-downstream"
parent = "sw-up"
device = 9
ids = "10b5:8747"
[node.link]
gen = 1
width = 1
[[node]]
name = "a"
kind = "endpoint"
parent = "sw-down0"
ids = "1234:0001"
[node.link]
gen = 1
width = 1
[[node]]
name = "b"
kind = "endpoint"
parent = "sw-down1"
ids = "1234:0002"
[node.link]
gen = 1
width = 1
)";

struct Issued {
  std::optional<dma::DmaCompletion> completion;
  sim::SimTime at = 0;
};

void submit(Machine& m, const std::string& endpoint, bool write, std::uint64_t iova, std::uint32_t length, Issued* out,
            std::uint8_t fill = 0) {
  dma::DmaRequest r;
  r.requester = endpoint;
  r.address = iova;
  r.length = length;
  r.write = write;
  if (write) r.data.assign(length, fill);
  m.fabric->upstream(m.node(endpoint)).submit(std::move(r), [&m, out](dma::DmaCompletion c) {
    out->completion = std::move(c);
    out->at = m.sim.now();
  });
}

TEST(DmaArrival, AWriteLandsInMemoryWhenItArrivesNotWhenIssued) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 16384);
  const std::uint32_t sid = m.fabric->sid_for(m.root_of("dev"), m.node("dev").bdf.rid());
  const std::uint64_t pa = m.dart_of("dev").translate(sid, iova, false).pa;
  auto memory_byte = [&] {
    std::uint8_t b = 0;
    m.memory.read(pa, std::span<std::uint8_t>(&b, 1));
    return b;
  };
  Issued w;
  submit(m, "dev", true, iova, 128, &w, 0xab);
  EXPECT_EQ(memory_byte(), 0u);  // on its way
  const sim::SimTime one_way = m.fabric->one_way_latency(m.node("dev"));
  m.sim.run_until(one_way - 1);
  EXPECT_EQ(memory_byte(), 0u);  // not even up the hops yet
  m.sim.run_until(sim::kNever);
  ASSERT_TRUE(w.completion);
  EXPECT_EQ(memory_byte(), 0xabu);
}

TEST(DmaArrival, AReadNeverPassesAnEarlierWriteFromTheSameFunction) {
  Machine m("direct");
  const std::uint64_t iova = m.prepare("dev", 16384);
  Issued w, r;
  submit(m, "dev", true, iova, 4096, &w, 0x5c);  // a long payload: its data arrives late
  submit(m, "dev", false, iova, 64, &r);         // issued at the same instant, no payload
  m.sim.run_until(sim::kNever);
  ASSERT_TRUE(r.completion);
  ASSERT_EQ(r.completion->data.size(), 64u);
  EXPECT_EQ(r.completion->data[0], 0x5cu);  // it saw the write
}

TEST(DmaArrival, TwoFunctionsBehindOneSwitchQueueForItsUpstreamLink) {
  Machine alone("shared", 1, kSharedSwitch);
  const std::uint64_t ia = alone.prepare("a", 16384);
  Issued first;
  submit(alone, "a", false, ia, 4096, &first);
  alone.sim.run_until(sim::kNever);
  const sim::SimTime uncontended = first.at;

  Machine both("shared", 1, kSharedSwitch);
  const std::uint64_t ja = both.prepare("a", 16384);
  const std::uint64_t jb = both.prepare("b", 16384);
  Issued ra, rb;
  submit(both, "a", false, ja, 4096, &ra);
  submit(both, "b", false, jb, 4096, &rb);  // same instant, through the same upstream link
  both.sim.run_until(sim::kNever);
  EXPECT_EQ(ra.at, uncontended);  // the first one has the link to itself
  // The second waits for the first's completion data to clear the shared links: at least the
  // 4 KiB's serialization on Gen1 x1 (~17 us at 250 MB/s less 8b/10b), far beyond the hops.
  EXPECT_GT(rb.at, uncontended + 10 * sim::kMicrosecond) << "no queueing on the shared link";
  EXPECT_LT(rb.at, 2 * uncontended + sim::kMicrosecond);
}

}  // namespace
}  // namespace dexthil::pcie
