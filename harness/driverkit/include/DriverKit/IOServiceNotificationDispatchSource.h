#pragma once
// IOServiceNotificationDispatchSource: services matching a dictionary, matched and terminated,
// as xnu's IOServiceNotificationDispatchSource::Create_Impl delivers them. A service is matched
// once it called RegisterService (the kernel's gIOMatchedNotification, existing services
// included) and terminated when its termination starts, before its Stop. Only services of the
// subscriber's own dext (the same IOUserServerName) are delivered: xnu's other route, a
// publisher entitled to publish and a subscriber entitled to see it, is not simulated, and
// kernel nubs (IOPCIDevice ...) never are, as in xnu. ServiceNotificationReady is sent when the
// first notification of a kind is pending (or at SetHandler, if some are); DeliverNotifications
// hands them over, terminations first, as CopyNextNotification orders them.
//
// Matching keys: IOProviderClass (the entry's IOClass or IOService), IONameMatch (the entry's
// name), IOPropertyMatch (a dictionary, or an array of them, of the entry's own properties),
// IOPropertyExistsMatch, IORegistryEntryID. IOParentMatch, IOPathMatch and IOLocationMatch are
// not simulated: such a dictionary matches nothing, and the run says so (dext.not-simulated).
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IODispatchSource.h>
#include <DriverKit/IOService.h>

#define IOServiceNotificationDispatchSource_ServiceNotificationReady_Args OSAction* action
#define IOServiceNotificationDispatchSource_ServiceNotificationReady_ID \
  (::dexthil::iig::message_id("ServiceNotificationReady"))

enum {
  kIOServiceNotificationTypeTerminated = 0x00000000,
  kIOServiceNotificationTypeMatched = 0x00000001,
  kIOServiceNotificationTypeLast = kIOServiceNotificationTypeMatched,
  kIOServiceNotificationTypeNone = 0xFFFFFFFF,
};

#if defined(__BLOCKS__)
typedef void (^IOServiceNotificationBlock)(uint64_t type, IOService* service, uint64_t options);
#endif

class IOServiceNotificationDispatchSource : public IODispatchSource {
  DEXTHIL_METACLASS(IOServiceNotificationDispatchSource, IODispatchSource)

 public:
  // `options`: none defined, pass 0. The caller owns one reference to *notification.
  static kern_return_t Create(OSDictionary* matching, uint64_t options, IODispatchQueue* queue,
                              IOServiceNotificationDispatchSource** notification);
  kern_return_t SetHandler(OSAction* action);
#if defined(__BLOCKS__)
  kern_return_t DeliverNotifications(IOServiceNotificationBlock block) {
    return DeliverNotificationsFunction(
        [block](uint64_t type, IOService* service, uint64_t options) { block(type, service, options); });
  }
#endif
  void free() override;

  // Host side.
  using NotificationFunction = std::function<void(uint64_t type, IOService* service, uint64_t options)>;
  // Each pending notification in turn; the service is retained only for the call.
  kern_return_t DeliverNotificationsFunction(const NotificationFunction& deliver);
  kern_return_t CancelFunction(std::function<void()> done) override;
  const OSDictionary* matching() const { return matching_; }
  const std::string& server_name() const { return server_name_; }
  std::uint64_t owner() const { return owner_; }  // the dext process that made it (0: the harness)
  void forget(const IOService* service);          // a matched service is gone
  // The kernel: `service` matched (kIOServiceNotificationTypeMatched) or is terminating.
  void notify(uint64_t type, IOService* service);
  bool delivered_matched(const IOService* service) const;

 private:
  OSDictionary* matching_ = nullptr;  // a copy: the caller may change its dictionary afterwards
  std::string server_name_;
  std::uint64_t owner_ = 0;
  std::vector<IOService*> pending_[kIOServiceNotificationTypeLast + 1];  // retained, by type
  std::vector<const IOService*> matched_;  // whose termination this source reports
};

}  // extern "C++"
