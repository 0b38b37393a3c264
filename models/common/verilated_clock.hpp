#pragma once
// Clocking helpers for Verilated tops whose clock is `clk` and reset is synchronous, active-low
// `rst_n`. Every wrapper and test uses these, so edges are evaluated the same way everywhere.

namespace dexthil::models {

// Low phase then rising edge.
template <class Top>
void clock_cycle(Top& top) {
  top.clk = 0;
  top.eval();
  top.clk = 1;
  top.eval();
}

// Holds reset for `cycles` edges, releases it, and settles the low phase so the outputs show the
// reset state before the first simulated edge.
template <class Top>
void reset_cycles(Top& top, int cycles = 2) {
  top.rst_n = 0;
  for (int i = 0; i < cycles; ++i) clock_cycle(top);
  top.rst_n = 1;
  top.clk = 0;
  top.eval();
}

}  // namespace dexthil::models
