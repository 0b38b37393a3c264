// SdkProbe: exercises the SDK surface real dexts use (os_log, locks, clocks and timer clocks,
// byte order, error numbers, the page size, availability checks, a data queue, cancelling
// actions and queues, C sources) and publishes what it saw with SetProperties.
#include <os/log.h>
#include <time.h>

#include <DriverKit/DriverKit.h>
#include <DriverKit/IOKitKeys.h>
#include <DriverKit/IOMemoryMap.h>
#include <libkern/OSByteOrder.h>

#include "SdkProbe.h"
#include "SdkProbeChild.h"
#include "sdkprobe_checks.h"

namespace sdkprobe {
uint32_t cxx_in_c_file();  // sdkprobe_cxx.c, compiled as C++
}

namespace {
constexpr uint64_t kMillisecondNs = 1000000;
constexpr uint32_t kQueueBytes = 48;  // three entries of 4 + 12 bytes fill it: the fourth overruns
constexpr uint32_t kEntryBytes = 12;
}  // namespace

struct SdkProbe_IVars {
  IOTimerDispatchSource* timer;
  OSAction* timerAction;
  IODispatchQueue* worker;
  IOLock* lock;
  IODataQueueDispatchSource* dataQueue;
  OSAction* dataAvailable;
  OSAction* dataServiced;
  uint64_t timerDeadline;
  uint64_t timerLateNs;
  uint64_t timerFires;
  uint64_t lockWaitedNs;
  uint64_t locksOK;
  uint64_t helpersOK;
  uint64_t enqueued, overruns, dequeued, dataAvailableCalls, dataServicedCalls;
  uint64_t actionCancelled, queueCancelled;
  uint64_t nameOK, registryEntryID, cxxInCFile;
  uint64_t sleptNs, sleepsTimedOut;
  IODispatchQueue* defaultQueue;
  IOServiceNotificationDispatchSource* childWatch;
  OSAction* childWatchAction;
  IOService* child;
  uint64_t childMatched, childTerminated;
  IODispatchQueue* waiter;
  IOTimerDispatchSource* awaitedTimer;
  OSAction* awaitedAction;
  uint64_t awaitedFires, waitResult, waitedNs, waitAgainResult, waitCancelledResult;
  uint64_t memoryOK, concatLength;
  uint64_t searchOK, removeOK;
  uint64_t timerArgsOK;
};

bool SdkProbe::init() {
  if (!super::init()) return false;
  ivars = IONewZero(SdkProbe_IVars, 1);
  return ivars != nullptr;
}

// Stop drops what Start made; free drops it too, for a Start that failed half-way.
static void ReleaseResources(SdkProbe_IVars* ivars) {
  OSSafeReleaseNULL(ivars->timer);
  OSSafeReleaseNULL(ivars->timerAction);
  OSSafeReleaseNULL(ivars->worker);
  OSSafeReleaseNULL(ivars->dataQueue);
  OSSafeReleaseNULL(ivars->dataAvailable);
  OSSafeReleaseNULL(ivars->dataServiced);
  OSSafeReleaseNULL(ivars->awaitedTimer);
  OSSafeReleaseNULL(ivars->awaitedAction);
  OSSafeReleaseNULL(ivars->waiter);
  OSSafeReleaseNULL(ivars->childWatch);
  OSSafeReleaseNULL(ivars->childWatchAction);
  OSSafeReleaseNULL(ivars->child);
  OSSafeReleaseNULL(ivars->defaultQueue);
}

void SdkProbe::free() {
  if (ivars) {
    ReleaseResources(ivars);
    if (ivars->lock) IOLockFree(ivars->lock);
  }
  IOSafeDeleteNULL(ivars, SdkProbe_IVars, 1);
  super::free();
}

