#pragma once
// Included by dexts for the server object; the harness plays the server, so there is nothing
// a dext calls here.
#include <DriverKit/IOService.h>
