#pragma once
// IOUserSCSIParallelInterfaceController as a SCSI controller dext sees it (SCSIControllerDriverKit):
// the family's kernel half initialises and starts the controller, asks it about itself, creates
// targets and sends it tasks and task management requests, all as messages the dext's subclass
// implements; the dext completes a task by calling ParallelTaskCompletion on the task's action,
// and calls into the kernel to report its constraints and create and destroy targets.
//
// Written from the facts in docs/research/scsicontrollerdriverkit-api.md (Apple's interface as
// IOSCSIParallelFamily publishes it: names, parameter types and order, structures, constants);
// none of Apple's text. The kernel half is dexthil's (harness/driverkit/families/scsi).
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IOService.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSCollections.h>
#include <DriverKit/storage/SCSICmds_REQUEST_SENSE_Defs.h>
#include <DriverKit/storage/SCSITask.h>
#include <SCSIControllerDriverKit/IOSCSIParallelControllerCharacteristics.h>

#define kMaxSenseBufferSize 256
#define kIOServicePowerCapabilityPause 0x1000
#define kMaxBundledParallelTasks 32

typedef enum SCSIUserParallelTaskVersion { kScsiUserParallelTaskCurrentVersion1 = 1 } SCSIUserParallelTaskVersion;
typedef enum SCSIUserParallelResponseVersion {
  kScsiUserParallelTaskResponseCurrentVersion1 = 1
} SCSIUserParallelResponseVersion;

// A task as the kernel hands it to UserProcessParallelTask (128 bytes).
typedef struct SCSIUserParallelTask {
  uint64_t version;  // kScsiUserParallelTaskCurrentVersion1
  SCSITargetIdentifier fTargetID;
  uint32_t fSCSIParallelFeatureRequest[kSCSIParallelFeature_TotalFeatureCount];
  uint64_t fSCSIParallelFeatureRequestCount;
  uint64_t fControllerTaskIdentifier;  // what UserMapHBAData gave this task
  uint64_t fRequestedTransferCount;
  uint64_t fBufferIOVMAddr;  // the data buffer, prepared for the controller's DMA
  SCSITaskAttribute fTaskAttribute;
  uint64_t fTaskTagIdentifier;
  SCSILogicalUnitBytes fLogicalUnitBytes;
  SCSICommandDescriptorBlock fCommandDescriptorBlock;
  uint8_t fCommandSize;
  uint8_t fTransferDirection;  // kSCSIDataTransfer_*
  uint32_t fTimeoutInMilliSec;
  uint8_t reserved[6];
} SCSIUserParallelTask;

// What the dext answers a task with, through ParallelTaskCompletion (384 bytes).
typedef struct SCSIUserParallelResponse {
  uint64_t version;  // kScsiUserParallelTaskResponseCurrentVersion1, or the kernel drops the completion
  SCSITargetIdentifier fTargetID;
  uint32_t fSCSIParallelFeatureResult[kSCSIParallelFeature_TotalFeatureCount];
  uint64_t fSCSIParallelFeatureRequestResultCount;
  uint64_t fControllerTaskIdentifier;
  SCSITaskStatus fCompletionStatus;
  SCSIServiceResponse fServiceResponse;
  uint64_t fBytesTransferred;
  uint8_t fSenseLength;
  uint8_t fSenseBuffer[kMaxSenseBufferSize];
  uint8_t reserved[51];
} SCSIUserParallelResponse;

// How UserGetDMASpecification says segments are laid out.
typedef enum DMAOutputSegmentType : uint16_t {
  kDMAOutputSegmentHost32 = 0,
  kDMAOutputSegmentBig32 = 1,
  kDMAOutputSegmentLittle32 = 2,
  kDMAOutputSegmentHost64 = 3,
  kDMAOutputSegmentBig64 = 4,
  kDMAOutputSegmentLittle64 = 5,
} DMAOutputSegmentType;

#define DEXTHIL_SCSI_MESSAGE(method) (::dexthil::iig::message_id(#method))
#define IOUserSCSIParallelInterfaceController_ParallelTaskCompletion_Args \
  OSAction* action, SCSIUserParallelResponse response
