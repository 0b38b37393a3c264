#pragma once
// Dext sources include <Availability.h> and mark their own API with these macros. The harness
// simulates one macOS, the newest it models, so availability annotations say nothing and every
// `__builtin_available(driverkit ...)` check is true (dexthil_dext_prelude.h).
#ifndef __API_AVAILABLE
#define __API_AVAILABLE(...)
#endif
#ifndef API_AVAILABLE
#define API_AVAILABLE(...)
#endif
#ifndef API_UNAVAILABLE
#define API_UNAVAILABLE(...)
#endif
#ifndef API_DEPRECATED
#define API_DEPRECATED(...)
#endif
#ifndef API_DEPRECATED_WITH_REPLACEMENT
#define API_DEPRECATED_WITH_REPLACEMENT(...)
#endif
#ifndef __API_UNAVAILABLE
#define __API_UNAVAILABLE(...)
#endif
#ifndef __API_DEPRECATED
#define __API_DEPRECATED(...)
#endif
