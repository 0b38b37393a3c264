#include <gtest/gtest.h>

#include "harness/driverkit/runtime/dispatch.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

namespace dexthil::driverkit {
namespace {

using sim::kMicrosecond;

// Records "what@time" in order.
struct Log {
  sim::Simulator& sim;
  std::vector<std::string> lines;
  void operator()(const std::string& what) {
    std::string s = what;
    s += "@";
    s += std::to_string(sim.now() / kMicrosecond);
    lines.push_back(s);
  }
};

TEST(IOReturn, ValuesAndNamesAreApples) {
  EXPECT_EQ(static_cast<unsigned>(kIOReturnTimeout), 0xe00002d6u);
  EXPECT_EQ(static_cast<unsigned>(kIOReturnMessageTooLarge), 0xe00002e1u);
  EXPECT_EQ(static_cast<unsigned>(kIOReturnInvalid), 0xe0000001u);
  EXPECT_EQ(ioreturn_name(kIOReturnBadArgument), "kIOReturnBadArgument (0xe00002c2)");
  EXPECT_EQ(ioreturn_name(kIOReturnSuccess), "kIOReturnSuccess (0x00000000)");
  EXPECT_EQ(ioreturn_name(0x1234), "IOReturn 0x00001234");
}

TEST(DispatchQueue, AsyncBlocksRunInOrderOneAtATime) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Default");
  Log log{sim, {}};
  for (int i = 0; i < 3; ++i) {
    q.dispatch_async([&, i] {
      log("start" + std::to_string(i));
      EXPECT_TRUE(q.on_queue());
      EXPECT_EQ(rt.current_queue(), &q);
      rt.sleep_for(10 * kMicrosecond);  // IOSleep keeps the queue: the next block waits
      log("end" + std::to_string(i));
    });
  }
  EXPECT_FALSE(q.on_queue());
  sim.run_until(sim::kNever);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"start0@0", "end0@10", "start1@10", "end1@20", "start2@20", "end2@30"}));
  EXPECT_EQ(rt.live_fibers(), 0u);
}

TEST(DispatchQueue, TwoQueuesInterleaveInSimulatedTime) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue a(rt, "A"), b(rt, "B");
  Log log{sim, {}};
  a.dispatch_async([&] { log("a1"); rt.sleep_for(5 * kMicrosecond); log("a2"); });
  b.dispatch_async([&] { log("b1"); rt.sleep_for(2 * kMicrosecond); log("b2"); });
  sim.run_until(sim::kNever);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"a1@0", "b1@0", "b2@2", "a2@5"}));
}

TEST(DispatchQueue, SleepTimesOutAtItsDeadline) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Default");
  IOReturn r = kIOReturnSuccess;
  sim::SimTime woke = 0;
  int event = 0;
  q.dispatch_async([&] {
    r = q.sleep(&event, 25 * kMicrosecond);
    woke = sim.now();
  });
  sim.run_until(sim::kNever);
  EXPECT_EQ(r, kIOReturnTimeout);
  EXPECT_EQ(woke, 25 * kMicrosecond);
}

TEST(DispatchQueue, ReentrantQueueLetsAWakerInWhileABlockSleeps) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Interrupts", DispatchQueue::kReentrant);
  Log log{sim, {}};
  int event = 0;
  IOReturn r = kIOReturnError;
  q.dispatch_async([&] {
    log("sleep");
    r = q.sleep(&event, sim::kNever);
    log("woken");
  });
  q.dispatch_async([&] {
    rt.sleep_for(7 * kMicrosecond);
    log("wake");
    EXPECT_EQ(q.wakeup(&event), kIOReturnSuccess);
    log("waker done");
  });
  sim.run_until(sim::kNever);
  EXPECT_EQ(r, kIOReturnSuccess);
  // The sleeper re-enters only after the waker left the queue.
  EXPECT_EQ(log.lines, (std::vector<std::string>{"sleep@0", "wake@7", "waker done@7", "woken@7"}));
}

TEST(DispatchQueue, WakeupWakesTheLongestSleeperAndWakeupAllEveryOne) {
  // DriverKit's Wakeup wakes one of the blocks sleeping on the event; WakeupWithOptions with
  // kIODispatchQueueWakeupAll wakes them all.
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Interrupts", DispatchQueue::kReentrant);
  Log log{sim, {}};
  int event = 0;
  for (const char* name : {"first", "second", "third"}) {
    q.dispatch_async([&, name] {
      q.sleep(&event, sim::kNever);
      log(std::string(name) + " woken");
    });
  }
  // Each waker leaves the queue after its wakeup, so the woken blocks can re-enter.
  q.dispatch_async([&] {
    rt.sleep_for(5 * kMicrosecond);
    q.wakeup(&event);
  });
  q.dispatch_async([&] {
    rt.sleep_for(5 * kMicrosecond);
    q.wakeup(&event, /*all=*/true);
  });
  sim.run_until(sim::kNever);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"first woken@5", "second woken@10", "third woken@10"}));
}

TEST(DispatchQueue, CancelRunsTheHandlerAfterTheWorkAlreadyQueued) {
  // The handler follows what was queued before it, and what is queued after it still runs:
  // Apple's user-client sample cancels its Default queue among its sources and needs their
  // cancel handlers, queued around it, to run.
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Worker"), other(rt, "Other");
  Log log{sim, {}};
  q.dispatch_async([&] {
    log("A starts");
    rt.sleep_for(5 * kMicrosecond);
    log("A ends");
  });
  q.dispatch_async([&] { log("B"); });
  other.dispatch_async([&] {
    rt.sleep_for(1 * kMicrosecond);
    q.cancel([&] { log("cancelled"); });
    q.cancel([&] { log("cancelled twice"); });  // a second Cancel changes nothing
    q.dispatch_async([&] { log("C"); });
  });
  sim.run_until(sim::kNever);
  EXPECT_TRUE(q.cancelled());
  EXPECT_EQ(log.lines, (std::vector<std::string>{"A starts@0", "A ends@5", "B@5", "cancelled@5", "C@5"}));
}

