#include "harness/pcie/config_space.hpp"

#include <stdexcept>
#include <string>

#include "harness/pcie/bdf.hpp"

namespace dexthil::pcie {

std::string Bdf::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x:%02x.%x", bus, device, function);
  return buf;
}

std::string PciIds::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", vendor, device);
  return buf;
}

std::optional<PciIds> parse_ids(std::string_view text) {
  if (text.size() != 9 || text[4] != ':') return std::nullopt;
  auto hex16 = [](std::string_view s) -> std::optional<std::uint16_t> {
    std::uint32_t v = 0;
    for (char c : s) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v << 4 | static_cast<std::uint32_t>(d);
    }
    return static_cast<std::uint16_t>(v);
  };
  auto vendor = hex16(text.substr(0, 4));
  auto device = hex16(text.substr(5, 4));
  if (!vendor || !device) return std::nullopt;
  return PciIds{*vendor, *device};
}

std::uint32_t ConfigSpace::read(std::uint16_t offset, unsigned size) const {
  if ((size != 1 && size != 2 && size != 4) || offset % size != 0 || offset + size > kSize) {
    throw std::invalid_argument("config read of " + std::to_string(size) + " bytes at offset " + std::to_string(offset));
  }
  std::uint32_t value = 0;
  for (unsigned i = size; i > 0; --i) value = value << 8 | bytes_[offset + i - 1];
  return value;
}

void ConfigSpace::write(std::uint16_t offset, unsigned size, std::uint32_t value) {
  if ((size != 1 && size != 2 && size != 4) || offset % size != 0 || offset + size > kSize) {
    throw std::invalid_argument("config write of " + std::to_string(size) + " bytes at offset " + std::to_string(offset));
  }
  for (unsigned i = 0; i < size; ++i) {
    const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
    std::uint8_t& b = bytes_[offset + i];
    b = static_cast<std::uint8_t>((b & ~rw_[offset + i]) | (byte & rw_[offset + i]));
    b = static_cast<std::uint8_t>(b & ~(byte & w1c_[offset + i]));
  }
  changed();  // rare (set-up, not I/O), so simply forget
}

void ConfigSpace::init8(std::uint16_t offset, std::uint8_t value, std::uint8_t rw_mask, std::uint8_t w1c_mask) {
  bytes_.at(offset) = value;
  rw_.at(offset) = rw_mask;
  w1c_.at(offset) = w1c_mask;
  changed();
}

void ConfigSpace::init16(std::uint16_t offset, std::uint16_t value, std::uint16_t rw_mask, std::uint16_t w1c_mask) {
  for (int i = 0; i < 2; ++i) {
    init8(static_cast<std::uint16_t>(offset + i), static_cast<std::uint8_t>(value >> (8 * i)),
          static_cast<std::uint8_t>(rw_mask >> (8 * i)), static_cast<std::uint8_t>(w1c_mask >> (8 * i)));
  }
}

void ConfigSpace::init32(std::uint16_t offset, std::uint32_t value, std::uint32_t rw_mask, std::uint32_t w1c_mask) {
  init16(offset, static_cast<std::uint16_t>(value), static_cast<std::uint16_t>(rw_mask), static_cast<std::uint16_t>(w1c_mask));
  init16(static_cast<std::uint16_t>(offset + 2), static_cast<std::uint16_t>(value >> 16),
         static_cast<std::uint16_t>(rw_mask >> 16), static_cast<std::uint16_t>(w1c_mask >> 16));
}

std::uint16_t ConfigSpace::add_capability(std::uint8_t id, std::uint16_t length) {
  const std::uint16_t at = next_free_;
  if (at + length > 0x100) throw std::length_error("capabilities overflow the 256-byte PCI-compatible space");
  next_free_ = static_cast<std::uint16_t>((at + length + 3) & ~3);
  bytes_[at] = id;
  bytes_[at + 1] = 0;
  if (last_capability_ == 0) {
    bytes_[cfg::kCapabilitiesPointer] = static_cast<std::uint8_t>(at);
    bytes_[cfg::kStatus] |= cfg::kStatusCapabilities;
  } else {
    bytes_[last_capability_ + 1] = static_cast<std::uint8_t>(at);
  }
  last_capability_ = at;
  changed();
  return at;
}

void ConfigSpace::learn_capabilities() const {
  capability_at_.fill(0);
  if (bytes_[cfg::kStatus] & cfg::kStatusCapabilities) {
    std::uint16_t at = bytes_[cfg::kCapabilitiesPointer] & 0xfc;
    for (int guard = 0; at != 0 && guard < 48; ++guard) {  // 48 = most capabilities that fit
      if (capability_at_[bytes_[at]] == 0) capability_at_[bytes_[at]] = at;  // the first of each ID
      at = bytes_[at + 1] & 0xfc;
    }
  }
  transfer_sizes_ = {};
  if (const std::uint16_t pcie = capability_at_[cfg::kCapPciExpress]) {
    const std::uint32_t control = read(static_cast<std::uint16_t>(pcie + 8), 2);
    transfer_sizes_ = {128u << (control >> 5 & 0x7), 128u << (control >> 12 & 0x7)};
  }
  capabilities_known_ = true;
}

std::uint16_t ConfigSpace::find_capability(std::uint8_t id) const {
  if (!capabilities_known_) learn_capabilities();
  return capability_at_[id];
}

ConfigSpace::TransferSizes ConfigSpace::transfer_sizes() const {
  if (!capabilities_known_) learn_capabilities();
  return transfer_sizes_;
}

}  // namespace dexthil::pcie
