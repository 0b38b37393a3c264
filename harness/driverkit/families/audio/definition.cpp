// AudioDriverKit: the HAL, through the family's kernel half, starts and stops I/O on a device and
// asks it to change its configuration or sample rate. Which IOClass an audio dext's personality
// must name is left open (no kernel classes listed) until the audio FPGA's dext checks it against
// Apple's sample.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& audio() {
  static const FamilyDefinition family{
      "AudioDriverKit",
      "com.apple.developer.driverkit.family.audio",
      {},
      {{"IOUserAudioDriver", "IOService", {}},
       {"IOUserAudioDevice", "IOUserAudioObject",
        {"StartIO", "StopIO", "PerformDeviceConfigurationChange", "AbortDeviceConfigurationChange",
         "HandleChangeSampleRate"}}}};
  return family;
}

}  // namespace dexthil::driverkit::families
