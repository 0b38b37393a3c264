// DriverKit itself: the classes every dext builds on. IOUserService is the kernel class a plain
// dext service works through; IOUserUserClient the one behind a dext's user clients.
#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit::families {

const FamilyDefinition& driverkit() {
  static const FamilyDefinition family{
      "DriverKit",
      "",  // every dext has com.apple.developer.driverkit, whatever its IOClass
      {"IOUserService", "IOUserUserClient", "IOUserResources"},
      {
          {"IOService", "OSObject",
           {"Start", "Stop", "SetPowerState", "SetProperties", "CopyProperties", "RegisterService", "Create",
            "NewUserClient", "ClientCrashed"}},
          {"IOUserClient", "IOService", {"CopyClientMemoryForType"}},
          {"IOInterruptDispatchSource", "IODispatchSource", {"InterruptOccurred"}},
          {"IOTimerDispatchSource", "IODispatchSource", {"TimerOccurred"}},
          {"IODataQueueDispatchSource", "IODispatchSource", {"DataAvailable", "DataServiced"}},
      }};
  return family;
}

}  // namespace dexthil::driverkit::families
