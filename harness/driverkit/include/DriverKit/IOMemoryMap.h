#pragma once
// DriverKit declares IOMemoryMap in a header of its own; here it lives beside IOMemoryDescriptor.
#include <DriverKit/IOMemoryDescriptor.h>
