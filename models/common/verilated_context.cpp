// The one place that points Verilator's thread context somewhere, compiled with Verilator's own
// runtime (dexthil_rtl) rather than inline in each model: GCC's UndefinedBehaviorSanitizer
// reports Verilator's thread_local ThreadLocal as a null pointer when a model's own translation
// unit writes it through the inline Verilated::threadContextp(VerilatedContext*) (the write
// itself is sound: release builds run it on every model), so the ASan preset could not run the
// models. Here it is written from the library that defines it.
#include <verilated.h>

#include "models/common/verilated_top.hpp"

namespace dexthil::models {

void set_thread_verilated_context(VerilatedContext* context) {
  Verilated::threadContextp(context ? context : Verilated::defaultContextp());
}

}  // namespace dexthil::models
