#pragma once
// Hexadecimal for messages: "0x80000000", or zero-padded to `digits` ("0x0000000080000000", as
// the DART panic text prints addresses).
#include <cstdint>
#include <cstdio>
#include <string>

namespace dexthil::util {

inline std::string hex(std::uint64_t value, int digits = 0) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace dexthil::util
