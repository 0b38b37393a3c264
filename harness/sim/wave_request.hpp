#pragma once
// What a run asks of a model that can write waveforms (models/common/waves.hpp): where to
// write, which window of simulated time, and the model's half clock period (to draw the low
// phase between edges).
#include <string>

#include "harness/sim/time.hpp"

namespace dexthil::sim {

struct WaveRequest {
  std::string path;
  SimTime from = 0;
  SimTime to = kNever;
  SimTime half_period = 1;
};

}  // namespace dexthil::sim
