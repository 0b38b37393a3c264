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

// A clock: edge k falls at origin + floor(k * num / den) picoseconds, so the edges keep the
// exact rate over any run (a 22.5792 MHz clock does not drift) while each falls on a whole
// picosecond. The origin moves when the rate changes (Simulator::set_clock_period).
class ClockDomain {
 public:
  // An edge: its time, and how far (in 1/den ps) the exact grid point lies past it. Carrying the
  // remainder lets the next edge be found without a division, on the simulator's hot path.
  struct Edge {
    SimTime time = kNever;
    std::uint64_t frac = 0;
  };

  ClockDomain(std::string name, Period period) : name_(std::move(name)) { set_period(period, 0); }
  const std::string& name() const { return name_; }
  Period period() const { return period_; }
  SimTime nominal_period() const { return period_.rounded(); }

  Edge at_or_after(SimTime t) const;  // the first edge at t or later
  Edge after(SimTime t) const { return at_or_after(t + 1); }  // strictly later
  void advance(Edge& e) const {
    e.time += whole_;
    e.frac += rem_;
    if (e.frac >= period_.den) {
      e.frac -= period_.den;
      ++e.time;
    }
  }
  // From edge `origin` on, edges follow `period` (the simulator re-places models' next edges).
  void set_period(Period period, SimTime origin);
  // Bumped by every set_period, so an Edge taken before can be known to be on an older grid.
  std::uint64_t generation() const { return generation_; }

 private:
  std::string name_;
  Period period_;
  SimTime origin_ = 0;
  std::uint64_t whole_ = 0, rem_ = 0;  // num / den and num % den
  std::uint64_t generation_ = 0;
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
  ClockDomain& add_clock(std::string name, Period period);
  ClockDomain& add_clock(std::string name, SimTime period) { return add_clock(std::move(name), Period::of(period)); }
  // The clock changes rate from its first edge at or after now (a PLL retuned, a sample-rate
  // switch): that edge stays, the ones after it follow the new period.
  void set_clock_period(ClockDomain& clock, Period period);
  // The model is evaluated from the first edge of `clock` on; it must outlive the simulator run.
  void attach(ClockedModel& model, ClockDomain& clock);
  // Something the model listens to changed: evaluate it at its next edge. Waking a detached
  // model does nothing (a completion still on its way to an unplugged device).
  void wake(ClockedModel& model);
  // The model leaves the simulation (hot unplug): no more edges, also when called from its own
  // edge. It may be destroyed once detached; events it scheduled are its own to cancel.
  void detach(ClockedModel& model);

  // Runs events and clock edges due at or before `end`; time then stands at `end`
  // (or where stop() was called).
  RunStats run_until(SimTime end);
  // Ends run_until() after the current event or edge.
  void stop() { stop_requested_ = true; }
  // Whether run_until() is on the stack (an event or a model's edge is being run).
  bool running() const { return running_; }
  // The model whose edge is being evaluated, or nullptr.
  const ClockedModel* evaluating() const { return evaluating_; }

 private:
  using Edge = ClockDomain::Edge;
  struct Attached {
    ClockedModel* model;
    ClockDomain* clock;
    Edge next;                   // time kNever while asleep
    SimTime last_edge = kNever;  // kNever before the first edge
    bool detached = false;       // removed at the next safe point (drop_detached)
  };
  Attached& find(ClockedModel& model);
  Edge schedule_from(const Attached& a, Edge following, NextActivity activity) const;
  void evaluate(std::size_t index, Edge edge);
  void drop_detached();

  std::uint64_t seed_;
  SimulatorOptions options_;
  SimTime now_ = 0;
  EventQueue events_;
  Trace trace_;
  std::vector<std::unique_ptr<ClockDomain>> clocks_;
  std::vector<Attached> models_;
  std::size_t detached_ = 0;
  std::vector<const ClockedModel*> unplugged_;  // detached models, so a late wake() is dropped
  const ClockedModel* evaluating_ = nullptr;
  bool woken_while_evaluating_ = false;
  bool stop_requested_ = false;
  bool running_ = false;
  // Bumped whenever an event is scheduled or a model woken, so a batch of edges knows to stop.
  std::uint64_t schedule_generation_ = 0;
  RunStats stats_;
};

}  // namespace dexthil::sim
