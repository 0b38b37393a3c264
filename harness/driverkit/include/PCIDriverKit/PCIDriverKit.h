#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <PCIDriverKit/IOPCIDevice.h>
#include <PCIDriverKit/IOPCIFamilyDefinitions.h>

}  // extern "C++"