#define IOUserSCSIParallelInterfaceController_UserTargetPresentForID_Args SCSIDeviceIdentifier targetID, bool* result
#define IOUserSCSIParallelInterfaceController_UserReportHBAHighestLogicalUnitNumber_Args uint64_t* value
#define IOUserSCSIParallelInterfaceController_UserDoesHBASupportSCSIParallelFeature_Args uint32_t theValue, bool* result
#define IOUserSCSIParallelInterfaceController_UserInitializeTargetForID_Args SCSITargetIdentifier targetID
#define IOUserSCSIParallelInterfaceController_UserDoesHBAPerformAutoSense_Args bool* result
#define IOUserSCSIParallelInterfaceController_UserDoesHBASupportMultiPathing_Args bool* result
#define IOUserSCSIParallelInterfaceController_UserAbortTaskRequest_Args \
  uint64_t theT, uint64_t theL, uint64_t theQ, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserAbortTaskSetRequest_Args uint64_t theT, uint64_t theL, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserClearACARequest_Args uint64_t theT, uint64_t theL, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserClearTaskSetRequest_Args uint64_t theT, uint64_t theL, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserLogicalUnitResetRequest_Args \
  uint64_t theT, uint64_t theL, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserTargetResetRequest_Args uint64_t theT, uint32_t* response
#define IOUserSCSIParallelInterfaceController_UserReportInitiatorIdentifier_Args uint64_t* id
#define IOUserSCSIParallelInterfaceController_UserReportHighestSupportedDeviceID_Args uint64_t* id
#define IOUserSCSIParallelInterfaceController_UserReportMaximumTaskCount_Args uint32_t* count
#define IOUserSCSIParallelInterfaceController_UserDoesHBAPerformDeviceManagement_Args bool* result
#define IOUserSCSIParallelInterfaceController_UserInitializeController_Args
#define IOUserSCSIParallelInterfaceController_UserStartController_Args
#define IOUserSCSIParallelInterfaceController_UserProcessParallelTask_Args \
  SCSIUserParallelTask parallelRequest, uint32_t* response, OSAction* completion
#define IOUserSCSIParallelInterfaceController_UserGetDMASpecification_Args \
  uint64_t* maxTransferSize, uint32_t* alignment, uint8_t* numAddressBits, DMAOutputSegmentType* segmentType
#define IOUserSCSIParallelInterfaceController_UserMapHBAData_Args uint32_t* uniqueTaskID
#define IOUserSCSIParallelInterfaceController_UserMapBundledParallelTaskCommandAndResponseBuffers_Args \
  IOBufferMemoryDescriptor* parallelCommandIOMemoryDescriptor, IOBufferMemoryDescriptor* parallelResponseIOMemoryDescriptor
#define IOUserSCSIParallelInterfaceController_BundledParallelTaskCompletion_Args \
  OSAction* action, const uint16_t* parallelResponseSlotIndices, uint16_t parallelResponseSlotIndicesCount
#define IOUserSCSIParallelInterfaceController_UserProcessBundledParallelTasks_Args \
  const uint16_t* parallelRequestSlotIndices, uint16_t parallelRequestSlotIndicesCount, OSAction* completion

#define IOUserSCSIParallelInterfaceController_ParallelTaskCompletion_ID DEXTHIL_SCSI_MESSAGE(ParallelTaskCompletion)
#define IOUserSCSIParallelInterfaceController_UserTargetPresentForID_ID DEXTHIL_SCSI_MESSAGE(UserTargetPresentForID)
#define IOUserSCSIParallelInterfaceController_UserReportHBAHighestLogicalUnitNumber_ID \
  DEXTHIL_SCSI_MESSAGE(UserReportHBAHighestLogicalUnitNumber)
#define IOUserSCSIParallelInterfaceController_UserDoesHBASupportSCSIParallelFeature_ID \
  DEXTHIL_SCSI_MESSAGE(UserDoesHBASupportSCSIParallelFeature)
#define IOUserSCSIParallelInterfaceController_UserInitializeTargetForID_ID DEXTHIL_SCSI_MESSAGE(UserInitializeTargetForID)
#define IOUserSCSIParallelInterfaceController_UserDoesHBAPerformAutoSense_ID DEXTHIL_SCSI_MESSAGE(UserDoesHBAPerformAutoSense)
#define IOUserSCSIParallelInterfaceController_UserDoesHBASupportMultiPathing_ID \
  DEXTHIL_SCSI_MESSAGE(UserDoesHBASupportMultiPathing)
