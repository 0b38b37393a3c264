#pragma once
// What macOS does when a DART raises its error interrupt. xnu's DART drivers (AppleT8110DART,
// AppleT8020DART) read ERROR and ERROR_ADDRESS and panic the kernel: public panic logs show it
// for display and video-encoder DARTs, and the field report (../shared/reference/pcie-dart.md)
// for a Thunderbolt PCIe one (docs/scenarios.md, "A DART fault panics the Mac"). The drivers are
// closed source, so which errors they panic on is not known beyond those logs; this handler
// panics on every error the DART latches (a masked one raises no interrupt).
//
// The panic is the end of the machine: the handler records the machine's state and stops the
// simulation after the event that faulted, so nothing a panicked Mac never does is simulated.
// With DartFaultAction::kContinue it does nothing and the run goes on (for diagnosis only).
#include <cstdint>
#include <optional>
#include <string>

#include "harness/pcie/fabric.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::platform {

enum class DartFaultAction {
  kPanic,     // as a Mac does: the first DART error panics and the run ends there
  kContinue,  // the refused DMA completes with UR and the run goes on (not what a Mac does)
};

// The machine's state when it panicked, as the DART's registers and the fabric had it.
struct DartPanic {
  sim::SimTime time = 0;
  std::string dart;  // the DART's instance name, as the panic prints it ("dart-apciec0")
  iommu::DartGeneration generation = iommu::DartGeneration::kT8110;
  const pcie::Node* root_port = nullptr;
  std::uint32_t status = 0;   // ERROR, as the driver reads it
  std::uint64_t address = 0;  // ERROR_ADDRESS
  // The DMA whose fault raised the interrupt.
  const pcie::Node* endpoint = nullptr;
  pcie::Bdf arrived_as;
  bool write = false;
  std::uint32_t length = 0;
};

class DartErrorHandler final : public pcie::DmaPathObserver {
 public:
  DartErrorHandler(sim::Simulator& sim, DartFaultAction action) : sim_(sim), action_(action) {}
  // Add it after the checkers that judge DMA, so they see the faulting DMA before the panic.
  void on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) override;

  DartFaultAction action() const { return action_; }
  // Set once the machine panicked; the simulation was stopped then.
  const std::optional<DartPanic>& panic() const { return panic_; }

 private:
  sim::Simulator& sim_;
  DartFaultAction action_;
  std::optional<DartPanic> panic_;
};

}  // namespace dexthil::platform
