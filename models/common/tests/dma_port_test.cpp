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
    pack_req({false, 0, 64, static_cast<std::uint8_t>(edges_)}, port_.dev_req);
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
  pack_req({false, 0x80001000, 16, 9}, p.dev_req);
  p.host_req_ready = 0;
  edge(p);
  p.dev_req_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_TRUE(p.host_req_valid);
  const DmaReqFields out = unpack_req(p.host_req);
  EXPECT_FALSE(out.write);
  EXPECT_EQ(out.addr, 0x80001000u);
  EXPECT_EQ(out.len, 16);
  EXPECT_EQ(out.tag, 9);
  EXPECT_EQ(p.outstanding, 1);
  EXPECT_TRUE(p.busy);
  p.host_req_ready = 1;
  edge(p);
  p.host_req_ready = 0;
  // Two response beats for the 16-byte read.
  p.dev_rsp_ready = 0;
  for (int beat = 0; beat < 2; ++beat) {
    p.host_rsp_valid = 1;
    pack_rsp({9, 0, static_cast<std::uint64_t>(0x1000 + beat), beat == 1}, p.host_rsp);
    edge(p);
  }
  p.host_rsp_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_TRUE(p.dev_rsp_valid);
  EXPECT_EQ(unpack_rsp(p.dev_rsp).data, 0x1000u);
  EXPECT_EQ(unpack_rsp(p.dev_rsp).tag, 9);
  EXPECT_FALSE(unpack_rsp(p.dev_rsp).last);
  p.dev_rsp_ready = 1;
  edge(p);
  EXPECT_EQ(unpack_rsp(p.dev_rsp).data, 0x1001u);
  EXPECT_TRUE(unpack_rsp(p.dev_rsp).last);
  EXPECT_EQ(p.outstanding, 1);
  edge(p);
  EXPECT_EQ(p.outstanding, 0);
  EXPECT_FALSE(p.busy);
  EXPECT_FALSE(p.error);
}

// A request offered to a ready host, and a response offered to a ready device, cross in the
// cycle they are offered and are never buffered; a word offered while an older one waits goes
// behind it.
TEST(DmaPort, RequestsAndResponsesFallThroughAnEmptyFifoAndQueueBehindOlderWords) {
  Vdma_port p;
  reset(p);
  p.dev_req_valid = 1;
  pack_req({true, 0x80002000, 64, 3}, p.dev_req);
  p.host_req_ready = 1;
  p.clk = 0;
  p.eval();
  ASSERT_TRUE(p.host_req_valid);  // before the edge: the offer itself
  EXPECT_EQ(unpack_req(p.host_req).addr, 0x80002000u);
  EXPECT_EQ(unpack_req(p.host_req).tag, 3);
  edge(p);
  p.dev_req_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_FALSE(p.host_req_valid);  // taken at that edge, nothing left behind
  EXPECT_EQ(p.outstanding, 1);

  p.dev_rsp_ready = 1;
  p.host_rsp_valid = 1;
  pack_rsp({3, 0, 0, true}, p.host_rsp);
  p.eval();
  ASSERT_TRUE(p.dev_rsp_valid);
  EXPECT_TRUE(p.host_rsp_ready);
  EXPECT_EQ(unpack_rsp(p.dev_rsp).tag, 3);
  EXPECT_TRUE(unpack_rsp(p.dev_rsp).last);
  edge(p);
  p.host_rsp_valid = 0;
  p.clk = 0;
  p.eval();
  EXPECT_FALSE(p.dev_rsp_valid);
  EXPECT_EQ(p.outstanding, 0);
  EXPECT_FALSE(p.busy);

  // The host is not ready: tag 4 waits in the FIFO. Tag 5, offered while it waits, queues behind.
  p.host_req_ready = 0;
  p.dev_req_valid = 1;
  pack_req({false, 0x80003000, 8, 4}, p.dev_req);
  edge(p);
  pack_req({false, 0x80004000, 8, 5}, p.dev_req);
  p.host_req_ready = 1;
  p.clk = 0;
  p.eval();
  EXPECT_EQ(unpack_req(p.host_req).tag, 4);
  edge(p);
  p.dev_req_valid = 0;
  p.clk = 0;
  p.eval();
  ASSERT_TRUE(p.host_req_valid);
  EXPECT_EQ(unpack_req(p.host_req).tag, 5);
  edge(p);
  p.clk = 0;
  p.eval();
  EXPECT_FALSE(p.host_req_valid);
  EXPECT_EQ(p.outstanding, 2);
  EXPECT_FALSE(p.error);
}