#define IOUserSCSIParallelInterfaceController_UserAbortTaskRequest_ID DEXTHIL_SCSI_MESSAGE(UserAbortTaskRequest)
#define IOUserSCSIParallelInterfaceController_UserAbortTaskSetRequest_ID DEXTHIL_SCSI_MESSAGE(UserAbortTaskSetRequest)
#define IOUserSCSIParallelInterfaceController_UserClearACARequest_ID DEXTHIL_SCSI_MESSAGE(UserClearACARequest)
#define IOUserSCSIParallelInterfaceController_UserClearTaskSetRequest_ID DEXTHIL_SCSI_MESSAGE(UserClearTaskSetRequest)
#define IOUserSCSIParallelInterfaceController_UserLogicalUnitResetRequest_ID \
  DEXTHIL_SCSI_MESSAGE(UserLogicalUnitResetRequest)
#define IOUserSCSIParallelInterfaceController_UserTargetResetRequest_ID DEXTHIL_SCSI_MESSAGE(UserTargetResetRequest)
#define IOUserSCSIParallelInterfaceController_UserReportInitiatorIdentifier_ID \
  DEXTHIL_SCSI_MESSAGE(UserReportInitiatorIdentifier)
#define IOUserSCSIParallelInterfaceController_UserReportHighestSupportedDeviceID_ID \
  DEXTHIL_SCSI_MESSAGE(UserReportHighestSupportedDeviceID)
#define IOUserSCSIParallelInterfaceController_UserReportMaximumTaskCount_ID DEXTHIL_SCSI_MESSAGE(UserReportMaximumTaskCount)
#define IOUserSCSIParallelInterfaceController_UserDoesHBAPerformDeviceManagement_ID \
  DEXTHIL_SCSI_MESSAGE(UserDoesHBAPerformDeviceManagement)
#define IOUserSCSIParallelInterfaceController_UserInitializeController_ID DEXTHIL_SCSI_MESSAGE(UserInitializeController)
#define IOUserSCSIParallelInterfaceController_UserStartController_ID DEXTHIL_SCSI_MESSAGE(UserStartController)
#define IOUserSCSIParallelInterfaceController_UserProcessParallelTask_ID DEXTHIL_SCSI_MESSAGE(UserProcessParallelTask)
#define IOUserSCSIParallelInterfaceController_UserGetDMASpecification_ID DEXTHIL_SCSI_MESSAGE(UserGetDMASpecification)
#define IOUserSCSIParallelInterfaceController_UserMapHBAData_ID DEXTHIL_SCSI_MESSAGE(UserMapHBAData)
#define IOUserSCSIParallelInterfaceController_UserMapBundledParallelTaskCommandAndResponseBuffers_ID \
  DEXTHIL_SCSI_MESSAGE(UserMapBundledParallelTaskCommandAndResponseBuffers)
#define IOUserSCSIParallelInterfaceController_BundledParallelTaskCompletion_ID \
  DEXTHIL_SCSI_MESSAGE(BundledParallelTaskCompletion)
#define IOUserSCSIParallelInterfaceController_UserProcessBundledParallelTasks_ID \
  DEXTHIL_SCSI_MESSAGE(UserProcessBundledParallelTasks)
// The kernel methods a completion action targets (its TYPE), as iig names them.
#define IOUserSCSIParallelInterfaceControllerPrivate_UserCompleteParallelTask_ID DEXTHIL_SCSI_MESSAGE(UserCompleteParallelTask)
#define IOUserSCSIParallelInterfaceControllerPrivate_UserCompleteBundledParallelTask_ID \
  DEXTHIL_SCSI_MESSAGE(UserCompleteBundledParallelTask)

class IOUserSCSIParallelInterfaceController : public IOService {
  DEXTHIL_IIG_CLASS(IOUserSCSIParallelInterfaceController, IOService)