TEST(DispatchQueue, NonReentrantQueueStaysHeldWhileABlockSleeps) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Default");
  Log log{sim, {}};
  int event = 0;
  q.dispatch_async([&] {
    EXPECT_EQ(q.sleep(&event, 30 * kMicrosecond), kIOReturnTimeout);
    log("first done");
  });
  q.dispatch_async([&] { log("second"); });
  sim.run_until(sim::kNever);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"first done@30", "second@30"}));
}

TEST(DispatchQueue, SleepAndWakeupOffTheQueueAreRefused) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue a(rt, "A"), b(rt, "B");
  int event = 0;
  IOReturn sleep_result = kIOReturnSuccess, wake_result = kIOReturnSuccess;
  a.dispatch_async([&] {
    sleep_result = b.sleep(&event, sim::kNever);
    wake_result = b.wakeup(&event);
  });
  sim.run_until(sim::kNever);
  EXPECT_EQ(sleep_result, kIOReturnNotPermitted);
  EXPECT_EQ(wake_result, kIOReturnNotPermitted);
}

TEST(DispatchQueue, DispatchSyncWaitsAndOnQueueHoldsForTheWholeChain) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue a(rt, "A"), b(rt, "B"), c(rt, "C");
  Log log{sim, {}};
  a.dispatch_async([&] {
    log("a before");
    b.dispatch_sync([&] {
      EXPECT_TRUE(b.on_queue());
      EXPECT_TRUE(a.on_queue());  // nested: the caller's queue counts too
      EXPECT_FALSE(c.on_queue());
      rt.sleep_for(3 * kMicrosecond);
      log("in b");
    });
    log("a after");
  });
  // A's queue is held by the waiting caller: this block runs only after it.
  a.dispatch_async([&] { log("a second"); });
  sim.run_until(sim::kNever);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"a before@0", "in b@3", "a after@3", "a second@3"}));
}

TEST(DispatchQueue, DispatchSyncOntoTheCallersQueueIsADeadlockError) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue a(rt, "A"), b(rt, "B");
  bool reached = false;
  a.dispatch_async([&] {
    b.dispatch_sync([&] { a.dispatch_sync([&] { reached = true; }); });
  });
  try {
    sim.run_until(sim::kNever);
    FAIL() << "no error";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "DispatchSync to \"A\" from a block that already holds it would deadlock");
  }
  EXPECT_FALSE(reached);
  EXPECT_THROW(a.dispatch_sync([] {}), std::logic_error);  // and never from outside a queue
}

TEST(DispatchQueue, BlockerLetsASynchronousCallWaitForTheSimulation) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Default");
  FiberRuntime::Blocker io_done(rt);
  sim::SimTime returned = 0;
  q.dispatch_async([&] {
    sim.after(40 * kMicrosecond, [&] { io_done.signal(); });  // the "device" completes later
    io_done.wait();
    returned = sim.now();
  });
  sim.run_until(sim::kNever);
  EXPECT_EQ(returned, 40 * kMicrosecond);
}

TEST(DispatchQueue, AnExceptionInABlockSurfacesFromTheRun) {
  sim::Simulator sim(1);
  FiberRuntime rt(sim);
  DispatchQueue q(rt, "Default");
  q.dispatch_async([&] {
    rt.sleep_for(kMicrosecond);
    throw std::runtime_error("dext bug");
  });
  EXPECT_THROW(sim.run_until(sim::kNever), std::runtime_error);
  EXPECT_EQ(rt.live_fibers(), 0u);
}

TEST(DispatchQueue, BlocksLeftSleepingAtTheEndAreUnwound) {
  sim::Simulator sim(1);
  bool destroyed = false;
  {
    FiberRuntime rt(sim);
    DispatchQueue q(rt, "Default");
    int event = 0;
    struct Guard {
      bool* flag;
      ~Guard() { *flag = true; }
    };
    q.dispatch_async([&] {
      Guard g{&destroyed};
      q.sleep(&event, sim::kNever);  // never woken
    });
    sim.run_until(sim::kMillisecond);
    EXPECT_EQ(rt.live_fibers(), 1u);
    EXPECT_EQ(q.sleepers(), 1u);
  }
  EXPECT_TRUE(destroyed);  // the fiber's stack was unwound, running its destructors
}

TEST(DispatchQueue, SameSeedSameInterleaving) {
  auto run = [](std::uint64_t seed) {
    sim::Simulator sim(seed);
    FiberRuntime rt(sim);
    DispatchQueue a(rt, "A"), b(rt, "B", DispatchQueue::kReentrant);
    sim::Random random = sim.random_stream("test");
    for (int i = 0; i < 50; ++i) {
      const sim::SimTime delay = random.uniform(1, 20) * kMicrosecond;
      (i % 2 ? a : b).dispatch_async([&rt, &sim, delay, i] {
        rt.sleep_for(delay);
        sim.trace().record(sim.now(), "block", std::to_string(i));
      });
    }
    sim.run_until(sim::kNever);
    return sim.trace().hash();
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}

}  // namespace
}  // namespace dexthil::driverkit
