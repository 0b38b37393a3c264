#include "harness/pcie/latency.hpp"

#include <cmath>
#include <numbers>

namespace dexthil::pcie {

sim::SimTime l0s_exit_latency(std::uint8_t encoding) { return (64 * sim::kNanosecond) << (encoding & 7); }
sim::SimTime l1_exit_latency(std::uint8_t encoding) { return sim::kMicrosecond << (encoding & 7); }

sim::SimTime serialization_time(std::uint64_t payload, std::uint32_t max_tlp_payload, std::uint8_t gen, std::uint8_t width) {
  static constexpr double kGigatransfers[] = {0, 2.5, 5, 8, 16, 32};
  const double efficiency = gen <= 2 ? 8.0 / 10.0 : 128.0 / 130.0;
  const std::uint64_t tlps = payload == 0 ? 1 : (payload + max_tlp_payload - 1) / max_tlp_payload;
  const double bytes = static_cast<double>(payload + tlps * kTlpOverheadBytes);
  const double bytes_per_second = kGigatransfers[gen < 6 ? gen : 5] * 1e9 / 8.0 * efficiency * width;
  return static_cast<sim::SimTime>(std::llround(bytes / bytes_per_second * 1e12));
}

double standard_normal(sim::Random& random) {
  const double u1 = 1.0 - random.uniform_unit();  // (0, 1]: log stays finite
  const double u2 = random.uniform_unit();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

sim::SimTime StallSpec::sample(sim::Random& random) const {
  switch (kind) {
    case Kind::kNone: return 0;
    case Kind::kFixed: return fixed;
    case Kind::kUniform: return random.uniform(min, max);
    case Kind::kLognormal:
      return static_cast<sim::SimTime>(std::llround(static_cast<double>(median) * std::exp(sigma * standard_normal(random))));
    case Kind::kHeavyTail: {
      const sim::SimTime body = random.uniform(min, max);
      return random.chance(spike_probability) ? body + spike : body;
    }
  }
  return 0;
}

std::string StallSpec::describe() const {
  switch (kind) {
    case Kind::kNone: return "none";
    case Kind::kFixed: return "fixed " + sim::format_time(fixed);
    case Kind::kUniform: return "uniform " + sim::format_time(min) + " to " + sim::format_time(max);
    case Kind::kLognormal: return "lognormal, median " + sim::format_time(median) + ", sigma " + std::to_string(sigma);
    case Kind::kHeavyTail:
      return "uniform " + sim::format_time(min) + " to " + sim::format_time(max) + " plus " + sim::format_time(spike) +
             " with probability " + std::to_string(spike_probability);
  }
  return "";
}

}  // namespace dexthil::pcie
