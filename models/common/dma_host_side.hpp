#pragma once
// The host half of the shared DMA port (rtl/dma_port.sv), for any Verilated top that exposes
// the port's host_* signals under their RTL names (the request and response as dma_pkg's packed
// structs, read and written through dma_port_fields.hpp). It turns requests leaving the RTL into
// DmaRequests for the upstream (memory, later the PCIe fabric) and feeds completions back as
// response beats. Writes are taken whole, and nothing passes a write still waiting for data,
// so requests reach the upstream in issue order, as PCIe ordering requires of posted writes.
//
// An lmem request (dma_pkg.sv) moves its bytes between host memory and the device's local
// memory, which the model's C++ side holds: a write's payload is taken from local memory when
// the request leaves the port, and a read's data lands there when its completion arrives, before
// the one response beat that tells the RTL. With TLP limits set (set_tlp_limits), an lmem
// request is segmented as a PCIe core segments a DMA engine's request: a write into a train of
// TLPs within Max Payload Size (one request upstream that says so), a read into read requests
// within Max Read Request Size; the RTL still sees one request and one response beat, with the
// first failing request's status.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness/dma/transaction.hpp"
#include "models/common/dma_port_fields.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/util/record_pool.hpp"

namespace dexthil::models {

struct ResponseBeat {
  std::uint8_t tag;
  std::uint8_t status;
  std::uint64_t data;
  bool last;
};

// 8-byte little-endian beats: byte i of a transfer is byte (i % 8) of beat (i / 8).
inline std::uint64_t pack_beat(const std::vector<std::uint8_t>& bytes, std::size_t beat) {
  std::uint64_t value = 0;
  const std::size_t begin = beat * 8;
  const std::size_t end = std::min(bytes.size(), begin + 8);
  for (std::size_t i = end; i > begin; --i) value = value << 8 | bytes[i - 1];
  return value;
}
inline void unpack_beat(std::uint64_t value, std::size_t length, std::vector<std::uint8_t>* bytes) {
  for (std::size_t i = 0; i < 8 && bytes->size() < length; ++i) bytes->push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}
inline std::size_t beats_for(std::size_t length) { return (length + 7) / 8; }

// A device's local memory, as lmem requests reach it.
class LocalMemory {
 public:
  // The `length` bytes at `laddr`; an empty span when they are not all local memory.
  virtual std::span<std::uint8_t> local_bytes(std::uint32_t laddr, std::size_t length) = 0;

 protected:
  ~LocalMemory() = default;
};

template <class Top>
class DmaHostSide {
 public:
  DmaHostSide(sim::Simulator& sim, sim::ClockedModel& owner, dma::DmaUpstream& upstream, std::string requester,
              LocalMemory* local = nullptr)
      : sim_(sim), owner_(owner), upstream_(upstream), requester_(std::move(requester)), local_(local) {}
  // Completions in flight point back at it.
  DmaHostSide(const DmaHostSide&) = delete;
  DmaHostSide& operator=(const DmaHostSide&) = delete;

  // Before the low-phase eval: drive the inputs for this cycle.
  void drive(Top& top) const {
    top.host_req_ready = assembling_.empty();
    top.host_wdata_ready = !assembling_.empty();
    top.host_rsp_valid = !beats_.empty();
    if (!beats_.empty()) {
      const ResponseBeat& b = beats_.front();
      pack_rsp({b.tag, b.status, b.data, b.last}, top.host_rsp);
    }
  }

  // After the low-phase eval, before the rising edge: take what the edge will transfer.
  void sample(Top& top) {
    if (top.host_rsp_valid && top.host_rsp_ready) beats_.pop_front();
    if (top.host_wdata_valid && top.host_wdata_ready) {
      dma::DmaRequest& r = assembling_.front();
      unpack_beat(top.host_wdata, r.length, &r.data);
      if (r.data.size() == r.length) {
        submit(std::move(r));
        assembling_.pop_front();
      }
    }
    if (top.host_req_valid && top.host_req_ready) {
      const DmaReqFields f = unpack_req(top.host_req);
      dma::DmaRequest r;
      r.requester = requester_;
      r.address = f.addr;
      r.length = f.len;
      r.tag = f.tag;
      r.write = f.write;
      r.issued_at = sim_.now();
      if (f.lmem) {
        submit_lmem(std::move(r), f.laddr);
      } else if (r.write && r.length > 0) {
        r.data.reserve(r.length);
        assembling_.push_back(std::move(r));
      } else {
        submit(std::move(r));
      }
    }
  }

  // The largest write TLP and read request the link allows (PCIe Device Control's MPS and MRRS).
  void set_tlp_limits(std::uint32_t max_write, std::uint32_t max_read) {
    max_write_ = max_write;
    max_read_ = max_read;
  }

  bool has_work(const Top& top) const { return top.host_req_valid || top.host_wdata_valid || !beats_.empty(); }
  // Requests handed upstream whose completion has not come back yet.
  std::size_t in_flight() const { return in_flight_; }
  // The device was reset: forget half-assembled writes and queued beats. Completions of requests
  // still in flight arrive for a device that no longer waits for them and are dropped, as a
  // function drops completions it has no outstanding tag for.
  void reset() {
    assembling_.clear();
    beats_.clear();
    ++generation_;
  }

