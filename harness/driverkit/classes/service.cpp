// IOService's messages and kernel calls (include/DriverKit/IOService.h). The kernel side of each
// message is the *_Impl here, reached with SUPERDISPATCH.
#include <DriverKit/IOService.h>

#include <cstring>


#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IOService, OSObject);

kern_return_t IOService::_Dispatch(OSObject* self, const IORPC& rpc) {
  auto* service = static_cast<IOService*>(self);
  if (rpc.msgid == IOService_Start_ID) {
    return dexthil::iig::serve<kern_return_t, IOService*>(rpc, [service](IOService* p) { return service->IOService::Start_Impl(p); });
  }
  if (rpc.msgid == IOService_Stop_ID) {
    return dexthil::iig::serve<kern_return_t, IOService*>(rpc, [service](IOService* p) { return service->IOService::Stop_Impl(p); });
  }
  if (rpc.msgid == IOService_SetPowerState_ID) {
    return dexthil::iig::serve<kern_return_t, uint32_t>(
        rpc, [service](uint32_t flags) { return service->IOService::SetPowerState_Impl(flags); });
  }
  if (rpc.msgid == IOService_NewUserClient_ID) {
    return dexthil::iig::serve<kern_return_t, uint32_t, IOUserClient**>(
        rpc, [service](uint32_t type, IOUserClient** client) { return service->IOService::NewUserClient_Impl(type, client); });
  }
  return OSObject::_Dispatch(self, rpc);
}

kern_return_t IOService::Start(IOService* provider, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOService_Start_ID, "IOService::Start", supermethod,
                                           [&] { return Start_Impl(provider); }, provider);
}

kern_return_t IOService::Stop(IOService* provider, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOService_Stop_ID, "IOService::Stop", supermethod,
                                           [&] { return Stop_Impl(provider); }, provider);
}

kern_return_t IOService::SetPowerState(uint32_t powerFlags, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOService_SetPowerState_ID, "IOService::SetPowerState", supermethod,
                                           [&] { return SetPowerState_Impl(powerFlags); }, powerFlags);
}

kern_return_t IOService::NewUserClient(uint32_t type, IOUserClient** userClient, OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOService_NewUserClient_ID, "IOService::NewUserClient", supermethod,
                                           [&] { return NewUserClient_Impl(type, userClient); }, type, userClient);
}

// The kernel's side of the messages.
kern_return_t IOService::Start_Impl(IOService* provider) {
  (void)provider;
  if (Kernel* k = Kernel::active()) k->super_start(this);
  return kIOReturnSuccess;
}

kern_return_t IOService::Stop_Impl(IOService* provider) {
  (void)provider;
  if (Kernel* k = Kernel::active()) k->super_stop(this);
  return kIOReturnSuccess;
}

kern_return_t IOService::SetPowerState_Impl(uint32_t powerFlags) {
  Kernel* k = Kernel::active();
  return k ? k->acknowledge_power(this, powerFlags) : kIOReturnNotReady;
}

kern_return_t IOService::NewUserClient_Impl(uint32_t, IOUserClient**) { return kIOReturnUnsupported; }

kern_return_t IOService::RegisterService() {
  if (Kernel* k = Kernel::active()) k->service_registered(this);
  return kIOReturnSuccess;
}
kern_return_t IOService::Create(IOService* provider, const char* propertiesKey, IOService** result) {
  return Kernel::current().create_service(this, provider, propertiesKey, result);
}
kern_return_t IOService::Terminate(uint64_t) { return Kernel::current().terminate(this); }
kern_return_t IOService::ChangePowerState(uint32_t powerFlags) { return Kernel::current().change_power_state(this, powerFlags); }
kern_return_t IOService::SetPowerOverride(bool enable) { return Kernel::current().set_power_override(this, enable); }
kern_return_t IOService::RequireMaxBusStall(uint64_t maxBusStall) {
  return Kernel::current().require_max_bus_stall(this, maxBusStall);
}
kern_return_t IOService::CreatePMAssertion(uint32_t assertionBits, uint64_t* assertionID, bool synced) {
  return Kernel::current().create_pm_assertion(this, assertionBits, assertionID, synced);
}
kern_return_t IOService::ReleasePMAssertion(uint64_t assertionID) {
  auto* rec = record();
  if (!rec || !rec->pm_assertions.erase(assertionID)) return kIOReturnBadArgument;
  return kIOReturnSuccess;
}

kern_return_t IOService::SetProperties(OSDictionary* properties) {
  if (!properties) return kIOReturnBadArgument;
  // A dext's properties live in one dictionary of its registry entry, IOUserServiceProperties;
  // each call merges into it.
  if (!properties_) properties_ = OSDictionary::withCapacity(properties->getCount());
  properties->iterateObjects([this](const char* key, const OSMetaClassBase* value) {
    properties_->setObject(key, value);
    return false;
  });
  if (Kernel* k = Kernel::active()) k->properties_published(this, properties_);
  return kIOReturnSuccess;
}

