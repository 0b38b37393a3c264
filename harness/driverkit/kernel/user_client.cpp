// The simulated application's connections to dext user clients, and the kernel's part in them:
// NewUserClient, IOService::Create, ExternalMethod calls, memory mapping, async completions.
#include "harness/driverkit/kernel/user_client.hpp"

#include <cstring>

#include <DriverKit/IOUserClient.h>
#include <DriverKit/OSData.h>

#include <algorithm>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

namespace dexthil::driverkit {

namespace {
constexpr std::uint64_t kExternalMethodId = IOUserClient__ExternalMethod_ID;
constexpr std::uint64_t kAsyncCompletionId = ::dexthil::iig::message_id("AsyncCompletion");
}  // namespace

UserClientConnection::UserClientConnection(Kernel& kernel) : kernel_(kernel) {}

UserClientConnection::~UserClientConnection() = default;

void UserClientConnection::opened(kern_return_t result, IOUserClient* client) {
  open_result_ = result;
  client_ = client;
  if (client_) client_->set_connection(this);
}

void UserClientConnection::release_objects() {
  for (auto& m : mappings_) OSSafeReleaseNULL(m->memory);
}

void UserClientConnection::async_completion(IOReturn status, const std::uint64_t* data, std::uint32_t count) {
  AsyncResult r;
  r.status = status;
  if (data) r.data.assign(data, data + std::min<std::uint32_t>(count, kIOUserClientAsyncArgumentsCountMax));
  r.at = kernel_.sim().now();
  async_results_.push_back(std::move(r));
}

std::shared_ptr<MethodCall> UserClientConnection::call(MethodCall request) {
  auto call = std::make_shared<MethodCall>(std::move(request));
  ServiceRecord* rec = client_ && !closed_ ? client_->record() : nullptr;
  if (!rec) {
    call->result = kIOReturnNotOpen;
    return call;
  }
  rec->kernel_queue->dispatch_async([this, call, client = client_] {
    if (closed_) {
      call->result = kIOReturnNotOpen;
      return;
    }
    IOUserClientMethodArguments args{};
    args.version = kIOUserClientMethodArgumentsCurrentVersion;
    args.selector = call->selector;
    args.scalarInput = call->scalar_input.empty() ? nullptr : call->scalar_input.data();
    args.scalarInputCount = static_cast<std::uint32_t>(call->scalar_input.size());
    IOUserClientScalarArray scalars{};
    args.scalarOutput = scalars;
    args.scalarOutputCount = std::min<std::uint32_t>(call->scalar_output_count, kIOUserClientScalarArrayCountMax);
    args.structureOutputMaximumSize = call->structure_output_maximum;
    kern_return_t result = kIOReturnIPCError;
    // The OS objects the call carries are the kernel's, made for this call.
    const kern_return_t delivered = kernel_.deliver(client, kExternalMethodId, "IOUserClient::_ExternalMethod", true, [&] {
      if (!call->structure_input.empty()) {
        args.structureInput = OSData::withBytes(call->structure_input.data(), call->structure_input.size());
      }
      if (call->async) OSAction::Create(client, 0, kAsyncCompletionId, 0, &args.completion);
      result = client->ExternalMethod(call->selector, &args, nullptr, nullptr, nullptr);
      OSSafeReleaseNULL(args.structureInput);
      OSSafeReleaseNULL(args.completion);
      if (args.structureOutput) {
        const auto* bytes = static_cast<const std::uint8_t*>(args.structureOutput->getBytesNoCopy());
        call->structure_output.assign(bytes, bytes + args.structureOutput->getLength());
        OSSafeReleaseNULL(args.structureOutput);  // the OS consumes the driver's reference
      }
    });
    call->result = delivered == kIOReturnSuccess ? result : delivered;
    const std::uint32_t returned = std::min<std::uint32_t>(args.scalarOutputCount, kIOUserClientScalarArrayCountMax);
    call->scalar_output.assign(scalars, scalars + returned);
    if (call->structure_output.size() > call->structure_output_maximum) {
      call->structure_output.resize(call->structure_output_maximum);  // the app's buffer is only this big
    }
  });
  return call;
}

std::shared_ptr<UserClientConnection::Mapping> UserClientConnection::map_memory(std::uint64_t type) {
  auto mapping = std::make_shared<Mapping>();
  ServiceRecord* rec = client_ && !closed_ ? client_->record() : nullptr;
  if (!rec) {
    mapping->result = kIOReturnNotOpen;
    return mapping;
  }
  mappings_.push_back(mapping);
  rec->kernel_queue->dispatch_async([this, mapping, type, client = client_] {
    if (closed_) {
      mapping->result = kIOReturnNotOpen;
      return;
    }
    IOMemoryDescriptor* memory = nullptr;
    const kern_return_t result = client->CopyClientMemoryForType(type, &mapping->options, &memory);
    mapping->result = result;
    if (result == kIOReturnSuccess && !memory) mapping->result = kIOReturnNoMemory;
    if (mapping->result == kIOReturnSuccess) mapping->memory = memory;
  });
  return mapping;
}

std::vector<std::uint8_t> UserClientConnection::read(const Mapping& mapping, std::uint64_t offset,
                                                     std::uint64_t length) const {
  // Bounds first: the length is the application's, and may be anything.
  if (!mapping.memory || offset > mapping.memory->length() || length > mapping.memory->length() - offset) return {};
  std::vector<std::uint8_t> bytes(length);
  if (!mapping.memory->read_bytes(offset, length, bytes.data())) return {};
  return bytes;
}

bool UserClientConnection::write(const Mapping& mapping, std::uint64_t offset, const std::vector<std::uint8_t>& bytes) {
  if (!mapping.memory || (mapping.options & kIOUserClientMemoryReadOnly)) return false;
  return mapping.memory->write_bytes(offset, bytes.size(), bytes.data());
}

void UserClientConnection::close() {
  if (closed_ || !client_) {
    closed_ = true;
    return;
  }
  closed_ = true;
  ServiceRecord* rec = client_->record();
  if (!rec) return;
  rec->kernel_queue->dispatch_async([this, rec] { kernel_.close_user_client(this, rec); });
}

// ---- the kernel's side ----

UserClientConnection* Kernel::open_user_client(const ServiceRecord* service, std::uint32_t type) {
  const ServiceRecord* rec = service;
  connections_.push_back(std::make_unique<UserClientConnection>(*this));
  UserClientConnection* connection = connections_.back().get();
  if (!rec || rec->stage != ServiceRecord::Stage::kStarted || rec->process->crashed) {
    connection->opened(kIOReturnNotReady, nullptr);  // no started service to open
    return connection;
  }
  rec->kernel_queue->dispatch_async([this, rec, type, connection] {
    IOUserClient* client = nullptr;
    kern_return_t result = rec->service->NewUserClient(type, &client);
    if (rec->process->crashed) result = kIOReturnIPCError;
    if (result == kIOReturnSuccess && (!client || !client->record())) {
      trace(rec->name, "NewUserClient gave no started client");
      monitor_.emit(monitor::UserClientRefused{sim_.now(), rec->name, rec->process->nub->location, rec->class_name,
                                               monitor::UserClientRefused::Reason::kNoStartedClient, "", ""});
      if (client) client->release();
      client = nullptr;
      result = kIOReturnInternalError;
    }
    connection->opened(result, result == kIOReturnSuccess ? client : nullptr);
  });
  return connection;
}

void Kernel::close_user_client(UserClientConnection* connection, ServiceRecord* rec) {
  IOUserClient* client = connection->client();
  if (rec->process->crashed) return;  // a crashed process's objects are never freed
  const auto drop = [connection, client] {
    client->set_connection(nullptr);
    connection->release_objects();
    client->release();  // the reference NewUserClient handed the kernel
  };
  auto queue = rec->queues.find("Default");
  if (queue != rec->queues.end()) queue->second->host().dispatch_sync(drop);
  else drop();
  stop_service(rec);
}

kern_return_t Kernel::create_service(IOService* self, IOService* provider, const char* key, IOService** result) {
  // xnu's IOService::Create_Impl makes services only below the caller itself.
  if (provider != self) return kIOReturnUnsupported;
  DextProcess* p = current_process();
  if (!p || !provider || !key || !result) return kIOReturnBadArgument;
  *result = nullptr;
  const ServiceRecord* caller = record_of(self);
  auto properties = p->personality ? p->personality->service_properties.find(key)
                                   : std::map<std::string, ServiceProperties>::const_iterator{};
  if (!p->personality || properties == p->personality->service_properties.end()) {
    const std::string& service = caller ? caller->name : p->user_class;
    trace(service, std::string("IOService::Create found no \"") + key + "\"");
    monitor_.emit(monitor::UserClientRefused{sim_.now(), service, p->nub->location,
                                             caller ? std::string_view(caller->class_name) : "",
                                             monitor::UserClientRefused::Reason::kNoServiceProperties, key,
                                             p->personality ? std::string_view(p->personality->name) : ""});
    return kIOReturnNotFound;
  }
  const DextClass* cls = nullptr;
  for (const DextClass& c : p->dext->classes) {
    if (c.name == properties->second.user_class) cls = &c;
  }
  auto record = std::make_unique<ServiceRecord>();
  ServiceRecord* rec = record.get();
  rec->process = p;
  rec->provider = provider;
  rec->class_name = properties->second.user_class;
  rec->io_class = properties->second.io_class;
  rec->name = rec->class_name + "@" + p->nub->location;
  rec->kernel_queue = make_kernel_queue("kernel." + rec->name);
  p->services.push_back(std::move(record));
  kern_return_t started = kIOReturnError;
  rec->kernel_queue->dispatch_sync([&] {
    if (!instantiate(p, rec, cls, /*created=*/true)) return;
    rec->stage = ServiceRecord::Stage::kStarting;
    started = rec->service->Start(provider);
    if (p->crashed) return;
    if (started != kIOReturnSuccess) {
      rec->stage = ServiceRecord::Stage::kStartFailed;
      start_failed(rec, monitor::ServiceStartFailed::Reason::kStartFailed, started, /*created=*/true);
      return;
    }
    rec->stage = ServiceRecord::Stage::kStarted;
  });
  if (rec->stage != ServiceRecord::Stage::kStarted) return started == kIOReturnSuccess ? kIOReturnError : started;
  rec->service->retain();  // the caller's reference
  *result = rec->service;
  return kIOReturnSuccess;
}

}  // namespace dexthil::driverkit

