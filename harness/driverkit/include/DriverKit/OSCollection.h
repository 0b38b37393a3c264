#pragma once
// OSCollection: DriverKit's base of the containers that hold other objects (OSArray,
// OSDictionary), itself an OSContainer.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/OSContainer.h>

class OSCollection : public OSContainer {
  DEXTHIL_METACLASS(OSCollection, OSContainer)
};

}  // extern "C++"
