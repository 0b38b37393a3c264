// The kernel's half of IOServiceNotificationDispatchSource: which registered services a source
// matches (xnu's Create_Impl: gIOMatchedNotification, then kIOMessageServiceIsTerminated).
#include <algorithm>
#include <string>
#include <vector>

#include <DriverKit/IOServiceNotificationDispatchSource.h>

#include "harness/driverkit/kernel/kernel.hpp"


namespace dexthil::driverkit {

namespace {
// An IONameMatch or IOPropertyExistsMatch value: a string, or an array of strings.
std::vector<std::string> strings_of(const OSMetaClassBase* value) {
  std::vector<std::string> out;
  if (const auto* s = OSDynamicCast(OSString, value)) out.emplace_back(s->getCStringNoCopy());
  if (const auto* a = OSDynamicCast(OSArray, value)) {
    for (std::uint32_t i = 0; i < a->getCount(); ++i) {
      if (const auto* s = OSDynamicCast(OSString, a->getObject(i))) out.emplace_back(s->getCStringNoCopy());
    }
  }
  return out;
}

bool has_all(const OSDictionary* entry, const OSDictionary* wanted) {
  bool all = true;
  wanted->iterateObjects([&](const char* key, const OSMetaClassBase* value) {
    const OSMetaClassBase* have = entry->getObject(key);
    all = have && have->isEqualTo(value);
    return !all;
  });
  return all;
}

bool unsimulated_match_key(std::string_view key) {
  return key == "IOParentMatch" || key == "IOPathMatch" || key == "IOLocationMatch";
}
}  // namespace

bool Kernel::service_matches(const OSDictionary* matching, ServiceRecord* rec) {
  OSDictionary* entry = registry_properties(rec->service, nullptr);
  if (!entry) return false;
  bool ok = true;
  matching->iterateObjects([&](const char* key, const OSMetaClassBase* value) {
    const std::string_view k(key);
    if (k == "IOProviderClass") {
      const auto* wanted = OSDynamicCast(OSString, value);
      const auto* io_class = OSDynamicCast(OSString, entry->getObject("IOClass"));
      ok = wanted && (wanted->isEqualTo("IOService") || (io_class && io_class->isEqualTo(wanted)));
    } else if (k == "IONameMatch") {
      OSString* name = nullptr;
      rec->service->CopyName(&name);
      const std::vector<std::string> names = strings_of(value);
      ok = name && std::find(names.begin(), names.end(), name->getCStringNoCopy()) != names.end();
      OSSafeReleaseNULL(name);
    } else if (k == "IOPropertyMatch") {
      // A dictionary, or an array of them of which one must hold.
      if (const auto* one = OSDynamicCast(OSDictionary, value)) {
        ok = has_all(entry, one);
      } else if (const auto* any = OSDynamicCast(OSArray, value)) {
        ok = false;
        for (std::uint32_t i = 0; i < any->getCount() && !ok; ++i) {
          if (const auto* d = OSDynamicCast(OSDictionary, any->getObject(i))) ok = has_all(entry, d);
        }
      } else {
        ok = false;
      }
    } else if (k == "IOPropertyExistsMatch") {
      const std::vector<std::string> names = strings_of(value);
      ok = !names.empty() && std::all_of(names.begin(), names.end(),
                                         [entry](const std::string& n) { return entry->getObject(n.c_str()); });
    } else if (k == "IORegistryEntryID") {
      const auto* wanted = OSDynamicCast(OSNumber, value);
      std::uint64_t id = 0;
      ok = wanted && rec->service->GetRegistryEntryID(&id) == kIOReturnSuccess && id == wanted->unsigned64BitValue();
    } else if (unsimulated_match_key(k)) {
      ok = false;
    }
    // Other keys are for a family's own matching (matchPropertyTable), which an IOUserService
    // does not have: they do not decide.
    return !ok;
  });
  entry->release();
  return ok;
}

void Kernel::notification_source_added(IOServiceNotificationDispatchSource* source) {
  notification_sources_.push_back(source);
  source->matching()->iterateObjects([this](const char* key, const OSMetaClassBase*) {
    const std::string_view k(key);
    if (unsimulated_match_key(k)) {
      not_simulated("IOServiceNotificationDispatchSource::Create", "matching on " + std::string(k),
                    "the source was made and will match nothing");
    }
    return false;
  });
  // gIOMatchedNotification: the services already registered first.
  for (auto& p : processes_) {
    if (p->crashed || p->server_name != source->server_name()) continue;
    for (auto& rec : p->services) {
      if (rec->registered && rec->stage == ServiceRecord::Stage::kStarted && service_matches(source->matching(), rec.get())) {
        source->notify(kIOServiceNotificationTypeMatched, rec->service);
      }
    }
  }
}

void Kernel::notification_source_removed(IOServiceNotificationDispatchSource* source) {
  std::erase(notification_sources_, source);
}

void Kernel::service_freed(const IOService* service) {
  for (IOServiceNotificationDispatchSource* s : notification_sources_) s->forget(service);
}

void Kernel::service_registered(IOService* service) {
  ServiceRecord* rec = record_of(service);
  if (!rec || rec->registered) return;
  rec->registered = true;
  trace(rec->name, "registered");
  const std::vector<IOServiceNotificationDispatchSource*> sources = notification_sources_;
  for (IOServiceNotificationDispatchSource* s : sources) {
    if (s->server_name() == rec->process->server_name && service_matches(s->matching(), rec)) {
      s->notify(kIOServiceNotificationTypeMatched, service);
    }
  }
}

void Kernel::service_terminating(ServiceRecord* rec) {
  const std::vector<IOServiceNotificationDispatchSource*> sources = notification_sources_;
  for (IOServiceNotificationDispatchSource* s : sources) {
    if (s->delivered_matched(rec->service)) s->notify(kIOServiceNotificationTypeTerminated, rec->service);
  }
}

}  // namespace dexthil::driverkit
