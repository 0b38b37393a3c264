#pragma once
// DriverKit declares IOMemoryMap in a header of its own; here it lives beside IOMemoryDescriptor.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOMemoryDescriptor.h>

}  // extern "C++"
