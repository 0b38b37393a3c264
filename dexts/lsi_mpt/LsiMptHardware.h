// The LSI53C1030's system interface and the MPI 1.x messages LsiMpt uses, as the Fusion-MPT
// documentation and the open drivers (Linux mptbase, FreeBSD mpt) lay them out. Messages are
// little-endian; Apple silicon and Intel Macs both are, so frames are built with plain stores.
#ifndef LsiMptHardware_h
#define LsiMptHardware_h

#include <stdint.h>

namespace mpt {

// ---- Registers in the first memory BAR ----
enum Register : uint64_t {
  kDoorbell = 0x00,
  kWriteSequence = 0x04,
  kHostDiagnostic = 0x08,
  kHostInterruptStatus = 0x30,
  kHostInterruptMask = 0x34,
  kRequestFifo = 0x40,
  kReplyFifo = 0x44,
};

// Doorbell, as read: the IOC state, the handshake's active bit, a reply word.
constexpr uint32_t kDoorbellStateShift = 28;
constexpr uint32_t kDoorbellActive = 1u << 27;
constexpr uint32_t kDoorbellDataMask = 0xFFFF;
enum IocState : uint32_t { kStateReset = 0, kStateReady = 1, kStateOperational = 2, kStateFault = 4 };
// Doorbell, as written: a function in 31:24 and (for a handshake) the request's dwords in 23:16.
constexpr uint32_t kFunctionShift = 24;
constexpr uint32_t kDwordCountShift = 16;

// HostInterruptStatus and HostInterruptMask.
constexpr uint32_t kIntDoorbell = 1u << 0;     // a handshake step is ready for the host
constexpr uint32_t kIntReply = 1u << 3;        // the reply FIFO holds entries
constexpr uint32_t kIntIocDoorbell = 1u << 31;  // the IOC has not taken the last Doorbell write yet

constexpr uint32_t kReplyFifoEmpty = 0xFFFFFFFF;
constexpr uint32_t kAddressReply = 1u << 31;  // else a context reply: the request's MsgContext

// ---- Message functions and statuses ----
enum Function : uint8_t {
  kScsiIo = 0x00,
  kScsiTaskMgmt = 0x01,
  kIocInit = 0x02,
  kIocFacts = 0x03,
  kPortFacts = 0x05,
  kPortEnable = 0x06,
  kHandshake = 0x42,
  kMessageUnitReset = 0x40,
};
constexpr uint16_t kIocStatusMask = 0x7FFF;
enum IocStatus : uint16_t {
  kSuccess = 0x0000,
  kScsiDeviceNotThere = 0x0043,
  kScsiDataOverrun = 0x0044,
  kScsiDataUnderrun = 0x0045,
  kScsiTaskTerminated = 0x0048,
};
constexpr uint8_t kScsiStateAutosenseValid = 0x01;
// SCSI_TASK_MGMT TaskType. The 1030's MPI has no CLEAR TASK SET or CLEAR ACA.
enum TaskType : uint8_t {
  kTaskTypeAbortTask = 0x01,
  kTaskTypeAbortTaskSet = 0x02,
  kTaskTypeTargetReset = 0x03,
  kTaskTypeLogicalUnitReset = 0x05,
};

// Where fields are, in bytes: the common header, then each message's own.
namespace at {
constexpr uint32_t kChainOffset = 0x02, kFunction = 0x03, kMsgLength = 0x02, kMsgFlags = 0x07, kMsgContext = 0x08;
constexpr uint32_t kIocStatus = 0x0E;
// IOCFacts reply.
constexpr uint32_t kFactsMaxChainDepth = 0x14, kFactsRequestFrameSize = 0x1A, kFactsGlobalCredits = 0x24;
// IOCInit request.
constexpr uint32_t kInitWhoInit = 0x00, kInitMaxDevices = 0x05, kInitMaxBuses = 0x06, kInitReplyFrameSize = 0x0C,
                   kInitHostMfaHighAddr = 0x10, kInitSenseBufferHighAddr = 0x14;
// SCSI_IO request and reply.
constexpr uint32_t kIoTargetId = 0x00, kIoCdbLength = 0x04, kIoSenseBufferLength = 0x05, kIoLun = 0x0C,
                   kIoControl = 0x14, kIoCdb = 0x18, kIoDataLength = 0x28, kIoSenseBufferLowAddr = 0x2C, kIoSgl = 0x30;
constexpr uint32_t kIoReplyScsiStatus = 0x0C, kIoReplyScsiState = 0x0D, kIoReplyTransferCount = 0x14,
                   kIoReplySenseCount = 0x18;
// SCSI_TASK_MGMT request.
constexpr uint32_t kTmTargetId = 0x00, kTmTaskType = 0x05, kTmLun = 0x0C, kTmTaskMsgContext = 0x30;
}  // namespace at

// SCSI_IO Control: the data direction in 25:24, the task attribute in 10:8 (0 simple, 1 head of
// queue, 2 ordered).
constexpr uint32_t kControlWrite = 1u << 24, kControlRead = 2u << 24;
constexpr uint32_t kControlOrdered = 2u << 8;

// A simple scatter-gather element: flags 31:24, length 23:0, then the address.
enum SgeFlags : uint8_t {
  kSgeLastElement = 0x80,
  kSgeEndOfBuffer = 0x40,
  kSgeSimple = 0x10,
  kSgeHostToIoc = 0x04,
  kSgeEndOfList = 0x01,
};
constexpr uint32_t kSgeMaxLength = 0x00FFFFFF;

// Frames: the IOC reports its request frame size in dwords; LsiMpt uses 128 bytes.
constexpr uint32_t kFrameBytes = 128;
constexpr uint32_t kReplyFrameBytes = 128;
constexpr uint32_t kSgeBytes32 = 8;
constexpr uint32_t kMaxSimpleSgesInFrame = (kFrameBytes - at::kIoSgl) / kSgeBytes32;  // 10

}  // namespace mpt

#endif
