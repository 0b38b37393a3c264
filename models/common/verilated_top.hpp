#pragma once
// A Verilated top in a VerilatedContext of its own, as Verilator's manual advises for several
// models in one process. The RTL is built with --x-initial unique, so every register starts with
// a value drawn from the context's seed: here, from the run's seed and the model's name. A
// register the design forgets to reset then shows up as a run that changes with the seed, while
// the same seed still gives the same run. Include from a model's .cpp only.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <verilated.h>

#include "harness/sim/random.hpp"

namespace dexthil::models {

// Points Verilator's current-thread and last contexts at `context`, or back at its default one
// (nullptr). Defined in verilated_context.cpp, inside Verilator's runtime library.
void set_thread_verilated_context(VerilatedContext* context);

// Makes `context` and the top in it. Keep the context declared before the top, so it outlives it.
template <class Top>
std::unique_ptr<Top> make_verilated_top(std::unique_ptr<VerilatedContext>& context, std::uint64_t run_seed,
                                        std::string_view name, bool traced = false) {
  context = std::make_unique<VerilatedContext>();
  if (traced) context->traceEverOn(true);  // before the top is built, as Verilator requires
  const std::uint64_t h = sim::fnv1a(name.data(), name.size(), sim::fnv1a(&run_seed, sizeof run_seed));
  context->randReset(2);  // random power-on values for --x-initial unique
  context->randSeed(static_cast<int>(h % 0x7ffffffe) + 1);  // never 0: Verilator takes 0 as "seed from the clock"
  // Power-on values are drawn from the current thread's context while the top is built. After
  // that, point Verilator's thread and last contexts back at its default one: it keeps raw
  // pointers to them, and this context dies with its model.
  set_thread_verilated_context(context.get());
  auto top = std::make_unique<Top>(context.get(), std::string(name).c_str());
  set_thread_verilated_context(nullptr);
  return top;
}

}  // namespace dexthil::models
