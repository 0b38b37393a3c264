// LsiMpt: see LsiMpt.iig. The layout follows Apple's PCIDriverKit samples: ivars in init,
// the provider and queues in Start, the controller's resources in UserInitializeController,
// teardown in Stop and free.
//
// Variants built from these sources plant one mistake each (dexts/README.md):
//   LSIMPT_BUG_POWER_QUEUE_IN_START  makes SetPowerState's queue in Start, as the field's dext did
//   LSIMPT_BUG_ADDRESS_BITS_31       prepares its DMA memory, and reports its SGEs, with 31 address bits
//   LSIMPT_BUG_TASK_MANAGEMENT_STUB  answers task management FUNCTION_COMPLETE and sends the IOC nothing
// LSIMPT_BUNDLED_TASKS takes the SCSI family's bundled tasks (macOS 15.4's shared command and
// response buffers, several tasks a message) instead of UserProcessParallelTask;
// and, built with parallel-queue/LsiMpt.iig (UserProcessParallelTask on ParallelIOQueue):
//   LSIMPT_PARALLEL_QUEUE            makes ParallelIOQueue and sets it in Start
//   LSIMPT_BUG_PARALLEL_QUEUE_UNSET  makes it in UserInitializeController and never sets it (the field's)
//
// Two queues touch the task table: Default (UserProcessParallelTask, task management) and
// InterruptQueue (completions, task management replies), so it is guarded by a lock, never held
// across a register access.

#include <DriverKit/DriverKit.h>
#include <DriverKit/IOKitKeys.h>
#include <PCIDriverKit/PCIDriverKit.h>
#include <SCSIControllerDriverKit/IOSCSIParallelControllerCharacteristics.h>
#include <string.h>

#include "LsiMpt.h"
#include "LsiMptHardware.h"

