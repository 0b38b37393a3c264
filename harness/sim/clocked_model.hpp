#pragma once
// A model that needs clock edges (a Verilated design and its C++ wrapper). After each edge it
// says when it next needs one, which is what lets the simulator skip idle time.
#include <string_view>

#include "harness/sim/time.hpp"

namespace dexthil::sim {

class NextActivity {
 public:
  // Evaluate the very next edge: the model is busy.
  static NextActivity next_edge() { return NextActivity(0); }
  // Nothing to do before `time`; evaluate the first edge at or after it.
  static NextActivity at(SimTime time) { return NextActivity(time); }
  // Nothing to do until something outside calls Simulator::wake() on the model.
  static NextActivity on_input() { return NextActivity(kNever); }

  SimTime not_before() const { return not_before_; }

 private:
  explicit NextActivity(SimTime t) : not_before_(t) {}
  SimTime not_before_;
};

class ClockedModel {
 public:
  virtual ~ClockedModel() = default;
  virtual std::string_view name() const = 0;
  // Evaluates one rising edge of the model's clock at simulated time `now`.
  virtual NextActivity on_clock_edge(SimTime now) = 0;
};

}  // namespace dexthil::sim
