#include <gtest/gtest.h>

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