// Locks as a single block sees them: a held IOLock refuses TryLock, a recursive lock nests, a
// read-write lock takes two readers.
// Memory the way dexts use it: Map, a sub-range descriptor, the cache modes CreateMapping takes,
// and OSData over bytes it does not copy.
static bool MemoryBehaves() {
  IOBufferMemoryDescriptor* buffer = nullptr;
  if (IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 64, 0, &buffer) != kIOReturnSuccess) return false;
  uint64_t address = 0, length = 0;
  bool ok = buffer->Map(0, 0, 0, 0, &address, &length) == kIOReturnSuccess && length == 64;
  uint8_t* bytes = reinterpret_cast<uint8_t*>(address);
  for (uint32_t i = 0; ok && i < 64; i++) bytes[i] = static_cast<uint8_t>(i);
  IOMemoryDescriptor* sub = nullptr;
  ok = ok && IOMemoryDescriptor::CreateSubMemoryDescriptor(kIOMemoryDirectionOut, 16, 8, buffer, &sub) == kIOReturnSuccess;
  IOMemoryMap* map = nullptr;
  ok = ok && sub->CreateMapping(kIOMemoryMapCacheModeInhibit, 0, 0, 0, 0, &map) == kIOReturnSuccess && map->GetLength() == 8 &&
       reinterpret_cast<const uint8_t*>(map->GetAddress())[0] == 16;
  IOMemoryMap* refused = nullptr;
  ok = ok && sub->CreateMapping(0x300, 0, 0, 0, 0, &refused) == kIOReturnBadArgument;  // not a cache mode
  IOMemoryDescriptor* tooLong = nullptr;
  ok = ok && IOMemoryDescriptor::CreateSubMemoryDescriptor(kIOMemoryDirectionOut, 60, 8, buffer, &tooLong) ==
                 kIOReturnBadArgument;
  OSData* view = OSData::withBytesNoCopy(bytes, 64);
  ok = ok && view && view->getBytesNoCopy() == bytes && view->getLength() == 64 && !view->appendBytes(bytes, 1);
  OSSafeReleaseNULL(view);
  OSSafeReleaseNULL(map);
  OSSafeReleaseNULL(sub);
  OSSafeReleaseNULL(buffer);
  return ok;
}

// Two buffers handed on as one, as dexts give an application several DMA buffers in a single
// descriptor: its length is theirs together, and a range inside the second maps at its bytes.
static uint64_t ConcatenatedLength() {
  IOBufferMemoryDescriptor* first = nullptr;
  IOBufferMemoryDescriptor* second = nullptr;
  IOMemoryDescriptor* both = nullptr;
  IOMemoryDescriptor* tail = nullptr;
  IOMemoryMap* map = nullptr;
  uint64_t length = 0;
  if (IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 100, 0, &first) == kIOReturnSuccess &&
      IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 28, 0, &second) == kIOReturnSuccess) {
    IOMemoryDescriptor* parts[2] = {first, second};
    IOAddressSegment range = {};
    second->GetAddressRange(&range);
    reinterpret_cast<uint8_t*>(range.address)[4] = 0x5a;
    if (IOMemoryDescriptor::CreateWithMemoryDescriptors(kIOMemoryDirectionInOut, 2, parts, &both) == kIOReturnSuccess &&
        IOMemoryDescriptor::CreateSubMemoryDescriptor(kIOMemoryDirectionInOut, 100, 28, both, &tail) == kIOReturnSuccess &&
        tail->CreateMapping(0, 0, 4, 1, 0, &map) == kIOReturnSuccess &&
        *reinterpret_cast<const uint8_t*>(map->GetAddress()) == 0x5a) {
      both->GetLength(&length);
    }
  }
  OSSafeReleaseNULL(map);
  OSSafeReleaseNULL(tail);
  OSSafeReleaseNULL(both);
  OSSafeReleaseNULL(second);
  OSSafeReleaseNULL(first);
  return length;
}

