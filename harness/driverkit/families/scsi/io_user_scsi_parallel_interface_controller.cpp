// IOUserSCSIParallelInterfaceController's messages and kernel calls
// (include/SCSIControllerDriverKit/IOUserSCSIParallelInterfaceController.h). A message the dext
// does not implement answers kIOReturnUnsupported, as a pure method of Apple's interface left out
// would fail; the kernel calls go to the SCSI family's kernel half for the service.
#include <SCSIControllerDriverKit/IOUserSCSIParallelInterfaceController.h>

#include <cstring>

#include "harness/driverkit/families/scsi/scsi_kernel_side.hpp"
#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::scsi_kernel_side;
using dexthil::driverkit::ScsiControllerKernelSide;

DEXTHIL_DEFINE_METACLASS(IOUserSCSIParallelInterfaceController, IOService);

namespace dexthil::driverkit {

ScsiControllerKernelSide* scsi_kernel_side(IOUserSCSIParallelInterfaceController* hba) {
  ServiceRecord* record = hba ? hba->record() : nullptr;
  if (!record || !record->process) return nullptr;
  return dynamic_cast<ScsiControllerKernelSide*>(record->process->family);
}

}  // namespace dexthil::driverkit

kern_return_t IOUserSCSIParallelInterfaceController::_Dispatch(OSObject* self, const IORPC& rpc) {
  auto* hba = static_cast<IOUserSCSIParallelInterfaceController*>(self);
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserTargetPresentForID_ID) {
    return dexthil::iig::serve<kern_return_t, SCSIDeviceIdentifier, bool*>(rpc, [hba](SCSIDeviceIdentifier targetID, bool* result) { return hba->IOUserSCSIParallelInterfaceController::UserTargetPresentForID_Impl(targetID, result); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserReportHBAHighestLogicalUnitNumber_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t*>(rpc, [hba](uint64_t* value) { return hba->IOUserSCSIParallelInterfaceController::UserReportHBAHighestLogicalUnitNumber_Impl(value); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserDoesHBASupportSCSIParallelFeature_ID) {
    return dexthil::iig::serve<kern_return_t, uint32_t, bool*>(rpc, [hba](uint32_t theValue, bool* result) { return hba->IOUserSCSIParallelInterfaceController::UserDoesHBASupportSCSIParallelFeature_Impl(theValue, result); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserInitializeTargetForID_ID) {
    return dexthil::iig::serve<kern_return_t, SCSITargetIdentifier>(rpc, [hba](SCSITargetIdentifier targetID) { return hba->IOUserSCSIParallelInterfaceController::UserInitializeTargetForID_Impl(targetID); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserDoesHBAPerformAutoSense_ID) {
    return dexthil::iig::serve<kern_return_t, bool*>(rpc, [hba](bool* result) { return hba->IOUserSCSIParallelInterfaceController::UserDoesHBAPerformAutoSense_Impl(result); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserDoesHBASupportMultiPathing_ID) {
    return dexthil::iig::serve<kern_return_t, bool*>(rpc, [hba](bool* result) { return hba->IOUserSCSIParallelInterfaceController::UserDoesHBASupportMultiPathing_Impl(result); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserAbortTaskRequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint64_t theL, uint64_t theQ, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserAbortTaskRequest_Impl(theT, theL, theQ, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserAbortTaskSetRequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint64_t theL, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserAbortTaskSetRequest_Impl(theT, theL, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserClearACARequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint64_t theL, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserClearACARequest_Impl(theT, theL, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserClearTaskSetRequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint64_t theL, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserClearTaskSetRequest_Impl(theT, theL, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserLogicalUnitResetRequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint64_t theL, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserLogicalUnitResetRequest_Impl(theT, theL, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserTargetResetRequest_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint32_t*>(rpc, [hba](uint64_t theT, uint32_t* response) { return hba->IOUserSCSIParallelInterfaceController::UserTargetResetRequest_Impl(theT, response); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserReportInitiatorIdentifier_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t*>(rpc, [hba](uint64_t* id) { return hba->IOUserSCSIParallelInterfaceController::UserReportInitiatorIdentifier_Impl(id); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserReportHighestSupportedDeviceID_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t*>(rpc, [hba](uint64_t* id) { return hba->IOUserSCSIParallelInterfaceController::UserReportHighestSupportedDeviceID_Impl(id); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserReportMaximumTaskCount_ID) {
    return dexthil::iig::serve<kern_return_t, uint32_t*>(rpc, [hba](uint32_t* count) { return hba->IOUserSCSIParallelInterfaceController::UserReportMaximumTaskCount_Impl(count); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserDoesHBAPerformDeviceManagement_ID) {
    return dexthil::iig::serve<kern_return_t, bool*>(rpc, [hba](bool* result) { return hba->IOUserSCSIParallelInterfaceController::UserDoesHBAPerformDeviceManagement_Impl(result); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserInitializeController_ID) {
    return dexthil::iig::serve<kern_return_t>(rpc, [hba]() { return hba->IOUserSCSIParallelInterfaceController::UserInitializeController_Impl(); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserStartController_ID) {
    return dexthil::iig::serve<kern_return_t>(rpc, [hba]() { return hba->IOUserSCSIParallelInterfaceController::UserStartController_Impl(); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserProcessParallelTask_ID) {
    return dexthil::iig::serve<kern_return_t, SCSIUserParallelTask, uint32_t*, OSAction*>(rpc, [hba](SCSIUserParallelTask parallelRequest, uint32_t* response, OSAction* completion) { return hba->IOUserSCSIParallelInterfaceController::UserProcessParallelTask_Impl(parallelRequest, response, completion); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserGetDMASpecification_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t*, uint32_t*, uint8_t*, DMAOutputSegmentType*>(rpc, [hba](uint64_t* maxTransferSize, uint32_t* alignment, uint8_t* numAddressBits, DMAOutputSegmentType* segmentType) { return hba->IOUserSCSIParallelInterfaceController::UserGetDMASpecification_Impl(maxTransferSize, alignment, numAddressBits, segmentType); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserMapHBAData_ID) {
    return dexthil::iig::serve<kern_return_t, uint32_t*>(rpc, [hba](uint32_t* uniqueTaskID) { return hba->IOUserSCSIParallelInterfaceController::UserMapHBAData_Impl(uniqueTaskID); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserMapBundledParallelTaskCommandAndResponseBuffers_ID) {
    return dexthil::iig::serve<kern_return_t, IOBufferMemoryDescriptor*, IOBufferMemoryDescriptor*>(rpc, [hba](IOBufferMemoryDescriptor* parallelCommandIOMemoryDescriptor, IOBufferMemoryDescriptor* parallelResponseIOMemoryDescriptor) { return hba->IOUserSCSIParallelInterfaceController::UserMapBundledParallelTaskCommandAndResponseBuffers_Impl(parallelCommandIOMemoryDescriptor, parallelResponseIOMemoryDescriptor); });
  }
  if (rpc.msgid == IOUserSCSIParallelInterfaceController_UserProcessBundledParallelTasks_ID) {
    return dexthil::iig::serve<void, const uint16_t*, uint16_t, OSAction*>(rpc, [hba](const uint16_t* parallelRequestSlotIndices, uint16_t parallelRequestSlotIndicesCount, OSAction* completion) { return hba->IOUserSCSIParallelInterfaceController::UserProcessBundledParallelTasks_Impl(parallelRequestSlotIndices, parallelRequestSlotIndicesCount, completion); });
  }
  return IOService::_Dispatch(self, rpc);
}

// ---- The message wrappers: sent to the dext's own implementation (or, with a supermethod, to
// the class's default below). ----

kern_return_t IOUserSCSIParallelInterfaceController::UserTargetPresentForID(SCSIDeviceIdentifier targetID, bool* result, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserTargetPresentForID_ID, "IOUserSCSIParallelInterfaceController::UserTargetPresentForID", supermethod,
                                   [&] { return UserTargetPresentForID_Impl(targetID, result); }, targetID, result);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserReportHBAHighestLogicalUnitNumber(uint64_t* value, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserReportHBAHighestLogicalUnitNumber_ID, "IOUserSCSIParallelInterfaceController::UserReportHBAHighestLogicalUnitNumber", supermethod,
                                   [&] { return UserReportHBAHighestLogicalUnitNumber_Impl(value); }, value);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBASupportSCSIParallelFeature(uint32_t theValue, bool* result, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserDoesHBASupportSCSIParallelFeature_ID, "IOUserSCSIParallelInterfaceController::UserDoesHBASupportSCSIParallelFeature", supermethod,
                                   [&] { return UserDoesHBASupportSCSIParallelFeature_Impl(theValue, result); }, theValue, result);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserInitializeTargetForID(SCSITargetIdentifier targetID, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserInitializeTargetForID_ID, "IOUserSCSIParallelInterfaceController::UserInitializeTargetForID", supermethod,
                                   [&] { return UserInitializeTargetForID_Impl(targetID); }, targetID);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBAPerformAutoSense(bool* result, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserDoesHBAPerformAutoSense_ID, "IOUserSCSIParallelInterfaceController::UserDoesHBAPerformAutoSense", supermethod,
                                   [&] { return UserDoesHBAPerformAutoSense_Impl(result); }, result);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBASupportMultiPathing(bool* result, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserDoesHBASupportMultiPathing_ID, "IOUserSCSIParallelInterfaceController::UserDoesHBASupportMultiPathing", supermethod,
                                   [&] { return UserDoesHBASupportMultiPathing_Impl(result); }, result);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserAbortTaskRequest(uint64_t theT, uint64_t theL, uint64_t theQ, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserAbortTaskRequest_ID, "IOUserSCSIParallelInterfaceController::UserAbortTaskRequest", supermethod,
                                   [&] { return UserAbortTaskRequest_Impl(theT, theL, theQ, response); }, theT, theL, theQ, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserAbortTaskSetRequest(uint64_t theT, uint64_t theL, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserAbortTaskSetRequest_ID, "IOUserSCSIParallelInterfaceController::UserAbortTaskSetRequest", supermethod,
                                   [&] { return UserAbortTaskSetRequest_Impl(theT, theL, response); }, theT, theL, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserClearACARequest(uint64_t theT, uint64_t theL, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserClearACARequest_ID, "IOUserSCSIParallelInterfaceController::UserClearACARequest", supermethod,
                                   [&] { return UserClearACARequest_Impl(theT, theL, response); }, theT, theL, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserClearTaskSetRequest(uint64_t theT, uint64_t theL, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserClearTaskSetRequest_ID, "IOUserSCSIParallelInterfaceController::UserClearTaskSetRequest", supermethod,
                                   [&] { return UserClearTaskSetRequest_Impl(theT, theL, response); }, theT, theL, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserLogicalUnitResetRequest(uint64_t theT, uint64_t theL, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserLogicalUnitResetRequest_ID, "IOUserSCSIParallelInterfaceController::UserLogicalUnitResetRequest", supermethod,
                                   [&] { return UserLogicalUnitResetRequest_Impl(theT, theL, response); }, theT, theL, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserTargetResetRequest(uint64_t theT, uint32_t* response, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserTargetResetRequest_ID, "IOUserSCSIParallelInterfaceController::UserTargetResetRequest", supermethod,
                                   [&] { return UserTargetResetRequest_Impl(theT, response); }, theT, response);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserReportInitiatorIdentifier(uint64_t* id, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserReportInitiatorIdentifier_ID, "IOUserSCSIParallelInterfaceController::UserReportInitiatorIdentifier", supermethod,
                                   [&] { return UserReportInitiatorIdentifier_Impl(id); }, id);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserReportHighestSupportedDeviceID(uint64_t* id, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserReportHighestSupportedDeviceID_ID, "IOUserSCSIParallelInterfaceController::UserReportHighestSupportedDeviceID", supermethod,
                                   [&] { return UserReportHighestSupportedDeviceID_Impl(id); }, id);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserReportMaximumTaskCount(uint32_t* count, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserReportMaximumTaskCount_ID, "IOUserSCSIParallelInterfaceController::UserReportMaximumTaskCount", supermethod,
                                   [&] { return UserReportMaximumTaskCount_Impl(count); }, count);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBAPerformDeviceManagement(bool* result, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserDoesHBAPerformDeviceManagement_ID, "IOUserSCSIParallelInterfaceController::UserDoesHBAPerformDeviceManagement", supermethod,
                                   [&] { return UserDoesHBAPerformDeviceManagement_Impl(result); }, result);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserInitializeController(OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserInitializeController_ID, "IOUserSCSIParallelInterfaceController::UserInitializeController", supermethod,
                                   [&] { return UserInitializeController_Impl(); });
}

kern_return_t IOUserSCSIParallelInterfaceController::UserStartController(OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserStartController_ID, "IOUserSCSIParallelInterfaceController::UserStartController", supermethod,
                                   [&] { return UserStartController_Impl(); });
}

kern_return_t IOUserSCSIParallelInterfaceController::UserProcessParallelTask(SCSIUserParallelTask parallelRequest, uint32_t* response, OSAction* completion, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserProcessParallelTask_ID, "IOUserSCSIParallelInterfaceController::UserProcessParallelTask", supermethod,
                                   [&] { return UserProcessParallelTask_Impl(parallelRequest, response, completion); }, parallelRequest, response, completion);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserGetDMASpecification(uint64_t* maxTransferSize, uint32_t* alignment, uint8_t* numAddressBits, DMAOutputSegmentType* segmentType, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserGetDMASpecification_ID, "IOUserSCSIParallelInterfaceController::UserGetDMASpecification", supermethod,
                                   [&] { return UserGetDMASpecification_Impl(maxTransferSize, alignment, numAddressBits, segmentType); }, maxTransferSize, alignment, numAddressBits, segmentType);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserMapHBAData(uint32_t* uniqueTaskID, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserMapHBAData_ID, "IOUserSCSIParallelInterfaceController::UserMapHBAData", supermethod,
                                   [&] { return UserMapHBAData_Impl(uniqueTaskID); }, uniqueTaskID);
}

kern_return_t IOUserSCSIParallelInterfaceController::UserMapBundledParallelTaskCommandAndResponseBuffers(IOBufferMemoryDescriptor* parallelCommandIOMemoryDescriptor, IOBufferMemoryDescriptor* parallelResponseIOMemoryDescriptor, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserSCSIParallelInterfaceController_UserMapBundledParallelTaskCommandAndResponseBuffers_ID, "IOUserSCSIParallelInterfaceController::UserMapBundledParallelTaskCommandAndResponseBuffers", supermethod,
                                   [&] { return UserMapBundledParallelTaskCommandAndResponseBuffers_Impl(parallelCommandIOMemoryDescriptor, parallelResponseIOMemoryDescriptor); }, parallelCommandIOMemoryDescriptor, parallelResponseIOMemoryDescriptor);
}

void IOUserSCSIParallelInterfaceController::UserProcessBundledParallelTasks(const uint16_t* parallelRequestSlotIndices, uint16_t parallelRequestSlotIndicesCount, OSAction* completion, OSDispatchMethod supermethod) {
  return dexthil::iig::send<void>(this, IOUserSCSIParallelInterfaceController_UserProcessBundledParallelTasks_ID, "IOUserSCSIParallelInterfaceController::UserProcessBundledParallelTasks", supermethod,
                                   [&] { return UserProcessBundledParallelTasks_Impl(parallelRequestSlotIndices, parallelRequestSlotIndicesCount, completion); }, parallelRequestSlotIndices, parallelRequestSlotIndicesCount, completion);
}

// ---- What a message the dext does not implement answers. ----

kern_return_t IOUserSCSIParallelInterfaceController::UserTargetPresentForID_Impl(SCSIDeviceIdentifier, bool*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserReportHBAHighestLogicalUnitNumber_Impl(uint64_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBASupportSCSIParallelFeature_Impl(uint32_t, bool*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserInitializeTargetForID_Impl(SCSITargetIdentifier) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBAPerformAutoSense_Impl(bool*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBASupportMultiPathing_Impl(bool*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserAbortTaskRequest_Impl(uint64_t, uint64_t, uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserAbortTaskSetRequest_Impl(uint64_t, uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserClearACARequest_Impl(uint64_t, uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserClearTaskSetRequest_Impl(uint64_t, uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserLogicalUnitResetRequest_Impl(uint64_t, uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserTargetResetRequest_Impl(uint64_t, uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserReportInitiatorIdentifier_Impl(uint64_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserReportHighestSupportedDeviceID_Impl(uint64_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserReportMaximumTaskCount_Impl(uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserDoesHBAPerformDeviceManagement_Impl(bool*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserInitializeController_Impl() { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserStartController_Impl() { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserProcessParallelTask_Impl(SCSIUserParallelTask, uint32_t*, OSAction*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserGetDMASpecification_Impl(uint64_t*, uint32_t*, uint8_t*, DMAOutputSegmentType*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserMapHBAData_Impl(uint32_t*) { return kIOReturnUnsupported; }
kern_return_t IOUserSCSIParallelInterfaceController::UserMapBundledParallelTaskCommandAndResponseBuffers_Impl(IOBufferMemoryDescriptor*, IOBufferMemoryDescriptor*) { return kIOReturnUnsupported; }
void IOUserSCSIParallelInterfaceController::UserProcessBundledParallelTasks_Impl(const uint16_t*, uint16_t, OSAction*) {}

void IOUserSCSIParallelInterfaceController::ParallelTaskCompletion_Impl(OSAction*, SCSIUserParallelResponse) {}
void IOUserSCSIParallelInterfaceController::BundledParallelTaskCompletion_Impl(OSAction*, const uint16_t*, uint16_t) {}

// ---- Completions: to the kernel, through the action. ----
void IOUserSCSIParallelInterfaceController::ParallelTaskCompletion(OSAction* action, SCSIUserParallelResponse response,
                                                                   OSDispatchMethod) {
  if (ScsiControllerKernelSide* kernel = scsi_kernel_side(this)) kernel->task_completed(this, action, response);
}

void IOUserSCSIParallelInterfaceController::BundledParallelTaskCompletion(
    OSAction* action, const uint16_t parallelResponseSlotIndices[kMaxBundledParallelTasks],
    uint16_t parallelResponseSlotIndicesCount, OSDispatchMethod) {
  if (ScsiControllerKernelSide* kernel = scsi_kernel_side(this)) {
    kernel->bundled_tasks_completed(this, action, parallelResponseSlotIndices, parallelResponseSlotIndicesCount);
  }
}

// ---- Calls into the kernel. ----
kern_return_t IOUserSCSIParallelInterfaceController::UserCreateTargetForID(SCSIDeviceIdentifier targetID,
                                                                          OSDictionary* targetDict) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->create_target(this, targetID, targetDict) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserDestroyTargetForID(SCSITargetIdentifier targetID) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->destroy_target(this, targetID) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserGetDataBuffer(SCSIDeviceIdentifier targetID,
                                                                      uint64_t controllerTaskID,
                                                                      IOBufferMemoryDescriptor** buffer) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->data_buffer(this, targetID, controllerTaskID, buffer) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserReportHBAConstraints(OSDictionary* constraints) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->report_constraints(this, constraints) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserSetHBAProperties(OSDictionary* properties) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->set_properties(this, std::nullopt, properties) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserRemoveHBAProperties(OSArray* properties) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->remove_properties(this, std::nullopt, properties) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserSetTargetProperties(SCSIDeviceIdentifier targetID,
                                                                            OSDictionary* properties) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->set_properties(this, targetID, properties) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserRemoveTargetProperties(SCSIDeviceIdentifier targetID,
                                                                               OSArray* properties) {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->remove_properties(this, targetID, properties) : kIOReturnUnsupported;
}
kern_return_t IOUserSCSIParallelInterfaceController::UserCallMediaParametersHaveChanged() {
  ScsiControllerKernelSide* kernel = scsi_kernel_side(this);
  return kernel ? kernel->media_parameters_changed(this) : kIOReturnUnsupported;
}

bool IOUserSCSIParallelInterfaceController::_DeclaresQueue(const char* name) const {
  return std::strcmp(name, "AuxiliaryQueue") == 0 || IOService::_DeclaresQueue(name);
}
