#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "harness/sim/simulator.hpp"

namespace dexthil::sim {
namespace {

// A model whose answer after each edge is scripted by the test.
class ScriptedModel final : public ClockedModel {
 public:
  explicit ScriptedModel(std::function<NextActivity(SimTime)> script) : script_(std::move(script)) {}
  std::string_view name() const override { return "scripted"; }
  NextActivity on_clock_edge(SimTime now) override {
    edges.push_back(now);
    return script_(now);
  }
  std::vector<SimTime> edges;

 private:
  std::function<NextActivity(SimTime)> script_;
};

TEST(Simulator, EventsRunInTimeOrderAndTimeEndsAtTheLimit) {
  Simulator sim(1);
  std::vector<SimTime> seen;
  sim.at(300, [&] { seen.push_back(sim.now()); });
  sim.at(100, [&] {
    seen.push_back(sim.now());
    sim.after(50, [&] { seen.push_back(sim.now()); });
  });
  sim.at(2000, [&] { seen.push_back(sim.now()); });
  RunStats stats = sim.run_until(1000);
  EXPECT_EQ(seen, (std::vector<SimTime>{100, 150, 300}));
  EXPECT_EQ(stats.events, 3u);
  EXPECT_EQ(sim.now(), 1000u);
  sim.run_until(5000);
  EXPECT_EQ(seen.back(), 2000u);
}

TEST(Simulator, SchedulingInThePastIsRefused) {
  Simulator sim(1);
  sim.run_until(100);
  EXPECT_THROW(sim.at(50, [] {}), std::logic_error);
}

TEST(Simulator, BusyModelGetsEveryEdge) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel m([](SimTime) { return NextActivity::next_edge(); });
  sim.attach(m, clk);
  RunStats stats = sim.run_until(100);
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
  EXPECT_EQ(stats.clock_edges, 10u);
}

TEST(Simulator, SleepingModelSkipsIdleTimeAndWakesOnItsEdgeGrid) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  // After the edge at 10, nothing to do before 55: the next edge it needs is 60.
  ScriptedModel m([](SimTime now) { return now == 10 ? NextActivity::at(55) : NextActivity::on_input(); });
  sim.attach(m, clk);
  sim.run_until(1'000'000);
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 60}));
}

TEST(Simulator, InputChangeWakesASleepingModel) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel m([](SimTime) { return NextActivity::on_input(); });
  sim.attach(m, clk);
  sim.at(34, [&] { sim.wake(m); });  // between edges: the next edge, 40
  sim.at(70, [&] { sim.wake(m); });  // on an edge not yet evaluated: that edge, 70
  sim.run_until(1000);
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 40, 70}));
}

TEST(Simulator, EventsAtAnEdgeTimeRunBeforeTheEdge) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  std::vector<std::string> order;
  ScriptedModel m([&](SimTime now) {
    order.push_back("edge@" + std::to_string(now));
    return now < 30 ? NextActivity::next_edge() : NextActivity::on_input();
  });
  sim.attach(m, clk);
  sim.at(20, [&] { order.push_back("event@20"); });
  sim.run_until(30);
  EXPECT_EQ(order, (std::vector<std::string>{"edge@10", "event@20", "edge@20", "edge@30"}));
}

TEST(Simulator, EveryCycleModeIgnoresSleepRequests) {
  Simulator sim(1, SimulatorOptions{.skip_idle = false});
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel m([](SimTime) { return NextActivity::on_input(); });
  sim.attach(m, clk);
  RunStats stats = sim.run_until(100);
  EXPECT_EQ(stats.clock_edges, 10u);
}

TEST(Simulator, TwoClockDomainsInterleaveByTime) {
  Simulator sim(1);
  ClockDomain& fast = sim.add_clock("fast", 10);
  ClockDomain& slow = sim.add_clock("slow", 25);
  std::vector<std::string> order;
  ScriptedModel a([&](SimTime now) {
    order.push_back("a" + std::to_string(now));
    return NextActivity::next_edge();
  });
  ScriptedModel b([&](SimTime now) {
    order.push_back("b" + std::to_string(now));
    return NextActivity::next_edge();
  });
  sim.attach(a, fast);
  sim.attach(b, slow);
  sim.run_until(50);
  EXPECT_EQ(order, (std::vector<std::string>{"a10", "a20", "b25", "a30", "a40", "a50", "b50"}));
}

