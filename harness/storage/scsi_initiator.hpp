#pragma once
// One SCSI logical unit as the storage stack above a controller sees it: it sends a command with
// its data and hears the outcome later, in simulated time. The SCSI family's kernel half
// (harness/driverkit/families/scsi) provides one per target a controller dext creates; the block
// front end (block_front_end.hpp) drives it as macOS's storage stack would.
#include <array>
#include <cstdint>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace dexthil::storage {

// SAM-2's service responses and status, with the values SCSITask.h gives them.
enum class ServiceResponse : std::uint8_t {
  kRequestInProcess = 0,
  kServiceDeliveryOrTargetFailure = 1,
  kTaskComplete = 2,
  kLinkCommandComplete = 3,
  kFunctionComplete = 4,
  kFunctionRejected = 5,
};
// SCSITask.h's name for a service response ("kSCSIServiceResponse_FUNCTION_COMPLETE"), or
// nullptr for a value it does not define.
inline const char* service_response_name(unsigned response) {
  static const char* const kNames[] = {"kSCSIServiceResponse_Request_In_Process",
                                       "kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE",
                                       "kSCSIServiceResponse_TASK_COMPLETE",
                                       "kSCSIServiceResponse_LINK_COMMAND_COMPLETE",
                                       "kSCSIServiceResponse_FUNCTION_COMPLETE",
                                       "kSCSIServiceResponse_FUNCTION_REJECTED"};
  return response < std::size(kNames) ? kNames[response] : nullptr;
}
enum ScsiStatus : std::uint8_t {
  kStatusGood = 0x00,
  kStatusCheckCondition = 0x02,
  kStatusBusy = 0x08,
  kStatusTaskSetFull = 0x28,
  // Not from the target: what the initiator's side saw (SCSITaskStatus's second set of values).
  kStatusTaskTimeout = 0x01,
  kStatusDeviceNotPresent = 0x04,
  kStatusDeliveryFailure = 0x05,
};

struct ScsiCommand {
  enum class Direction : std::uint8_t { kNone, kToTarget, kFromTarget };  // kSCSIDataTransfer_*'s values
  std::uint64_t lun = 0;
  std::array<std::uint8_t, 16> cdb{};
  std::uint8_t cdb_length = 6;
  Direction direction = Direction::kNone;
  std::uint64_t length = 0;  // bytes of data
  std::uint32_t timeout_ms = 30'000;
  bool ordered = false;  // task attribute ORDERED instead of SIMPLE
  // For kToTarget: fills the data buffer (exactly `length` bytes) before the task is sent.
  std::function<void(std::span<std::uint8_t>)> fill;
};

struct ScsiOutcome {
  ServiceResponse response = ServiceResponse::kServiceDeliveryOrTargetFailure;
  std::uint8_t status = kStatusDeliveryFailure;
  std::uint64_t transferred = 0;
  std::vector<std::uint8_t> sense;  // autosense data, when the status is CHECK CONDITION
  std::span<const std::uint8_t> data;  // for kFromTarget: the buffer, valid only during the callback
  bool good() const { return response == ServiceResponse::kTaskComplete && status == kStatusGood; }
};

class ScsiInitiator {
 public:
  virtual ~ScsiInitiator() = default;
  // "Controller@location target 2": for findings and reports.
  virtual std::string name() const = 0;
  // The largest transfer one command may carry (the HBA's UserGetDMASpecification).
  virtual std::uint64_t max_transfer() const = 0;
  // Sends `command`; `done` runs exactly once, later in simulated time, never inside submit().
  virtual void submit(ScsiCommand command, std::function<void(const ScsiOutcome&)> done) = 0;
};

}  // namespace dexthil::storage