static bool LocksBehave() {
  IOLock* lock = IOLockAlloc();
  IORecursiveLock* recursive = IORecursiveLockAlloc();
  IORWLock* rw = IORWLockAlloc();
  IOLockLock(lock);
  IOLockAssert(lock, kIOLockAssertOwned);
  bool ok = !IOLockTryLock(lock);
  IOLockUnlock(lock);
  ok = ok && IOLockTryLock(lock);
  IOLockUnlock(lock);
  IORecursiveLockLock(recursive);
  IORecursiveLockLock(recursive);
  ok = ok && IORecursiveLockHaveLock(recursive);
  IORecursiveLockUnlock(recursive);
  ok = ok && IORecursiveLockHaveLock(recursive);
  IORecursiveLockUnlock(recursive);
  ok = ok && !IORecursiveLockHaveLock(recursive);
  IORWLockRead(rw);
  IORWLockRead(rw);
  IORWLockUnlock(rw);
  IORWLockUnlock(rw);
  IORWLockWrite(rw);
  IORWLockUnlock(rw);
  IORWLockFree(rw);
  IORecursiveLockFree(recursive);
  IOLockFree(lock);
  return ok;
}

kern_return_t IMPL(SdkProbe, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;

  // The unified log's levels and format extensions.
  const char* name = "SdkProbe";
  uint64_t pageSize = IOVMPageSize;
  os_log(OS_LOG_DEFAULT, "%{public}s: Start, page size %llu, private %{private}d, ready %{bool}d", name,
         static_cast<unsigned long long>(pageSize), 7, 1);
  os_log_info(OS_LOG_DEFAULT, "%{public}s: an info record", name);
  os_log_debug(OS_LOG_DEFAULT, "%{public}s: a debug record", name);
  os_log_error(OS_LOG_DEFAULT, "%{public}s: an error record, %{errno}d", name, 2);
  os_log_fault(os_log_create("org.dexthil.SdkProbe", "probe"), "a fault record in category probe");

  ivars->locksOK = LocksBehave();
  ivars->memoryOK = MemoryBehaves();
  ivars->concatLength = ConcatenatedLength();
  ivars->helpersOK = sdkprobe_c_helpers_ok() && OSSwapHostToBigInt32(0x11223344u) == 0x44332211u &&
                     err_get_code(kIOReturnBadArgument) == 0x2c2 && err_get_system(kIOReturnBadArgument) == 0x38;
  bool available = false;
  if (__builtin_available(driverkit 20.0, *)) available = true;
#if TARGET_OS_DRIVERKIT
  ivars->helpersOK = ivars->helpersOK && available;
#else
  ivars->helpersOK = 0;
#endif

  // The registry entry: its name (the class's until SetName) and its ID.
  OSString* name0 = nullptr;
  OSString* name1 = nullptr;
  CopyName(&name0);
  SetName("SdkProbe@0");
  CopyName(&name1);
  ivars->nameOK = name0 && name1 && name0->isEqualTo("SdkProbe") && name1->isEqualTo("SdkProbe@0");
  OSSafeReleaseNULL(name0);
  OSSafeReleaseNULL(name1);
  GetRegistryEntryID(&ivars->registryEntryID);
  // The entry's own properties, searched as dexts read their personality; a key set and then
  // removed is gone from what CopyProperties returns.
  OSContainer* found = nullptr;
  OSContainer* missing = nullptr;
  if (SearchProperty("IOUserClass", "IOService", 0, &found) == kIOReturnSuccess) {
    OSString* userClass = OSDynamicCast(OSString, found);
    ivars->searchOK = userClass && userClass->isEqualTo("SdkProbe") &&
                      SearchProperty("NoSuchKey", "IOService", kIOServiceSearchPropertyParents, &missing) ==
                          kIOReturnNotFound &&
                      !missing;
  }
  OSSafeReleaseNULL(found);
  OSDictionary* scratch = OSDictionary::withCapacity(1);
  OSString* scratchKey = OSString::withCString("Scratch");
  scratch->setObject("Scratch", kOSBooleanTrue);
  SetProperties(scratch);
  OSDictionary* after = nullptr;
  if (RemoveProperty(scratchKey) == kIOReturnSuccess && CopyProperties(&after) == kIOReturnSuccess) {
    ivars->removeOK = after->getObject("Scratch") == nullptr;
  }
  OSSafeReleaseNULL(after);
  OSSafeReleaseNULL(scratchKey);
  OSSafeReleaseNULL(scratch);
  ivars->cxxInCFile = sdkprobe::cxx_in_c_file();

  // A timer on the monotonic nanosecond clock, 1 ms from now, on the Default queue.
  ret = CopyDispatchQueue(kIOServiceDefaultQueueName, &ivars->defaultQueue);
  if (ret != kIOReturnSuccess) return ret;
  IODispatchQueue* defaultQueue = ivars->defaultQueue;
  ret = IOTimerDispatchSource::Create(defaultQueue, &ivars->timer);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionTimerOccurred(0, &ivars->timerAction);
  if (ret != kIOReturnSuccess) return ret;
  ivars->timer->SetHandler(ivars->timerAction);
  // Not a clock: refused; a deadline of UINT64_MAX disarms whatever the clock says.
  ivars->timerArgsOK = ivars->timer->WakeAtTime(0x1234, 5, 0) == kIOReturnBadArgument &&
                       ivars->timer->WakeAtTime(0, UINT64_MAX, 0) == kIOReturnSuccess &&
                       defaultQueue->WakeupWithOptions(&ivars->timerArgsOK, 0x2) == kIOReturnBadArgument;
  ivars->timerDeadline = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + kMillisecondNs;
  ivars->timer->WakeAtTime(kIOTimerClockMonotonicRaw, ivars->timerDeadline, 0);

  // A second queue holds the lock for 2 ms of simulated time; the timer's handler, on the
  // Default queue, waits for it.
  ivars->lock = IOLockAlloc();
  ret = IODispatchQueue::Create("Worker", 0, 0, &ivars->worker);
  if (ret != kIOReturnSuccess) return ret;
  IOLock* lock = ivars->lock;
  ivars->worker->DispatchAsync(^{
    IOLockLock(lock);
    IOSleep(2);
    IOLockUnlock(lock);
  });

  // A data queue: three entries fit, the fourth overruns; DataAvailable drains it and the
  // dequeue after the overrun brings DataServiced.
  ret = IODataQueueDispatchSource::Create(kQueueBytes, defaultQueue, &ivars->dataQueue);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionDataAvailable(0, &ivars->dataAvailable);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionDataServiced(0, &ivars->dataServiced);
  if (ret != kIOReturnSuccess) return ret;
  ivars->dataQueue->SetDataAvailableHandler(ivars->dataAvailable);
  ivars->dataQueue->SetDataServicedHandler(ivars->dataServiced);
  for (uint32_t i = 0; i < 4; i++) {
    kern_return_t r = ivars->dataQueue->Enqueue(kEntryBytes, ^(void* data, size_t size) {
      memset(data, static_cast<int>(i + 1), size);
    });
    if (r == kIOReturnSuccess) ivars->enqueued++;
    else if (r == kIOReturnOverrun) ivars->overruns++;
  }
  // Waiting for an action synchronously, from a queue of its own: a timer 2 ms out invokes it
  // on Default (once TimerOccurred, which holds Default until 2.15 ms, is done); the first Wait
  // returns once AwaitedTimer ran, the second times out after 1 ms, and once the action is
  // cancelled Wait says so.
  ret = IOTimerDispatchSource::Create(defaultQueue, &ivars->awaitedTimer);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionAwaitedTimer(0, &ivars->awaitedAction);
  if (ret != kIOReturnSuccess) return ret;
  ivars->awaitedTimer->SetHandler(ivars->awaitedAction);
  ret = IODispatchQueue::Create("Waiter", 0, 0, &ivars->waiter);
  if (ret != kIOReturnSuccess) return ret;
  OSActionWaitToken* token = nullptr;
  ret = ivars->awaitedAction->WillWait(&token);
  if (ret != kIOReturnSuccess) return ret;
  const uint64_t waitStart = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
  ivars->awaitedTimer->WakeAtTime(kIOTimerClockMonotonicRaw, waitStart + 2 * kMillisecondNs, 0);
  SdkProbe_IVars* state = ivars;
  SdkProbe* me = this;
  ivars->waiter->DispatchAsync(^{
    OSAction* awaited = state->awaitedAction;
    state->waitResult =
        static_cast<uint32_t>(awaited->Wait(token, kIOTimerClockMonotonicRaw, waitStart + 10 * kMillisecondNs));
    state->waitedNs = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) - waitStart;
    state->waitAgainResult = static_cast<uint32_t>(
        awaited->Wait(token, kIOTimerClockMonotonicRaw, clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + kMillisecondNs));
    awaited->Cancel(^{});
    state->waitCancelledResult = static_cast<uint32_t>(awaited->Wait(token, 0, 0));
    awaited->EndWait(token);
    me->Publish();
  });
  // Services of this dext coming and going: a notification source for SdkProbeChild services,
  // matched on IOUserClass as CreateUserClassMatchingDictionary builds the dictionary, then a
  // child made with IOService::Create, which ChildNotification terminates once it is matched.
  OSDictionary* matching = OSDictionary::withCapacity(1);
  OSDictionary* userClass = OSDictionary::withCapacity(1);
  OSString* childClass = OSString::withCString("SdkProbeChild");
  OSString* kernelClass = OSString::withCString("IOUserService");
  userClass->setObject("IOUserClass", childClass);
  matching->setObject("IOPropertyMatch", userClass);
  matching->setObject("IOProviderClass", kernelClass);  // the IOClass of its Create dictionary
  OSSafeReleaseNULL(kernelClass);
  ret = IOServiceNotificationDispatchSource::Create(matching, 0, defaultQueue, &ivars->childWatch);
  OSSafeReleaseNULL(childClass);
  OSSafeReleaseNULL(userClass);
  OSSafeReleaseNULL(matching);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionChildNotification(0, &ivars->childWatchAction);
  if (ret != kIOReturnSuccess) return ret;
  ivars->childWatch->SetHandler(ivars->childWatchAction);
  ivars->childWatch->SetEnableWithCompletion(true, nullptr);
  ret = Create(this, "ChildProperties", &ivars->child);
  if (ret != kIOReturnSuccess) return ret;

  Publish();
  return RegisterService();
}

