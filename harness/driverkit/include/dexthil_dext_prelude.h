#pragma once
// Included before every dext source (dexthil_add_dext passes -include): what Apple's clang and
// the DriverKit SDK define for a dext without any header.
//  - TARGET_OS_DRIVERKIT and friends, as <TargetConditionals.h> has them.
//  - __builtin_available(driverkit 20.0, *): Debian's clang 14 does not know the driverkit
//    platform, and the simulated macOS is the newest dexthil models, so every check is true.
#include <TargetConditionals.h>
#define __builtin_available(...) 1
