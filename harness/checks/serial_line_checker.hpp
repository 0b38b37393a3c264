#pragma once
// Judges what serial lines report: characters garbled because the two UARTs disagree on the
// line's settings (serial.framing-error), once per line and direction, with both settings.
#include <set>
#include <string>

#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/serial_events.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class SerialLineChecker {
 public:
  SerialLineChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  void on_garbled(const monitor::SerialCharacterGarbled& e);

  FindingSink findings_;
  std::set<std::string> reported_;  // line and direction
};

}  // namespace dexthil::checks