namespace {

// What this driver asks of the IOC and tells the SCSI family.
constexpr uint32_t kTasks = 96;           // request frames 0..95 carry tasks (frame = task ID - 1)
constexpr uint32_t kRequestFrames = 128;  // the rest carry task management
constexpr uint32_t kReplyFrames = 64;
constexpr uint32_t kSenseBytes = 64;      // per task
constexpr uint64_t kMaxTransfer = 512 * 1024;
constexpr uint64_t kMaxSegment = 64 * 1024;  // one SGE each: 8 for the largest transfer, all in the frame
#if defined(LSIMPT_BUG_ADDRESS_BITS_31)
constexpr uint8_t kAddressBits = 31;  // the field's value: below the DART's first IOVA, 0x80000000
#else
constexpr uint8_t kAddressBits = 32;  // 32-bit SGEs, frames and sense buffers
#endif
constexpr uint64_t kInitiatorId = 7;
constexpr uint64_t kHighestTarget = 15;
constexpr uint32_t kPollLimit = 100000;      // register polls 1 us apart: 100 ms
[[maybe_unused]] constexpr uint32_t kManagementPolls = 100000;  // a task management reply, 10 us apart: 1 s
[[maybe_unused]] constexpr uint32_t kManagementContext = 0x40000000u;  // | frame index: never a task context
static_assert(kMaxTransfer / kMaxSegment <= mpt::kMaxSimpleSgesInFrame, "the SGL must fit in the request frame");
static_assert(kMaxSegment <= mpt::kSgeMaxLength, "a segment must fit in one simple element's length");

// Memory the IOC reaches: the CPU's view and the device's (an IOVA on Apple silicon).
struct DmaMemory {
  IOBufferMemoryDescriptor* buffer;
  IODMACommand* dma;
  uint8_t* cpu;
  uint64_t iova;
};

struct Task {
  OSAction* completion;  // retained while the task is outstanding
  int32_t slot;          // its bundled slot, or -1 when it came through UserProcessParallelTask
  SCSITargetIdentifier target;
  uint64_t tag;          // the kernel's fTaskTagIdentifier, for aborts
  uint64_t length;
  bool busy;
};

void put16(uint8_t* p, uint16_t v) { memcpy(p, &v, 2); }
void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
uint16_t get16(const uint8_t* p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
uint32_t get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

}  // namespace

struct LsiMpt_IVars {
  IOPCIDevice* pci;
  uint8_t bar;  // memoryIndex of the register BAR
  IODispatchQueue* auxiliaryQueue;
  IODispatchQueue* interruptQueue;
  IODispatchQueue* powerQueue;
  IODispatchQueue* parallelQueue;  // the parallel-queue builds' ParallelIOQueue
  IOInterruptDispatchSource* interruptSource;
  OSAction* interruptAction;
  DmaMemory requests, replies, sense;
  IOLock* lock;
  Task tasks[kTasks];
  // Bundled tasks: the family's shared buffers, mapped here (slot N: command N, response N).
  IOBufferMemoryDescriptor* bundleCommandBuffer;
  IOBufferMemoryDescriptor* bundleResponseBuffer;
  IOMemoryMap* bundleCommandMap;
  IOMemoryMap* bundleResponseMap;
  const SCSIUserParallelTask* bundleCommands;
  SCSIUserParallelResponse* bundleResponses;
  uint32_t nextTaskId;
  uint32_t nextManagementFrame;
  // The task management request waiting for its reply (the family sends one at a time, on the
  // Default queue); InterruptOccurred fills in the answer.
  uint32_t managementContext;  // 0: none
  bool managementDone;
  uint16_t managementStatus;   // the reply's IOCStatus
};

namespace {

// ---- Registers ----

uint32_t Read(LsiMpt_IVars* iv, uint64_t reg) {
  uint32_t value = 0;
  iv->pci->MemoryRead32(iv->bar, reg, &value);
  return value;
}

void Write(LsiMpt_IVars* iv, uint64_t reg, uint32_t value) { iv->pci->MemoryWrite32(iv->bar, reg, value); }

uint32_t IocState(LsiMpt_IVars* iv) { return Read(iv, mpt::kDoorbell) >> mpt::kDoorbellStateShift; }

// Polls HostInterruptStatus until (status & mask) == want.
bool WaitStatus(LsiMpt_IVars* iv, uint32_t mask, uint32_t want) {
  for (uint32_t i = 0; i < kPollLimit; ++i) {
    if ((Read(iv, mpt::kHostInterruptStatus) & mask) == want) return true;
    IODelay(1);
  }
  return false;
}

bool WaitState(LsiMpt_IVars* iv, uint32_t state) {
  for (uint32_t i = 0; i < kPollLimit; ++i) {
    if (IocState(iv) == state) return true;
    IODelay(1);
  }
  return false;
}

// The Doorbell handshake: the request's dwords in, the reply's 16-bit words out (into `reply`,
// at most `capacity` bytes; the rest is read and dropped).
kern_return_t Handshake(LsiMpt_IVars* iv, const uint32_t* request, uint32_t dwords, uint8_t* reply, uint32_t capacity) {
  Write(iv, mpt::kHostInterruptStatus, 0);
  Write(iv, mpt::kDoorbell, static_cast<uint32_t>(mpt::kHandshake) << mpt::kFunctionShift | dwords << mpt::kDwordCountShift);
  if (!WaitStatus(iv, mpt::kIntDoorbell, mpt::kIntDoorbell)) return kIOReturnTimeout;
  Write(iv, mpt::kHostInterruptStatus, 0);
  if (!WaitStatus(iv, mpt::kIntIocDoorbell, 0)) return kIOReturnTimeout;
  for (uint32_t i = 0; i < dwords; ++i) {
    Write(iv, mpt::kDoorbell, request[i]);
    if (!WaitStatus(iv, mpt::kIntIocDoorbell, 0)) return kIOReturnTimeout;
  }
  // Word 1's low byte is the reply's length in dwords.
  uint32_t words = 2;
  for (uint32_t n = 0; n < words; ++n) {
    if (!WaitStatus(iv, mpt::kIntDoorbell, mpt::kIntDoorbell)) return kIOReturnTimeout;
    const uint16_t word = static_cast<uint16_t>(Read(iv, mpt::kDoorbell) & mpt::kDoorbellDataMask);
    Write(iv, mpt::kHostInterruptStatus, 0);
    if (2 * n + 1 < capacity) put16(reply + 2 * n, word);
    if (n == 1) words = 2 * (word & 0xFF);
  }
  // The closing interrupt.
  if (!WaitStatus(iv, mpt::kIntDoorbell, mpt::kIntDoorbell)) return kIOReturnTimeout;
  Write(iv, mpt::kHostInterruptStatus, 0);
  const uint16_t status = get16(reply + mpt::at::kIocStatus) & mpt::kIocStatusMask;
  return status == mpt::kSuccess ? kIOReturnSuccess : kIOReturnError;
}

kern_return_t AllocateDma(LsiMpt_IVars* iv, uint64_t bytes, DmaMemory* m) {
  kern_return_t ret = IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, bytes, 0, &m->buffer);
  if (ret != kIOReturnSuccess) return ret;
  m->buffer->SetLength(bytes);
  IOAddressSegment range = {};
  m->buffer->GetAddressRange(&range);
  m->cpu = reinterpret_cast<uint8_t*>(range.address);
  memset(m->cpu, 0, bytes);
  IODMACommandSpecification spec = {};
  spec.options = kIODMACommandSpecificationNoOptions;
  spec.maxAddressBits = kAddressBits;
  ret = IODMACommand::Create(iv->pci, kIODMACommandCreateNoOptions, &spec, &m->dma);
  if (ret != kIOReturnSuccess) return ret;
  uint64_t flags = 0;
  uint32_t segments = 1;
  IOAddressSegment segment = {};
  ret = m->dma->PrepareForDMA(kIODMACommandPrepareForDMANoOptions, m->buffer, 0, 0, &flags, &segments, &segment);
  if (ret != kIOReturnSuccess) return ret;
  m->iova = segment.address;
  return kIOReturnSuccess;
}

void ReleaseDma(DmaMemory* m) {
  if (m->dma && m->iova) m->dma->CompleteDMA(kIODMACommandCompleteDMANoOptions);
  OSSafeReleaseNULL(m->dma);
  OSSafeReleaseNULL(m->buffer);
  m->cpu = nullptr;
  m->iova = 0;
}

// Linux mptbase's order: the IOC READY (a message unit reset if a previous driver left it
// running), IOCFacts, PortFacts, the queues, IOCInit, OPERATIONAL, the free reply frames, PortEnable.
kern_return_t BringUpIoc(LsiMpt_IVars* iv) {
  Write(iv, mpt::kHostInterruptMask, mpt::kIntDoorbell | mpt::kIntReply);  // polled until started
  if (IocState(iv) != mpt::kStateReady) {
    Write(iv, mpt::kDoorbell, static_cast<uint32_t>(mpt::kMessageUnitReset) << mpt::kFunctionShift);
    if (!WaitState(iv, mpt::kStateReady)) {
      IOLog("LsiMpt: the IOC is not READY (Doorbell 0x%08x)\n", Read(iv, mpt::kDoorbell));
      return kIOReturnNotReady;
    }
  }
  uint8_t reply[64] = {};
  const uint32_t facts[] = {static_cast<uint32_t>(mpt::kIocFacts) << 24, 0, 0};
  kern_return_t ret = Handshake(iv, facts, 3, reply, sizeof reply);
  if (ret != kIOReturnSuccess) return ret;
  if (get16(reply + mpt::at::kFactsRequestFrameSize) * 4u < mpt::kFrameBytes ||
      get16(reply + mpt::at::kFactsGlobalCredits) < kRequestFrames) {
    IOLog("LsiMpt: the IOC's frames are smaller or fewer than this driver uses\n");
    return kIOReturnUnsupported;
  }
  const uint32_t portFacts[] = {static_cast<uint32_t>(mpt::kPortFacts) << 24, 0, 0};
  ret = Handshake(iv, portFacts, 3, reply, sizeof reply);
  if (ret != kIOReturnSuccess) return ret;

  ret = AllocateDma(iv, kRequestFrames * mpt::kFrameBytes, &iv->requests);
  if (ret == kIOReturnSuccess) ret = AllocateDma(iv, kReplyFrames * mpt::kReplyFrameBytes, &iv->replies);
  if (ret == kIOReturnSuccess) ret = AllocateDma(iv, kTasks * kSenseBytes, &iv->sense);
  if (ret != kIOReturnSuccess) return ret;

  uint8_t init[44] = {};
  init[mpt::at::kInitWhoInit] = 4;  // the host driver
  init[mpt::at::kFunction] = mpt::kIocInit;
  init[mpt::at::kInitMaxDevices] = static_cast<uint8_t>(kHighestTarget + 1);
  init[mpt::at::kInitMaxBuses] = 1;
  put16(init + mpt::at::kInitReplyFrameSize, mpt::kReplyFrameBytes);
  put32(init + mpt::at::kInitHostMfaHighAddr, static_cast<uint32_t>(iv->requests.iova >> 32));
  put32(init + mpt::at::kInitSenseBufferHighAddr, static_cast<uint32_t>(iv->sense.iova >> 32));
  uint32_t initDwords[11];
  memcpy(initDwords, init, sizeof initDwords);
  ret = Handshake(iv, initDwords, 11, reply, sizeof reply);
  if (ret != kIOReturnSuccess) return ret;
  if (!WaitState(iv, mpt::kStateOperational)) return kIOReturnNotReady;

  for (uint32_t i = 0; i < kReplyFrames; ++i) {
    Write(iv, mpt::kReplyFifo, static_cast<uint32_t>(iv->replies.iova + i * mpt::kReplyFrameBytes));
  }
  const uint32_t enable[] = {static_cast<uint32_t>(mpt::kPortEnable) << 24, 0, 0};
  return Handshake(iv, enable, 3, reply, sizeof reply);
}

// The response for a task whose SCSI_IO ended with `reply` (an address reply), or well (null).
void FillResponse(LsiMpt_IVars* iv, uint32_t slot, const uint8_t* reply, SCSIUserParallelResponse* r) {
  const Task& task = iv->tasks[slot];
  r->version = kScsiUserParallelTaskResponseCurrentVersion1;
  r->fTargetID = task.target;
  r->fControllerTaskIdentifier = slot + 1;
  r->fServiceResponse = kSCSIServiceResponse_TASK_COMPLETE;
  r->fCompletionStatus = kSCSITaskStatus_GOOD;
  r->fBytesTransferred = task.length;
  if (!reply) return;
  const uint16_t status = get16(reply + mpt::at::kIocStatus) & mpt::kIocStatusMask;
  switch (status) {
    case mpt::kSuccess:
    case mpt::kScsiDataUnderrun:
    case mpt::kScsiDataOverrun:
      break;
    case mpt::kScsiDeviceNotThere:
      r->fServiceResponse = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
      r->fCompletionStatus = kSCSITaskStatus_DeviceNotPresent;
      r->fBytesTransferred = 0;
      return;
    default:  // terminated by task management, a bad request: the task did not complete
      r->fServiceResponse = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
      r->fCompletionStatus = kSCSITaskStatus_DeliveryFailure;
      r->fBytesTransferred = get32(reply + mpt::at::kIoReplyTransferCount);
      return;
  }
  r->fCompletionStatus = static_cast<SCSITaskStatus>(reply[mpt::at::kIoReplyScsiStatus]);
  r->fBytesTransferred = get32(reply + mpt::at::kIoReplyTransferCount);
  if (reply[mpt::at::kIoReplyScsiState] & mpt::kScsiStateAutosenseValid) {
    uint32_t count = get32(reply + mpt::at::kIoReplySenseCount);
    if (count > kSenseBytes) count = kSenseBytes;
    memcpy(r->fSenseBuffer, iv->sense.cpu + slot * kSenseBytes, count);
    r->fSenseLength = static_cast<uint8_t>(count);
  }
}

}  // namespace

