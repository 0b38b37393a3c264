#pragma once
// Turns every DMA the DART refused into a finding: first the facts as macOS's DART driver prints
// them ("DART <instance> exception SID <n> ERROR_STATUS 0x... ERROR_ADDRESS 0x..."), then the
// explanation a person needs: which device issued it, which requester ID it arrived with and
// which bridge made it so, how the root port's RID-to-SID table resolved that, what the status
// says (and nothing it does not), and which SIDs do map the address. When the machine panics on
// the fault (platform/dart_error_handler.hpp), panic_finding() says so with the machine's state.
#include "harness/checks/finding.hpp"
#include "harness/pcie/fabric.hpp"
#include "harness/platform/dart_error_handler.hpp"
#include "harness/platform/pcie_platform.hpp"

namespace dexthil::checks {

class DartFaultChecker final : public pcie::DmaPathObserver {
 public:
  // `platform` holds what the driver prepared for DMA (its DART driver's mappers).
  DartFaultChecker(FindingLog& log, const platform::PciePlatform& platform) : log_(log), platform_(platform) {}
  void on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) override;

  // The platform's words for a fault, exactly as the finding's `what` carries them.
  static std::string panic_text(const std::string& instance, std::uint32_t sid, std::uint32_t status, std::uint64_t address);

 private:
  FindingLog& log_;
  const platform::PciePlatform& platform_;
};

// The "kernel.panic" finding for a machine that panicked on a DART error: the panic's facts in
// `what` (dexthil's wording: xnu's DART driver is closed source), and in `why` the machine's
// state (the DART, the stream, the status in words, the address, the DMA, the simulated time)
// and that nothing after it was simulated.
Finding panic_finding(const platform::DartPanic& panic);

}  // namespace dexthil::checks