TEST(Simulator, BatchedEdgesStopWhenTheModelSchedulesAnEvent) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  std::vector<SimTime> event_times;
  ScriptedModel m([&](SimTime now) {
    // At 20 the model schedules something due before its own next edge.
    if (now == 20) sim.at(25, [&] { event_times.push_back(sim.now()); });
    return now < 40 ? NextActivity::next_edge() : NextActivity::on_input();
  });
  sim.attach(m, clk);
  sim.run_until(100);
  EXPECT_EQ(event_times, (std::vector<SimTime>{25}));
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 20, 30, 40}));
}

TEST(Simulator, StopEndsTheRunEarly) {
  Simulator sim(1);
  sim.at(10, [&] { sim.stop(); });
  bool ran = false;
  sim.at(20, [&] { ran = true; });
  RunStats stats = sim.run_until(100);
  EXPECT_TRUE(stats.stopped_early);
  EXPECT_FALSE(ran);
  EXPECT_EQ(sim.now(), 10u);
}

TEST(Simulator, TraceHashDependsOnContentAndOrder) {
  Trace a, b, c;
  a.record(1, "x", "hello");
  a.record(2, "y", "world");
  b.record(1, "x", "hello");
  b.record(2, "y", "world");
  c.record(2, "y", "world");
  c.record(1, "x", "hello");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  Trace d;
  d.record(1, "xh", "ello");
  Trace e;
  e.record(1, "x", "hello");
  EXPECT_NE(d.hash(), e.hash());
}

}  // namespace
}  // namespace dexthil::sim

namespace dexthil::sim {
namespace {

// Audio clocks are not whole picoseconds: 22.5792 MHz is 44289.115... ps. Edges fall on whole
// picoseconds, but the grid is exact, so after an hour the clock has ticked exactly 3600 s.
TEST(Clocks, RationalPeriodsStayExactOverAnHour) {
  std::string error;
  for (const char* rate : {"22.5792MHz", "24.576MHz"}) {
    SCOPED_TRACE(rate);
    const Period period = *parse_frequency(rate, &error);
    ClockDomain clock("audio", period);
    const std::uint64_t hz = rate[1] == '2' ? 22'579'200 : 24'576'000;
    // Edge number hz * 3600 is exactly at 3600 s; the rounded period would be off by this much.
    const ClockDomain::Edge hour = clock.at_or_after(3600 * kSecond);
    EXPECT_EQ(hour.time, 3600 * kSecond);
    EXPECT_EQ(hour.frac, 0u);
    const SimTime rounded_hour = period.rounded() * hz * 3600;
    EXPECT_NE(rounded_hour, 3600 * kSecond);  // what whole-picosecond periods gave: drift
    // Far enough out that the products no longer fit 64 bits: the same grid, in 128 bits.
    const SimTime far = 15'000'000'000'000'000'000ull;
    const unsigned __int128 k = (static_cast<unsigned __int128>(far) * period.den + period.num - 1) / period.num;
    EXPECT_EQ(clock.at_or_after(far).time, static_cast<SimTime>(k * period.num / period.den));
    EXPECT_EQ(clock.at_or_after(far).frac, static_cast<std::uint64_t>(k * period.num % period.den));
    // Stepping edge by edge (the simulator's division-free path) lands on the same grid.
    ClockDomain::Edge e = clock.after(0);
    for (int k = 1; k < 1'000'000; ++k) clock.advance(e);
    const ClockDomain::Edge direct = clock.at_or_after(e.time);
    EXPECT_EQ(e.time, direct.time);
    EXPECT_EQ(e.frac, direct.frac);
    EXPECT_EQ(e.time, static_cast<SimTime>(static_cast<unsigned __int128>(1'000'000) * period.num / period.den));
  }
}

TEST(Clocks, AModelOnAnAudioClockSeesExactlyItsRateWithOrWithoutIdleSkipping) {
  std::string error;
  for (bool skip_idle : {true, false}) {
    Simulator sim(1, {skip_idle, false});
    ClockDomain& clk = sim.add_clock("bclk", *parse_frequency("24.576MHz", &error));
    ScriptedModel m([](SimTime) { return NextActivity::next_edge(); });
    sim.attach(m, clk);
    sim.run_until(10 * kMillisecond);
    EXPECT_EQ(m.edges.size(), 245'760u);  // 24.576 MHz for 10 ms
    EXPECT_EQ(m.edges.back(), 10 * kMillisecond);
  }
}

TEST(Clocks, AClockCanChangeRateDuringARun) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel m([](SimTime) { return NextActivity::next_edge(); });
  sim.attach(m, clk);
  sim.run_until(35);
  sim.set_clock_period(clk, Period::of(25));  // from the next edge (40) on
  sim.run_until(120);
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 20, 30, 40, 65, 90, 115}));
  // A sleeping model's next edge moves onto the new grid, never earlier than it asked for.
  ScriptedModel sleeper([](SimTime now) { return NextActivity::at(now + 100); });
  ClockDomain& slow = sim.add_clock("slow", 20);
  sim.attach(sleeper, slow);
  sim.run_until(140);  // its first edge, at 140; it asks for nothing before 240
  sim.set_clock_period(slow, Period{30, 1});
  sim.run_until(400);
  EXPECT_EQ(sleeper.edges, (std::vector<SimTime>{140, 260, 380}));
}

