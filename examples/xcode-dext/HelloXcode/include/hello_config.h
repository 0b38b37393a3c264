// Found through the target's HEADER_SEARCH_PATHS ($(SRCROOT)/HelloXcode/include).
#pragma once
#ifndef HELLO_TICKS
#error "HELLO_TICKS comes from GCC_PREPROCESSOR_DEFINITIONS in Config/Base.xcconfig"
#endif
#define HELLO_TICK_NS 1000000ull  // 1 ms between ticks
