#pragma once
// The simulation kernel: simulated time, the event queue, the run's seed, the trace, and the
// clocking of models. Models are evaluated only on edges they asked for; between those, time
// jumps straight to the next event or edge that anyone needs.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/sim/clocked_model.hpp"
#include "harness/sim/event_queue.hpp"
#include "harness/sim/random.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::sim {

struct SimulatorOptions {
  // False evaluates every model on every edge of its clock, whatever it asked for. That is how a
  // plain RTL simulator runs; the benchmark and the idle-skipping equivalence test use it.
  bool skip_idle = true;
  bool keep_trace_records = false;
};

class ClockDomain {
 public:
  ClockDomain(std::string name, SimTime period) : name_(std::move(name)), period_(period) {}
  const std::string& name() const { return name_; }
  SimTime period() const { return period_; }
  // First edge strictly after `after`, with edges at whole multiples of the period.
  SimTime edge_after(SimTime after) const { return (after / period_ + 1) * period_; }
  SimTime edge_at_or_after(SimTime t) const { return (t + period_ - 1) / period_ * period_; }

 private:
  std::string name_;
  SimTime period_;
};

struct RunStats {
  SimTime end_time = 0;
  std::uint64_t events = 0;
  std::uint64_t clock_edges = 0;
  bool stopped_early = false;
};

class Simulator {
 public:
  explicit Simulator(std::uint64_t seed, SimulatorOptions options = {});
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  SimTime now() const { return now_; }
  std::uint64_t seed() const { return seed_; }

  EventId at(SimTime when, EventCallback callback);
  EventId after(SimTime delay, EventCallback callback) { return at(now_ + delay, std::move(callback)); }
  bool cancel(EventId id) { return events_.cancel(id); }

  // A random stream of its own for `name` (a model, a fault, a link), fixed by the run's seed.
  Random random_stream(std::string_view name) const { return Random(seed_).stream(name); }

  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }

  // Period must be above zero. The domain lives as long as the simulator.
  ClockDomain& add_clock(std::string name, SimTime period);
  // The model is evaluated from the first edge of `clock` on; it must outlive the simulator run.
  void attach(ClockedModel& model, ClockDomain& clock);
  // Something the model listens to changed: evaluate it at its next edge.
  void wake(ClockedModel& model);

  // Runs events and clock edges due at or before `end`; time then stands at `end`
  // (or where stop() was called).
  RunStats run_until(SimTime end);
  // Ends run_until() after the current event or edge.
  void stop() { stop_requested_ = true; }
  // Whether run_until() is on the stack (an event or a model's edge is being run).
  bool running() const { return running_; }

 private:
  struct Attached {
    ClockedModel* model;
    ClockDomain* clock;
    SimTime next_edge;          // kNever while asleep
    SimTime last_edge = kNever;  // kNever before the first edge
  };
  Attached& find(ClockedModel& model);
  SimTime schedule_from(const Attached& a, SimTime edge, NextActivity activity) const;
  void evaluate(Attached& a, SimTime edge);

  std::uint64_t seed_;
  SimulatorOptions options_;
  SimTime now_ = 0;
  EventQueue events_;
  Trace trace_;
  std::vector<std::unique_ptr<ClockDomain>> clocks_;
  std::vector<Attached> models_;
  const ClockedModel* evaluating_ = nullptr;
  bool woken_while_evaluating_ = false;
  bool stop_requested_ = false;
  bool running_ = false;
  // Bumped whenever an event is scheduled or a model woken, so a batch of edges knows to stop.
  std::uint64_t schedule_generation_ = 0;
  RunStats stats_;
};

}  // namespace dexthil::sim
