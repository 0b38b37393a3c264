#pragma once
// The SCSI task types SCSIControllerDriverKit's interface uses, as DriverKit's storage headers
// give them (names and values: docs/research/scsicontrollerdriverkit-api.md, section 4, from the
// SCSI definitions Apple publishes with IOSCSIParallelFamily).
#include <stdint.h>

// Identifiers on the bus: targets and initiators are both SCSI device identifiers.
typedef uint64_t SCSIDeviceIdentifier;
typedef SCSIDeviceIdentifier SCSITargetIdentifier;
typedef SCSIDeviceIdentifier SCSIInitiatorIdentifier;

// A logical unit: the 8 bytes of SAM's LUN structure (SCSILogicalUnitNumber is the old form).
typedef uint8_t SCSILogicalUnitBytes[8];
typedef uint64_t SCSILogicalUnitNumber;

typedef uint64_t SCSITaggedTaskIdentifier;
enum { kSCSIUntaggedTaskIdentifier = 0 };

typedef enum SCSITaskAttribute {
  kSCSITask_SIMPLE = 0,
  kSCSITask_ORDERED = 1,
  kSCSITask_HEAD_OF_QUEUE = 2,
  kSCSITask_ACA = 3,
} SCSITaskAttribute;

typedef enum SCSITaskState {
  kSCSITaskState_NEW_TASK = 0,
  kSCSITaskState_ENABLED = 1,
  kSCSITaskState_BLOCKED = 2,
  kSCSITaskState_DORMANT = 3,
  kSCSITaskState_ENDED = 4,
} SCSITaskState;

typedef enum SCSIServiceResponse {
  kSCSIServiceResponse_Request_In_Process = 0,
  kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE = 1,
  kSCSIServiceResponse_TASK_COMPLETE = 2,
  kSCSIServiceResponse_LINK_COMMAND_COMPLETE = 3,
  kSCSIServiceResponse_FUNCTION_COMPLETE = 4,
  kSCSIServiceResponse_FUNCTION_REJECTED = 5,
} SCSIServiceResponse;

// SAM status codes, then the transport's own outcomes (values shared with some of them on
// purpose: the service response says which kind a status is).
typedef enum SCSITaskStatus {
  kSCSITaskStatus_GOOD = 0x00,
  kSCSITaskStatus_CHECK_CONDITION = 0x02,
  kSCSITaskStatus_CONDITION_MET = 0x04,
  kSCSITaskStatus_BUSY = 0x08,
  kSCSITaskStatus_INTERMEDIATE = 0x10,
  kSCSITaskStatus_INTERMEDIATE_CONDITION_MET = 0x14,
  kSCSITaskStatus_RESERVATION_CONFLICT = 0x18,
  kSCSITaskStatus_TASK_SET_FULL = 0x28,
  kSCSITaskStatus_ACA_ACTIVE = 0x30,
  kSCSITaskStatus_TaskTimeoutOccurred = 0x01,
  kSCSITaskStatus_ProtocolTimeoutOccurred = 0x02,
  kSCSITaskStatus_DeviceNotResponding = 0x03,
  kSCSITaskStatus_DeviceNotPresent = 0x04,
  kSCSITaskStatus_DeliveryFailure = 0x05,
  kSCSITaskStatus_No_Status = 0xFF,
} SCSITaskStatus;

enum {
  kSCSICDBSize_Maximum = 16,
  kSCSICDBSize_6Byte = 6,
  kSCSICDBSize_10Byte = 10,
  kSCSICDBSize_12Byte = 12,
  kSCSICDBSize_16Byte = 16,
};
typedef uint8_t SCSICommandDescriptorBlock[kSCSICDBSize_Maximum];

// A task's data direction (SCSIUserParallelTask's fTransferDirection holds one).
enum {
  kSCSIDataTransfer_NoDataTransfer = 0x00,
  kSCSIDataTransfer_FromInitiatorToTarget = 0x01,
  kSCSIDataTransfer_FromTargetToInitiator = 0x02,
};
