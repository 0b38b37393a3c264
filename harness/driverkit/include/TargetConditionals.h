#pragma once
// The target a dext is built for: DriverKit on macOS. The harness's prelude defines these too
// (dexthil_dext_prelude.h), so sources that test them without including this header agree.
#ifndef TARGET_OS_DRIVERKIT
#define TARGET_OS_DRIVERKIT 1
#endif
#ifndef TARGET_OS_MAC
#define TARGET_OS_MAC 1
#endif
// The driverkit target is its own OS: not macOS's (TARGET_OS_OSX is 0), though a Mac one.
#ifndef TARGET_OS_OSX
#define TARGET_OS_OSX 0
#endif
#ifndef TARGET_OS_MACCATALYST
#define TARGET_OS_MACCATALYST 0
#endif
#ifndef TARGET_OS_WATCH
#define TARGET_OS_WATCH 0
#endif
#ifndef TARGET_OS_TV
#define TARGET_OS_TV 0
#endif
#ifndef TARGET_OS_VISION
#define TARGET_OS_VISION 0
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
