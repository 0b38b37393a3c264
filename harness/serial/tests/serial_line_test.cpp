// The serial line's timing written out by hand (frame bits / baud, in picoseconds), its framing,
// and what a receiver set up differently gets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/monitor/serial_events.hpp"
#include "harness/serial/serial_line.hpp"

namespace dexthil::serial {
namespace {

Settings settings(const char* text) {
  std::string error;
  auto s = parse_settings(text, &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

struct Rig {
  explicit Rig(const char* line_settings) : line(sim, &monitor, "line0", settings(line_settings), "host", "ups") {
    line.end(1).on_receive([this](const Received& r) {
      arrivals.push_back(sim.now());
      bytes += static_cast<char>(r.byte);
      if (r.framing_error) ++errors;
    });
  }
  sim::Simulator sim{1};
  monitor::Monitor monitor;
  SerialLine line;
  std::vector<sim::SimTime> arrivals;
  std::string bytes;
  unsigned errors = 0;
};

TEST(SerialLine, CharactersArriveWhenTheirFrameEndsBackToBack) {
  Rig r("2400 8N1");
  for (char c : std::string("Q1\r")) r.line.end(0).send(static_cast<std::uint8_t>(c));
  r.sim.run_until(sim::kSecond);
  // 10 bits a character at 2400 baud: 1/240 s = 4166666666.67 ps, rounded once per character.
  EXPECT_EQ(r.arrivals, (std::vector<sim::SimTime>{4'166'666'667, 8'333'333'333, 12'500'000'000}));
  EXPECT_EQ(r.bytes, "Q1\r");
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.line.end(0).sent(), 3u);
  EXPECT_EQ(r.line.end(1).received(), 3u);
}

TEST(SerialLine, ALongBurstDoesNotDrift) {
  Rig r("2400 8N1");
  for (int i = 0; i < 2400; ++i) r.line.end(0).send('x');
  r.sim.run_until(20 * sim::kSecond);
  ASSERT_EQ(r.arrivals.size(), 2400u);
  EXPECT_EQ(r.arrivals.back(), 10 * sim::kSecond);  // 24000 bits at 2400 baud, exactly
}

TEST(SerialLine, AnIdleTransmitterStartsANewBurstWhenItSendsAgain) {
  Rig r("9600 7E2");  // 1 + 7 + 1 + 2 = 11 bits
  r.line.end(0).send('A');
  r.sim.run_until(sim::kSecond);
  r.line.end(0).send('B');
  r.sim.run_until(2 * sim::kSecond);
  ASSERT_EQ(r.arrivals.size(), 2u);
  EXPECT_EQ(r.arrivals[0], 1'145'833'333u);  // 11 / 9600 s
  EXPECT_EQ(r.arrivals[1], sim::kSecond + 1'145'833'333u);
}

TEST(SerialLine, ChangingSettingsMidBurstKeepsTheQueuedCharactersTimes) {
  Rig r("50 8N1");  // 200 ms a character
  r.line.end(0).send('a');
  r.sim.run_until(100 * sim::kMillisecond);
  r.line.end(0).configure(settings("4000000 8N1"));  // 2.5 us a character, after 'a' has gone out
  r.line.end(1).configure(settings("4000000 8N1"));
  r.line.end(0).send('b');
  r.sim.run_until(sim::kSecond);
  ASSERT_EQ(r.arrivals.size(), 2u);
  EXPECT_EQ(r.arrivals[0], 200 * sim::kMillisecond);
  EXPECT_EQ(r.arrivals[1], 200 * sim::kMillisecond + 2'500'000u);
  EXPECT_EQ(r.bytes, std::string(1, '\0') + "b");  // 'a' was sent at 50 baud to a 4 Mbaud receiver
}

TEST(SerialLine, AReceiverWaitingForOneStopBitReadsTwo) {
  Rig r("9600 8N1");
  r.line.end(0).configure(settings("9600 8N2"));
  r.line.end(0).send('x');
  r.sim.run_until(sim::kSecond);
  EXPECT_EQ(r.bytes, "x");
  EXPECT_EQ(r.errors, 0u);
  r.line.end(0).configure(settings("9600 8N1"));
  r.line.end(1).configure(settings("9600 8N2"));
  r.line.end(0).send('y');
  r.sim.run_until(2 * sim::kSecond);
  EXPECT_EQ(r.errors, 1u);  // the second stop bit it waits for is the next start bit, or missing
}

TEST(SerialLine, OnlyTheDataBitsAreSent) {
  Rig r("9600 7N1");
  r.line.end(0).send(0xC1);
  r.sim.run_until(sim::kSecond);
  EXPECT_EQ(r.bytes, std::string(1, '\x41'));
}

TEST(SerialLine, AReceiverSetUpDifferentlyGetsFramingErrorsAndTheMonitorHearsOfThem) {
  Rig r("2400 8N1");
  std::vector<std::string> garbled;
  r.monitor.subscribe<monitor::SerialCharacterGarbled>([&](const monitor::SerialCharacterGarbled& e) {
    garbled.push_back(std::string(e.line) + ": " + std::string(e.sender) + " " + std::string(e.sent_with) + " -> " +
                      std::string(e.receiver) + " " + std::string(e.received_with));
  });
  r.line.end(1).configure(settings("9600 8N1"));
  r.line.end(0).send('Q');
  r.line.end(0).send('1');
  r.sim.run_until(sim::kSecond);
  EXPECT_EQ(r.errors, 2u);
  EXPECT_EQ(r.bytes, std::string(2, '\0'));  // not the characters sent
  EXPECT_EQ(r.line.end(1).framing_errors(), 2u);
  ASSERT_EQ(garbled.size(), 2u);
  EXPECT_EQ(garbled[0], "line0: host 2400 8N1 -> ups 9600 8N1");
}

TEST(SerialSettings, ParseAndPrint) {
  EXPECT_EQ(settings("2400 8N1").str(), "2400 8N1");
  EXPECT_EQ(settings("19200 7O2").frame_bits(), 11u);
  std::string error;
  EXPECT_FALSE(parse_settings("2400", &error));
  EXPECT_EQ(error, "\"2400\" has no framing (write the baud rate and the framing, such as \"2400 8N1\")");
  EXPECT_FALSE(parse_settings("2400 9N1", &error));
  EXPECT_NE(error.find("has data bits outside 5 to 8"), std::string::npos);
  EXPECT_FALSE(parse_settings("2400 8X1", &error));
  EXPECT_FALSE(parse_settings("2400 8N3", &error));
  EXPECT_FALSE(parse_settings("fast 8N1", &error));
  EXPECT_FALSE(parse_settings("10 8N1", &error));
}

}  // namespace
}  // namespace dexthil::serial
