#pragma once
// The vocabulary of device DMA, shared by device models, the fabric, the IOMMU and the checks.
// Status values are PCIe completion status codes, so a model's RTL sees what a real device would.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::dma {

enum class CompletionStatus : std::uint8_t {
  kSuccessful = 0,           // SC
  kUnsupportedRequest = 1,   // UR: what an IOMMU fault or an unclaimed address returns
  kConfigRetry = 2,          // CRS
  kCompleterAbort = 4,       // CA
};

// "SC (successful completion)", "UR (unsupported request)", ...
std::string describe(CompletionStatus status);
// Parses "SC", "UR", "CRS" or "CA".
bool parse_completion_status(const std::string& text, CompletionStatus* out);

struct DmaRequest {
  std::string requester;  // the model that issued it, for findings
  std::uint64_t address = 0;
  std::uint32_t length = 0;  // bytes
  std::uint8_t tag = 0;
  bool write = false;
  std::vector<std::uint8_t> data;  // write payload, `length` bytes
  sim::SimTime issued_at = 0;
  // A write longer than one TLP, sent as a train of posted TLPs of this many bytes (the last one
  // shorter), as a PCIe core segments a DMA engine's write at Max Payload Size. 0: one TLP. A
  // read is always one request, whatever its completions.
  std::uint32_t tlp_payload = 0;
  // The TLPs this request goes out as, and the payload of TLP `i`.
  std::uint32_t tlps() const { return !write || tlp_payload == 0 || length <= tlp_payload ? 1 : (length + tlp_payload - 1) / tlp_payload; }
  std::uint32_t tlp_length(std::uint32_t i) const { return tlps() == 1 ? length : std::min(tlp_payload, length - i * tlp_payload); }
};

struct DmaCompletion {
  std::uint8_t tag = 0;
  CompletionStatus status = CompletionStatus::kSuccessful;
  std::vector<std::uint8_t> data;  // read data, `length` bytes when successful
};

// Where a device's DMA goes: the fabric above the device, or, before there is one, memory
// directly. The completion is delivered later in simulated time through `done`.
class DmaUpstream {
 public:
  using Done = std::function<void(DmaCompletion)>;
  virtual ~DmaUpstream() = default;
  virtual void submit(DmaRequest request, Done done) = 0;
};

// Watches DMA at the device's side of its port: what the device asked for and what came back.
// Checkers implement it; device models call it, so checks stay out of the models.
class DmaObserver {
 public:
  virtual ~DmaObserver() = default;
  virtual void on_request(const DmaRequest& request) = 0;
  virtual void on_completion(const DmaCompletion& completion, sim::SimTime now) = 0;
};

}  // namespace dexthil::dma