 public:
  // ---- Messages the kernel sends; the dext's subclass implements them (the _Impl methods). ----
  kern_return_t UserTargetPresentForID(SCSIDeviceIdentifier targetID, bool* result,
                                       OSDispatchMethod supermethod = NULL);
  kern_return_t UserReportHBAHighestLogicalUnitNumber(uint64_t* value, OSDispatchMethod supermethod = NULL);
  kern_return_t UserDoesHBASupportSCSIParallelFeature(uint32_t theValue, bool* result,
                                                      OSDispatchMethod supermethod = NULL);
  kern_return_t UserInitializeTargetForID(SCSITargetIdentifier targetID, OSDispatchMethod supermethod = NULL);
  kern_return_t UserDoesHBAPerformAutoSense(bool* result, OSDispatchMethod supermethod = NULL);
  kern_return_t UserDoesHBASupportMultiPathing(bool* result, OSDispatchMethod supermethod = NULL);
  kern_return_t UserAbortTaskRequest(uint64_t theT, uint64_t theL, uint64_t theQ, uint32_t* response,
                                     OSDispatchMethod supermethod = NULL);
  kern_return_t UserAbortTaskSetRequest(uint64_t theT, uint64_t theL, uint32_t* response,
                                        OSDispatchMethod supermethod = NULL);
  kern_return_t UserClearACARequest(uint64_t theT, uint64_t theL, uint32_t* response, OSDispatchMethod supermethod = NULL);
  kern_return_t UserClearTaskSetRequest(uint64_t theT, uint64_t theL, uint32_t* response,
                                        OSDispatchMethod supermethod = NULL);
  kern_return_t UserLogicalUnitResetRequest(uint64_t theT, uint64_t theL, uint32_t* response,
                                            OSDispatchMethod supermethod = NULL);
  kern_return_t UserTargetResetRequest(uint64_t theT, uint32_t* response, OSDispatchMethod supermethod = NULL);
  kern_return_t UserReportInitiatorIdentifier(uint64_t* id, OSDispatchMethod supermethod = NULL);
  kern_return_t UserReportHighestSupportedDeviceID(uint64_t* id, OSDispatchMethod supermethod = NULL);
  kern_return_t UserReportMaximumTaskCount(uint32_t* count, OSDispatchMethod supermethod = NULL);
  kern_return_t UserDoesHBAPerformDeviceManagement(bool* result, OSDispatchMethod supermethod = NULL);
  kern_return_t UserInitializeController(OSDispatchMethod supermethod = NULL);
  kern_return_t UserStartController(OSDispatchMethod supermethod = NULL);
  kern_return_t UserProcessParallelTask(SCSIUserParallelTask parallelRequest, uint32_t* response, OSAction* completion,
                                        OSDispatchMethod supermethod = NULL);
  kern_return_t UserGetDMASpecification(uint64_t* maxTransferSize, uint32_t* alignment, uint8_t* numAddressBits,
                                        DMAOutputSegmentType* segmentType, OSDispatchMethod supermethod = NULL);
  kern_return_t UserMapHBAData(uint32_t* uniqueTaskID, OSDispatchMethod supermethod = NULL);
  kern_return_t UserMapBundledParallelTaskCommandAndResponseBuffers(
      IOBufferMemoryDescriptor* parallelCommandIOMemoryDescriptor,
      IOBufferMemoryDescriptor* parallelResponseIOMemoryDescriptor, OSDispatchMethod supermethod = NULL);
  void UserProcessBundledParallelTasks(const uint16_t parallelRequestSlotIndices[kMaxBundledParallelTasks],
                                       uint16_t parallelRequestSlotIndicesCount, OSAction* completion,
                                       OSDispatchMethod supermethod = NULL);

  // ---- Completions: the dext calls these on the action the kernel gave it with the task. ----
  void ParallelTaskCompletion(OSAction* action, SCSIUserParallelResponse response, OSDispatchMethod supermethod = NULL);
  void BundledParallelTaskCompletion(OSAction* action,
                                     const uint16_t parallelResponseSlotIndices[kMaxBundledParallelTasks],
                                     uint16_t parallelResponseSlotIndicesCount, OSDispatchMethod supermethod = NULL);

  // ---- Calls into the kernel. ----
  // Creates the target and returns once it exists; the kernel asks the dext
  // UserInitializeTargetForID on its Default queue meanwhile, so the call must come from another
  // queue (Apple's interface routes it to AuxiliaryQueue).
  kern_return_t UserCreateTargetForID(SCSIDeviceIdentifier targetID, OSDictionary* targetDict);
  kern_return_t UserDestroyTargetForID(SCSITargetIdentifier targetID);
  // The task's data buffer as a memory descriptor the dext maps itself (only inside
  // UserProcessParallelTask); the caller owns one reference.
  kern_return_t UserGetDataBuffer(SCSIDeviceIdentifier targetID, uint64_t controllerTaskID,
                                  IOBufferMemoryDescriptor** buffer);
  // The HBA's transfer constraints: the kIOMaximumSegment* keys, kIOMinimumSegmentAlignmentByteCountKey,
  // kIOMaximumSegmentAddressableBitCountKey and kIOMinimumHBADataAlignmentMaskKey are required,
  // and must be reported before UserInitializeController returns.
  kern_return_t UserReportHBAConstraints(OSDictionary* constraints);
  kern_return_t UserSetHBAProperties(OSDictionary* properties);
  kern_return_t UserRemoveHBAProperties(OSArray* properties);
  kern_return_t UserSetTargetProperties(SCSIDeviceIdentifier targetID, OSDictionary* properties);
  kern_return_t UserRemoveTargetProperties(SCSIDeviceIdentifier targetID, OSArray* properties);
  kern_return_t UserCallMediaParametersHaveChanged();

