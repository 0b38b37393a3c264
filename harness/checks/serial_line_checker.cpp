#include "harness/checks/serial_line_checker.hpp"

namespace dexthil::checks {

SerialLineChecker::SerialLineChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::SerialCharacterGarbled>([this](const auto& e) { on_garbled(e); });
}

void SerialLineChecker::on_garbled(const monitor::SerialCharacterGarbled& e) {
  const std::string line(e.line), sender(e.sender), receiver(e.receiver);
  if (!reported_.insert(line + "\n" + sender).second) return;
  findings_.add({"serial.framing-error", line, e.time,
                 "characters " + sender + " sends on " + line + " at " + std::string(e.sent_with) + " reach " +
                     receiver + ", whose UART is set to " + std::string(e.received_with) +
                     ": it reads framing errors, not the characters",
                 "Both UARTs of a serial line must use the same baud rate, data bits, parity and stop bits; the "
                 "receiver cannot recover a character sent otherwise, so whatever waits for it (a driver's reply, a "
                 "UPS's command) times out. Configure the receiving end as the sender (a Megatec/Q1 UPS speaks "
                 "2400 8N1).",
                 line,
                 {{"sender", sender}, {"sent_with", std::string(e.sent_with)}, {"received_with",
                                                                                std::string(e.received_with)}}});
}

}  // namespace dexthil::checks