TEST(DmaPort, StrayFinalResponseRaisesTheStickyError) {
  Vdma_port p;
  reset(p);
  p.dev_rsp_ready = 1;
  p.host_rsp_valid = 1;
  pack_rsp({0, 0, 0, true}, p.host_rsp);
  edge(p);
  p.host_rsp_valid = 0;
  edge(p);
  edge(p);
  EXPECT_TRUE(p.error);
}

// dma_pkg.sv's layouts, written out by hand: a request is {lmem, laddr, write, addr, len, tag}
// from bit 118 down, a response {tag, status, data, last} from bit 75 down, in 32-bit words,
// least first.
TEST(DmaPort, PackedStructFieldsSitWhereThePackageSaysTheyDo) {
  std::uint32_t req[4] = {};
  pack_req({true, 0x0123456789abcdefull, 0x1000, 0xa5, true, 0x8012'3456u}, req);
  // tag 0xa5 in [7:0]; len 0x1000 in [20:8]; addr in [84:21]; write in [85]; laddr in
  // [117:86]; lmem in [118].
  const unsigned __int128 expected_req = (static_cast<unsigned __int128>(1) << 118) |
                                         (static_cast<unsigned __int128>(0x8012'3456u) << 86) |
                                         (static_cast<unsigned __int128>(1) << 85) |
                                         (static_cast<unsigned __int128>(0x0123456789abcdefull) << 21) |
                                         (static_cast<unsigned __int128>(0x1000) << 8) | 0xa5;
  for (int w = 0; w < 4; ++w) EXPECT_EQ(req[w], static_cast<std::uint32_t>(expected_req >> (32 * w))) << w;
  const DmaReqFields r = unpack_req(req);
  EXPECT_TRUE(r.write);
  EXPECT_EQ(r.addr, 0x0123456789abcdefull);
  EXPECT_EQ(r.len, 0x1000);
  EXPECT_EQ(r.tag, 0xa5);
  EXPECT_TRUE(r.lmem);
  EXPECT_EQ(r.laddr, 0x8012'3456u);

  std::uint32_t rsp[3] = {0xffffffff, 0xffffffff, 0xffffffff};  // packing overwrites, never ORs
  pack_rsp({0x3c, 5, 0xfedcba9876543210ull, false}, rsp);
  const unsigned __int128 expected_rsp = (static_cast<unsigned __int128>(0x3c) << 68) |
                                         (static_cast<unsigned __int128>(5) << 65) |
                                         (static_cast<unsigned __int128>(0xfedcba9876543210ull) << 1);
  EXPECT_EQ(rsp[0], static_cast<std::uint32_t>(expected_rsp));
  EXPECT_EQ(rsp[1], static_cast<std::uint32_t>(expected_rsp >> 32));
  EXPECT_EQ(rsp[2] & 0xfff, static_cast<std::uint32_t>(expected_rsp >> 64));  // bits above 75 are not the struct's
  const DmaRspFields back = unpack_rsp(rsp);
  EXPECT_EQ(back.tag, 0x3c);
  EXPECT_EQ(back.status, 5);
  EXPECT_EQ(back.data, 0xfedcba9876543210ull);
  EXPECT_FALSE(back.last);
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