// ---- Life ----

bool LsiMpt::init() {
  if (!super::init()) return false;
  ivars = IONewZero(LsiMpt_IVars, 1);
  if (!ivars) return false;
  ivars->lock = IOLockAlloc();
  ivars->nextTaskId = 1;
  if (!ivars->lock) return false;
#if !defined(LSIMPT_BUG_POWER_QUEUE_IN_START)
  // SetPowerState is routed to PowerQueue, and may come before Start: its queue must exist now.
  if (IODispatchQueue::Create("PowerQueue", 0, 0, &ivars->powerQueue) != kIOReturnSuccess) return false;
  if (SetDispatchQueue("PowerQueue", ivars->powerQueue) != kIOReturnSuccess) return false;
#endif
  return true;
}

void LsiMpt::free() {
  if (ivars) {
    if (ivars->lock) IOLockFree(ivars->lock);
    OSSafeReleaseNULL(ivars->auxiliaryQueue);
    OSSafeReleaseNULL(ivars->interruptQueue);
    OSSafeReleaseNULL(ivars->powerQueue);
    OSSafeReleaseNULL(ivars->parallelQueue);
  }
  IOSafeDeleteNULL(ivars, LsiMpt_IVars, 1);
  super::free();
}

kern_return_t IMPL(LsiMpt, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  ivars->pci = OSDynamicCast(IOPCIDevice, provider);
  if (!ivars->pci) return kIOReturnNoDevice;
  ret = ivars->pci->Open(this, 0);
  if (ret != kIOReturnSuccess) return ret;
  uint16_t command = 0;
  ivars->pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &command);
  ivars->pci->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand,
                                   command | kIOPCICommandMemorySpace | kIOPCICommandBusLead);
  // The registers are in the first memory BAR (BAR0 on the 1030 is I/O space on real boards).
  uint64_t barSize = 0;
  uint8_t barType = 0;
  ret = ivars->pci->GetBARInfo(0, &ivars->bar, &barSize, &barType);
  if (ret != kIOReturnSuccess) return ret;

