#include "harness/driverkit/runtime/ioreturn_names.hpp"

#include <cstdio>

namespace dexthil::driverkit {

std::string ioreturn_name(IOReturn value) {
  struct Name {
    IOReturn value;
    const char* name;
  };
  static const Name kNames[] = {
      {kIOReturnSuccess, "kIOReturnSuccess"}, {kIOReturnError, "kIOReturnError"},
      {kIOReturnNoMemory, "kIOReturnNoMemory"}, {kIOReturnNoResources, "kIOReturnNoResources"},
      {kIOReturnIPCError, "kIOReturnIPCError"}, {kIOReturnNoDevice, "kIOReturnNoDevice"},
      {kIOReturnNotPrivileged, "kIOReturnNotPrivileged"}, {kIOReturnBadArgument, "kIOReturnBadArgument"},
      {kIOReturnExclusiveAccess, "kIOReturnExclusiveAccess"}, {kIOReturnUnsupported, "kIOReturnUnsupported"},
      {kIOReturnInternalError, "kIOReturnInternalError"}, {kIOReturnIOError, "kIOReturnIOError"},
      {kIOReturnNotOpen, "kIOReturnNotOpen"}, {kIOReturnNotAligned, "kIOReturnNotAligned"},
      {kIOReturnDMAError, "kIOReturnDMAError"}, {kIOReturnBusy, "kIOReturnBusy"},
      {kIOReturnTimeout, "kIOReturnTimeout"}, {kIOReturnOffline, "kIOReturnOffline"},
      {kIOReturnNotReady, "kIOReturnNotReady"}, {kIOReturnNoSpace, "kIOReturnNoSpace"},
      {kIOReturnMessageTooLarge, "kIOReturnMessageTooLarge"}, {kIOReturnNotPermitted, "kIOReturnNotPermitted"},
      {kIOReturnNoPower, "kIOReturnNoPower"}, {kIOReturnUnderrun, "kIOReturnUnderrun"},
      {kIOReturnOverrun, "kIOReturnOverrun"}, {kIOReturnNoCompletion, "kIOReturnNoCompletion"}, {kIOReturnAborted, "kIOReturnAborted"},
      {kIOReturnNotResponding, "kIOReturnNotResponding"}, {kIOReturnNotFound, "kIOReturnNotFound"},
      {kIOReturnInvalid, "kIOReturnInvalid"}, {kIOReturnNotAttached, "kIOReturnNotAttached"},
      {kIOReturnNoInterrupt, "kIOReturnNoInterrupt"}, {kIOReturnStillOpen, "kIOReturnStillOpen"},
  };
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", static_cast<unsigned>(value));
  for (const Name& n : kNames) {
    if (n.value == value) return std::string(n.name) + " (" + hex + ")";
  }
  return std::string("IOReturn ") + hex;
}

}  // namespace dexthil::driverkit
