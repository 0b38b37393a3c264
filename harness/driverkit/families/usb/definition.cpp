// USBDriverKit: IOUSBHostDevice and IOUSBHostInterface nubs come from the USB bus plug-in
// (buses/usb). The kernel sends the completion of an asynchronous pipe or device request.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& usb() {
  static const FamilyDefinition family{"USBDriverKit",
                                       "com.apple.developer.driverkit.transport.usb",
                                       {},
                                       {{"IOUSBHostPipe", "OSObject", {"CompleteAsyncIO"}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
