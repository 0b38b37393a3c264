// TestdevDriver: drives the DMA test device the way a PCIDriverKit dext drives real hardware.
// Start opens the provider, sets up an MSI interrupt source, a watchdog timer and a DMA buffer,
// and has the device write a pattern into the buffer; the interrupt handler checks it and has the
// device read it back. SetPowerState quiesces and resumes; Stop tears everything down.
//
// Each TESTDEV_BUG_* definition plants one mistake the harness must report (see dexts/README.md).

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include <stdexcept>
#if defined(TESTDEV_BUG_ABORT) || defined(TESTDEV_BUG_TERMINATE)
#include <cstdlib>
#include <exception>
#endif
#if defined(TESTDEV_BUG_BUS_ERROR)
#include <sys/mman.h>  // only to make a real SIGBUS: a page with no backing
#endif

#include "TestdevDriver.h"
#include "TestdevUserClient.h"
#include "dma_testdev_registers.h"  // BAR0's map, generated from the device's register description

// The planted crashes leave the rest of the timer handler unreachable, on purpose; the correct
// driver keeps the warning.
#if defined(TESTDEV_BUG_THROW_IN_TIMER) || defined(TESTDEV_BUG_NULL_STORE) || defined(TESTDEV_BUG_BUS_ERROR) || \
    defined(TESTDEV_BUG_DIVIDE_BY_ZERO) || defined(TESTDEV_BUG_TRAP) || defined(TESTDEV_BUG_ABORT) ||         \
    defined(TESTDEV_BUG_TERMINATE) || defined(TESTDEV_BUG_STACK_OVERFLOW) || defined(TESTDEV_BUG_HANG)
#pragma clang diagnostic ignored "-Wunreachable-code"
#endif

namespace {
namespace regs = testdev_registers;
constexpr uint32_t kTransferBytes = 4096;
constexpr uint8_t kPatternSeed = 0x30;

#if defined(TESTDEV_BUG_DMA_31_BITS)
constexpr uint64_t kAddressBits = 31;
#elif defined(TESTDEV_DMA_64_BITS)
constexpr uint64_t kAddressBits = 64;  // the device's IOVA_HI register takes the upper half
#else
constexpr uint64_t kAddressBits = 32;
#endif

// Counts Start calls in this process image: a restarted dext process must begin again at zero,
// as a new process on macOS does.
uint32_t gStartsInThisProcess = 0;

#if defined(TESTDEV_BUG_STACK_OVERFLOW)
// The bug: a recursion whose base case never comes (the device never reports the end of the
// list it walks). The frame array keeps it from becoming a loop.
volatile uint64_t gListEnd = UINT64_MAX;
uint64_t Descend(uint64_t depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  if (depth == gListEnd) return 0;
  return Descend(depth + 1) + frame[0];
}
#endif
}  // namespace

struct TestdevDriver_IVars {
  IOPCIDevice* pci;
  uint8_t bar0;
  IODispatchQueue* defaultQueue;
  IODispatchQueue* powerQueue;
  IOInterruptDispatchSource* interruptSource;
  OSAction* interruptAction;
  IOTimerDispatchSource* timer;
  OSAction* timerAction;
  IOBufferMemoryDescriptor* buffer;
  IODMACommand* dma;
  uint64_t iova;
  uint32_t interruptIndex;
  uint32_t interrupts;
  uint32_t timerFires;
  uint32_t transfersOK;
  uint32_t powerChanges;
  bool dataOK;
  bool poweredOff;
  TestdevUserClient* client;  // whose transfer is running (retained until it ends)
};

#if defined(TESTDEV_BUG_ABORT_AT_LOAD)
// Planted: a library initializer that gives up, as one that finds no usable clock might.
__attribute__((constructor)) static void CheckClockAtLoad() { abort(); }
#elif defined(TESTDEV_BUG_EXIT_AT_LOAD)
// Planted: a library initializer that ends the process instead.
__attribute__((constructor)) static void CheckClockAtLoad() { exit(3); }
#endif

bool TestdevDriver::init() {
  if (!super::init()) return false;
  ivars = IONewZero(TestdevDriver_IVars, 1);
  if (!ivars) return false;
#if defined(TESTDEV_POWER_QUEUE_IN_INIT)
  // Routed methods can arrive as soon as the object exists, so their queue is made here.
  if (IODispatchQueue::Create("PowerQueue", 0, 0, &ivars->powerQueue) != kIOReturnSuccess) return false;
  if (SetDispatchQueue("PowerQueue", ivars->powerQueue) != kIOReturnSuccess) return false;
#endif
  return true;
}