void IMPL(SdkProbe, ChildNotification) {
  SdkProbe_IVars* state = ivars;
  ivars->childWatch->DeliverNotifications(^(uint64_t type, IOService* service, uint64_t) {
    if (service != state->child) return;
    if (type == kIOServiceNotificationTypeMatched) {
      state->childMatched++;
      service->Terminate(0);
    } else if (type == kIOServiceNotificationTypeTerminated) {
      state->childTerminated++;
    }
  });
  Publish();
}

void IMPL(SdkProbe, AwaitedTimer) {
  ivars->awaitedFires++;
}

void IMPL(SdkProbe, TimerOccurred) {
  ivars->timerFires++;
  ivars->timerLateNs = time - ivars->timerDeadline;
  const uint64_t before = clock_gettime_nsec_np(CLOCK_UPTIME_RAW);
  IOLockLock(ivars->lock);
  ivars->lockWaitedNs = clock_gettime_nsec_np(CLOCK_UPTIME_RAW) - before;
  IOLockUnlock(ivars->lock);
  // The queue's own sleeps: 100 us from now, then a deadline 50 us on; nobody wakes them.
  IODispatchQueue* queue = nullptr;
  if (CopyDispatchQueue(kIOServiceDefaultQueueName, &queue) == kIOReturnSuccess) {
    int token = 0;
    const uint64_t sleepStart = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
    ivars->sleepsTimedOut += queue->Sleep(&token, 100000) == kIOReturnTimeout;
    ivars->sleepsTimedOut +=
        queue->SleepWithDeadline(&token, kIOTimerClockMonotonicRaw, clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + 50000) ==
        kIOReturnTimeout;
    ivars->sleptNs = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) - sleepStart;
    queue->release();
  }
  // Nothing more comes from this action once it is cancelled; the handler says so.
  __block SdkProbe* me = this;
  ivars->timerAction->Cancel(^{
    me->ivars->actionCancelled++;
    me->Publish();
  });
  ivars->timer->WakeAtTime(kIOTimerClockMonotonicRaw, clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + kMillisecondNs, 0);
  ivars->worker->Cancel(^{
    me->ivars->queueCancelled++;
  });
  Publish();
}

