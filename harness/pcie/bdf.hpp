#pragma once
// Bus/device/function addresses and the requester IDs (RIDs) they become on the wire.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dexthil::pcie {

struct Bdf {
  std::uint8_t bus = 0;
  std::uint8_t device = 0;    // 0..31
  std::uint8_t function = 0;  // 0..7

  std::uint16_t rid() const { return static_cast<std::uint16_t>(bus << 8 | device << 3 | function); }
  static Bdf from_rid(std::uint16_t rid) {
    return Bdf{static_cast<std::uint8_t>(rid >> 8), static_cast<std::uint8_t>((rid >> 3) & 31),
               static_cast<std::uint8_t>(rid & 7)};
  }
  std::string str() const;  // "04:08.0", as lspci prints it
  friend bool operator==(const Bdf&, const Bdf&) = default;
};

// "1000:0030" -> vendor and device IDs.
struct PciIds {
  std::uint16_t vendor = 0xffff;
  std::uint16_t device = 0xffff;
  std::string str() const;
};
std::optional<PciIds> parse_ids(std::string_view text);

}  // namespace dexthil::pcie
