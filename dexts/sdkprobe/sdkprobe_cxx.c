// C++ in a .c file: Xcode compiles it as C++ when the project gives it that file type, and
// dexthil_add_dext does so for CXX_SOURCES. A C compiler would reject the namespace.
#include <stdint.h>

namespace sdkprobe {
uint32_t cxx_in_c_file() { return 0xC0FFEEu; }
}  // namespace sdkprobe
