#pragma once
// One register description per device (a TOML file beside its RTL), from which dexthil-regs
// generates what each user of the map needs: a SystemVerilog package for the RTL and a C++
// header for the model, the tests and the device's dext. Format: docs/registers.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dexthil::regs {

struct Field {
  std::string name;       // snake_case
  unsigned msb = 0, lsb = 0;
  std::string description;
};

struct Register {
  std::string name;       // UPPER_SNAKE
  std::uint32_t offset = 0;
  std::string access;     // ro, rw, wo, rc (read clears), mixed
  std::optional<std::uint64_t> reset;  // after reset
  std::optional<std::uint64_t> value;  // a constant (an ID)
  std::string description;
  std::vector<Field> fields;
};

struct Device {
  std::string file;
  std::string name;
  unsigned address_bits = 8;
  unsigned width = 32;
  std::string sv_package;
  std::string cxx_namespace;
  std::vector<Register> registers;
};

// Loads and checks a description; nullopt with "file:line:col: error: key: what" on a problem
// (unknown keys, overlapping offsets or fields, fields outside the register, bad names).
std::optional<Device> load(const std::string& path, std::string* error);
std::optional<Device> load_text(const std::string& text, const std::string& path, std::string* error);

std::string systemverilog_package(const Device& device);
std::string cxx_header(const Device& device);

}  // namespace dexthil::regs
