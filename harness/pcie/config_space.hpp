#pragma once
// One function's 4 KiB configuration space with per-bit write behaviour (read-only, read-write,
// write-1-to-clear), and builders for the standard headers and capabilities. Enumeration, the
// DriverKit config accessors and the device models all go through these bytes.
#include <array>
#include <cstdint>

namespace dexthil::pcie {

namespace cfg {
// Type 0 and type 1 header offsets (PCI Local Bus spec 3.0, section 6.1; PCI-to-PCI bridge 1.2).
inline constexpr std::uint16_t kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06;
inline constexpr std::uint16_t kRevision = 0x08, kClassCode = 0x09, kHeaderType = 0x0e;
inline constexpr std::uint16_t kBar0 = 0x10, kCapabilitiesPointer = 0x34, kInterruptPin = 0x3d;
inline constexpr std::uint16_t kPrimaryBus = 0x18, kSecondaryBus = 0x19, kSubordinateBus = 0x1a;
inline constexpr std::uint16_t kMemoryBase = 0x20, kMemoryLimit = 0x22;
inline constexpr std::uint16_t kPrefetchBase = 0x24, kPrefetchLimit = 0x26;
inline constexpr std::uint16_t kPrefetchBaseUpper = 0x28, kPrefetchLimitUpper = 0x2c;
inline constexpr std::uint16_t kBridgeControl = 0x3e;
inline constexpr std::uint16_t kCommandMemory = 1 << 1, kCommandBusMaster = 1 << 2;
inline constexpr std::uint16_t kStatusCapabilities = 1 << 4;
inline constexpr std::uint16_t kBridgeControlSecondaryBusReset = 1 << 6;
// PCI Express capability: Device Capabilities (offset 4) and Device Control (offset 8) bits.
inline constexpr std::uint32_t kDevCapFunctionLevelReset = 1u << 28;
inline constexpr std::uint16_t kDevCtlInitiateFunctionLevelReset = 1u << 15;
// Capability IDs.
inline constexpr std::uint8_t kCapPowerManagement = 0x01, kCapMsi = 0x05, kCapPciExpress = 0x10,
                              kCapPcixBridge = 0x07;
// PCI Express capability: device/port type in bits 7:4 of the capabilities register (offset 2).
enum class PortType : std::uint8_t {
  kEndpoint = 0x0,
  kLegacyEndpoint = 0x1,
  kRootPort = 0x4,
  kSwitchUpstream = 0x5,
  kSwitchDownstream = 0x6,
  kPcieToPciBridge = 0x7,
  kPciToPcieBridge = 0x8,
};
}  // namespace cfg

class ConfigSpace {
 public:
  static constexpr std::size_t kSize = 4096;

  std::uint32_t read(std::uint16_t offset, unsigned size) const;  // size 1, 2 or 4; naturally aligned
  void write(std::uint16_t offset, unsigned size, std::uint32_t value);

  // Device-side setup: sets bytes and how a host write treats each bit.
  void init8(std::uint16_t offset, std::uint8_t value, std::uint8_t rw_mask = 0, std::uint8_t w1c_mask = 0);
  void init16(std::uint16_t offset, std::uint16_t value, std::uint16_t rw_mask = 0, std::uint16_t w1c_mask = 0);
  void init32(std::uint16_t offset, std::uint32_t value, std::uint32_t rw_mask = 0, std::uint32_t w1c_mask = 0);
  // Device-side update that ignores the masks (hardware status bits).
  void set8(std::uint16_t offset, std::uint8_t value) {
    bytes_[offset] = value;
    changed();
  }

  // Appends a capability of `length` bytes to the list and returns its offset. The first two
  // bytes (ID, next pointer) are filled in; the caller initialises the rest.
  std::uint16_t add_capability(std::uint8_t id, std::uint16_t length);
  // Offset of the first capability with `id`, or 0 (walks the list as software does).
  std::uint16_t find_capability(std::uint8_t id) const;
  // Device Control's Max Payload Size and Max Read Request Size in bytes; 0 for a function
  // without a PCI Express capability.
  struct TransferSizes {
    std::uint32_t max_payload = 0;
    std::uint32_t max_read_request = 0;
  };
  TransferSizes transfer_sizes() const;
  // Counts the changes to the space, so a caller can keep what it derived from it (a route, a
  // decoded BAR) until the count moves.
  std::uint64_t version() const { return version_; }

 private:
  void changed() {
    capabilities_known_ = false;
    ++version_;
  }
  // What find_capability and transfer_sizes found, kept until the space changes (host writes
  // and set-up are rare next to DMA). The DMA checks ask for every TLP, and walking the list and
  // reading Device Control there touched lines the TLP's data had pushed out of the cache.
  // First in the object, so that the answer is one cache line.
  mutable bool capabilities_known_ = false;
  mutable TransferSizes transfer_sizes_;
  mutable std::array<std::uint16_t, 256> capability_at_{};
  std::uint64_t version_ = 0;
  void learn_capabilities() const;

  std::array<std::uint8_t, kSize> bytes_{};
  std::array<std::uint8_t, kSize> rw_{};
  std::array<std::uint8_t, kSize> w1c_{};
  std::uint16_t last_capability_ = 0;
  std::uint16_t next_free_ = 0x40;
};

}  // namespace dexthil::pcie