void IMPL(SdkProbe, DataAvailable) {
  ivars->dataAvailableCalls++;
  while (ivars->dataQueue->Dequeue(^(const void* data, size_t size) {
    if (size == kEntryBytes && static_cast<const uint8_t*>(data)[0] != 0) ivars->dequeued++;
  }) == kIOReturnSuccess) {
  }
  Publish();
}

void IMPL(SdkProbe, DataServiced) {
  ivars->dataServicedCalls++;
  Publish();
}

kern_return_t IMPL(SdkProbe, Stop) {
  // Apple's pattern for a dext with sources: cancel them, and finish stopping (the superclass's
  // Stop) in the cancel handler, once nothing can fire any more. The actions hold references on
  // this object, so everything Start made is dropped there too.
  if (!ivars->timer) {
    ReleaseResources(ivars);
    return Stop(provider, SUPERDISPATCH);
  }
  if (ivars->dataQueue) ivars->dataQueue->Cancel(nullptr);
  retain();
  provider->retain();
  ivars->timer->Cancel(^{
    ReleaseResources(ivars);
    Stop(provider, SUPERDISPATCH);
    provider->release();
    release();
  });
  return kIOReturnSuccess;
}

void SdkProbe::Publish() {
  OSDictionary* props = OSDictionary::withCapacity(16);
  if (!props) return;
  auto set = [props](const char* key, uint64_t value) {
    OSNumber* n = OSNumber::withNumber(value, 64);
    props->setObject(key, n);
    n->release();
  };
  set("PageSize", IOVMPageSize);
  set("LocksOK", ivars->locksOK);
  set("HelpersOK", ivars->helpersOK);
  set("TimerFires", ivars->timerFires);
  set("TimerLateNs", ivars->timerLateNs);
  set("LockWaitedNs", ivars->lockWaitedNs);
  set("Enqueued", ivars->enqueued);
  set("Overruns", ivars->overruns);
  set("Dequeued", ivars->dequeued);
  set("DataAvailableCalls", ivars->dataAvailableCalls);
  set("DataServicedCalls", ivars->dataServicedCalls);
  set("ActionCancelled", ivars->actionCancelled);
  set("QueueCancelled", ivars->queueCancelled);
  set("NameOK", ivars->nameOK);
  set("RegistryEntryID", ivars->registryEntryID);
  set("CxxInCFile", ivars->cxxInCFile);
  set("SleptNs", ivars->sleptNs);
  set("SleepsTimedOut", ivars->sleepsTimedOut);
  set("MemoryOK", ivars->memoryOK);
  set("ConcatLength", ivars->concatLength);
  set("ChildMatched", ivars->childMatched);
  set("ChildTerminated", ivars->childTerminated);
  set("AwaitedFires", ivars->awaitedFires);
  set("WaitResult", ivars->waitResult);
  set("WaitedNs", ivars->waitedNs);
  set("WaitAgainResult", ivars->waitAgainResult);
  set("WaitCancelledResult", ivars->waitCancelledResult);
  set("SearchOK", ivars->searchOK);
  set("RemoveOK", ivars->removeOK);
  set("TimerArgsOK", ivars->timerArgsOK);
  SetProperties(props);
  props->release();
}
