// dma_port.sv: cycle behaviour driven directly, and the exerciser through the kernel.
#include <gtest/gtest.h>

#include "Vdma_port.h"
#include "harness/checks/dma_scoreboard.hpp"
#include "harness/dma/direct_memory.hpp"
#include "models/common/dma_exerciser.hpp"
#include "models/common/dma_host_side.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/common/verilated_clock.hpp"

namespace dexthil::models {
namespace {

void edge(Vdma_port& p) { clock_cycle(p); }
void reset(Vdma_port& p) { reset_cycles(p); }

// A device side that breaks the handshake: it offers requests until the port's request FIFO is
// full, then withdraws the one the port could not take yet. The port's assertion (built with
// --assert) is recorded, not a stopped process, and reported as a finding on the model.
class HandshakeBreaker final : public sim::ClockedModel {
 public:
  explicit HandshakeBreaker(sim::Simulator& s) : link_(s) { reset(port_); }
  std::string_view name() const override { return "breaker"; }
  sim::NextActivity on_clock_edge(sim::SimTime) override {
    ++edges_;
    port_.host_req_ready = 0;  // the host takes nothing: the request FIFO fills
    port_.dev_req_valid = edges_ <= 5;
    port_.dev_req_len = 64;
    port_.dev_req_tag = static_cast<std::uint8_t>(edges_);
    edge(port_);
    return edges_ < 8 ? sim::NextActivity::next_edge() : sim::NextActivity::on_input();
  }

