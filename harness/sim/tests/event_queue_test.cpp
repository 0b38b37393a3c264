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

TEST(EventQueue, AnIdWhoseEventRanCannotCancelTheEventThatReusedItsSlot) {
  EventQueue q;
  std::string order;
  EventId first = q.schedule(1, [&] { order += '1'; });
  SimTime t;
  EventCallback cb;
  ASSERT_TRUE(q.pop(&t, &cb));
  cb();
  EventId second = q.schedule(2, [&] { order += '2'; });  // reuses the first event's slot
  EXPECT_NE(first, second);
  EXPECT_FALSE(q.cancel(first));
  EXPECT_EQ(q.size(), 1u);
  EventId third = q.schedule(3, [&] { order += '3'; });
  EXPECT_TRUE(q.cancel(second));
  EXPECT_FALSE(q.cancel(second));
  EXPECT_FALSE(q.cancel(0));
  EXPECT_FALSE(q.cancel(third + (EventId{1} << 32)));  // right slot, wrong generation
  drain(q);
  EXPECT_EQ(order, "13");
}

}  // namespace
}  // namespace dexthil::sim