kern_return_t IOService::RemoveProperty(OSString* propertyName) {
  // xnu's RemoveProperty_Impl: no name is kIOReturnUnsupported; without an
  // IOUserServiceProperties dictionary there is nothing to remove from.
  if (!propertyName) return kIOReturnUnsupported;
  if (!properties_) return kIOReturnNotFound;
  properties_->removeObject(propertyName->getCStringNoCopy());
  if (Kernel* k = Kernel::active()) k->properties_published(this, properties_);
  return kIOReturnSuccess;
}

kern_return_t IOService::CopyProperties(OSDictionary** properties) {
  if (!properties) return kIOReturnBadArgument;
  Kernel* k = Kernel::active();
  OSDictionary* dict = k ? k->registry_properties(this, properties_) : nullptr;
  *properties = dict;
  if (!dict) return kIOReturnNoMemory;
  // Current xnu (CopyProperties_Local) lifts IOUserServiceProperties' keys to the top level and
  // drops the dictionary itself; earlier releases returned it nested.
  if (auto* user = OSDynamicCast(OSDictionary, dict->getObject("IOUserServiceProperties"))) {
    user->retain();
    dict->removeObject("IOUserServiceProperties");
    user->iterateObjects([dict](const char* key, const OSMetaClassBase* value) {
      dict->setObject(key, value);
      return false;
    });
    user->release();
  }
  return kIOReturnSuccess;
}

kern_return_t IOService::SearchProperty(const IOPropertyName name, const IORegistryPlaneName plane, uint64_t options,
                                        OSContainer** property) {
  if (!name || !property) return kIOReturnBadArgument;
  const bool parents = (options & kIOServiceSearchPropertyParents) && plane && std::strcmp(plane, "IOService") == 0;
  OSObject* found = Kernel::current().search_property(this, name, parents, properties_);
  // Every registry property is an OSContainer (string, number, data, boolean, array, dictionary).
  *property = OSDynamicCast(OSContainer, found);
  if (found && !*property) found->release();
  return *property ? kIOReturnSuccess : kIOReturnNotFound;
}

IOService* IOService::GetProvider() const {
  Kernel* k = Kernel::active();
  return k ? k->provider_of(this) : nullptr;
}

kern_return_t IOService::CopyProviderProperties(OSArray* propertyKeys, OSArray** properties) {
  if (!properties) return kIOReturnBadArgument;
  *properties = Kernel::current().provider_properties(this, propertyKeys);
  return *properties ? kIOReturnSuccess : kIOReturnNotFound;
}

kern_return_t IOService::AdjustBusy(int32_t delta) {
  if (busy_ + delta < 0) return kIOReturnBadArgument;
  busy_ += delta;
  return kIOReturnSuccess;
}

kern_return_t IOService::JoinPMTree() { return Kernel::current().join_power_tree_now(this); }

kern_return_t IOService::SetName(const IOServiceName name) {
  if (!name) return kIOReturnBadArgument;
  name_.assign(name, strnlen(name, sizeof(IOServiceName)));
  return kIOReturnSuccess;
}

kern_return_t IOService::CopyName(OSString** name) {
  if (!name) return kIOReturnBadArgument;
  *name = OSString::withCString(name_.empty() ? getMetaClass()->getClassName() : name_.c_str());
  return *name ? kIOReturnSuccess : kIOReturnNoMemory;
}

kern_return_t IOService::GetRegistryEntryID(uint64_t* registryEntryID) {
  if (!registryEntryID) return kIOReturnBadArgument;
  if (!registry_entry_id_) registry_entry_id_ = Kernel::current().next_registry_entry_id();
  *registryEntryID = registry_entry_id_;
  return kIOReturnSuccess;
}

kern_return_t IOService::SetDispatchQueue(const char* name, IODispatchQueue* queue) {
  return Kernel::current().set_dispatch_queue(this, name, queue);
}

kern_return_t IOService::CopyDispatchQueue(const char* name, IODispatchQueue** queue) {
  if (!name || !queue || !record()) return kIOReturnBadArgument;
  auto& queues = record()->queues;
  auto it = queues.find(name);
  if (it == queues.end()) return kIOReturnNotFound;
  it->second->retain();
  *queue = it->second;
  return kIOReturnSuccess;
}

void IOService::free() {
  if (Kernel* k = Kernel::active()) k->service_freed(this);
  OSSafeReleaseNULL(properties_);
  OSObject::free();
}