TEST(Clocks, SpeedingUpRightAfterAnEdgeLosesNoEdges) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel m([](SimTime) { return NextActivity::next_edge(); });
  sim.attach(m, clk);
  sim.run_until(40);  // the edge at 40 was evaluated: now is an edge
  sim.set_clock_period(clk, Period::of(4));
  sim.run_until(60);
  EXPECT_EQ(m.edges, (std::vector<SimTime>{10, 20, 30, 40, 44, 48, 52, 56, 60}));
}

TEST(Clocks, AModelCanRetuneItsOwnClockFromItsEdge) {
  std::string error;
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("pll", *parse_frequency("22.5792MHz", &error));
  bool retuned = false;
  ScriptedModel m([&](SimTime now) {
    if (!retuned && now >= kMicrosecond) {  // a sample-rate switch, from inside the model
      sim.set_clock_period(clk, *parse_frequency("24.576MHz", &error));
      retuned = true;
    }
    return NextActivity::next_edge();
  });
  sim.attach(m, clk);
  sim.run_until(kMillisecond);
  // After the switch, consecutive edges are 40 or 41 ps apart (40.69 ns) and on the new grid.
  const auto at = std::find_if(m.edges.begin(), m.edges.end(), [](SimTime t) { return t >= kMicrosecond; });
  ASSERT_NE(at, m.edges.end());
  for (auto it = at + 1; it + 1 != m.edges.end(); ++it) {
    const SimTime step = *(it + 1) - *it;
    ASSERT_TRUE(step == 40'690 || step == 40'691) << "at " << *it << ": " << step;
    ASSERT_EQ(clk.at_or_after(*it).time, *it);  // every edge lies on the new grid
  }
}

}  // namespace
}  // namespace dexthil::sim

namespace dexthil::sim {
namespace {

// Hot plug: models come and go during a run, also from inside a model's own edge.
TEST(HotPlug, AModelAttachedAndDetachedDuringARunGetsEdgesOnlyWhileAttached) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  ScriptedModel busy([](SimTime) { return NextActivity::next_edge(); });
  sim.attach(busy, clk);
  sim.run_until(30);
  ScriptedModel plugged([](SimTime) { return NextActivity::next_edge(); });
  sim.at(45, [&] { sim.attach(plugged, clk); });
  sim.at(75, [&] { sim.detach(plugged); });
  sim.run_until(100);
  EXPECT_EQ(plugged.edges, (std::vector<SimTime>{50, 60, 70}));
  EXPECT_EQ(busy.edges.size(), 10u);  // the other model never missed an edge
  sim.wake(plugged);  // it is gone: what still reaches it is dropped
  sim.run_until(200);
  EXPECT_EQ(plugged.edges.size(), 3u);
  ScriptedModel never([](SimTime) { return NextActivity::next_edge(); });
  EXPECT_THROW(sim.wake(never), std::logic_error);  // never attached: a bug
}

TEST(HotPlug, AModelCanAttachManyOthersAndDetachItselfFromItsOwnEdge) {
  Simulator sim(1);
  ClockDomain& clk = sim.add_clock("clk", 10);
  std::vector<std::unique_ptr<ScriptedModel>> spawned;
  ScriptedModel* self = nullptr;
  ScriptedModel spawner([&](SimTime now) {
    // Enough attaches to make the simulator's list of models grow and move mid-batch.
    for (int i = 0; i < 40; ++i) {
      spawned.push_back(std::make_unique<ScriptedModel>([](SimTime) { return NextActivity::on_input(); }));
      sim.attach(*spawned.back(), clk);
    }
    if (now >= 30) sim.detach(*self);
    return NextActivity::next_edge();
  });
  self = &spawner;
  sim.attach(spawner, clk);
  sim.run_until(100);
  EXPECT_EQ(spawner.edges, (std::vector<SimTime>{10, 20, 30}));
  EXPECT_EQ(spawned.size(), 120u);
  for (const auto& m : spawned) EXPECT_EQ(m->edges.size(), 1u);  // each had its first edge
}

}  // namespace
}  // namespace dexthil::sim
