#include "harness/serial/serial_line.hpp"

#include <algorithm>
#include <charconv>

#include "harness/monitor/serial_events.hpp"

namespace dexthil::serial {

std::string Settings::str() const {
  const char parity_letter = parity == Parity::kNone ? 'N' : parity == Parity::kEven ? 'E' : 'O';
  return std::to_string(baud) + " " + std::to_string(data_bits) + parity_letter + std::to_string(stop_bits);
}

std::optional<Settings> parse_settings(std::string_view text, std::string* error) {
  const auto bad = [&](const std::string& why) -> std::optional<Settings> {
    *error = "\"" + std::string(text) + "\" " + why + " (write the baud rate and the framing, such as \"2400 8N1\")";
    return std::nullopt;
  };
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return bad("has no framing");
  Settings s;
  const std::string_view baud = text.substr(0, space);
  const auto [end, ec] = std::from_chars(baud.data(), baud.data() + baud.size(), s.baud);
  if (ec != std::errc() || end != baud.data() + baud.size()) return bad("does not start with a baud rate");
  if (s.baud < 50 || s.baud > 4'000'000) return bad("has a baud rate outside 50 to 4000000");
  const std::string_view framing = text.substr(space + 1);
  if (framing.size() != 3) return bad("has no framing of three characters");
  if (framing[0] < '5' || framing[0] > '8') return bad("has data bits outside 5 to 8");
  s.data_bits = static_cast<std::uint8_t>(framing[0] - '0');
  switch (framing[1]) {
    case 'N': s.parity = Settings::Parity::kNone; break;
    case 'E': s.parity = Settings::Parity::kEven; break;
    case 'O': s.parity = Settings::Parity::kOdd; break;
    default: return bad("has a parity other than N, E or O");
  }
  if (framing[2] != '1' && framing[2] != '2') return bad("has stop bits other than 1 or 2");
  s.stop_bits = static_cast<std::uint8_t>(framing[2] - '0');
  return s;
}

SerialLine::SerialLine(sim::Simulator& sim, monitor::Monitor* monitor, std::string name, const Settings& settings,
                       std::string end0, std::string end1)
    : sim_(sim), monitor_(monitor), name_(std::move(name)), a_(*this, std::move(end0)), b_(*this, std::move(end1)) {
  a_.settings_ = settings;
  b_.settings_ = settings;
}

void SerialLine::End::configure(const Settings& settings) {
  // A new burst begins where the queued characters end, so they keep their own frame times.
  burst_start_ = std::max(line_.sim_.now(), busy_until_);
  burst_bits_ = 0;
  settings_ = settings;
}

void SerialLine::End::send(std::uint8_t byte) {
  sim::Simulator& sim = line_.sim_;
  const sim::SimTime now = sim.now();
  if (now >= busy_until_) {  // the transmitter is idle: a new burst starts now
    burst_start_ = now;
    burst_bits_ = 0;
  }
  burst_bits_ += settings_.frame_bits();
  // The frame ends burst_bits / baud seconds after the burst began: exact, rounded once.
  const unsigned __int128 ps = static_cast<unsigned __int128>(burst_bits_) * sim::kSecond;
  busy_until_ = burst_start_ + static_cast<sim::SimTime>((ps + settings_.baud / 2) / settings_.baud);
  ++sent_;
  const std::uint8_t data = static_cast<std::uint8_t>(byte & ((1u << settings_.data_bits) - 1));
  sim.trace().record(now, line_.name_, name_ + " sends " + std::to_string(data));
  sim.at(busy_until_, [this, data, with = settings_] { line_.other(*this).deliver(data, with, name_); });
}

void SerialLine::End::deliver(std::uint8_t byte, const Settings& sent_with, const std::string& from) {
  ++received_;
  // A UART that sampled the wrong bits hands over no meaningful data: 0, with its error flag.
  const bool garbled = sent_with.baud != settings_.baud || sent_with.data_bits != settings_.data_bits ||
                       sent_with.parity != settings_.parity || sent_with.stop_bits < settings_.stop_bits;
  const Received r{garbled ? std::uint8_t{0} : byte, garbled};  // not garbled: the same data bits, already masked
  if (r.framing_error) {
    ++framing_errors_;
    if (line_.monitor_) {
      line_.monitor_->emit(monitor::SerialCharacterGarbled{line_.sim_.now(), line_.name_, from, name_, sent_with.str(),
                                                           settings_.str()});
    }
  }
  line_.sim_.trace().record(line_.sim_.now(), line_.name_,
                            name_ + (r.framing_error ? " framing error" : " receives " + std::to_string(r.byte)));
  if (handler_) handler_(r);
}

}  // namespace dexthil::serial