void TestdevDriver::free() {
  if (ivars) {
    OSSafeReleaseNULL(ivars->powerQueue);
    OSSafeReleaseNULL(ivars->defaultQueue);
  }
  IOSafeDeleteNULL(ivars, TestdevDriver_IVars, 1);
  super::free();
}

kern_return_t IMPL(TestdevDriver, Start) {
#if !defined(TESTDEV_BUG_NO_SUPER_START)
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
#else
  kern_return_t ret = kIOReturnSuccess;
#endif
  gStartsInThisProcess++;
  ivars->pci = OSDynamicCast(IOPCIDevice, provider);
  if (!ivars->pci) return kIOReturnNoDevice;
  ret = ivars->pci->Open(this, 0);
  if (ret != kIOReturnSuccess) return ret;
  // Memory Space and Bus Master: firmware left them on at boot, but IOPCIFamily turns them off
  // when a client closes the device or crashes (its crash recovery restores config space without
  // them), so a driver turns them on itself.
  uint16_t command = 0;
  ivars->pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &command);
  const uint16_t decoding = kIOPCICommandMemorySpace | kIOPCICommandBusLead;
  if ((command & decoding) != decoding) {
    ivars->pci->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand, command | decoding);
  }

  uint64_t barSize = 0;
  uint8_t barType = 0;
  ret = ivars->pci->GetBARInfo(0, &ivars->bar0, &barSize, &barType);
  if (ret != kIOReturnSuccess) return ret;
  uint32_t id = 0;
  ivars->pci->MemoryRead32(ivars->bar0, regs::kId, &id);
  if (id != regs::kIdValue) {
    IOLog("TestdevDriver: unexpected ID 0x%08x\n", id);
    return kIOReturnNoDevice;
  }

#if defined(TESTDEV_POWER_QUEUE) && !defined(TESTDEV_POWER_QUEUE_IN_INIT)
  // The field bug: the queue SetPowerState is routed to exists only once Start has run.
  ret = IODispatchQueue::Create("PowerQueue", 0, 0, &ivars->powerQueue);
  if (ret != kIOReturnSuccess) return ret;
  ret = SetDispatchQueue("PowerQueue", ivars->powerQueue);
  if (ret != kIOReturnSuccess) return ret;
#endif

  ret = CopyDispatchQueue("Default", &ivars->defaultQueue);
  if (ret != kIOReturnSuccess) return ret;
#if defined(TESTDEV_DEFAULT_MSI)
  // No ConfigureInterrupts: walk the function's interrupt list for its MSI vector, as public
  // dexts do (the legacy INTx comes first).
  uint64_t interruptType = 0;
  while (IOInterruptDispatchSource::GetInterruptType(ivars->pci, ivars->interruptIndex, &interruptType) ==
             kIOReturnSuccess &&
         !(interruptType & kIOInterruptTypePCIMessaged)) {
    ivars->interruptIndex++;
  }
#else
  ret = ivars->pci->ConfigureInterrupts(kIOInterruptTypePCIMessaged, 1, 1, 0);
  if (ret != kIOReturnSuccess) return ret;
#endif
  ret = IOInterruptDispatchSource::Create(ivars->pci, ivars->interruptIndex, ivars->defaultQueue,
                                          &ivars->interruptSource);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionInterruptOccurred(0, &ivars->interruptAction);
  if (ret != kIOReturnSuccess) return ret;
  ivars->interruptSource->SetHandler(ivars->interruptAction);
  ivars->interruptSource->SetEnable(true);

  ret = IOTimerDispatchSource::Create(ivars->defaultQueue, &ivars->timer);
  if (ret != kIOReturnSuccess) return ret;
  ret = CreateActionTimerOccurred(0, &ivars->timerAction);
  if (ret != kIOReturnSuccess) return ret;
  ivars->timer->SetHandler(ivars->timerAction);

  ret = IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, kTransferBytes, 0, &ivars->buffer);
  if (ret != kIOReturnSuccess) return ret;
  ivars->buffer->SetLength(kTransferBytes);
  IODMACommandSpecification spec = {};
  spec.options = kIODMACommandSpecificationNoOptions;
  spec.maxAddressBits = kAddressBits;
  ret = IODMACommand::Create(ivars->pci, kIODMACommandCreateNoOptions, &spec, &ivars->dma);
  if (ret != kIOReturnSuccess) return ret;
  uint64_t flags = 0;
  uint32_t segmentCount = 1;
  IOAddressSegment segment = {};
  ret = ivars->dma->PrepareForDMA(kIODMACommandPrepareForDMANoOptions, ivars->buffer, 0, 0, &flags, &segmentCount,
                                  &segment);
  if (ret != kIOReturnSuccess) return ret;
  ivars->iova = segment.address;

  ret = StartTransfer(true);
  if (ret != kIOReturnSuccess) return ret;
  // A watchdog, 1 ms out (mach ticks are not nanoseconds: convert with the timebase).
  mach_timebase_info_data_t timebase;
  mach_timebase_info(&timebase);
  ivars->timer->WakeAtTime(kIOTimerClockMachAbsoluteTime,
                           mach_absolute_time() + 1000000ull * timebase.denom / timebase.numer, 0);
  Publish();
  RegisterService();
  return kIOReturnSuccess;
}

