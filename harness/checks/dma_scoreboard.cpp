#include "harness/util/hex.hpp"
#include "harness/checks/dma_scoreboard.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace dexthil::checks {
namespace {

std::string describe_request(const dma::DmaRequest& r) {
  return std::string(r.write ? "write" : "read") + " tag " + std::to_string(r.tag) + " of " +
         std::to_string(r.length) + " bytes at " + util::hex(r.address, 16);
}

}  // namespace

void DmaScoreboard::on_request(const dma::DmaRequest& request) {
  if (in_flight_.count(request.tag)) {
    // Tag reuse while in flight is the device's bug; the old request can no longer be matched.
    log_.add({"dma.unexpected-completion", device_, request.issued_at,
              "DMA " + describe_request(request) + " reuses a tag that is still in flight",
              "A device must not reuse a tag before its completion arrives: completions are matched "
              "to requests by tag, so the two can no longer be told apart."});
  }
  in_flight_[request.tag] = request;
}

void DmaScoreboard::on_completion(const dma::DmaCompletion& completion, sim::SimTime now) {
  auto it = in_flight_.find(completion.tag);
  if (it == in_flight_.end()) {
    log_.add({"dma.unexpected-completion", device_, now,
              "completion for tag " + std::to_string(completion.tag) + " with no request in flight",
              "Every completion must answer one request the device issued; this one answers none, "
              "so the bus delivered a duplicate or misrouted completion."});
    return;
  }
  const dma::DmaRequest request = std::move(it->second);
  in_flight_.erase(it);
  ++completed_;
  const sim::SimTime latency = now - request.issued_at;
  if (latency > max_latency_) max_latency_ = latency;

  if (completion.status != dma::CompletionStatus::kSuccessful) {
    log_.add({"dma.completion-status", device_, now,
              "DMA " + describe_request(request) + " completed with " + dma::describe(completion.status),
              request.write ? "The write did not reach memory: whatever the driver reads there next is stale."
                            : "The device received no data for this read; a real device would treat it as a "
                              "fatal bus error and usually stop its DMA engine."});
    return;
  }
  if (options_.latency_budget && latency > *options_.latency_budget) {
    log_.add({"budget.dma-latency", device_, now,
              "DMA " + describe_request(request) + " took " + sim::format_time(latency) + ", over the budget of " +
                  sim::format_time(*options_.latency_budget),
              "The scenario's budget is the longest a request may take before the device's buffering runs "
              "out; beyond it a real device under- or overruns."});
  }
  if (request.write) {
    reference_.write(request.address, request.data);
    return;
  }
  if (!options_.check_data) return;
  std::vector<std::uint8_t> expected(request.length);
  reference_.read(request.address, expected);
  bytes_checked_ += request.length;
  if (completion.data.size() != expected.size()) {
    log_.add({"dma.data-mismatch", device_, now,
              "DMA " + describe_request(request) + " returned " + std::to_string(completion.data.size()) + " bytes",
              "A successful read completion must carry exactly the requested length."});
    return;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (completion.data[i] != expected[i]) {
      log_.add({"dma.data-mismatch", device_, now,
                "DMA " + describe_request(request) + ": byte at " + util::hex(request.address + i, 16) + " read " +
                    util::hex(completion.data[i], 2) + ", expected " + util::hex(expected[i], 2),
                "The device last wrote " + util::hex(expected[i], 2) +
                    " there and nothing else was meant to change it, so data was corrupted between "
                    "memory and the device."});
      return;  // one finding per request: the first differing byte says where to look
    }
  }
}

void DmaScoreboard::finish(sim::SimTime now) {
  for (const auto& [tag, request] : in_flight_) {
    log_.add({"dma.incomplete", device_, now,
              "DMA " + describe_request(request) + " issued at " + sim::format_time(request.issued_at) +
                  " never completed",
              "The scenario ended with the request still in flight: either the completion was lost or the "
              "scenario's duration is too short for the traffic it drives."});
  }
  in_flight_.clear();
}

}  // namespace dexthil::checks
