#include <gtest/gtest.h>

#include <string>

#include "harness/sim/event_queue.hpp"

namespace dexthil::sim {
namespace {

void drain(EventQueue& q) {
  SimTime t;
  EventCallback cb;
  while (q.pop(&t, &cb)) cb();
}

TEST(EventQueue, PopsByTimeThenBySchedulingOrder) {
  EventQueue q;
  std::string order;
  q.schedule(30, [&] { order += 'c'; });
  q.schedule(10, [&] { order += 'a'; });
  // Many events at one time: their order must be the order they were scheduled in.
  for (char c : std::string("0123456789")) q.schedule(20, [&order, c] { order += c; });
  q.schedule(10, [&] { order += 'b'; });
  EXPECT_EQ(q.size(), 13u);
  SimTime t = 0, last = 0;
  EventCallback cb;
  while (q.pop(&t, &cb)) {
    EXPECT_GE(t, last);
    last = t;
    cb();
  }
  EXPECT_EQ(order, "ab0123456789c");
}

TEST(EventQueue, CancelledEventsNeverRun) {
  EventQueue q;
  std::string order;
  EventId a = q.schedule(5, [&] { order += 'a'; });
  EventId b = q.schedule(6, [&] { order += 'b'; });
  q.schedule(7, [&] { order += 'c'; });
  EXPECT_TRUE(q.cancel(a));
  EXPECT_FALSE(q.cancel(a));  // twice
  EXPECT_EQ(q.next_time(), 6u);
  EXPECT_EQ(q.size(), 2u);
  SimTime t;
  EventCallback cb;
  ASSERT_TRUE(q.pop(&t, &cb));
  cb();
  EXPECT_FALSE(q.cancel(b));  // already ran
  EXPECT_FALSE(q.cancel(999));
  drain(q);
  EXPECT_EQ(order, "bc");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_time(), kNever);
}

}  // namespace
}  // namespace dexthil::sim
