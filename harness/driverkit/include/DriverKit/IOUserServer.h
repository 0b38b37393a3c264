#pragma once
// Included by dexts for the server object; the harness plays the server, so there is nothing
// a dext calls here.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOService.h>

}  // extern "C++"
