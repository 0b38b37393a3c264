#pragma once
// IOService as a dext sees it. Start, Stop and SetPowerState are messages the kernel sends to
// the dext (each dext class overrides them through iig); calling one with SUPERDISPATCH runs
// the kernel's side, which here is the harness's model of macOS (harness/driverkit/kernel).
// The other methods are calls into the kernel.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOBufferMemoryDescriptor.h>  // Apple's IOService.iig brings memory descriptors in too
#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/IOLib.h>  // in Apple's SDK IOService.h brings IOLib (IOLock, IOLog) too; code relies on it
#include <DriverKit/IOTypes.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSCollections.h>
#include <DriverKit/OSObject.h>

namespace dexthil::driverkit {
struct ServiceRecord;
}
class IOUserClient;

// A registry entry's name, as SetName takes it; a property's and a registry plane's, as
// SearchProperty takes them.
typedef char IOServiceName[128];
typedef char IOPropertyName[128];
typedef char IORegistryPlaneName[128];

// SearchProperty's option: look in the providers too, nearest first.
enum {
  kIOServiceSearchPropertyParents = 0x00000001,
};

// The name of every service's first queue, which SetDispatchQueue/CopyDispatchQueue take.
#define kIOServiceDefaultQueueName "Default"

#define IOService_Start_Args IOService* provider
#define IOService_Stop_Args IOService* provider
#define IOService_SetPowerState_Args uint32_t powerFlags
#define IOService_NewUserClient_Args uint32_t type, IOUserClient** userClient
#define IOService_Start_ID (::dexthil::iig::message_id("Start"))
#define IOService_Stop_ID (::dexthil::iig::message_id("Stop"))
#define IOService_SetPowerState_ID (::dexthil::iig::message_id("SetPowerState"))
#define IOService_NewUserClient_ID (::dexthil::iig::message_id("NewUserClient"))

class IOService : public OSObject {
  DEXTHIL_IIG_CLASS(IOService, OSObject)

 public:
  // Messages.
  kern_return_t Start(IOService* provider, OSDispatchMethod supermethod = NULL);
  kern_return_t Stop(IOService* provider, OSDispatchMethod supermethod = NULL);
  kern_return_t SetPowerState(uint32_t powerFlags, OSDispatchMethod supermethod = NULL);
  // An application called IOServiceOpen(service, task, type, &connect). The kernel's side
  // (SUPERDISPATCH) makes no client: kIOReturnUnsupported.
  kern_return_t NewUserClient(uint32_t type, IOUserClient** userClient, OSDispatchMethod supermethod = NULL);

  // Calls into the kernel.
  // Makes the service visible to matching: IOServiceNotificationDispatchSource sources of the
  // same dext that match it hear of it (nothing in the simulated machine matches drivers on a
  // dext's service yet).
  kern_return_t RegisterService();
  // A new service of the class the personality's dictionary `propertiesKey` names (IOUserClass),
  // in this dext process, attached to `provider` and started; e.g. a user client from
  // "UserClientProperties". The caller owns one reference to *result. `provider` must be the
  // calling service itself (kIOReturnUnsupported otherwise), as in xnu.
  kern_return_t Create(IOService* provider, const char* propertiesKey, IOService** result);
  kern_return_t Terminate(uint64_t options);
  kern_return_t ChangePowerState(uint32_t powerFlags);
  kern_return_t SetPowerOverride(bool enable);
  kern_return_t RequireMaxBusStall(uint64_t maxBusStall);
  kern_return_t CreatePMAssertion(uint32_t assertionBits, uint64_t* assertionID, bool synced);
  kern_return_t ReleasePMAssertion(uint64_t assertionID);
  // SetProperties merges into the registry entry's IOUserServiceProperties dictionary and
  // RemoveProperty takes a key out of it (kIOReturnNotFound before anything was set).
  // CopyProperties returns the registry entry's properties, the matched personality's keys
  // and what SetProperties put there side by side, as current xnu's CopyProperties_Local does.
  kern_return_t SetProperties(OSDictionary* properties);
  kern_return_t RemoveProperty(OSString* propertyName);
  kern_return_t CopyProperties(OSDictionary** properties);
  // The registry entry's property `name` (IOUserServiceProperties is one property: its keys are
  // inside it), else with kIOServiceSearchPropertyParents the nearest provider's in `plane`.
  // Only the "IOService" plane has providers here; in any other, only the entry itself is
  // searched, as xnu does for a plane name it does not know. kIOReturnNotFound if none has it.
  kern_return_t SearchProperty(const IOPropertyName name, const IORegistryPlaneName plane, uint64_t options,
                               OSContainer** property);
  // The service this one is attached to (its nub, or the service that Create made it below).
  IOService* GetProvider() const;
  // One dictionary per provider up the chain, nearest first, each with the keys asked for (all
  // when propertyKeys is null) that the provider has.
  kern_return_t CopyProviderProperties(OSArray* propertyKeys, OSArray** properties);
  // The busy count the kernel waits on before it calls a service quiet (ioreg's busy state);
  // kIOReturnBadArgument when it would go below zero.
  kern_return_t AdjustBusy(int32_t delta);
  // Joins the power tree; a matched service has joined after Start, so this changes nothing then.
  kern_return_t JoinPMTree();
  // The registry entry's name (its class name until SetName) and its ID, as ioreg shows them.
  kern_return_t SetName(const IOServiceName name);
  kern_return_t CopyName(OSString** name);
  kern_return_t GetRegistryEntryID(uint64_t* registryEntryID);
  kern_return_t SetDispatchQueue(const char* name, IODispatchQueue* queue);
  kern_return_t CopyDispatchQueue(const char* name, IODispatchQueue** queue);
  void free() override;

  // Host side: the kernel's record of this service (nullptr for objects the kernel never started).
  dexthil::driverkit::ServiceRecord* record() const { return record_; }
  void set_record(dexthil::driverkit::ServiceRecord* record) { record_ = record; }

 protected:
  virtual kern_return_t Start_Impl(IOService_Start_Args);
  virtual kern_return_t Stop_Impl(IOService_Stop_Args);
  virtual kern_return_t SetPowerState_Impl(IOService_SetPowerState_Args);
  virtual kern_return_t NewUserClient_Impl(IOService_NewUserClient_Args);

 private:
  dexthil::driverkit::ServiceRecord* record_ = nullptr;
  OSDictionary* properties_ = nullptr;
  std::string name_;              // set by SetName; empty: the class name
  uint64_t registry_entry_id_ = 0;  // given on first use, in the order services ask
  int64_t busy_ = 0;                // AdjustBusy's count
};

}  // extern "C++"
