#pragma once
// OSContainer: the common base of DriverKit's property values (OSString, OSNumber, OSData,
// OSBoolean, OSArray, OSDictionary), the type IOService::SearchProperty returns.
#include <DriverKit/OSObject.h>

class OSContainer : public OSObject {
  DEXTHIL_METACLASS(OSContainer, OSObject)
};