kern_return_t TestdevDriver::StartTransfer(bool deviceWrites) {
  IOPCIDevice* pci = ivars->pci;
  pci->MemoryWrite32(ivars->bar0, regs::kIovaLo, static_cast<uint32_t>(ivars->iova));
  pci->MemoryWrite32(ivars->bar0, regs::kIovaHi, static_cast<uint32_t>(ivars->iova >> 32));
  pci->MemoryWrite32(ivars->bar0, regs::kLength, kTransferBytes);
  pci->MemoryWrite32(ivars->bar0, regs::kPattern, kPatternSeed);
  pci->MemoryWrite32(ivars->bar0, regs::kControl, (deviceWrites ? regs::kControlDeviceWrites : 0) | regs::kControlIrqEnable);
  pci->MemoryWrite32(ivars->bar0, regs::kDoorbell, 1);
  return kIOReturnSuccess;
}

void IMPL(TestdevDriver, InterruptOccurred) {
  (void)action;
  (void)time;
  ivars->interrupts += static_cast<uint32_t>(count);
  uint32_t status = 0;
  ivars->pci->MemoryRead32(ivars->bar0, regs::kStatus, &status);
  ivars->pci->MemoryWrite32(ivars->bar0, regs::kStatus, regs::kStatusDone);
  if ((status & regs::kStatusResultMask) == 0) ivars->transfersOK++;  // result OK
  if (ivars->transfersOK == 1) {
    // The device wrote the pattern: check it through the CPU's view of the buffer.
    IOAddressSegment range = {};
    ivars->buffer->GetAddressRange(&range);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(range.address);
    bool ok = range.length == kTransferBytes;
    for (uint32_t n = 0; ok && n < kTransferBytes; ++n) ok = bytes[n] == static_cast<uint8_t>(kPatternSeed + n);
    ivars->dataOK = ok;
    StartTransfer(false);  // and have the device read it back and compare
  } else if (ivars->transfersOK == 2) {
    uint32_t mismatches = 0;
    ivars->pci->MemoryRead32(ivars->bar0, regs::kMismatchCount, &mismatches);
    if (mismatches) ivars->dataOK = false;
  }
  if (TestdevUserClient* client = ivars->client) {
    ivars->client = nullptr;
    client->TransferFinished(status, ivars->transfersOK);
    client->release();
  }
  Publish();
}

void IMPL(TestdevDriver, TimerOccurred) {
  (void)action;
  (void)time;
  ivars->timerFires++;
#if defined(TESTDEV_BUG_THROW_IN_TIMER)
  throw std::runtime_error("watchdog: device did not answer");  // the bug: nothing catches it
#endif
  // Each of these kills the dext process the way its name says (one variant each).
#if defined(TESTDEV_BUG_NULL_STORE)
  volatile uint32_t* registers = nullptr;  // never mapped: the bug is using it anyway
  registers[1] = ivars->timerFires;
#elif defined(TESTDEV_BUG_BUS_ERROR)
  volatile uint8_t* page = static_cast<volatile uint8_t*>(
      mmap(nullptr, 4096, PROT_READ, MAP_SHARED, memfd_create("testdev-empty", 0), 0));
  ivars->timerFires += page[0];  // the file behind the page is empty: SIGBUS
#elif defined(TESTDEV_BUG_DIVIDE_BY_ZERO)
  volatile uint32_t transfersPerFire = 0;
  ivars->timerFires = ivars->transfersOK / transfersPerFire;
#elif defined(TESTDEV_BUG_TRAP)
  __builtin_trap();
#elif defined(TESTDEV_BUG_ABORT)
  abort();
#elif defined(TESTDEV_BUG_TERMINATE)
  std::terminate();
#elif defined(TESTDEV_BUG_STACK_OVERFLOW)
  ivars->timerFires += static_cast<uint32_t>(Descend(0));
#elif defined(TESTDEV_BUG_HANG)
  volatile bool waitingForDevice = true;  // nothing ever clears it
  while (waitingForDevice) {
  }
#endif
#if defined(TESTDEV_BUG_TIMER_WHILE_OFF)
  // The bug: a periodic register poll that keeps running while the device is off.
  uint32_t status = 0;
  ivars->pci->MemoryRead32(ivars->bar0, regs::kStatus, &status);
  mach_timebase_info_data_t timebase;
  mach_timebase_info(&timebase);
  ivars->timer->WakeAtTime(kIOTimerClockMachAbsoluteTime,
                           mach_absolute_time() + 1000000ull * timebase.denom / timebase.numer, 0);
#endif
  Publish();
}

