#pragma once
// Waveforms: a model's signals written to an FST file that GTKWave opens, for the clock edges
// inside a window of simulated time (the whole run by default). The RTL is built with
// --trace-fst; a model writes waves only when the run asks for them (dexthil run --waves, or the
// automatic rerun of a failing scenario), since tracing costs time on every edge. Include this
// header from a model's .cpp only.
#include <memory>
#include <string>

#include <verilated_fst_c.h>

#include "harness/sim/wave_request.hpp"

namespace dexthil::models {

using sim::WaveRequest;

class WaveWriter {
 public:
  template <class Top>
  WaveWriter(Top& top, const WaveRequest& request)
      : fst_(std::make_unique<VerilatedFstC>()), from_(request.from), to_(request.to), half_(request.half_period) {
    top.trace(fst_.get(), 99);
    fst_->open(request.path.c_str());
  }
  ~WaveWriter() { fst_->close(); }
  WaveWriter(const WaveWriter&) = delete;
  WaveWriter& operator=(const WaveWriter&) = delete;

  // The signals after an edge's low phase (drawn half a period before the edge) and after the
  // rising edge itself.
  void low_phase(sim::SimTime edge) { dump(edge > half_ ? edge - half_ : 0); }
  void rising_edge(sim::SimTime edge) { dump(edge); }

 private:
  void dump(sim::SimTime t) {
    if (t < from_ || t > to_ || (dumped_ && t <= last_)) return;
    fst_->dump(t);
    last_ = t;
    dumped_ = true;
  }
  std::unique_ptr<VerilatedFstC> fst_;
  sim::SimTime from_, to_, half_;
  sim::SimTime last_ = 0;
  bool dumped_ = false;
};

}  // namespace dexthil::models