#if defined(LSIMPT_BUG_POWER_QUEUE_IN_START)
  // The field's mistake: a SetPowerState sent during load finds no queue yet.
  ret = IODispatchQueue::Create("PowerQueue", 0, 0, &ivars->powerQueue);
  if (ret == kIOReturnSuccess) ret = SetDispatchQueue("PowerQueue", ivars->powerQueue);
  if (ret != kIOReturnSuccess) return ret;
#endif
#if defined(LSIMPT_PARALLEL_QUEUE)
  // UserProcessParallelTask is routed to ParallelIOQueue: the queue must be set before a task comes.
  ret = IODispatchQueue::Create("ParallelIOQueue", 0, 0, &ivars->parallelQueue);
  if (ret == kIOReturnSuccess) ret = SetDispatchQueue("ParallelIOQueue", ivars->parallelQueue);
  if (ret != kIOReturnSuccess) return ret;
#endif
  // The family does not make AuxiliaryQueue, where target creation runs.
  ret = IODispatchQueue::Create("AuxiliaryQueue", 0, 0, &ivars->auxiliaryQueue);
  if (ret == kIOReturnSuccess) ret = SetDispatchQueue("AuxiliaryQueue", ivars->auxiliaryQueue);
  if (ret == kIOReturnSuccess) ret = IODispatchQueue::Create("InterruptQueue", 0, 0, &ivars->interruptQueue);
  if (ret == kIOReturnSuccess) ret = ivars->pci->ConfigureInterrupts(kIOInterruptTypePCIMessaged, 1, 1, 0);
  if (ret == kIOReturnSuccess) {
    ret = IOInterruptDispatchSource::Create(ivars->pci, 0, ivars->interruptQueue, &ivars->interruptSource);
  }
  if (ret == kIOReturnSuccess) ret = CreateActionInterruptOccurred(0, &ivars->interruptAction);
  if (ret == kIOReturnSuccess) ret = ivars->interruptSource->SetHandler(ivars->interruptAction);
  return ret;
}