kern_return_t IMPL(TestdevDriver, SetPowerState) {
  ivars->powerChanges++;
  ivars->poweredOff = powerFlags == kIOServicePowerCapabilityOff;
  if (ivars->poweredOff && ivars->interruptSource) ivars->interruptSource->SetEnable(false);
  if (!ivars->poweredOff && ivars->interruptSource) ivars->interruptSource->SetEnable(true);
  Publish();
#if defined(TESTDEV_BUG_NO_POWER_ACK)
  return kIOReturnSuccess;  // the bug: the kernel is never told the change is done
#else
  return SetPowerState(powerFlags, SUPERDISPATCH);
#endif
}

kern_return_t IMPL(TestdevDriver, Stop) {
#if !defined(TESTDEV_BUG_NO_TEARDOWN)
  if (ivars->interruptSource) {
    ivars->interruptSource->SetEnable(false);
    ivars->interruptSource->Cancel(nullptr);
  }
  if (ivars->timer) ivars->timer->Cancel(nullptr);
  if (ivars->dma) ivars->dma->CompleteDMA(kIODMACommandCompleteDMANoOptions);
  if (ivars->pci) ivars->pci->Close(this, 0);
  OSSafeReleaseNULL(ivars->interruptSource);
  OSSafeReleaseNULL(ivars->interruptAction);
  OSSafeReleaseNULL(ivars->timer);
  OSSafeReleaseNULL(ivars->timerAction);
  OSSafeReleaseNULL(ivars->dma);
  OSSafeReleaseNULL(ivars->buffer);
  OSSafeReleaseNULL(ivars->client);
#endif
#if defined(TESTDEV_BUG_NO_SUPER_STOP)
  return kIOReturnSuccess;
#else
  return Stop(provider, SUPERDISPATCH);
#endif
}

kern_return_t IMPL(TestdevDriver, NewUserClient) {
  if (type != 0) return kIOReturnBadArgument;
  IOService* client = nullptr;
  kern_return_t ret = Create(this, "UserClientProperties", &client);
  if (ret != kIOReturnSuccess) return ret;
  *userClient = OSDynamicCast(IOUserClient, client);
  if (!*userClient) {
    client->release();
    return kIOReturnError;
  }
  return kIOReturnSuccess;  // the kernel takes over our reference
}

void TestdevDriver::CopyCounters(uint64_t counters[2]) {
  counters[0] = ivars->transfersOK;
  counters[1] = ivars->interrupts;
}

IOBufferMemoryDescriptor* TestdevDriver::Buffer() { return ivars->buffer; }

kern_return_t TestdevDriver::RunTransferFor(TestdevUserClient* client) {
  // One transfer at a time, and not before Start's own two have finished.
  if (!client || ivars->client || ivars->poweredOff || !ivars->dma || ivars->transfersOK < 2) return kIOReturnBusy;
  client->retain();
  ivars->client = client;
  return StartTransfer(true);
}

// What the tests read back: the driver's own account of what it saw.
void TestdevDriver::Publish() {
  OSDictionary* props = OSDictionary::withCapacity(8);
  if (!props) return;
  auto set = [props](const char* key, uint64_t value) {
    OSNumber* n = OSNumber::withNumber(value, 64);
    props->setObject(key, n);
    n->release();
  };
  set("InterruptIndex", ivars->interruptIndex);
  set("Interrupts", ivars->interrupts);
  set("TimerFires", ivars->timerFires);
  set("TransfersOK", ivars->transfersOK);
  set("PowerChanges", ivars->powerChanges);
  set("DataOK", ivars->dataOK ? 1 : 0);
  set("PoweredOff", ivars->poweredOff ? 1 : 0);
  set("StartsInProcess", gStartsInThisProcess);
  SetProperties(props);
  props->release();
}
