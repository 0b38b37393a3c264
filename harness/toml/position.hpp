#pragma once
// Where something was written in an input file, for messages that point at it.
#include <cstdint>
#include <string>

namespace dexthil::toml_input {

struct Position {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string str() const { return file + ":" + std::to_string(line) + ":" + std::to_string(column); }
};

}  // namespace dexthil::toml_input
