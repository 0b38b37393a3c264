// IOServiceNotificationDispatchSource: the dext's side. Which services match, and when, is the
// kernel's (Kernel::service_registered, notification_source_added, service_terminating).
#include <DriverKit/IOServiceNotificationDispatchSource.h>

#include <algorithm>

#include "harness/driverkit/kernel/kernel.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IOServiceNotificationDispatchSource, IODispatchSource);

kern_return_t IOServiceNotificationDispatchSource::Create(OSDictionary* matching, uint64_t options,
                                                          IODispatchQueue* queue,
                                                          IOServiceNotificationDispatchSource** notification) {
  (void)options;  // none defined; xnu's Create_Impl does not look at them
  if (!matching || !queue || !notification) return kIOReturnBadArgument;
  Kernel& kernel = Kernel::current();
  IOServiceNotificationDispatchSource* s = OSTypeAlloc(IOServiceNotificationDispatchSource);
  // The RPC carries a copy of the dictionary, as xnu receives it.
  s->matching_ = OSDictionary::withCapacity(matching->getCount());
  matching->iterateObjects([s](const char* key, const OSMetaClassBase* value) {
    s->matching_->setObject(key, value);
    return false;
  });
  if (const dexthil::driverkit::DextProcess* p = kernel.current_process()) {
    s->server_name_ = p->server_name;
    s->owner_ = p->id;
  }
  s->set_queue(queue);
  *notification = s;
  kernel.notification_source_added(s);
  return kIOReturnSuccess;
}

kern_return_t IOServiceNotificationDispatchSource::SetHandler(OSAction* action) {
  const kern_return_t r = IODispatchSource::SetHandler(action);
  // xnu's SetHandler_Impl: notifications already waiting are announced at once.
  const bool waiting = std::any_of(std::begin(pending_), std::end(pending_), [](const auto& p) { return !p.empty(); });
  if (r == kIOReturnSuccess && waiting && action_ && !cancelled_) action_->post(queue_, action_);
  return r;
}

void IOServiceNotificationDispatchSource::notify(uint64_t type, IOService* service) {
  if (cancelled_ || type > kIOServiceNotificationTypeLast) return;
  if (type == kIOServiceNotificationTypeMatched) {
    matched_.push_back(service);
  } else {
    std::erase(matched_, service);
  }
  service->retain();
  std::vector<IOService*>& list = pending_[type];
  list.push_back(service);
  // As xnu: ServiceNotificationReady when a kind goes from none pending to some.
  if (list.size() == 1 && action_) action_->post(queue_, action_);
}

void IOServiceNotificationDispatchSource::forget(const IOService* service) { std::erase(matched_, service); }

bool IOServiceNotificationDispatchSource::delivered_matched(const IOService* service) const {
  return std::find(matched_.begin(), matched_.end(), service) != matched_.end();
}

kern_return_t IOServiceNotificationDispatchSource::DeliverNotificationsFunction(const NotificationFunction& deliver) {
  // CopyNextNotification's order: every termination before any match.
  for (uint64_t type = kIOServiceNotificationTypeTerminated; type <= kIOServiceNotificationTypeLast;) {
    std::vector<IOService*>& list = pending_[type];
    if (list.empty()) {
      ++type;
      continue;
    }
    IOService* service = list.front();
    list.erase(list.begin());
    if (deliver) deliver(type, service, 0);
    service->release();
    type = kIOServiceNotificationTypeTerminated;  // a block may have caused another termination
  }
  return kIOReturnSuccess;
}

kern_return_t IOServiceNotificationDispatchSource::CancelFunction(std::function<void()> done) {
  if (Kernel* k = Kernel::active()) k->notification_source_removed(this);
  return IODispatchSource::CancelFunction(std::move(done));
}

void IOServiceNotificationDispatchSource::free() {
  if (Kernel* k = Kernel::active()) k->notification_source_removed(this);
  for (auto& list : pending_) {
    for (IOService* service : list) service->release();
    list.clear();
  }
  OSSafeReleaseNULL(matching_);
  IODispatchSource::free();
}
