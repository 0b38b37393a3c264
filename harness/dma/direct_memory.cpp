#include "harness/dma/direct_memory.hpp"

#include <cstdio>

namespace dexthil::dma {

void DirectMemoryUpstream::submit(DmaRequest request, Done done) {
  const std::uint64_t index = requests_seen_++;
  sim::SimTime delay = latency_;
  const DmaFault* status_fault = nullptr;
  bool corrupt = false;
  for (const DmaFault& f : faults_) {
    if (f.request_index != index) continue;
    char note[160];
    switch (f.kind) {
      case DmaFault::Kind::kCompletionStatus:
        status_fault = &f;
        std::snprintf(note, sizeof note, "fault: request %llu completes with %s",
                      static_cast<unsigned long long>(index), describe(f.status).c_str());
        break;
      case DmaFault::Kind::kStall:
        delay += f.stall;
        std::snprintf(note, sizeof note, "fault: request %llu stalls %s", static_cast<unsigned long long>(index),
                      sim::format_time(f.stall).c_str());
        break;
      case DmaFault::Kind::kCorruptRead:
        corrupt = true;
        std::snprintf(note, sizeof note, "fault: request %llu read data corrupted",
                      static_cast<unsigned long long>(index));
        break;
    }
    sim_.trace().record(sim_.now(), request.requester, note);
  }

  DmaCompletion completion;
  completion.tag = request.tag;
  if (status_fault) {
    completion.status = status_fault->status;
  } else if (request.write) {
    memory_.write(request.address, request.data);
  } else {
    completion.data.resize(request.length);
    memory_.read(request.address, completion.data);
    if (corrupt && !completion.data.empty()) completion.data[0] ^= 1;
  }
  // Memory is read at arrival and the completion delivered after the latency, as a posted
  // write and a split read completion would appear to the device.
  sim_.after(delay, [done = std::move(done), completion = std::move(completion)]() mutable {
    done(std::move(completion));
  });
}

}  // namespace dexthil::dma