 private:
  models::rtl_assertions::SimulatorLink link_;
  Vdma_port port_;
  int edges_ = 0;
};

TEST(DmaPort, ABrokenHandshakeFailsItsAssertionAsAFindingNotAStop) {
  sim::Simulator s(1);
  HandshakeBreaker breaker(s);
  s.attach(breaker, s.add_clock("clk", 4000));
  s.run_until(100'000);
  checks::FindingLog findings;
  rtl_assertions::report("breaker", findings);
  ASSERT_FALSE(findings.empty());
  const checks::Finding& f = findings.all()[0];
  EXPECT_EQ(f.check, "rtl.assertion");
  EXPECT_EQ(f.where, "breaker");
  EXPECT_EQ(f.what.substr(f.what.find(": assertion")),
            ": assertion a_dev_req_held failed: A device holds the request it offers, unchanged, until the port takes it.")
      << f.what;
  EXPECT_EQ(f.what.rfind("dma_port.sv:", 0), 0u);
  EXPECT_GT(f.time, 0u);
}

TEST(DmaPort, RequestCrossesInOneCycleAndResponsesCountDown) {
  Vdma_port p;
  reset(p);
  EXPECT_FALSE(p.busy);
  p.dev_req_valid = 1;
  p.dev_req_write = 0;
  p.dev_req_addr = 0x80001000;
  p.dev_req_len = 16;
  p.dev_req_tag = 9;
  p.host_req_ready = 0;
  edge(p);
  p.dev_req_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_TRUE(p.host_req_valid);
  EXPECT_EQ(p.host_req_addr, 0x80001000u);
  EXPECT_EQ(p.host_req_len, 16);
  EXPECT_EQ(p.host_req_tag, 9);
  EXPECT_EQ(p.outstanding, 1);
  EXPECT_TRUE(p.busy);
  p.host_req_ready = 1;
  edge(p);
  p.host_req_ready = 0;
  // Two response beats for the 16-byte read.
  p.dev_rsp_ready = 0;
  for (int beat = 0; beat < 2; ++beat) {
    p.host_rsp_valid = 1;
    p.host_rsp_tag = 9;
    p.host_rsp_status = 0;
    p.host_rsp_data = 0x1000 + beat;
    p.host_rsp_last = beat == 1;
    edge(p);
  }
  p.host_rsp_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_TRUE(p.dev_rsp_valid);
  EXPECT_EQ(p.dev_rsp_data, 0x1000u);
  EXPECT_FALSE(p.dev_rsp_last);
  p.dev_rsp_ready = 1;
  edge(p);
  EXPECT_EQ(p.dev_rsp_data, 0x1001u);
  EXPECT_TRUE(p.dev_rsp_last);
  EXPECT_EQ(p.outstanding, 1);
  edge(p);
  EXPECT_EQ(p.outstanding, 0);
  EXPECT_FALSE(p.busy);
  EXPECT_FALSE(p.error);
}

TEST(DmaPort, StrayFinalResponseRaisesTheStickyError) {
  Vdma_port p;
  reset(p);
  p.dev_rsp_ready = 1;
  p.host_rsp_valid = 1;
  p.host_rsp_last = 1;
  edge(p);
  p.host_rsp_valid = 0;
  edge(p);
  edge(p);
  EXPECT_TRUE(p.error);
}

TEST(DmaPort, BeatsPackLittleEndian) {
  std::vector<std::uint8_t> bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  EXPECT_EQ(beats_for(bytes.size()), 2u);
  EXPECT_EQ(pack_beat(bytes, 0), 0x0807060504030201u);
  EXPECT_EQ(pack_beat(bytes, 1), 0x0b0a09u);
  std::vector<std::uint8_t> back;
  unpack_beat(pack_beat(bytes, 0), bytes.size(), &back);
  unpack_beat(pack_beat(bytes, 1), bytes.size(), &back);
  EXPECT_EQ(back, bytes);
}

struct ExerciserRun {
  std::uint64_t issued, completed, bytes_checked, edges, hash;
  std::vector<checks::Finding> findings;
};

ExerciserRun run_exerciser(std::uint64_t seed, bool skip_idle, std::vector<dma::DmaFault> faults = {}) {
  sim::Simulator sim(seed, {.skip_idle = skip_idle});
  hostmem::SparseMemory memory;
  dma::DirectMemoryUpstream upstream(sim, memory, 600 * sim::kNanosecond);
  for (const auto& f : faults) upstream.add_fault(f);
  checks::FindingLog log;
  checks::DmaScoreboard scoreboard("dma0", log, {});
  DmaExerciserConfig config;
  config.transactions = 100;
  config.max_length = 4096;
  config.max_outstanding = 8;
  DmaExerciser ex("dma0", sim, upstream, &scoreboard, config);
  sim.attach(ex, sim.add_clock("clk", 4000));
  sim::RunStats stats = sim.run_until(sim::kMillisecond);
  scoreboard.finish(sim.now());
  return {ex.issued(), ex.completed(), scoreboard.bytes_checked(), stats.clock_edges, sim.trace().hash(), log.all()};
}

TEST(DmaExerciser, AllTrafficCompletesAndReadsBackThroughTheKernel) {
  ExerciserRun r = run_exerciser(1, true);
  EXPECT_EQ(r.issued, 200u);
  EXPECT_EQ(r.completed, 200u);
  EXPECT_GT(r.bytes_checked, 100u * 1000);  // lengths up to 4 KiB, about 2 KiB on average
  EXPECT_TRUE(r.findings.empty()) << r.findings.front().what;
}

TEST(DmaExerciser, SameSeedSameTraceAndIdleSkippingChangesNothing) {
  ExerciserRun a = run_exerciser(77, true);
  ExerciserRun b = run_exerciser(77, true);
  ExerciserRun every = run_exerciser(77, false);
  ExerciserRun other = run_exerciser(78, true);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.hash, every.hash);
  EXPECT_NE(a.hash, other.hash);
  EXPECT_EQ(every.edges, 250'000u);
  EXPECT_LT(a.edges * 5, every.edges);
}

TEST(DmaExerciser, InjectedFaultsBecomeFindings) {
  dma::DmaFault ur;
  ur.kind = dma::DmaFault::Kind::kCompletionStatus;
  ur.request_index = 3;
  dma::DmaFault corrupt;
  corrupt.kind = dma::DmaFault::Kind::kCorruptRead;
  corrupt.request_index = 7;
  ExerciserRun r = run_exerciser(1, true, {ur, corrupt});
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].check, "dma.completion-status");
  EXPECT_EQ(r.findings[1].check, "dma.data-mismatch");
}

}  // namespace
}  // namespace dexthil::models
