// AudioDriverKit: the family's kernel half starts and stops the driver (StartDevice/StopDevice)
// and asks a device to change its configuration or sample rate; I/O itself starts and stops
// through the device's local StartIO/StopIO. Which IOClass an audio dext's personality
// must name is left open (no kernel classes listed) until the audio FPGA's dext checks it against
// Apple's sample.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& audio() {
  static const FamilyDefinition family{
      "AudioDriverKit",
      "com.apple.developer.driverkit.family.audio",
      {},
      {{"IOUserAudioDriver", "IOService", {"StartDevice", "StopDevice"}},
       // StartIO and StopIO are local methods of IOUserAudioDevice (the family calls them in the
       // dext's own process), so an override of them is a plain virtual.
       {"IOUserAudioDevice", "IOUserAudioObject",
        {"PerformDeviceConfigurationChange", "AbortDeviceConfigurationChange", "HandleChangeSampleRate"}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
