#pragma once
// A topology from fixtures/topologies/ (or TOML text), enumerated by the platform, with its host
// memory, the DART and DMA checkers attached, and a helper that issues one DMA and runs until it completes.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "harness/checks/dart_fault_checker.hpp"
#include "harness/checks/dma_path_checker.hpp"
#include "harness/pcie/fabric.hpp"

namespace dexthil::pcie::testing {

struct Machine {
  // `checkers` false leaves the DART fault and DMA path checkers out (for benchmarks' ratios).
  explicit Machine(const std::string& name, std::uint64_t seed = 1, const std::string& text = "", bool checkers = true,
                   sim::SimulatorOptions options = {})
      : sim(seed, options) {
    std::string error;
    auto t = text.empty() ? load_topology("fixtures/topologies/" + name + ".toml", &error)
                          : load_topology_text(text, name + ".toml", &error);
    if (!t) throw std::runtime_error(error);
    fabric = std::make_unique<Fabric>(std::move(*t), sim, memory, tables);
    platform = std::make_unique<platform::PciePlatform>(*fabric);
    if (!checkers) return;
    dart_checker = std::make_unique<checks::DartFaultChecker>(findings, *platform);
    path_checker = std::make_unique<checks::DmaPathChecker>(findings, *platform);
    fabric->add_observer(dart_checker.get());
    fabric->add_observer(path_checker.get());
  }
  Node& node(const std::string& name) { return *fabric->node(name); }
  Node& root_of(const std::string& endpoint) { return *node(endpoint).root_port(); }
  iommu::Dart& dart_of(const std::string& endpoint) { return *fabric->dart(root_of(endpoint)); }
  platform::DmaMapper& mapper_of(const std::string& endpoint) { return platform->mapper(root_of(endpoint)); }

  // Prepares `bytes` of fresh host memory for `endpoint`, under the given SIDs or, by default,
  // only under its own RID's SID, as macOS does.
  std::uint64_t prepare(const std::string& endpoint, std::uint64_t bytes, platform::DmaDirection dir = {},
                        std::vector<std::uint32_t> sids = {}) {
    std::string error;
    const std::uint64_t pa = buffers.allocate((bytes + iommu::Dart::kPageSize - 1) / iommu::Dart::kPageSize);
    if (sids.empty()) sids = {fabric->sid_for(root_of(endpoint), node(endpoint).bdf.rid())};
    auto prepared = mapper_of(endpoint).prepare(endpoint, sids, pa, bytes, dir, 64, sim.now(), &error);
    if (!prepared) throw std::runtime_error(error);
    last_prepared = prepared->id;
    return prepared->iova;
  }

  // Issues one DMA and runs the simulation until it completes; `path` receives how it went.
  dma::DmaCompletion dma(const std::string& endpoint, bool write, std::uint64_t iova, std::uint32_t length,
                         std::vector<std::uint8_t> data = {}, std::uint32_t tlp_payload = 0) {
    dma::DmaRequest r;
    r.requester = endpoint;
    r.address = iova;
    r.length = length;
    r.write = write;
    r.tlp_payload = tlp_payload;
    if (write && data.empty()) data.assign(length, 0x5a);
    r.data = std::move(data);
    r.issued_at = sim.now();
    std::optional<dma::DmaCompletion> result;
    issued_at = sim.now();
    fabric->upstream(node(endpoint)).submit(std::move(r), [&](dma::DmaCompletion c) {
      result = std::move(c);
      completed_at = sim.now();
    });
    sim.run_until(sim::kNever);
    if (!result) throw std::runtime_error("no completion");
    return *result;
  }
  sim::SimTime last_latency() const { return completed_at - issued_at; }

  // A host memory read as a test issues it: runs the simulation until the completion is back
  // (at the latest, the completion timeout) and says when that was.
  MmioResult mmio_read(std::uint64_t address, unsigned size = 4, sim::SimTime* took = nullptr) {
    std::optional<MmioResult> result;
    const sim::SimTime start = sim.now();
    fabric->mmio_read(address, size, [&](const MmioResult& r) {
      result = r;
      if (took) *took = sim.now() - start;
    });
    while (!result) sim.run_until(sim.now() + sim::kMicrosecond);
    return *result;
  }

  sim::Simulator sim;
  hostmem::SparseMemory memory;
  hostmem::PageAllocator tables{0x10'0000'0000, 1 << 30};
  hostmem::PageAllocator buffers{0x20'0000'0000, 1 << 30};
  checks::FindingLog findings;
  std::unique_ptr<Fabric> fabric;
  std::unique_ptr<platform::PciePlatform> platform;  // firmware's enumeration and the DART driver
  std::unique_ptr<checks::DartFaultChecker> dart_checker;
  std::unique_ptr<checks::DmaPathChecker> path_checker;
  sim::SimTime issued_at = 0, completed_at = 0;
  std::uint64_t last_prepared = 0;  // the id of prepare()'s mapping, for DmaMapper::complete
};

}  // namespace dexthil::pcie::testing
