#pragma once
// Dext sources include <Availability.h>; the harness builds one configuration, so the
// availability macros say nothing.
#ifndef __API_AVAILABLE
#define __API_AVAILABLE(...)
#endif
#ifndef API_AVAILABLE
#define API_AVAILABLE(...)
#endif
