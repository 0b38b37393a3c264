#pragma once
// DMA straight into host memory after a fixed latency, with injectable faults. It stands where
// the PCIe fabric and the DART will stand, and keeps serving unit tests of device models that do
// not care about the fabric.
#include <cstdint>
#include <vector>

#include "harness/dma/transaction.hpp"
#include "harness/hostmem/sparse_memory.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::dma {

struct DmaFault {
  enum class Kind {
    kCompletionStatus,  // complete the request with `status` instead of touching memory
    kStall,             // add `stall` to the request's latency
    kCorruptRead,       // flip bit 0 of the first byte of read data
  };
  Kind kind = Kind::kCompletionStatus;
  std::uint64_t request_index = 0;  // which request, counting from 0 in arrival order
  CompletionStatus status = CompletionStatus::kUnsupportedRequest;
  sim::SimTime stall = 0;
};

class DirectMemoryUpstream final : public DmaUpstream {
 public:
  DirectMemoryUpstream(sim::Simulator& sim, hostmem::SparseMemory& memory, sim::SimTime latency)
      : sim_(sim), memory_(memory), latency_(latency) {}

  void add_fault(const DmaFault& fault) { faults_.push_back(fault); }
  void submit(DmaRequest request, Done done) override;
  std::uint64_t requests_seen() const { return requests_seen_; }

 private:
  sim::Simulator& sim_;
  hostmem::SparseMemory& memory_;
  sim::SimTime latency_;
  std::vector<DmaFault> faults_;
  std::uint64_t requests_seen_ = 0;
};

}  // namespace dexthil::dma