kern_return_t IMPL(LsiMpt, Stop) {
  uint16_t command = 0;
  if (ivars->pci) ivars->pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &command);
  // Quiet the IOC first, so nothing it still has moves data into memory about to go, unless a
  // reset already did (the crash recovery of the chip's other function resets both, and leaves
  // Memory Space off).
  if (command & kIOPCICommandMemorySpace) {
    Write(ivars, mpt::kHostInterruptMask, mpt::kIntDoorbell | mpt::kIntReply);
    Write(ivars, mpt::kDoorbell, static_cast<uint32_t>(mpt::kMessageUnitReset) << mpt::kFunctionShift);
    WaitState(ivars, mpt::kStateReady);
  }
  if (ivars->interruptSource) {
    ivars->interruptSource->SetEnable(false);
    ivars->interruptSource->Cancel(nullptr);
  }
  // The family has ended the tasks still outstanding; their actions are ours to let go.
  IOLockLock(ivars->lock);
  for (Task& task : ivars->tasks) {
    OSSafeReleaseNULL(task.completion);
    task.busy = false;
  }
  IOLockUnlock(ivars->lock);
  ReleaseDma(&ivars->requests);
  ReleaseDma(&ivars->replies);
  ReleaseDma(&ivars->sense);
  OSSafeReleaseNULL(ivars->bundleCommandMap);
  OSSafeReleaseNULL(ivars->bundleResponseMap);
  OSSafeReleaseNULL(ivars->bundleCommandBuffer);
  OSSafeReleaseNULL(ivars->bundleResponseBuffer);
  if (ivars->pci) ivars->pci->Close(this, 0);
  OSSafeReleaseNULL(ivars->interruptSource);
  OSSafeReleaseNULL(ivars->interruptAction);
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t IMPL(LsiMpt, SetPowerState) {
  // The IOC keeps its state while the machine is on; the storage stack quiesces I/O before a
  // power change, so there is nothing to save or restore here. Acknowledge.
  return SetPowerState(powerFlags, SUPERDISPATCH);
}

// ---- Bring-up ----

kern_return_t IMPL(LsiMpt, UserInitializeController) {
#if defined(LSIMPT_BUG_PARALLEL_QUEUE_UNSET)
  // The field's set-up: the queue made by hand, but never given to SetDispatchQueue.
  if (IODispatchQueue::Create("ParallelIOQueue", 0, 0, &ivars->parallelQueue) != kIOReturnSuccess) {
    return kIOReturnNoMemory;
  }
#endif
  const kern_return_t ret = BringUpIoc(ivars);
  if (ret != kIOReturnSuccess) {
    IOLog("LsiMpt: IOC bring-up failed: 0x%x\n", ret);
    return ret;
  }
  // What the family must know before this returns (a missing key panics the Mac).
  OSDictionary* constraints = OSDictionary::withCapacity(8);
  if (!constraints) return kIOReturnNoMemory;
  const struct {
    const char* key;
    uint64_t value;
  } entries[] = {
      {kIOMaximumSegmentCountReadKey, kMaxTransfer / kMaxSegment},
      {kIOMaximumSegmentCountWriteKey, kMaxTransfer / kMaxSegment},
      {kIOMaximumSegmentByteCountReadKey, kMaxSegment},
      {kIOMaximumSegmentByteCountWriteKey, kMaxSegment},
      {kIOMinimumSegmentAlignmentByteCountKey, 4},
      {kIOMaximumSegmentAddressableBitCountKey, kAddressBits},
      {kIOMinimumHBADataAlignmentMaskKey, 0x00000000FFFFFFFCull},
      {kIOMaximumByteCountReadKey, kMaxTransfer},
      {kIOMaximumByteCountWriteKey, kMaxTransfer},
  };
  for (const auto& e : entries) {
    OSNumber* n = OSNumber::withNumber(e.value, 64);
    constraints->setObject(e.key, n);
    n->release();
  }
  const kern_return_t reported = UserReportHBAConstraints(constraints);
  constraints->release();
  return reported;
}

kern_return_t IMPL(LsiMpt, UserStartController) {
  // Replies now come by MSI: unmask the reply interrupt only.
  ivars->interruptSource->SetEnable(true);
  Write(ivars, mpt::kHostInterruptMask, mpt::kIntDoorbell);
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserReportInitiatorIdentifier) {
  *id = kInitiatorId;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserReportHighestSupportedDeviceID) {
  *id = kHighestTarget;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserReportMaximumTaskCount) {
  *count = kTasks;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserReportHBAHighestLogicalUnitNumber) {
  *value = 7;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserDoesHBAPerformAutoSense) {
  *result = true;  // the IOC writes sense data to the task's sense buffer
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserDoesHBASupportMultiPathing) {
  *result = false;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserDoesHBAPerformDeviceManagement) {
  *result = false;  // the family scans the IDs and creates the targets
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserDoesHBASupportSCSIParallelFeature) {
  (void)theValue;
  *result = false;  // the IOC negotiates rates itself
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserGetDMASpecification) {
  *maxTransferSize = kMaxTransfer;
  *alignment = 4;
  *numAddressBits = kAddressBits;
  *segmentType = kDMAOutputSegmentLittle32;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserMapHBAData) {
  if (ivars->nextTaskId > kTasks) return kIOReturnNoResources;
  *uniqueTaskID = ivars->nextTaskId++;  // task N uses request frame and sense buffer N - 1
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserMapBundledParallelTaskCommandAndResponseBuffers) {
#if defined(LSIMPT_BUNDLED_TASKS)
  // Several tasks a message, and no copies of them: the commands and responses live in these.
  if (!parallelCommandIOMemoryDescriptor || !parallelResponseIOMemoryDescriptor) return kIOReturnBadArgument;
  kern_return_t ret = parallelCommandIOMemoryDescriptor->CreateMapping(0, 0, 0, 0, 0, &ivars->bundleCommandMap);
  if (ret == kIOReturnSuccess) {
    ret = parallelResponseIOMemoryDescriptor->CreateMapping(0, 0, 0, 0, 0, &ivars->bundleResponseMap);
  }
  if (ret != kIOReturnSuccess) {
    OSSafeReleaseNULL(ivars->bundleCommandMap);
    return ret;
  }
  parallelCommandIOMemoryDescriptor->retain();
  parallelResponseIOMemoryDescriptor->retain();
  ivars->bundleCommandBuffer = parallelCommandIOMemoryDescriptor;
  ivars->bundleResponseBuffer = parallelResponseIOMemoryDescriptor;
  ivars->bundleCommands = reinterpret_cast<const SCSIUserParallelTask*>(ivars->bundleCommandMap->GetAddress());
  ivars->bundleResponses = reinterpret_cast<SCSIUserParallelResponse*>(ivars->bundleResponseMap->GetAddress());
  return kIOReturnSuccess;
#else
  (void)parallelCommandIOMemoryDescriptor;
  (void)parallelResponseIOMemoryDescriptor;
  return kIOReturnUnsupported;  // one task at a time through UserProcessParallelTask
#endif
}