// ---- IOUserClient, the dext's class ----

DEXTHIL_DEFINE_METACLASS(IOUserClient, IOService);

kern_return_t IOUserClient::_Dispatch(OSObject* self, const IORPC& rpc) {
  auto* client = static_cast<IOUserClient*>(self);
  if (rpc.msgid == IOUserClient_CopyClientMemoryForType_ID) {
    return dexthil::iig::serve<kern_return_t, uint64_t, uint64_t*, IOMemoryDescriptor**>(
        rpc, [client](uint64_t type, uint64_t* options, IOMemoryDescriptor** memory) {
          return client->IOUserClient::CopyClientMemoryForType_Impl(type, options, memory);
        });
  }
  return IOService::_Dispatch(self, rpc);
}

kern_return_t IOUserClient::ExternalMethod(uint64_t selector, IOUserClientMethodArguments* arguments,
                                           const IOUserClientMethodDispatch* dispatch, OSObject* target, void* reference) {
  (void)selector;
  if (!dispatch) return kIOReturnUnsupported;  // the driver has no entry for this selector
  if (!arguments) return kIOReturnBadArgument;
  const auto any = kIOUserClientVariableStructureSize;
  const uint64_t input_size = arguments->structureInput ? arguments->structureInput->getLength()
                              : arguments->structureInputDescriptor ? arguments->structureInputDescriptor->length()
                                                                    : 0;
  if (dispatch->checkCompletionExists != any && (dispatch->checkCompletionExists != 0) != (arguments->completion != nullptr)) {
    return kIOReturnBadArgument;
  }
  if (dispatch->checkScalarInputCount != any && dispatch->checkScalarInputCount != arguments->scalarInputCount) {
    return kIOReturnBadArgument;
  }
  if (dispatch->checkStructureInputSize != any && dispatch->checkStructureInputSize != input_size) return kIOReturnBadArgument;
  if (dispatch->checkScalarOutputCount != any && dispatch->checkScalarOutputCount != arguments->scalarOutputCount) {
    return kIOReturnBadArgument;
  }
  if (dispatch->checkStructureOutputSize != any &&
      dispatch->checkStructureOutputSize != arguments->structureOutputMaximumSize) {
    return kIOReturnBadArgument;
  }
  if (!dispatch->function) return kIOReturnNoCompletion;
  return dispatch->function(target ? target : this, reference, arguments);
}

