// See ScsiProbeController.iig. The planted mistakes (one per build):
//   SCSIPROBE_BUG_NO_ALIGNMENT_KEY      leaves kIOMinimumHBADataAlignmentMaskKey out of its constraints
//   SCSIPROBE_BUG_NO_CONSTRAINTS        never calls UserReportHBAConstraints
//   SCSIPROBE_BUG_DUPLICATE_TASK_ID     gives every task the same identifier
//   SCSIPROBE_BUG_CREATE_ON_DEFAULT     manages its devices and creates target 0 from UserStartController,
//                                       which runs on the Default queue
//   SCSIPROBE_BUG_RESPONSE_VERSION      completes every task with response version 0
//   SCSIPROBE_BUG_COMPLETES_TWICE       completes every READ twice
//   SCSIPROBE_BUG_WRONG_TASK_ID         names the next task's identifier in its responses
//   SCSIPROBE_BUG_LOSES_WRITES          drops what is written to LBA 8 (and acknowledges it)
//   SCSIPROBE_BUG_BUNDLED_TWICE         (with SCSIPROBE_BUNDLED, bundled tasks) hands every batch of slots back twice
#include <DriverKit/IOKitKeys.h>
#include <DriverKit/IOLib.h>
#include <DriverKit/IOMemoryMap.h>
#include <DriverKit/OSCollections.h>
#include <DriverKit/storage/SCSICmds_REQUEST_SENSE_Defs.h>
#include <SCSIControllerDriverKit/IOSCSIParallelControllerCharacteristics.h>
#include <string.h>

// Xcode's other way to reach a generated header, as some public dexts include theirs.
#include <org.dexthil.ScsiProbeController/ScsiProbeController.h>

// Each present target is a small RAM disk of 512-byte blocks.
static constexpr uint64_t kBlockSize = 512;
static constexpr uint64_t kDiskBlocks = 16384;  // 8 MiB
static constexpr SCSIDeviceIdentifier kTargets[] = {0, 2};

struct ScsiProbeController_IVars {
  IODispatchQueue* auxiliary = nullptr;
  uint32_t next_task_id = 1;
  uint8_t* disk[2] = {};  // one per entry of kTargets
  // Bundled builds: the family's shared buffers, mapped.
  IOMemoryMap* commandMap = nullptr;
  IOMemoryMap* responseMap = nullptr;
  const SCSIUserParallelTask* bundleCommands = nullptr;
  SCSIUserParallelResponse* bundleResponses = nullptr;
};

bool ScsiProbeController::init() {
  if (!super::init()) return false;
  ivars = IONewZero(ScsiProbeController_IVars, 1);
  return ivars != nullptr;
}