kern_return_t IMPL(LsiMpt, UserTargetPresentForID) {
  // Every ID but the initiator's may hold a device; the family's probe finds out which do.
  *result = targetID <= kHighestTarget && targetID != kInitiatorId;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserInitializeTargetForID) {
  (void)targetID;
  return kIOReturnSuccess;
}

// ---- I/O ----

namespace {

// A task to the IOC: a SCSI_IO request in the task's own frame, posted to the request FIFO.
// `slot` is the task's bundled slot, or -1.
kern_return_t Submit(LsiMpt_IVars* iv, const SCSIUserParallelTask& task, OSAction* completion, int32_t slot) {
  const uint64_t id = task.fControllerTaskIdentifier;
  if (task.version != kScsiUserParallelTaskCurrentVersion1 || id < 1 || id > kTasks || task.fCommandSize == 0 ||
      task.fCommandSize > 16 || task.fRequestedTransferCount > kMaxTransfer || task.fTargetID > kHighestTarget ||
      (task.fBufferIOVMAddr + task.fRequestedTransferCount) >> kAddressBits) {
    return kIOReturnBadArgument;
  }
  const uint32_t index = static_cast<uint32_t>(id - 1);
  IOLockLock(iv->lock);
  Task& t = iv->tasks[index];
  if (t.busy) {
    IOLockUnlock(iv->lock);
    return kIOReturnBusy;
  }
  completion->retain();
  t.completion = completion;
  t.slot = slot;
  t.target = task.fTargetID;
  t.tag = task.fTaskTagIdentifier;
  t.length = task.fRequestedTransferCount;
  t.busy = true;
  IOLockUnlock(iv->lock);

  uint8_t* frame = iv->requests.cpu + index * mpt::kFrameBytes;
  memset(frame, 0, mpt::kFrameBytes);
  frame[mpt::at::kIoTargetId] = static_cast<uint8_t>(task.fTargetID);
  frame[mpt::at::kFunction] = mpt::kScsiIo;
  frame[mpt::at::kIoCdbLength] = task.fCommandSize;
  frame[mpt::at::kIoSenseBufferLength] = kSenseBytes;
  put32(frame + mpt::at::kMsgContext, static_cast<uint32_t>(id));
  memcpy(frame + mpt::at::kIoLun, task.fLogicalUnitBytes, 8);
  uint32_t control = task.fTaskAttribute == kSCSITask_ORDERED ? mpt::kControlOrdered : 0;
  const bool toTarget = task.fTransferDirection == kSCSIDataTransfer_FromInitiatorToTarget;
  if (task.fRequestedTransferCount > 0) control |= toTarget ? mpt::kControlWrite : mpt::kControlRead;
  put32(frame + mpt::at::kIoControl, control);
  memcpy(frame + mpt::at::kIoCdb, task.fCommandDescriptorBlock, task.fCommandSize);
  put32(frame + mpt::at::kIoDataLength, static_cast<uint32_t>(task.fRequestedTransferCount));
  put32(frame + mpt::at::kIoSenseBufferLowAddr, static_cast<uint32_t>(iv->sense.iova + index * kSenseBytes));

  // The SGL: the kernel prepared the buffer as one range; one simple element per segment of at
  // most kMaxSegment bytes (what UserInitializeController reported), the last one marked.
  uint64_t address = task.fBufferIOVMAddr;
  uint64_t left = task.fRequestedTransferCount;
  uint8_t* sge = frame + mpt::at::kIoSgl;
  do {
    const uint32_t length = static_cast<uint32_t>(left < kMaxSegment ? left : kMaxSegment);
    uint8_t flags = mpt::kSgeSimple | (toTarget ? mpt::kSgeHostToIoc : 0);
    if (length == left) flags |= mpt::kSgeLastElement | mpt::kSgeEndOfBuffer | mpt::kSgeEndOfList;
    put32(sge, static_cast<uint32_t>(flags) << 24 | length);
    put32(sge + 4, static_cast<uint32_t>(address));
    sge += mpt::kSgeBytes32;
    address += length;
    left -= length;
  } while (left > 0);

  Write(iv, mpt::kRequestFifo, static_cast<uint32_t>(iv->requests.iova + index * mpt::kFrameBytes));
  return kIOReturnSuccess;
}

}  // namespace

