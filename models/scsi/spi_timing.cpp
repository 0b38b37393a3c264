#include "models/scsi/spi_timing.hpp"

#include <cmath>

namespace dexthil::models::scsi {

sim::SimTime Agreement::period() const {
  switch (period_factor) {
    case 0x00: return 0;
    case 0x08: return 6'250;   // Fast-160 (Ultra320), DT
    case 0x09: return 12'500;  // Fast-80 (Ultra160)
    case 0x0A: return 25'000;  // Fast-40
    case 0x0B: return 30'300;
    case 0x0C: return 50'000;  // Fast-20
    default: return static_cast<sim::SimTime>(period_factor) * 4 * sim::kNanosecond;
  }
}

double Agreement::bytes_per_second(double asynchronous_bytes_per_second) const {
  if (period_factor == 0) return asynchronous_bytes_per_second;
  return (wide ? 2.0 : 1.0) * 1e12 / static_cast<double>(period());
}

sim::SimTime BusTiming::connection(const Agreement& agreement) const {
  const sim::SimTime arbitrate = agreement.qas ? qas_arbitration : bus_free + arbitration;
  return arbitrate + 2 * bus_settle;  // SEL asserted, then the target's BSY answer
}

namespace {
sim::SimTime at_rate(std::uint64_t bytes, double bytes_per_second) {
  return static_cast<sim::SimTime>(std::ceil(static_cast<double>(bytes) * 1e12 / bytes_per_second));
}
}  // namespace

sim::SimTime BusTiming::data(const Agreement& agreement, std::uint64_t bytes) const {
  return at_rate(bytes, agreement.bytes_per_second(asynchronous_bytes_per_second));
}

sim::SimTime BusTiming::control(std::uint64_t bytes) const { return at_rate(bytes, asynchronous_bytes_per_second); }

}  // namespace dexthil::models::scsi