void ScsiProbeController::free() {
  if (ivars) {
    OSSafeReleaseNULL(ivars->auxiliary);
    OSSafeReleaseNULL(ivars->commandMap);
    OSSafeReleaseNULL(ivars->responseMap);
    for (uint8_t*& d : ivars->disk) {
      if (d) IOFree(d, kDiskBlocks * kBlockSize);
      d = nullptr;
    }
  }
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

static int disk_index(SCSIDeviceIdentifier target) {
  for (int i = 0; i < 2; ++i) {
    if (kTargets[i] == target) return i;
  }
  return -1;
}

kern_return_t IMPL(ScsiProbeController, UserTargetPresentForID) {
  *result = disk_index(targetID) >= 0;
  return kIOReturnSuccess;
}

kern_return_t IMPL(ScsiProbeController, UserInitializeTargetForID) {
  const int i = disk_index(targetID);
  if (i < 0) return kIOReturnNotFound;
  if (!ivars->disk[i]) ivars->disk[i] = static_cast<uint8_t*>(IOMallocZero(kDiskBlocks * kBlockSize));
  return ivars->disk[i] ? kIOReturnSuccess : kIOReturnNoMemory;
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
#if defined(SCSIPROBE_BUNDLED)
  if (parallelCommandIOMemoryDescriptor->CreateMapping(0, 0, 0, 0, 0, &ivars->commandMap) != kIOReturnSuccess ||
      parallelResponseIOMemoryDescriptor->CreateMapping(0, 0, 0, 0, 0, &ivars->responseMap) != kIOReturnSuccess) {
    OSSafeReleaseNULL(ivars->commandMap);
    return kIOReturnNoMemory;
  }
  ivars->bundleCommands = reinterpret_cast<const SCSIUserParallelTask*>(ivars->commandMap->GetAddress());
  ivars->bundleResponses = reinterpret_cast<SCSIUserParallelResponse*>(ivars->responseMap->GetAddress());
  return kIOReturnSuccess;
#else
  (void)parallelCommandIOMemoryDescriptor;
  (void)parallelResponseIOMemoryDescriptor;
  return kIOReturnUnsupported;  // tasks one by one
#endif
}

// ---- The RAM disk's SCSI commands ----

namespace {

void put_be(uint8_t* p, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
}

uint64_t get_be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

// What one command did: its status, sense and the bytes it moved.
struct Outcome {
  SCSITaskStatus status = kSCSITaskStatus_GOOD;
  uint64_t transferred = 0;
  uint8_t sense_key = 0, asc = 0;
};

Outcome illegal_request(uint8_t asc) {
  Outcome o;
  o.status = kSCSITaskStatus_CHECK_CONDITION;
  o.sense_key = 0x5;
  o.asc = asc;  // 0x20 invalid command, 0x24 invalid field in CDB, 0x21 LBA out of range
  return o;
}

// Copies `reply` into the data buffer, as much as the initiator asked for.
Outcome reply(const uint8_t* bytes, uint64_t length, uint8_t* data, uint64_t requested) {
  Outcome o;
  o.transferred = length < requested ? length : requested;
  if (data) memcpy(data, bytes, o.transferred);
  return o;
}

Outcome execute(const SCSIUserParallelTask& task, uint8_t* disk, uint8_t* data) {
  const uint8_t* cdb = task.fCommandDescriptorBlock;
  const uint64_t requested = task.fRequestedTransferCount;
  switch (cdb[0]) {
    case 0x00:  // TEST UNIT READY
    case 0x35:  // SYNCHRONIZE CACHE(10)
    case 0x1B:  // START STOP UNIT
      return {};
    case 0x12: {  // INQUIRY
      uint8_t page[64] = {};
      if (!(cdb[1] & 1)) {
        page[2] = 5;     // SPC-3
        page[3] = 2;     // response data format
        page[4] = 31;    // additional length: 36 bytes in all
        page[7] = 0x02;  // CmdQue
        memcpy(&page[8], "DEXTHIL RAM DISK        0001", 28);
        return reply(page, 36, data, requested);
      }
      page[1] = cdb[2];
      if (cdb[2] == 0x00) {  // the supported pages
        page[3] = 2;
        page[4] = 0x00;
        page[5] = 0x80;
        return reply(page, 6, data, requested);
      }
      if (cdb[2] == 0x80) {  // unit serial number
        page[3] = 9;
        memcpy(&page[4], "RAMDISK ", 8);
        page[12] = static_cast<uint8_t>('0' + task.fTargetID);
        return reply(page, 13, data, requested);
      }
      return illegal_request(0x24);
    }
    case 0x25: {  // READ CAPACITY(10)
      uint8_t cap[8];
      put_be(cap, kDiskBlocks - 1, 4);
      put_be(cap + 4, kBlockSize, 4);
      return reply(cap, 8, data, requested);
    }
    case 0x1A: {  // MODE SENSE(6): the caching page only, write cache on
      const uint8_t code = cdb[2] & 0x3f;
      if (code != 0x08 && code != 0x3f) return illegal_request(0x24);
      uint8_t sense[24] = {23, 0, 0, 0, 0x08, 0x12, 0x04};
      return reply(sense, 24, data, requested);
    }
    case 0xA0: {  // REPORT LUNS: LUN 0
      uint8_t luns[16] = {0, 0, 0, 8};
      return reply(luns, 16, data, requested);
    }
    case 0x28:
    case 0x2A:
    case 0x88:
    case 0x8A: {  // READ/WRITE (10) and (16)
      const bool sixteen = cdb[0] >= 0x88;
      const uint64_t lba = sixteen ? get_be(cdb + 2, 8) : get_be(cdb + 2, 4);
      const uint64_t blocks = sixteen ? get_be(cdb + 10, 4) : get_be(cdb + 7, 2);
      if (lba > kDiskBlocks || blocks > kDiskBlocks - lba) return illegal_request(0x21);
      const uint64_t bytes = blocks * kBlockSize;
      if (bytes > requested || !data) return illegal_request(0x24);
      Outcome o;
      o.transferred = bytes;
      uint8_t* at = disk + lba * kBlockSize;
      if (cdb[0] == 0x28 || cdb[0] == 0x88) {
        memcpy(data, at, bytes);
      } else {
        memcpy(at, data, bytes);
#ifdef SCSIPROBE_BUG_LOSES_WRITES
        if (lba <= 8 && 8 < lba + blocks) memset(disk + 8 * kBlockSize, 0xEE, kBlockSize);
#endif
      }
      return o;
    }
    default:
      return illegal_request(0x20);
  }
}

}  // namespace

// The response to one task: the command run against the target's RAM disk, through the
// kernel's data buffer, mapped here (a real controller would DMA to fBufferIOVMAddr).
static SCSIUserParallelResponse Respond(ScsiProbeController* self, uint8_t* disk, const SCSIUserParallelTask& task) {
  IOBufferMemoryDescriptor* buffer = nullptr;
  IOMemoryMap* map = nullptr;
  uint8_t* data = nullptr;
  if (task.fRequestedTransferCount > 0 &&
      self->UserGetDataBuffer(task.fTargetID, task.fControllerTaskIdentifier, &buffer) == kIOReturnSuccess &&
      buffer->CreateMapping(0, 0, 0, 0, 0, &map) == kIOReturnSuccess) {
    data = reinterpret_cast<uint8_t*>(map->GetAddress());
  }
  const Outcome o = execute(task, disk, data);
  OSSafeReleaseNULL(map);
  OSSafeReleaseNULL(buffer);

  SCSIUserParallelResponse r = {};
#ifdef SCSIPROBE_BUG_RESPONSE_VERSION
  r.version = 0;
#else
  r.version = kScsiUserParallelTaskResponseCurrentVersion1;
#endif
  r.fTargetID = task.fTargetID;
#ifdef SCSIPROBE_BUG_WRONG_TASK_ID
  r.fControllerTaskIdentifier = task.fControllerTaskIdentifier + 1;
#else
  r.fControllerTaskIdentifier = task.fControllerTaskIdentifier;
#endif
  r.fServiceResponse = kSCSIServiceResponse_TASK_COMPLETE;
  r.fCompletionStatus = o.status;
  r.fBytesTransferred = o.transferred;
  if (o.status == kSCSITaskStatus_CHECK_CONDITION) {
    // Autosense: fixed-format sense data with the key and code.
    SCSI_Sense_Data sense = {};
    sense.VALID_RESPONSE_CODE = 0x70;
    sense.SENSE_KEY = o.sense_key;
    sense.ADDITIONAL_SENSE_LENGTH = 10;
    sense.ADDITIONAL_SENSE_CODE = o.asc;
    memcpy(r.fSenseBuffer, &sense, sizeof sense);
    r.fSenseLength = sizeof sense;
  }
  return r;
}

kern_return_t IMPL(ScsiProbeController, UserProcessParallelTask) {
  *response = kSCSIServiceResponse_Request_In_Process;
  if (parallelRequest.version != kScsiUserParallelTaskCurrentVersion1) return kIOReturnUnsupported;
  const int i = disk_index(parallelRequest.fTargetID);
  if (i < 0 || !ivars->disk[i]) return kIOReturnNotFound;
  const SCSIUserParallelResponse r = Respond(this, ivars->disk[i], parallelRequest);
  ParallelTaskCompletion(completion, r);
#ifdef SCSIPROBE_BUG_COMPLETES_TWICE
  if (parallelRequest.fCommandDescriptorBlock[0] == 0x28) ParallelTaskCompletion(completion, r);
#endif
  return kIOReturnSuccess;
}

void IMPL(ScsiProbeController, UserProcessBundledParallelTasks) {
  // Bundled builds only (the others refuse the buffers): every slot at once, handed back together.
  for (uint16_t n = 0; n < parallelRequestSlotIndicesCount; ++n) {
    const uint16_t slot = parallelRequestSlotIndices[n];
    const SCSIUserParallelTask& task = ivars->bundleCommands[slot];
    const int i = disk_index(task.fTargetID);
    SCSIUserParallelResponse& r = ivars->bundleResponses[slot];
    if (i >= 0 && ivars->disk[i]) {
      r = Respond(this, ivars->disk[i], task);
    } else {
      r = {};
      r.version = kScsiUserParallelTaskResponseCurrentVersion1;
      r.fTargetID = task.fTargetID;
      r.fControllerTaskIdentifier = task.fControllerTaskIdentifier;
      r.fServiceResponse = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
      r.fCompletionStatus = kSCSITaskStatus_DeviceNotPresent;
    }
  }
  BundledParallelTaskCompletion(completion, parallelRequestSlotIndices, parallelRequestSlotIndicesCount);
#ifdef SCSIPROBE_BUG_BUNDLED_TWICE
  BundledParallelTaskCompletion(completion, parallelRequestSlotIndices, parallelRequestSlotIndicesCount);
#endif
}