  // AuxiliaryQueue is a queue the class declares (Apple's interface names it on
  // UserCreateTargetForID), so a dext may SetDispatchQueue("AuxiliaryQueue", ...).
  bool _DeclaresQueue(const char* name) const override;

 protected:
  virtual kern_return_t UserTargetPresentForID_Impl(IOUserSCSIParallelInterfaceController_UserTargetPresentForID_Args);
  virtual kern_return_t UserReportHBAHighestLogicalUnitNumber_Impl(
      IOUserSCSIParallelInterfaceController_UserReportHBAHighestLogicalUnitNumber_Args);
  virtual kern_return_t UserDoesHBASupportSCSIParallelFeature_Impl(
      IOUserSCSIParallelInterfaceController_UserDoesHBASupportSCSIParallelFeature_Args);
  virtual kern_return_t UserInitializeTargetForID_Impl(
      IOUserSCSIParallelInterfaceController_UserInitializeTargetForID_Args);
  virtual kern_return_t UserDoesHBAPerformAutoSense_Impl(
      IOUserSCSIParallelInterfaceController_UserDoesHBAPerformAutoSense_Args);
  virtual kern_return_t UserDoesHBASupportMultiPathing_Impl(
      IOUserSCSIParallelInterfaceController_UserDoesHBASupportMultiPathing_Args);
  virtual kern_return_t UserAbortTaskRequest_Impl(IOUserSCSIParallelInterfaceController_UserAbortTaskRequest_Args);
  virtual kern_return_t UserAbortTaskSetRequest_Impl(IOUserSCSIParallelInterfaceController_UserAbortTaskSetRequest_Args);
  virtual kern_return_t UserClearACARequest_Impl(IOUserSCSIParallelInterfaceController_UserClearACARequest_Args);
  virtual kern_return_t UserClearTaskSetRequest_Impl(IOUserSCSIParallelInterfaceController_UserClearTaskSetRequest_Args);
  virtual kern_return_t UserLogicalUnitResetRequest_Impl(
      IOUserSCSIParallelInterfaceController_UserLogicalUnitResetRequest_Args);
  virtual kern_return_t UserTargetResetRequest_Impl(IOUserSCSIParallelInterfaceController_UserTargetResetRequest_Args);
  virtual kern_return_t UserReportInitiatorIdentifier_Impl(
      IOUserSCSIParallelInterfaceController_UserReportInitiatorIdentifier_Args);
  virtual kern_return_t UserReportHighestSupportedDeviceID_Impl(
      IOUserSCSIParallelInterfaceController_UserReportHighestSupportedDeviceID_Args);
  virtual kern_return_t UserReportMaximumTaskCount_Impl(
      IOUserSCSIParallelInterfaceController_UserReportMaximumTaskCount_Args);
  virtual kern_return_t UserDoesHBAPerformDeviceManagement_Impl(
      IOUserSCSIParallelInterfaceController_UserDoesHBAPerformDeviceManagement_Args);
  virtual kern_return_t UserInitializeController_Impl(void);
  virtual kern_return_t UserStartController_Impl(void);
  virtual kern_return_t UserProcessParallelTask_Impl(IOUserSCSIParallelInterfaceController_UserProcessParallelTask_Args);
  virtual kern_return_t UserGetDMASpecification_Impl(IOUserSCSIParallelInterfaceController_UserGetDMASpecification_Args);
  virtual kern_return_t UserMapHBAData_Impl(IOUserSCSIParallelInterfaceController_UserMapHBAData_Args);
  virtual kern_return_t UserMapBundledParallelTaskCommandAndResponseBuffers_Impl(
      IOUserSCSIParallelInterfaceController_UserMapBundledParallelTaskCommandAndResponseBuffers_Args);
  virtual void UserProcessBundledParallelTasks_Impl(
      IOUserSCSIParallelInterfaceController_UserProcessBundledParallelTasks_Args);
  // Declared so that a dext may list them as overrides, as some do; a completion goes to the
  // kernel through the action, never to these.
  virtual void ParallelTaskCompletion_Impl(IOUserSCSIParallelInterfaceController_ParallelTaskCompletion_Args);
  virtual void BundledParallelTaskCompletion_Impl(
      IOUserSCSIParallelInterfaceController_BundledParallelTaskCompletion_Args);
};

}  // extern "C++"
