#include "models/scsi/service_time.hpp"

#include <cmath>

namespace dexthil::models::scsi {

namespace {
sim::SimTime at_rate(std::uint64_t bytes, double bytes_per_second) {
  return static_cast<sim::SimTime>(std::ceil(static_cast<double>(bytes) * 1e12 / bytes_per_second));
}
}  // namespace

ServiceTime::ServiceTime(ServiceModel model, std::uint64_t blocks, std::uint32_t block_bytes, sim::Random random)
    : model_(model), blocks_(blocks), block_bytes_(block_bytes), random_(random) {}

sim::SimTime ServiceTime::seek(std::uint64_t from, std::uint64_t to) const {
  if (from == to) return 0;
  const double distance = static_cast<double>(from > to ? from - to : to - from) / static_cast<double>(blocks_);
  const double span = static_cast<double>(model_.full_stroke - model_.track_to_track);
  return model_.track_to_track + static_cast<sim::SimTime>(span * std::sqrt(distance));
}

sim::SimTime ServiceTime::command(std::uint64_t lba, std::uint64_t bytes, bool write) {
  switch (model_.kind) {
    case ServiceModel::Kind::kFixed: return model_.fixed;
    case ServiceModel::Kind::kSolidState:
      return (write ? model_.write_latency : model_.read_latency) + at_rate(bytes, model_.flash_bytes_per_second);
    case ServiceModel::Kind::kMechanical: {
      const sim::SimTime revolution = 60 * sim::kSecond / model_.rpm;
      const sim::SimTime rotation = random_.uniform(0, revolution - 1);
      const sim::SimTime t = seek(head_, lba) + rotation + at_rate(bytes, model_.media_bytes_per_second);
      head_ = lba + (bytes + block_bytes_ - 1) / block_bytes_;
      return t;
    }
  }
  return model_.fixed;
}

}  // namespace dexthil::models::scsi
