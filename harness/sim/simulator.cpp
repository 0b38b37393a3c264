#include "harness/sim/simulator.hpp"

#include <algorithm>
#include <stdexcept>

namespace dexthil::sim {

Simulator::Simulator(std::uint64_t seed, SimulatorOptions options)
    : seed_(seed), options_(options), trace_(options.keep_trace_records) {}

EventId Simulator::at(SimTime when, EventCallback callback) {
  if (when < now_) {
    throw std::logic_error("event scheduled at " + format_time(when) + ", before the current time " +
                           format_time(now_));
  }
  ++schedule_generation_;
  return events_.schedule(when, std::move(callback));
}

ClockDomain::Edge ClockDomain::at_or_after(SimTime t) const {
  if (t == kNever) return {};
  // The first k with floor(k * num / den) >= t - origin, i.e. k >= (t - origin) * den / num.
  // In 64 bits while the products fit (every run's clocks, for centuries of simulated time):
  // 128-bit division is a library call, and this runs at every wake-up.
  const std::uint64_t since64 = t > origin_ ? t - origin_ : 0;
  std::uint64_t scaled, exact64;
  if (!__builtin_mul_overflow(since64, period_.den, &scaled) && scaled <= ~std::uint64_t{0} - period_.num) {
    const std::uint64_t k = (scaled + period_.num - 1) / period_.num;
    if (!__builtin_mul_overflow(k, period_.num, &exact64) && exact64 / period_.den < kNever - origin_) {
      return {origin_ + exact64 / period_.den, exact64 % period_.den};
    }
  }
  const unsigned __int128 since = since64;
  const unsigned __int128 k = (since * period_.den + period_.num - 1) / period_.num;
  const unsigned __int128 exact = k * period_.num;
  const unsigned __int128 time = origin_ + exact / period_.den;
  if (time >= kNever) return {};
  return {static_cast<SimTime>(time), static_cast<std::uint64_t>(exact % period_.den)};
}

void ClockDomain::set_period(Period period, SimTime origin) {
  if (period.num == 0 || period.den == 0) throw std::invalid_argument("clock \"" + name_ + "\" needs a period above zero");
  period_ = period;
  origin_ = origin;
  whole_ = period.num / period.den;
  rem_ = period.num % period.den;
  ++generation_;
}

ClockDomain& Simulator::add_clock(std::string name, Period period) {
  if (period.num == 0 || period.den == 0) throw std::invalid_argument("clock \"" + name + "\" has a period of zero");
  clocks_.push_back(std::make_unique<ClockDomain>(std::move(name), period));
  return *clocks_.back();
}

void Simulator::set_clock_period(ClockDomain& clock, Period period) {
  const SimTime origin = clock.at_or_after(now_).time;
  // A model whose next edge is simply the one after its last (busy) gets the new grid's edge
  // after its last; one that asked for nothing before some time keeps not being woken earlier.
  std::vector<bool> busy(models_.size(), false);
  for (std::size_t i = 0; i < models_.size(); ++i) {
    const Attached& a = models_[i];
    busy[i] = a.clock == &clock && a.next.time != kNever &&
              a.next.time == (a.last_edge == kNever ? clock.after(now_) : clock.after(a.last_edge)).time;
  }
  clock.set_period(period, origin);
  for (std::size_t i = 0; i < models_.size(); ++i) {
    Attached& a = models_[i];
    if (a.clock != &clock || a.next.time == kNever) continue;
    a.next = busy[i] ? clock.after(a.last_edge == kNever ? now_ : a.last_edge) : clock.at_or_after(a.next.time);
  }
  ++schedule_generation_;
}

void Simulator::attach(ClockedModel& model, ClockDomain& clock) {
  models_.push_back(Attached{&model, &clock, clock.after(now_)});
  ++schedule_generation_;
}

Simulator::Attached& Simulator::find(ClockedModel& model) {
  for (Attached& a : models_) {
    if (a.model == &model && !a.detached) return a;
  }
  throw std::logic_error("model \"" + std::string(model.name()) + "\" is not attached to the simulator");
}

void Simulator::wake(ClockedModel& model) {
  const bool attached = std::any_of(models_.begin(), models_.end(),
                                    [&](const Attached& a) { return a.model == &model && !a.detached; });
  if (!attached && std::find(unplugged_.begin(), unplugged_.end(), &model) != unplugged_.end()) {
    return;  // unplugged: what still reaches it is dropped
  }
  Attached& a = find(model);
  if (evaluating_ == a.model) {
    woken_while_evaluating_ = true;
    return;
  }
  // An input that changes at an edge time, before that edge was evaluated, is seen by that edge:
  // events run before edges at equal times.
  Edge edge = a.clock->at_or_after(now_);
  if (edge.time == a.last_edge) a.clock->advance(edge);
  if (edge.time < a.next.time) {
    a.next = edge;
    ++schedule_generation_;
  }
}

ClockDomain::Edge Simulator::schedule_from(const Attached& a, Edge following, NextActivity activity) const {
  if (!options_.skip_idle) return following;
  const SimTime not_before = activity.not_before();
  if (not_before <= following.time) return following;
  if (not_before == kNever) return {};
  return a.clock->at_or_after(not_before);
}

void Simulator::evaluate(std::size_t index, Edge edge) {
  now_ = edge.time;
  ClockedModel* model = models_[index].model;
  const ClockDomain* clock = models_[index].clock;
  const std::uint64_t grid = clock->generation();
  evaluating_ = model;
  woken_while_evaluating_ = false;
  // The model may attach others (models_ may reallocate) or detach itself during its edge.
  NextActivity activity = model->on_clock_edge(edge.time);
  evaluating_ = nullptr;
  ++stats_.clock_edges;
  Attached& a = models_[index];
  if (a.detached) return;
  a.last_edge = edge.time;
  // The edge after this one, without a division (the common case), unless the clock changed
  // rate during this edge: then `edge` is on the old grid and the new one is asked.
  Edge following = edge;
  if (clock->generation() == grid) {
    clock->advance(following);
  } else {
    following = clock->after(edge.time);
  }
  Edge next = schedule_from(a, following, activity);
  if (woken_while_evaluating_ && following.time < next.time) next = following;
  a.next = next;
}

void Simulator::detach(ClockedModel& model) {
  Attached& a = find(model);
  a.detached = true;
  a.next = {};
  ++detached_;
  unplugged_.push_back(&model);
  ++schedule_generation_;
}

void Simulator::drop_detached() {
  std::erase_if(models_, [](const Attached& a) { return a.detached; });
  detached_ = 0;
}

RunStats Simulator::run_until(SimTime end) {
  stats_ = RunStats{};
  stop_requested_ = false;
  struct Running {
    bool& flag;
    explicit Running(bool& f) : flag(f) { flag = true; }
    ~Running() { flag = false; }
  } running(running_);
  while (!stop_requested_) {
    if (detached_) drop_detached();  // only here: nothing holds an index into models_ now
    const SimTime next_event = events_.next_time();
    std::size_t first = models_.size();
    SimTime first_edge = kNever;
    for (std::size_t i = 0; i < models_.size(); ++i) {
      if (models_[i].next.time < first_edge) {
        first_edge = models_[i].next.time;
        first = i;
      }
    }
    if (next_event <= first_edge) {
      if (next_event == kNever || next_event > end) break;
      EventCallback callback;
      events_.pop(&now_, &callback);
      ++stats_.events;
      callback();
      continue;
    }
    if (first_edge > end) break;

    // The common case is one busy model with nothing else due for many cycles: evaluate its
    // edges back to back until an event, another model's edge, or the end comes due, or until
    // the model itself schedules something or wakes another model.
    SimTime other_edge = kNever;
    for (std::size_t i = 0; i < models_.size(); ++i) {
      if (i != first) other_edge = std::min(other_edge, models_[i].next.time);
    }
    const SimTime limit = std::min({next_event, other_edge, end == kNever ? kNever : end + 1});
    // By index: an edge may attach a model, and the vector may move.
    const std::uint64_t generation = schedule_generation_;
    do {
      evaluate(first, models_[first].next);
    } while (!stop_requested_ && models_[first].next.time < limit && generation == schedule_generation_);
  }
  if (!stop_requested_ && end != kNever) now_ = std::max(now_, end);
  stats_.end_time = now_;
  stats_.stopped_early = stop_requested_;
  return stats_;
}

}  // namespace dexthil::sim
