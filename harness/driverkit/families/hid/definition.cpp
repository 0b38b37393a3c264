// HIDDriverKit: a HID dext subclasses IOUserHIDDevice (or IOUserHIDEventService) and works
// through the family's kernel classes. The kernel half drives it through Start and the HID
// event service's own calls (handleStart, newDeviceDescription, newReportDescriptor), which are
// local methods the family's kernel half reaches through Start. The report calls (handleReport,
// getReport, setReport) are messages of IOUserHIDDevice, as HIDDriverKit's header has them.
// HID has several entitlements (device, event service, virtual device) that admit different
// kernel classes, so none is given here for lint to insist on.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& hid() {
  static const FamilyDefinition family{"HIDDriverKit",
                                       "",
                                       {"AppleUserHIDDevice", "AppleUserHIDEventService"},
                                       {{"IOUserHIDDevice", "IOHIDDevice", {"handleReport", "getReport", "setReport"}},
                                        {"IOUserHIDEventService", "IOHIDEventService", {}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