kern_return_t IMPL(LsiMpt, UserProcessParallelTask) {
  const kern_return_t ret = Submit(ivars, parallelRequest, completion, -1);
  *response = ret == kIOReturnSuccess ? kSCSIServiceResponse_Request_In_Process
                                      : kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
  return ret;
}

void IMPL(LsiMpt, UserProcessBundledParallelTasks) {
  for (uint16_t n = 0; n < parallelRequestSlotIndicesCount && n < kMaxBundledParallelTasks; ++n) {
    const uint16_t slot = parallelRequestSlotIndices[n];
    const SCSIUserParallelTask& task = ivars->bundleCommands[slot];
    if (Submit(ivars, task, completion, slot) == kIOReturnSuccess) continue;
    // Refused: its slot goes back at once with the failure.
    SCSIUserParallelResponse& r = ivars->bundleResponses[slot];
    r = {};
    r.version = kScsiUserParallelTaskResponseCurrentVersion1;
    r.fTargetID = task.fTargetID;
    r.fControllerTaskIdentifier = task.fControllerTaskIdentifier;
    r.fServiceResponse = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
    r.fCompletionStatus = kSCSITaskStatus_DeliveryFailure;
    BundledParallelTaskCompletion(completion, &slot, 1);
  }
}

// ---- Task management ----
// The family's requests arrive on the Default queue and are answered through *response once the
// IOC has replied; the tasks a request terminates come back first, each with its own reply
// (IOCStatus terminated), and complete as delivery failures, which the storage stack retries.

namespace {

kern_return_t TaskManagement(LsiMpt_IVars* iv, mpt::TaskType type, uint64_t target, uint64_t lun, uint32_t taskContext,
                             uint32_t* response) {
#if defined(LSIMPT_BUG_TASK_MANAGEMENT_STUB)
  // The planted mistake: a stub that says it was done. The tasks it should have aborted run on.
  (void)iv, (void)type, (void)target, (void)lun, (void)taskContext;
  *response = kSCSIServiceResponse_FUNCTION_COMPLETE;
  return kIOReturnSuccess;
#else
  IOLockLock(iv->lock);
  const uint32_t frameIndex = kTasks + iv->nextManagementFrame++ % (kRequestFrames - kTasks);
  iv->managementContext = kManagementContext | frameIndex;
  iv->managementDone = false;
  IOLockUnlock(iv->lock);
  uint8_t* frame = iv->requests.cpu + frameIndex * mpt::kFrameBytes;
  memset(frame, 0, mpt::kFrameBytes);
  frame[mpt::at::kTmTargetId] = static_cast<uint8_t>(target);
  frame[mpt::at::kFunction] = mpt::kScsiTaskMgmt;
  frame[mpt::at::kTmTaskType] = type;
  put32(frame + mpt::at::kMsgContext, kManagementContext | frameIndex);
  frame[mpt::at::kTmLun + 1] = static_cast<uint8_t>(lun);
  put32(frame + mpt::at::kTmTaskMsgContext, taskContext);
  Write(iv, mpt::kRequestFifo, static_cast<uint32_t>(iv->requests.iova + frameIndex * mpt::kFrameBytes));
  // The reply comes on InterruptQueue; this queue waits for it.
  bool done = false;
  uint16_t status = 0;
  for (uint32_t i = 0; i < kManagementPolls && !done; ++i) {
    IODelay(10);
    IOLockLock(iv->lock);
    done = iv->managementDone;
    status = iv->managementStatus;
    IOLockUnlock(iv->lock);
  }
  IOLockLock(iv->lock);
  iv->managementContext = 0;
  IOLockUnlock(iv->lock);
  if (!done) {
    *response = kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
    return kIOReturnTimeout;
  }
  // The driver sends only task types the IOC offers: a failure is the target's or the bus's.
  *response = (status & mpt::kIocStatusMask) == mpt::kSuccess ? kSCSIServiceResponse_FUNCTION_COMPLETE
                                                               : kSCSIServiceResponse_SERVICE_DELIVERY_OR_TARGET_FAILURE;
  return kIOReturnSuccess;
#endif
}

}  // namespace

kern_return_t IMPL(LsiMpt, UserAbortTaskRequest) {
  // ABORT_TASK names the task by its context (frame); the kernel names it by its tag.
  uint32_t context = 0;
  IOLockLock(ivars->lock);
  for (uint32_t i = 0; i < kTasks; ++i) {
    if (ivars->tasks[i].busy && ivars->tasks[i].tag == theQ && ivars->tasks[i].target == theT) context = i + 1;
  }
  IOLockUnlock(ivars->lock);
  if (!context) {  // it completed meanwhile: nothing left to abort
    *response = kSCSIServiceResponse_FUNCTION_COMPLETE;
    return kIOReturnSuccess;
  }
  return TaskManagement(ivars, mpt::kTaskTypeAbortTask, theT, theL, context, response);
}

