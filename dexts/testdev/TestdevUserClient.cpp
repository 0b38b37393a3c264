// TestdevUserClient: what an application can do with the test device through IOConnect calls.
// It keeps a reference to its provider, TestdevDriver, and runs driver work on the driver's
// Default queue, so the driver's state is only ever touched there.

#include <DriverKit/DriverKit.h>

#include "TestdevDriver.h"
#include "TestdevUserClient.h"

struct TestdevUserClient_IVars {
  TestdevDriver* driver;
  IODispatchQueue* driverQueue;
  OSAction* pendingCompletion;  // RunTransfer's, until the transfer ends
};

bool TestdevUserClient::init() {
  if (!super::init()) return false;
  ivars = IONewZero(TestdevUserClient_IVars, 1);
  return ivars != nullptr;
}

void TestdevUserClient::free() {
  IOSafeDeleteNULL(ivars, TestdevUserClient_IVars, 1);
  super::free();
}

kern_return_t IMPL(TestdevUserClient, Start) {
  kern_return_t ret = Start(provider, SUPERDISPATCH);
  if (ret != kIOReturnSuccess) return ret;
  ivars->driver = OSDynamicCast(TestdevDriver, provider);
  if (!ivars->driver) return kIOReturnBadArgument;
  ivars->driver->retain();
  return ivars->driver->CopyDispatchQueue("Default", &ivars->driverQueue);
}

kern_return_t IMPL(TestdevUserClient, Stop) {
  // A transfer still running will find no one to tell; its completion is dropped with us.
  OSSafeReleaseNULL(ivars->pendingCompletion);
  OSSafeReleaseNULL(ivars->driverQueue);
  OSSafeReleaseNULL(ivars->driver);
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t TestdevUserClient::ExternalMethod(uint64_t selector, IOUserClientMethodArguments* arguments,
                                                const IOUserClientMethodDispatch* dispatch, OSObject* target,
                                                void* reference) {
  // Each selector's argument shape is checked by IOUserClient::ExternalMethod through a dispatch
  // entry without a function (it then answers kIOReturnNoCompletion), and handled here.
  if (!ivars->driver) return kIOReturnNotReady;
  switch (selector) {
    case 0: {
      static const IOUserClientMethodDispatch check = {nullptr, 0, 0, 0, 2, 0};
      kern_return_t ret = super::ExternalMethod(selector, arguments, &check, target, reference);
      if (ret != kIOReturnNoCompletion) return ret;  // a check failed
      uint64_t counters[2] = {};
      uint64_t* out = counters;  // blocks cannot capture arrays
      TestdevDriver* driver = ivars->driver;
      ivars->driverQueue->DispatchSync(^{ driver->CopyCounters(out); });
      arguments->scalarOutput[0] = counters[0];
      arguments->scalarOutput[1] = counters[1];
      return kIOReturnSuccess;
    }
    case 1: {
      static const IOUserClientMethodDispatch check = {nullptr, 1, 0, 0, 0, 0};
      kern_return_t ret = super::ExternalMethod(selector, arguments, &check, target, reference);
      if (ret != kIOReturnNoCompletion) return ret;
      if (ivars->pendingCompletion) return kIOReturnBusy;
      arguments->completion->retain();  // it outlives this call
      ivars->pendingCompletion = arguments->completion;
      __block kern_return_t started = kIOReturnError;
      TestdevDriver* driver = ivars->driver;
      TestdevUserClient* client = this;
      ivars->driverQueue->DispatchSync(^{ started = driver->RunTransferFor(client); });
      if (started != kIOReturnSuccess) OSSafeReleaseNULL(ivars->pendingCompletion);
      return started;
    }
    case 2: {
      static const IOUserClientMethodDispatch check = {nullptr, 0, 1, 0, 0, kIOUserClientVariableStructureSize};
      kern_return_t ret = super::ExternalMethod(selector, arguments, &check, target, reference);
      if (ret != kIOReturnNoCompletion) return ret;
      const uint64_t length = arguments->scalarInput[0];
      if (length == 0 || length > arguments->structureOutputMaximumSize) return kIOReturnBadArgument;
      __block IOBufferMemoryDescriptor* buffer = nullptr;
      TestdevDriver* driver = ivars->driver;
      ivars->driverQueue->DispatchSync(^{
        buffer = driver->Buffer();
        if (buffer) buffer->retain();
      });
      if (!buffer) return kIOReturnNotReady;
      IOAddressSegment range = {};
      buffer->GetAddressRange(&range);
      if (length > range.length) {
        buffer->release();
        return kIOReturnBadArgument;
      }
      arguments->structureOutput = OSData::withBytes(reinterpret_cast<const void*>(range.address), length);
      buffer->release();
      return arguments->structureOutput ? kIOReturnSuccess : kIOReturnNoMemory;
    }
    default:
      return super::ExternalMethod(selector, arguments, nullptr, target, reference);  // kIOReturnUnsupported
  }
}

kern_return_t IMPL(TestdevUserClient, CopyClientMemoryForType) {
  if (type != 0 || !options || !memory) return kIOReturnBadArgument;
  __block IOBufferMemoryDescriptor* buffer = nullptr;
  TestdevDriver* driver = ivars->driver;
  ivars->driverQueue->DispatchSync(^{
    buffer = driver->Buffer();
    if (buffer) buffer->retain();  // the caller consumes this reference
  });
  if (!buffer) return kIOReturnNotReady;
  *options = kIOUserClientMemoryReadOnly;
  *memory = buffer;
  return kIOReturnSuccess;
}

// Called by the driver, on its queue, when the transfer RunTransfer started has ended.
void TestdevUserClient::TransferFinished(uint32_t status, uint32_t transfers) {
  if (!ivars->pendingCompletion) return;
  IOUserClientAsyncArgumentsArray data = {};
  data[0] = status;
  data[1] = transfers;
  AsyncCompletion(ivars->pendingCompletion, kIOReturnSuccess, data, 2);
  OSSafeReleaseNULL(ivars->pendingCompletion);
}