 private:
  // Local memory the device does not have is a fault of the model, answered as a completer abort
  // (its RTL sees an error it must handle) rather than touching memory it does not own.
  void submit_lmem(dma::DmaRequest r, std::uint32_t laddr) {
    const std::span<std::uint8_t> local = local_ ? local_->local_bytes(laddr, r.length) : std::span<std::uint8_t>{};
    if (local.size() != r.length) {
      beats_.push_back({r.tag, static_cast<std::uint8_t>(dma::CompletionStatus::kCompleterAbort), 0, true});
      return;
    }
    // A write goes upstream as one train of TLPs within Max Payload Size; a read larger than Max
    // Read Request Size as several read requests. One response beat once every request is back
    // (the first failing one's status).
    const std::uint32_t limit = r.write ? max_write_ : max_read_;
    const std::uint32_t step = r.write ? std::max<std::uint32_t>(r.length, 1) : limit;
    bool made = false;
    LmemInFlight* whole = &records_.take(&made);
    if (made) whole->side = this;
    whole->parts_left = (r.length + step - 1) / step;
    whole->status = dma::CompletionStatus::kSuccessful;
    whole->tag = r.tag;
    whole->write = r.write;
    whole->generation = generation_;
    for (std::uint32_t offset = 0; offset < r.length; offset += step) {
      dma::DmaRequest part;
      part.requester = r.requester;
      part.address = r.address + offset;
      part.length = std::min(step, r.length - offset);
      part.tag = r.tag;
      part.write = r.write;
      part.issued_at = r.issued_at;
      if (r.write) {
        part.tlp_payload = limit;
        part.data.assign(local.begin() + offset, local.begin() + offset + part.length);
      }
      const std::uint32_t part_laddr = laddr + offset, part_length = part.length;
      ++in_flight_;
      upstream_.submit(std::move(part), [whole, part_laddr, part_length](dma::DmaCompletion c) {
        whole->side->part_done(whole, part_laddr, part_length, c);
      });
    }
  }

  // An lmem request on its way upstream, shared by the completions of the requests it went as
  // (a write is one train; a read larger than MRRS is several). Each completion captures only
  // this record and its part's place, 16 bytes that std::function keeps without allocating.
  struct LmemInFlight {
    DmaHostSide* side = nullptr;
    std::uint32_t parts_left = 0;
    dma::CompletionStatus status = dma::CompletionStatus::kSuccessful;
    std::uint8_t tag = 0;
    bool write = false;
    std::uint64_t generation = 0;
  };
  void part_done(LmemInFlight* whole, std::uint32_t part_laddr, std::uint32_t part_length, const dma::DmaCompletion& c) {
    --in_flight_;
    // A completion for the device before its reset still counts down its request, but lands nowhere.
    const bool current = whole->generation == generation_;
    if (current && c.status == dma::CompletionStatus::kSuccessful && !whole->write && c.data.size() == part_length) {
      const std::span<std::uint8_t> into = local_->local_bytes(part_laddr, part_length);
      if (into.size() == part_length) std::memcpy(into.data(), c.data.data(), part_length);
    }
    if (whole->status == dma::CompletionStatus::kSuccessful) whole->status = c.status;
    if (--whole->parts_left > 0) return;
    const ResponseBeat beat{whole->tag, static_cast<std::uint8_t>(whole->status), 0, true};
    records_.give(*whole);
    if (!current) return;
    beats_.push_back(beat);
    sim_.wake(owner_);
  }

  void submit(dma::DmaRequest r) {
    const std::uint32_t length = r.length;
    const bool write = r.write;
    ++in_flight_;
    upstream_.submit(std::move(r), [this, length, write, generation = generation_](dma::DmaCompletion c) {
      --in_flight_;
      if (generation != generation_) return;
      const auto status = static_cast<std::uint8_t>(c.status);
      if (write || c.status != dma::CompletionStatus::kSuccessful || length == 0) {
        beats_.push_back({c.tag, status, 0, true});  // an error completion carries no data
      } else {
        const std::size_t n = beats_for(length);
        for (std::size_t i = 0; i < n; ++i) beats_.push_back({c.tag, status, pack_beat(c.data, i), i + 1 == n});
      }
      sim_.wake(owner_);
    });
  }

  sim::Simulator& sim_;
  sim::ClockedModel& owner_;
  dma::DmaUpstream& upstream_;
  std::string requester_;
  LocalMemory* local_;
  std::uint32_t max_write_ = 4096, max_read_ = 4096;  // lmem requests larger than these are segmented
  std::deque<dma::DmaRequest> assembling_;  // writes waiting for their data beats
  std::deque<ResponseBeat> beats_;
  std::size_t in_flight_ = 0;
  util::RecordPool<LmemInFlight> records_;
  std::uint64_t generation_ = 0;  // bumped by reset()
};

}  // namespace dexthil::models