void IOUserClient::AsyncCompletion(OSAction* action, IOReturn status, const IOUserClientAsyncArgumentsArray asyncData,
                                   uint32_t asyncDataCount) {
  if (!action || !connection_) return;  // the application closed the connection: nothing to deliver to
  connection_->async_completion(status, asyncData, asyncDataCount);
}

kern_return_t IOUserClient::CopyClientMemoryForType(uint64_t type, uint64_t* options, IOMemoryDescriptor** memory,
                                                    OSDispatchMethod supermethod) {
  return dexthil::iig::send<kern_return_t>(this, IOUserClient_CopyClientMemoryForType_ID,
                                           "IOUserClient::CopyClientMemoryForType", supermethod,
                                           [&] { return CopyClientMemoryForType_Impl(type, options, memory); }, type,
                                           options, memory);
}

kern_return_t IOUserClient::CopyClientMemoryForType_Impl(uint64_t, uint64_t*, IOMemoryDescriptor**) {
  return kIOReturnUnsupported;
}

const char* IOUserClient::_RoutedQueue(uint64_t msgid) const {
  return msgid == dexthil::driverkit::kExternalMethodId ? kIOUserClientQueueNameExternalMethod : IOService::_RoutedQueue(msgid);
}

bool IOUserClient::_DeclaresQueue(const char* name) const {
  return std::strcmp(name, kIOUserClientQueueNameExternalMethod) == 0 || IOService::_DeclaresQueue(name);
}

kern_return_t IOUserClient::CopyClientEntitlements(OSDictionary** entitlements) {
  if (!entitlements) return kIOReturnBadArgument;
  *entitlements = nullptr;
  if (!connection_) return kIOReturnNotFound;
  OSDictionary* dict = OSDictionary::withCapacity(connection_->entitlements().size());
  for (const auto& [key, value] : connection_->entitlements()) {
    OSObject* object = nullptr;
    if (const auto* flag = std::get_if<bool>(&value)) {
      dict->setObject(key.c_str(), *flag ? kOSBooleanTrue : kOSBooleanFalse);
      continue;
    }
    if (const auto* text = std::get_if<std::string>(&value)) object = OSString::withCString(text->c_str());
    else object = OSNumber::withNumber(std::get<std::uint64_t>(value), 64);
    dict->setObject(key.c_str(), object);
    object->release();
  }
  *entitlements = dict;
  return kIOReturnSuccess;
}

kern_return_t IOUserClient::CreateMemoryDescriptorFromClient(uint64_t, uint32_t, const IOAddressSegment[32],
                                                             IOMemoryDescriptor** memory) {
  if (memory) *memory = nullptr;
  return kIOReturnUnsupported;
}
