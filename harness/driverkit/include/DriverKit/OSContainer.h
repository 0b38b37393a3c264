#pragma once
// OSContainer: the common base of DriverKit's property values (OSString, OSNumber, OSData,
// OSBoolean, OSArray, OSDictionary), the type IOService::SearchProperty returns.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/OSObject.h>

class OSContainer : public OSObject {
  DEXTHIL_METACLASS(OSContainer, OSObject)
};

}  // extern "C++"
