#pragma once
// The C++ standard library as dexthil's DriverKit headers use it, included once, here. A dext's
// own code (or a C library it embeds) may define function-like macros such as min, max or clamp
// before including DriverKit, as ccan's minmax.h does; Apple's headers do not use the standard
// library, so that works on a Mac. Those names are set aside while the library is read.
#pragma push_macro("min")
#pragma push_macro("max")
#pragma push_macro("clamp")
#undef min
#undef max
#undef clamp
extern "C++" {
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
}  // extern "C++"
#pragma pop_macro("clamp")
#pragma pop_macro("max")
#pragma pop_macro("min")