kern_return_t IMPL(LsiMpt, UserAbortTaskSetRequest) {
  return TaskManagement(ivars, mpt::kTaskTypeAbortTaskSet, theT, theL, 0, response);
}

kern_return_t IMPL(LsiMpt, UserLogicalUnitResetRequest) {
  return TaskManagement(ivars, mpt::kTaskTypeLogicalUnitReset, theT, theL, 0, response);
}

kern_return_t IMPL(LsiMpt, UserTargetResetRequest) {
  return TaskManagement(ivars, mpt::kTaskTypeTargetReset, theT, 0, 0, response);
}

kern_return_t IMPL(LsiMpt, UserClearTaskSetRequest) {
  // The IOC's task management has no CLEAR TASK SET: rejected, as SAM allows.
  (void)theT;
  (void)theL;
  *response = kSCSIServiceResponse_FUNCTION_REJECTED;
  return kIOReturnSuccess;
}

kern_return_t IMPL(LsiMpt, UserClearACARequest) {
  // Nor CLEAR ACA (the IOC never sets ACA: it does not take NACA commands).
  (void)theT;
  (void)theL;
  *response = kSCSIServiceResponse_FUNCTION_REJECTED;
  return kIOReturnSuccess;
}

void IMPL(LsiMpt, InterruptOccurred) {
  (void)action;
  (void)count;
  (void)time;
  // Bundled tasks' slots, handed back in one message per interrupt (or per 32).
  uint16_t bundleSlots[kMaxBundledParallelTasks];
  uint16_t bundleCount = 0;
  OSAction* bundleAction = nullptr;
  auto flush = [&] {
    if (bundleCount) BundledParallelTaskCompletion(bundleAction, bundleSlots, bundleCount);
    bundleCount = 0;
    OSSafeReleaseNULL(bundleAction);
  };
  // A task management reply is announced only after the tasks it terminated have gone back to
  // the kernel (below, flush), so the request is never answered while they are outstanding.
  bool managementReplied = false;
  uint16_t managementStatus = 0;
  // Every entry the reply FIFO holds; reading it empty also clears the reply interrupt. A reply
  // the IOC posts in the same cycle as that read keeps the interrupt raised, and an MSI goes
  // only when it is raised anew: so before returning, the status must show it cleared.
  for (;;) {
    const uint32_t entry = Read(ivars, mpt::kReplyFifo);
    if (entry == mpt::kReplyFifoEmpty) {
      if (!(Read(ivars, mpt::kHostInterruptStatus) & mpt::kIntReply)) break;
      continue;
    }
    const uint8_t* reply = nullptr;
    uint32_t context = entry;
    uint32_t frameAddress = 0;
    if (entry & mpt::kAddressReply) {
      frameAddress = entry << 1;
      reply = ivars->replies.cpu + (frameAddress - static_cast<uint32_t>(ivars->replies.iova));
      context = reply[mpt::at::kFunction] == mpt::kScsiIo ? get32(reply + mpt::at::kMsgContext) : 0;
      if (reply[mpt::at::kFunction] == mpt::kScsiTaskMgmt) {
        IOLockLock(ivars->lock);
        if (ivars->managementContext && get32(reply + mpt::at::kMsgContext) == ivars->managementContext) {
          managementReplied = true;
          managementStatus = get16(reply + mpt::at::kIocStatus);
        }
        IOLockUnlock(ivars->lock);
      }
    }
    if (context >= 1 && context <= kTasks) {
      const uint32_t index = context - 1;
      IOLockLock(ivars->lock);
      Task& task = ivars->tasks[index];
      OSAction* completion = task.busy ? task.completion : nullptr;
      const int32_t slot = task.slot;
      SCSIUserParallelResponse r = {};
      if (completion) FillResponse(ivars, index, reply, &r);
      task.completion = nullptr;
      task.busy = false;
      IOLockUnlock(ivars->lock);
      if (completion && slot >= 0) {
        // Bundled: the response into its slot; the slots go back together below.
        ivars->bundleResponses[slot] = r;
        if (!bundleAction) {
          bundleAction = completion;  // any of the family's actions takes any slot back
          bundleAction->retain();
        }
        bundleSlots[bundleCount++] = static_cast<uint16_t>(slot);
        completion->release();
        if (bundleCount == kMaxBundledParallelTasks) flush();
      } else if (completion) {
        ParallelTaskCompletion(completion, r);
        completion->release();
      }
    }
    // The frame goes back to the IOC.
    if (frameAddress) Write(ivars, mpt::kReplyFifo, frameAddress);
  }
  flush();
  if (managementReplied) {
    IOLockLock(ivars->lock);
    ivars->managementStatus = managementStatus;
    ivars->managementDone = true;
    IOLockUnlock(ivars->lock);
  }
}
