#pragma once
// An asynchronous serial line, as RS-232 links a UPS to its host: two ends, each a UART with its
// own settings (baud rate, data bits, parity, stop bits). A character travels as a frame (a
// start bit, the data bits, the parity bit if any, the stop bits) and reaches the other end when
// its last stop bit ends. An end's characters go out back to back, as a UART's transmit shift
// register sends them. Time is exact: the n-th character of a burst ends n frame times after the
// burst began, rounded once, so 2400 baud does not drift however long the burst.
//
// When the two ends disagree on baud rate, data bits or parity, or the sender sends fewer stop
// bits than the receiver waits for, the receiving UART samples the wrong bits: each character
// arrives as a framing error rather than data, and the line reports it to the monitor
// (SerialCharacterGarbled) for the checkers. (A receiver reads extra stop bits as idle line.)
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "harness/monitor/monitor.hpp"
#include "harness/sim/simulator.hpp"

namespace dexthil::serial {

struct Settings {
  enum class Parity { kNone, kEven, kOdd };
  std::uint32_t baud = 9600;
  std::uint8_t data_bits = 8;  // 5 to 8
  Parity parity = Parity::kNone;
  std::uint8_t stop_bits = 1;  // 1 or 2

  unsigned frame_bits() const { return 1u + data_bits + (parity == Parity::kNone ? 0u : 1u) + stop_bits; }
  std::string str() const;  // "2400 8N1"
  bool operator==(const Settings&) const = default;
};
// "2400 8N1", "9600 7E2": the baud rate, then data bits, parity (N, E, O) and stop bits. On
// failure returns nullopt and sets *error to a sentence naming the problem.
std::optional<Settings> parse_settings(std::string_view text, std::string* error);

struct Received {
  std::uint8_t byte = 0;       // what the receiver read, in its data bits; 0 on a framing error
  bool framing_error = false;  // the ends' settings differ: the receiver did not get the character sent
};

class SerialLine {
 public:
  class End {
   public:
    // The UART's settings; both ends start with the line's. Characters already queued go out at
    // the settings they were sent with; later ones follow them at the new ones.
    void configure(const Settings& settings);
    const Settings& settings() const { return settings_; }
    const std::string& name() const { return name_; }
    // Queues a character behind those still going out; it reaches the other end when its frame
    // ends. Bits above the data bits are not sent.
    void send(std::uint8_t byte);
    // What the end does with each character it receives; without a handler they are dropped
    // (an unconnected receiver), but still counted.
    void on_receive(std::function<void(const Received&)> handler) { handler_ = std::move(handler); }

    std::uint64_t sent() const { return sent_; }
    std::uint64_t received() const { return received_; }
    std::uint64_t framing_errors() const { return framing_errors_; }

   private:
    friend class SerialLine;
    End(SerialLine& line, std::string name) : line_(line), name_(std::move(name)) {}
    void deliver(std::uint8_t byte, const Settings& sent_with, const std::string& from);

    SerialLine& line_;
    std::string name_;
    Settings settings_;
    std::function<void(const Received&)> handler_;
    sim::SimTime burst_start_ = 0;
    std::uint64_t burst_bits_ = 0;  // bits of the current burst sent or queued
    sim::SimTime busy_until_ = 0;   // when the last queued character's frame ends
    std::uint64_t sent_ = 0, received_ = 0, framing_errors_ = 0;
  };

  // `end_names` name the two ends for the trace and findings (the models on them).
  SerialLine(sim::Simulator& sim, monitor::Monitor* monitor, std::string name, const Settings& settings,
             std::string end0 = "end0", std::string end1 = "end1");
  SerialLine(const SerialLine&) = delete;
  SerialLine& operator=(const SerialLine&) = delete;

  const std::string& name() const { return name_; }
  End& end(unsigned index) { return index == 0 ? a_ : b_; }
  End& other(const End& end) { return &end == &a_ ? b_ : a_; }

 private:
  sim::Simulator& sim_;
  monitor::Monitor* monitor_;
  std::string name_;
  End a_, b_;
};

}  // namespace dexthil::serial
