// macOS's reaction to a DART error: the first error the DART latches panics the machine, which
// stops the simulation after the event that faulted; with `continue` the run goes on; an error
// the DART does not latch (masked) raises no interrupt and so no panic.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/pcie/fabric.hpp"
#include "harness/platform/dart_error_handler.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::platform {
namespace {

constexpr std::uint64_t kIova = 0x8000'0000;

struct Machine {
  explicit Machine(DartFaultAction action) : handler(sim, action) {
    std::string error;
    auto t = pcie::load_topology("fixtures/topologies/field-chain.toml", &error);
    if (!t) throw std::runtime_error(error);
    fabric = std::make_unique<pcie::Fabric>(std::move(*t), sim, memory, tables);
    platform = std::make_unique<PciePlatform>(*fabric);
    fabric->add_observer(&seen);
    fabric->add_observer(&handler);
    lsi = fabric->node("lsi");
    // macOS's mapping: under the SID of the LSI's own RID 04:08.0 only; its DMA arrives as 04:00.0.
    std::vector<std::uint32_t> sids = platform->mapping_sids(*lsi, PciePlatform::AliasPolicy::kOwnRid);
    if (!platform->mapper(*lsi->root_port()).prepare("lsi", sids, 0x20'0000'0000, 16384, {}, 64, 0, &error)) {
      throw std::runtime_error(error);
    }
  }
  void submit(bool write, std::uint32_t length = 64) {
    dma::DmaRequest r;
    r.address = kIova;
    r.length = length;
    r.write = write;
    if (write) r.data.assign(length, 0x11);
    fabric->upstream(*lsi).submit(std::move(r), [this](dma::DmaCompletion c) { completions.push_back(c.status); });
  }

  struct Seen : pcie::DmaPathObserver {
    void on_dma(const pcie::DmaPath& path, const pcie::Fabric&) override { arrivals.push_back(path.request.write); }
    std::vector<bool> arrivals;
  } seen;
  sim::Simulator sim{1};
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables{0x10'0000'0000, 1 << 30};
  std::unique_ptr<pcie::Fabric> fabric;
  std::unique_ptr<PciePlatform> platform;
  DartErrorHandler handler;
  const pcie::Node* lsi = nullptr;
  std::vector<dma::CompletionStatus> completions;
};

TEST(DartErrorHandler, TheFirstLatchedErrorPanicsAndStopsTheMachine) {
  Machine m(DartFaultAction::kPanic);
  m.submit(false);
  m.submit(true);  // queued behind the read: it would arrive after it
  const sim::RunStats stats = m.sim.run_until(sim::kNever);
  EXPECT_TRUE(stats.stopped_early);
  ASSERT_TRUE(m.handler.panic());
  const DartPanic& p = *m.handler.panic();
  EXPECT_EQ(p.time, m.sim.now());
  EXPECT_GT(p.time, 0u);
  EXPECT_EQ(p.dart, "dart-apciec0");
  EXPECT_EQ(p.generation, iommu::DartGeneration::kT8110);
  EXPECT_EQ(p.root_port, m.fabric->node("tb0"));
  EXPECT_EQ(p.status, 0x80000001u);  // FLAG | NO_TTBR, a read by SID 0: the field report's
  EXPECT_EQ(p.address, kIova);
  EXPECT_EQ(p.endpoint, m.lsi);
  EXPECT_EQ(p.arrived_as.str(), "04:00.0");
  EXPECT_FALSE(p.write);
  EXPECT_EQ(p.length, 64u);
  // Nothing after the faulting event happened: the write never arrived, no completion came back.
  EXPECT_EQ(m.seen.arrivals, std::vector<bool>{false});
  EXPECT_TRUE(m.completions.empty());
  EXPECT_EQ(m.fabric->dart(*p.root_port)->error_status(), 0x80000001u);  // still latched, as the panic left it
}

TEST(DartErrorHandler, ContinueLetsEveryRefusedDmaCompleteWithUr) {
  Machine m(DartFaultAction::kContinue);
  m.submit(false);
  m.submit(true);
  const sim::RunStats stats = m.sim.run_until(sim::kNever);
  EXPECT_FALSE(stats.stopped_early);
  EXPECT_FALSE(m.handler.panic());
  EXPECT_EQ(m.seen.arrivals, (std::vector<bool>{false, true}));
  EXPECT_EQ(m.completions, (std::vector<dma::CompletionStatus>{dma::CompletionStatus::kUnsupportedRequest,
                                                               dma::CompletionStatus::kUnsupportedRequest}));
}

TEST(DartErrorHandler, AMaskedErrorRaisesNoInterruptAndSoNoPanic) {
  Machine m(DartFaultAction::kPanic);
  iommu::Dart& dart = *m.fabric->dart(*m.fabric->node("tb0"));
  dart.write32(0x104, 1u << 0);  // T8110 ERROR_MASK: NO_TTBR
  m.submit(false);
  m.sim.run_until(sim::kNever);
  EXPECT_FALSE(m.handler.panic());
  EXPECT_EQ(dart.error_status(), 0u);
  EXPECT_EQ(m.completions, std::vector<dma::CompletionStatus>{dma::CompletionStatus::kUnsupportedRequest});
}

TEST(DartErrorHandler, ADmaTheDartTranslatesPanicsNothing) {
  Machine m(DartFaultAction::kPanic);
  std::string error;
  // Linux's way: also under the SID the alias 04:00.0 gets.
  ASSERT_TRUE(m.platform->mapper(*m.fabric->node("tb0"))
                  .prepare("lsi", m.platform->mapping_sids(*m.lsi, PciePlatform::AliasPolicy::kEveryAlias),
                           0x20'0001'0000, 16384, {}, 64, 0, &error))
      << error;
  dma::DmaRequest r;
  r.address = kIova + 16384;
  r.length = 64;
  m.fabric->upstream(*m.lsi).submit(std::move(r), [&](dma::DmaCompletion c) { m.completions.push_back(c.status); });
  m.sim.run_until(sim::kNever);
  EXPECT_FALSE(m.handler.panic());
  EXPECT_EQ(m.completions, std::vector<dma::CompletionStatus>{dma::CompletionStatus::kSuccessful});
}

}  // namespace
}  // namespace dexthil::platform
