// See ScsiProbeController.iig. The planted mistakes (one per build):
//   SCSIPROBE_BUG_NO_ALIGNMENT_KEY      leaves kIOMinimumHBADataAlignmentMaskKey out of its constraints
//   SCSIPROBE_BUG_NO_CONSTRAINTS        never calls UserReportHBAConstraints
//   SCSIPROBE_BUG_DUPLICATE_TASK_ID     gives every task the same identifier
//   SCSIPROBE_BUG_CREATE_ON_DEFAULT     manages its devices and creates target 0 from UserStartController,
//                                       which runs on the Default queue
#include <DriverKit/IOKitKeys.h>
#include <DriverKit/IOLib.h>
#include <DriverKit/OSCollections.h>
#include <SCSIControllerDriverKit/IOSCSIParallelControllerCharacteristics.h>

#include "ScsiProbeController.h"

struct ScsiProbeController_IVars {
  IODispatchQueue* auxiliary = nullptr;
  uint32_t next_task_id = 1;
};

bool ScsiProbeController::init() {
  if (!super::init()) return false;
  ivars = IONewZero(ScsiProbeController_IVars, 1);
  return ivars != nullptr;
}

void ScsiProbeController::free() {
  if (ivars) OSSafeReleaseNULL(ivars->auxiliary);
  IOSafeDeleteNULL(ivars, ScsiProbeController_IVars, 1);
  super::free();
}

kern_return_t IMPL(ScsiProbeController, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  // The family does not make AuxiliaryQueue: target creation runs there.
  ret = IODispatchQueue::Create("AuxiliaryQueue", 0, 0, &ivars->auxiliary);
  if (ret != kIOReturnSuccess) return ret;
  return SetDispatchQueue("AuxiliaryQueue", ivars->auxiliary);
}

kern_return_t IMPL(ScsiProbeController, Stop) { return Stop(provider, SUPERDISPATCH); }

[[maybe_unused]] static void set_number(OSDictionary* d, const char* key, uint64_t value) {
  OSNumber* n = OSNumber::withNumber(value, 64);
  d->setObject(key, n);
  n->release();
}

kern_return_t IMPL(ScsiProbeController, UserInitializeController) {
#ifndef SCSIPROBE_BUG_NO_CONSTRAINTS
  OSDictionary* constraints = OSDictionary::withCapacity(8);
  set_number(constraints, kIOMaximumSegmentCountReadKey, 129);
  set_number(constraints, kIOMaximumSegmentCountWriteKey, 129);
  set_number(constraints, kIOMaximumSegmentByteCountReadKey, 65536);
  set_number(constraints, kIOMaximumSegmentByteCountWriteKey, 65536);
  set_number(constraints, kIOMinimumSegmentAlignmentByteCountKey, 4);
  set_number(constraints, kIOMaximumSegmentAddressableBitCountKey, 32);
#ifndef SCSIPROBE_BUG_NO_ALIGNMENT_KEY
  set_number(constraints, kIOMinimumHBADataAlignmentMaskKey, 0x00000000FFFFFFFCull);
#endif
  const kern_return_t ret = UserReportHBAConstraints(constraints);
  constraints->release();
  return ret;
#else
  return kIOReturnSuccess;
#endif
}

kern_return_t IMPL(ScsiProbeController, UserStartController) {
#ifdef SCSIPROBE_BUG_CREATE_ON_DEFAULT
  UserCreateTargetForID(0, nullptr);
#endif
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserReportInitiatorIdentifier) {
  *id = 7;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserReportHighestSupportedDeviceID) {
  *id = 3;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserReportMaximumTaskCount) {
  *count = 4;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserReportHBAHighestLogicalUnitNumber) {
  *value = 0;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserDoesHBAPerformAutoSense) {
  *result = true;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserDoesHBASupportMultiPathing) {
  *result = false;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserDoesHBAPerformDeviceManagement) {
#ifdef SCSIPROBE_BUG_CREATE_ON_DEFAULT
  *result = true;
#else
  *result = false;
#endif
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserDoesHBASupportSCSIParallelFeature) {
  (void)theValue;
  *result = false;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserTargetPresentForID) {
  *result = targetID == 0 || targetID == 2;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserInitializeTargetForID) {
  (void)targetID;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserGetDMASpecification) {
  *maxTransferSize = 512 * 1024;
  *alignment = 4;
  *numAddressBits = 32;
  *segmentType = kDMAOutputSegmentLittle32;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserMapHBAData) {
#ifdef SCSIPROBE_BUG_DUPLICATE_TASK_ID
  *uniqueTaskID = 1;
#else
  *uniqueTaskID = ivars->next_task_id++;
#endif
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserMapBundledParallelTaskCommandAndResponseBuffers) {
  (void)parallelCommandIOMemoryDescriptor;
  (void)parallelResponseIOMemoryDescriptor;
  return kIOReturnUnsupported;  // tasks one by one
}

kern_return_t IMPL(ScsiProbeController, UserProcessParallelTask) {
  (void)parallelRequest;
  (void)completion;
  *response = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;  // no tasks yet
  return kIOReturnSuccess;
}
