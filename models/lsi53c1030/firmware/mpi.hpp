#pragma once
// The Fusion-MPT message interface (MPI 1.x) as the LSI53C1030's firmware speaks it: function
// codes, IOCStatus values, IOC states, config page codes, SGE flags, and a little-endian frame.
// Values are MPI's (Linux drivers/message/fusion/lsi/mpi*.h, VirtualBox's DevLsiLogicSCSI, which
// emulates this chip); ../shared/reference/lsi-mpt.md and docs/lsi53c1030.md say where each
// came from.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dexthil::models::lsi::mpi {

// Message functions (the byte at 0x03 of every request and reply).
enum Function : std::uint8_t {
  kScsiIo = 0x00,
  kScsiTaskMgmt = 0x01,
  kIocInit = 0x02,
  kIocFacts = 0x03,
  kConfig = 0x04,
  kPortFacts = 0x05,
  kPortEnable = 0x06,
  kEventNotification = 0x07,
  kEventAck = 0x08,
  // Written to the Doorbell register itself, never posted as a frame.
  kIocMessageUnitReset = 0x40,
  kIoUnitReset = 0x41,
  kHandshake = 0x42,
};

// IOCStatus (reply offset 0x0E, bits 14:0).
enum IocStatus : std::uint16_t {
  kSuccess = 0x0000,
  kInvalidFunction = 0x0001,
  kBusy = 0x0002,
  kInvalidSgl = 0x0003,
  kInternalError = 0x0004,
  kInsufficientResources = 0x0006,
  kInvalidField = 0x0007,
  kInvalidState = 0x0008,
  kConfigInvalidAction = 0x0020,
  kConfigInvalidType = 0x0021,
  kConfigInvalidPage = 0x0022,
  kConfigInvalidData = 0x0023,
  kConfigCantCommit = 0x0025,
  kScsiInvalidBus = 0x0041,
  kScsiInvalidTargetId = 0x0042,
  kScsiDeviceNotThere = 0x0043,
  kScsiDataOverrun = 0x0044,
  kScsiDataUnderrun = 0x0045,
  kScsiTaskTerminated = 0x0048,
};

// The IOC state in Doorbell bits 31:28.
enum class IocState : std::uint8_t { kReset = 0x0, kReady = 0x1, kOperational = 0x2, kFault = 0x4 };
std::string_view state_name(IocState state);

// Who initialised the IOC (IOCInit byte 0x00, Doorbell bits 26:24, IOCFacts 0x15).
enum WhoInit : std::uint8_t { kNoOne = 0, kSystemBios = 1, kRomBios = 2, kPciPeer = 3, kHostDriver = 4 };

// Events (EventNotification replies, offset 0x14).
enum Event : std::uint32_t { kEventChange = 0x0A };

// Config requests: Action (0x00), and the page header's PageType (low nibble: the type; high:
// its attributes).
enum ConfigAction : std::uint8_t {
  kPageHeader = 0x00,
  kReadCurrent = 0x01,
  kWriteCurrent = 0x02,
  kDefault = 0x03,
  kWriteNvram = 0x04,
  kReadDefault = 0x05,
  kReadNvram = 0x06,
};
enum PageType : std::uint8_t {
  kIoUnit = 0x0,
  kIoc = 0x1,
  kBios = 0x2,
  kScsiPort = 0x3,
  kScsiDevice = 0x4,
  kManufacturing = 0x9,
};
enum PageAttribute : std::uint8_t {
  kReadOnly = 0x00,
  kChangeable = 0x10,
  kPersistent = 0x20,
  kReadOnlyPersistent = 0x30,
};

// Scatter-gather element flags (bits 31:24 of FlagsLength).
enum SgeFlags : std::uint8_t {
  kSgeLastElement = 0x80,
  kSgeEndOfBuffer = 0x40,
  kSgeTypeMask = 0x30,
  kSgeTypeSimple = 0x10,
  kSgeTypeChain = 0x30,
  kSgeHostToIoc = 0x04,
  kSgeAddress64 = 0x02,
  kSgeEndOfList = 0x01,
};

// Byte offsets every request and reply share.
inline constexpr std::size_t kOffsetChainOffset = 0x02;  // request: in dwords; reply: MsgLength
inline constexpr std::size_t kOffsetMsgLength = 0x02;
inline constexpr std::size_t kOffsetFunction = 0x03;
inline constexpr std::size_t kOffsetMsgFlags = 0x07;
inline constexpr std::size_t kOffsetMsgContext = 0x08;
inline constexpr std::size_t kOffsetIocStatus = 0x0E;
inline constexpr std::size_t kOffsetIocLogInfo = 0x10;
inline constexpr std::size_t kHeaderBytes = 12;       // the smallest request
inline constexpr std::size_t kReplyHeaderBytes = 20;  // the smallest reply (MsgLength 5)

// A message frame's little-endian fields at byte offsets, read where the frame lies (a request
// in the IOC's local memory) without copying it. Reads past the end give 0, so a short request
// reads as zero-filled (a request's unused fields are).
class FrameView {
 public:
  explicit FrameView(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint8_t u8(std::size_t at) const { return at < bytes_.size() ? bytes_[at] : 0; }
  std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(u8(at) | u8(at + 1) << 8); }
  std::uint32_t u32(std::size_t at) const { return u16(at) | static_cast<std::uint32_t>(u16(at + 2)) << 16; }
  std::uint64_t u64(std::size_t at) const { return u32(at) | static_cast<std::uint64_t>(u32(at + 4)) << 32; }
  std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  std::span<const std::uint8_t> bytes_;
};

// A message frame of its own: reads as FrameView's, and writes past the end grow it.
class Frame {
 public:
  Frame() = default;
  explicit Frame(std::size_t size) : bytes_(size, 0) {}
  explicit Frame(std::span<const std::uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}

  FrameView view() const { return FrameView(bytes_); }
  std::uint8_t u8(std::size_t at) const { return view().u8(at); }
  std::uint16_t u16(std::size_t at) const { return view().u16(at); }
  std::uint32_t u32(std::size_t at) const { return view().u32(at); }
  std::uint64_t u64(std::size_t at) const { return view().u64(at); }
  void set_u8(std::size_t at, std::uint8_t value);
  void set_u16(std::size_t at, std::uint16_t value);
  void set_u32(std::size_t at, std::uint32_t value);
  void set_bytes(std::size_t at, std::span<const std::uint8_t> value);
  // A fixed-width string field, NUL-padded (the manufacturing page's names).
  void set_text(std::size_t at, std::size_t width, std::string_view text);

  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace dexthil::models::lsi::mpi
