#pragma once
// How long things take on a parallel SCSI bus (SPI): the data rate a target and the initiator
// agreed on (SDTR/WDTR/PPR, as SCSI Device page 0 reports it), and the bus phases around each
// connection. The delays are the SPI bus timing values drive manuals quote (arbitration delay
// 2.4 us, bus free delay 800 ns, bus settle delay 400 ns, QAS arbitration delay 1 us); the
// asynchronous rate before negotiation is an assumption, a parameter to tune against a capture.
// docs/lsi53c1030.md says which figures come from where.
#include <cstdint>

#include "harness/sim/time.hpp"

namespace dexthil::models::scsi {

// What negotiation agreed for one target: the transfer period factor (0: asynchronous), wide
// (16-bit) or narrow, and whether the bus arbitrates with QAS.
struct Agreement {
  std::uint8_t period_factor = 0;
  bool wide = false;
  bool qas = false;

  bool operator==(const Agreement&) const = default;

  // The transfer period in picoseconds: SPI's special factors 0x08 (6.25 ns, DT), 0x09 (12.5 ns),
  // 0x0A (25 ns), 0x0B (30.3 ns), 0x0C (50 ns); any other is 4 ns per unit. 0: asynchronous.
  sim::SimTime period() const;
  // Bytes per second in the data phase: one transfer of 1 or 2 bytes per period.
  double bytes_per_second(double asynchronous_bytes_per_second) const;
};

struct BusTiming {
  sim::SimTime bus_free = 800 * sim::kNanosecond;
  sim::SimTime arbitration = 2400 * sim::kNanosecond;
  sim::SimTime qas_arbitration = 1000 * sim::kNanosecond;  // replaces bus free and arbitration
  sim::SimTime bus_settle = 400 * sim::kNanosecond;        // around selection and reselection
  double asynchronous_bytes_per_second = 5e6;              // assumption: narrow, asynchronous

  // From a free bus to a connected target (or, reselecting, initiator): bus free, arbitration
  // (or QAS arbitration), and selection.
  sim::SimTime connection(const Agreement& agreement) const;
  // `bytes` in the data phase at the agreed rate.
  sim::SimTime data(const Agreement& agreement, std::uint64_t bytes) const;
  // `bytes` of messages, command or status: asynchronous, narrow.
  sim::SimTime control(std::uint64_t bytes) const;
};

}  // namespace dexthil::models::scsi
