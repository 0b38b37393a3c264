#pragma once
// What a serial line sees, for the checkers in harness/checks/ (SerialLineChecker). Plain data,
// valid only during the handler.
#include <string_view>

#include "harness/sim/time.hpp"

namespace dexthil::monitor {

// A character reached a UART whose settings differ from the sender's, so it read garbage.
struct SerialCharacterGarbled {
  sim::SimTime time = 0;
  std::string_view line;
  std::string_view sender, receiver;  // the ends' names
  std::string_view sent_with, received_with;  // their settings: "2400 8N1", "9600 8N1"
};

}  // namespace dexthil::monitor
