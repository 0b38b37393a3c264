#pragma once
// How long a target spends on a command besides the bus: a read's time before its data is ready,
// a write's time to take its data to the medium. Three kinds, each with seeded randomness where
// a real device has it, so the same seed gives the same run:
//   fixed        the same time for every command;
//   mechanical   a disk: a seek from where the head last was (track-to-track for the shortest
//                move, growing with the square root of the distance up to full stroke), a
//                rotational latency uniform within one revolution, and the media's transfer rate;
//   solid-state  a read or write latency plus the bytes at the flash's rate.
// The parameters are the model's, not a particular drive's: set them from a drive's data sheet.
#include <cstdint>

#include "harness/sim/random.hpp"
#include "harness/sim/time.hpp"

namespace dexthil::models::scsi {

struct ServiceModel {
  enum class Kind { kFixed, kMechanical, kSolidState };
  Kind kind = Kind::kFixed;
  sim::SimTime fixed = 100 * sim::kMicrosecond;
  // Mechanical (defaults in the range of a 15,000 rpm Ultra320 disk).
  sim::SimTime track_to_track = 200 * sim::kMicrosecond;
  sim::SimTime full_stroke = 7 * sim::kMillisecond;
  std::uint32_t rpm = 15'000;
  double media_bytes_per_second = 90e6;
  // Solid-state.
  sim::SimTime read_latency = 50 * sim::kMicrosecond;
  sim::SimTime write_latency = 20 * sim::kMicrosecond;
  double flash_bytes_per_second = 250e6;
};

class ServiceTime {
 public:
  ServiceTime(ServiceModel model, std::uint64_t blocks, std::uint32_t block_bytes, sim::Random random);
  // The time for `bytes` at `lba`; a mechanical disk's head then rests after the last block.
  sim::SimTime command(std::uint64_t lba, std::uint64_t bytes, bool write);

 private:
  sim::SimTime seek(std::uint64_t from, std::uint64_t to) const;
  ServiceModel model_;
  std::uint64_t blocks_;
  std::uint32_t block_bytes_;
  sim::Random random_;
  std::uint64_t head_ = 0;  // the LBA under the head
};

}  // namespace dexthil::models::scsi
