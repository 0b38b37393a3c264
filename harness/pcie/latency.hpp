#pragma once
// What a DMA's round trip costs in the fabric: hop latencies, serialization on the narrowest
// link (read completions split at the read completion boundary), IOTLB misses, ASPM exit
// latency when a link had dropped into L0s or L1, and injectable per-link stalls. Every random
// part is drawn from a seeded stream, so a seed gives the same latencies every run.
#include <cstdint>
#include <string>

#include "harness/sim/random.hpp"
#include "harness/sim/time.hpp"

namespace dexthil::pcie {

// ASPM exit latencies from Link Capabilities encodings (as Linux's aspm.c reads them):
// L0s 64 ns << encoding, L1 1 us << encoding; encoding 7 means "more than" the value it gives.
sim::SimTime l0s_exit_latency(std::uint8_t encoding);
sim::SimTime l1_exit_latency(std::uint8_t encoding);
// Each switch between a link and the root complex adds 1 us to the L1 exit the device sees.
inline constexpr sim::SimTime kL1ExitPerSwitch = sim::kMicrosecond;

// Time to send `payload` bytes in TLPs of at most `max_tlp_payload` bytes over a link of
// `gen` (1..5) and `width` lanes: encoding overhead (8b/10b up to Gen2, 128b/130b from Gen3)
// and 24 bytes of framing, header and CRC per TLP.
sim::SimTime serialization_time(std::uint64_t payload, std::uint32_t max_tlp_payload, std::uint8_t gen, std::uint8_t width);
inline constexpr std::uint32_t kTlpOverheadBytes = 24;

// An injectable stall added to transactions crossing one link.
struct StallSpec {
  enum class Kind { kNone, kFixed, kUniform, kLognormal, kHeavyTail };
  Kind kind = Kind::kNone;
  sim::SimTime fixed = 0;           // kFixed
  sim::SimTime min = 0, max = 0;    // kUniform; the body of kHeavyTail
  sim::SimTime median = 0;          // kLognormal
  double sigma = 0;                 // kLognormal: spread of ln(stall)
  sim::SimTime spike = 0;           // kHeavyTail: the rare extra delay
  double spike_probability = 0;     // kHeavyTail

  sim::SimTime sample(sim::Random& random) const;
  std::string describe() const;
};

// One DMA's round trip, by cause.
struct LatencyBreakdown {
  sim::SimTime hops = 0;           // per-hop latency, up and down
  sim::SimTime serialization = 0;  // payload and TLP overhead on the narrowest link
  sim::SimTime iotlb = 0;          // DART table walks for pages the IOTLB missed
  sim::SimTime aspm = 0;           // waking links that had entered L0s or L1
  sim::SimTime stall = 0;          // injected stalls
  sim::SimTime queueing = 0;       // waiting for links other transfers were still using
  sim::SimTime total() const { return hops + serialization + iotlb + aspm + stall + queueing; }
};

// A standard normal deviate from two uniforms (Box-Muller), written out so a seed gives the same
// numbers with every standard library.
double standard_normal(sim::Random& random);

}  // namespace dexthil::pcie
