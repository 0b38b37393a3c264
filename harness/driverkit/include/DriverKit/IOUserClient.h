#pragma once
// IOUserClient: the dext's end of a connection an application opens with IOServiceOpen. The
// kernel asks the driver's service for one with NewUserClient (usually IOService::Create from
// the personality's UserClientProperties), starts it, and hands it IOConnectCallMethod calls as
// ExternalMethod. In the harness the application is simulated: driverkit::UserClientConnection
// (harness/driverkit/kernel) opens, calls, maps memory, receives async completions and closes.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOMemoryDescriptor.h>
#include <DriverKit/IOService.h>
#include <DriverKit/OSAction.h>

namespace dexthil::driverkit {
class UserClientConnection;
}

enum { kIOUserClientScalarArrayCountMax = 16 };
typedef uint64_t IOUserClientScalarArray[kIOUserClientScalarArrayCountMax];
enum { kIOUserClientAsyncReferenceCountMax = 16 };
typedef uint64_t IOUserClientAsyncReferenceArray[kIOUserClientAsyncReferenceCountMax];
enum { kIOUserClientAsyncArgumentsCountMax = 16 };
typedef uint64_t IOUserClientAsyncArgumentsArray[kIOUserClientAsyncArgumentsCountMax];

// The queue ExternalMethod runs on when the user client set one by this name
// (SetDispatchQueue); without it, the Default queue.
#define kIOUserClientQueueNameExternalMethod "IOUserClientQueueExternalMethod"

// CopyClientMemoryForType's options.
enum { kIOUserClientMemoryReadOnly = 0x00000001 };

// In IOUserClientMethodDispatch: the size or count is not checked.
enum : uint32_t { kIOUserClientVariableStructureSize = 0xffffffff };

#define IO_USER_CLIENT_METHOD_ARGUMENTS_CURRENT_VERSION 2
enum { kIOUserClientMethodArgumentsCurrentVersion = IO_USER_CLIENT_METHOD_ARGUMENTS_CURRENT_VERSION };

// One IOConnectCallMethod / IOConnectCallAsyncMethod. Anything the caller did not pass is NULL.
struct IOUserClientMethodArguments {
  uint64_t version;
  uint64_t selector;
  OSAction* completion;  // async calls only; retain it to use it after ExternalMethod returns
  const uint64_t* scalarInput;
  uint32_t scalarInputCount;
  OSData* structureInput;
  IOMemoryDescriptor* structureInputDescriptor;  // large structures only (then structureInput is NULL)
  uint64_t* scalarOutput;
  uint32_t scalarOutputCount;  // in: room the caller gave; out: scalars returned
  OSData* structureOutput;     // set by the driver to an OSData it created; the OS releases it
  IOMemoryDescriptor* structureOutputDescriptor;
  uint64_t structureOutputMaximumSize;
  uint64_t __reserved[30];
};

typedef kern_return_t (*IOUserClientMethodFunction)(OSObject* target, void* reference,
                                                    IOUserClientMethodArguments* arguments);

// What IOUserClient::ExternalMethod checks before calling `function`: each check is an exact
// value, or kIOUserClientVariableStructureSize for "any". checkCompletionExists: 1 an async call
// is required, 0 a synchronous one, -1U either.
struct IOUserClientMethodDispatch {
  IOUserClientMethodFunction function;
  uint32_t checkCompletionExists;
  uint32_t checkScalarInputCount;
  uint32_t checkStructureInputSize;
  uint32_t checkScalarOutputCount;
  uint32_t checkStructureOutputSize;
};

#define IOUserClient_CopyClientMemoryForType_Args uint64_t type, uint64_t* options, IOMemoryDescriptor** memory
#define IOUserClient_CopyClientMemoryForType_ID (::dexthil::iig::message_id("CopyClientMemoryForType"))
// The message an IOConnectCallMethod is delivered as (ExternalMethod runs inside it).
#define IOUserClient__ExternalMethod_ID (::dexthil::iig::message_id("_ExternalMethod"))

class IOUserClient : public IOService {
  DEXTHIL_IIG_CLASS(IOUserClient, IOService)

 public:
  // IOConnectCallMethod lands here, on the client's kIOUserClientQueueNameExternalMethod queue
  // if it set one, else its Default queue. A driver overrides it to pick
  // a dispatch entry for the selector and calls this base version, which applies the entry's
  // checks (kIOReturnBadArgument when one fails) and calls its function; with no function it
  // returns kIOReturnNoCompletion, and with no entry kIOReturnUnsupported.
  virtual kern_return_t ExternalMethod(uint64_t selector, IOUserClientMethodArguments* arguments,
                                       const IOUserClientMethodDispatch* dispatch, OSObject* target, void* reference);
  // Delivers an async call's results to the application (IOConnectCallAsyncMethod's callback).
  virtual void AsyncCompletion(OSAction* action, IOReturn status, const IOUserClientAsyncArgumentsArray asyncData,
                               uint32_t asyncDataCount);
  // IOConnectMapMemory asks for the memory of a type (a message: the driver implements it).
  kern_return_t CopyClientMemoryForType(uint64_t type, uint64_t* options, IOMemoryDescriptor** memory,
                                        OSDispatchMethod supermethod = NULL);
  // Describes ranges of the client task's memory. The simulated application has no address
  // space of its own, so this returns kIOReturnUnsupported.
  virtual kern_return_t CreateMemoryDescriptorFromClient(uint64_t memoryDescriptorCreateOptions, uint32_t segmentsCount,
                                                         const IOAddressSegment segments[32], IOMemoryDescriptor** memory);

  // The entitlements of the application that opened this connection (its code signature's), as a
  // new dictionary; kIOReturnNotFound once the connection is closed.
  kern_return_t CopyClientEntitlements(OSDictionary** entitlements);
  const char* _RoutedQueue(uint64_t msgid) const override;
  bool _DeclaresQueue(const char* name) const override;

  // Host side: the simulated application's connection (nullptr once closed).
  dexthil::driverkit::UserClientConnection* connection() const { return connection_; }
  void set_connection(dexthil::driverkit::UserClientConnection* c) { connection_ = c; }

 protected:
  virtual kern_return_t CopyClientMemoryForType_Impl(IOUserClient_CopyClientMemoryForType_Args);

 private:
  dexthil::driverkit::UserClientConnection* connection_ = nullptr;
};

}  // extern "C++"
