#pragma once
// The target a dext is built for: DriverKit on macOS. The harness's prelude defines these too
// (dexthil_dext_prelude.h), so sources that test them without including this header agree.
#ifndef TARGET_OS_DRIVERKIT
#define TARGET_OS_DRIVERKIT 1
#endif
#ifndef TARGET_OS_MAC
#define TARGET_OS_MAC 1
#endif
#ifndef TARGET_OS_OSX
#define TARGET_OS_OSX 1
#endif
#ifndef TARGET_OS_IPHONE
#define TARGET_OS_IPHONE 0
#endif
#ifndef TARGET_OS_IOS
#define TARGET_OS_IOS 0
#endif
#ifndef TARGET_OS_SIMULATOR
#define TARGET_OS_SIMULATOR 0
#endif
#ifndef TARGET_RT_LITTLE_ENDIAN
#define TARGET_RT_LITTLE_ENDIAN 1
#endif
