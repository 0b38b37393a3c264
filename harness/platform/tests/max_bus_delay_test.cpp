// The platform's bus-stall limit as xnu keeps it (IOService.cpp, requireMaxCpuDelay and
// setLatencyHandler): the smallest requirement of any holder, system-wide; a holder's 0 ends its
// requirement; a handler hears the limit when it registers and at every change.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/platform/max_bus_delay.hpp"

namespace dexthil::platform {
namespace {

struct Heard {
  std::optional<sim::SimTime> limit;
  std::string holder;
  bool operator==(const Heard&) const = default;
};

TEST(MaxBusDelay, TheSmallestRequirementOfAnyHolderIsTheLimitUntilItEnds) {
  MaxBusDelay delay;
  std::vector<Heard> heard;
  delay.add_handler([&](std::optional<sim::SimTime> limit, std::string_view holder) {
    heard.push_back({limit, std::string(holder)});
  });
  ASSERT_EQ(heard, (std::vector<Heard>{{std::nullopt, ""}}));  // told at once: no limit yet

  int a = 0, b = 0;
  delay.require(&a, "A@dev", 40 * sim::kMicrosecond);
  EXPECT_EQ(delay.limit(), 40 * sim::kMicrosecond);
  delay.require(&b, "B@peer", 10 * sim::kMicrosecond);
  EXPECT_EQ(delay.limit(), 10 * sim::kMicrosecond);
  EXPECT_EQ(delay.holder(), "B@peer");
  // A relaxes its own: B's still rules. A tightens below B: A holds it.
  delay.require(&a, "A@dev", 30 * sim::kMicrosecond);
  EXPECT_EQ(delay.limit(), 10 * sim::kMicrosecond);
  delay.require(&a, "A@dev", 5 * sim::kMicrosecond);
  EXPECT_EQ(delay.limit(), 5 * sim::kMicrosecond);
  EXPECT_EQ(delay.holder(), "A@dev");
  // A requires none: back to B's.
  delay.require(&a, "A@dev", 0);
  EXPECT_EQ(delay.limit(), 10 * sim::kMicrosecond);
  EXPECT_EQ(delay.holder(), "B@peer");
  EXPECT_EQ(delay.requirement(&a), 0u);
  EXPECT_EQ(delay.requirement(&b), 10 * sim::kMicrosecond);
  // B goes away: no limit at all.
  delay.release(&b);
  EXPECT_EQ(delay.limit(), std::nullopt);
  EXPECT_EQ(delay.holder(), "");
  // Releasing what is not held changes nothing and tells nobody.
  const std::size_t told = heard.size();
  delay.release(&a);
  EXPECT_EQ(heard.size(), told);
  EXPECT_EQ(heard.back(), (Heard{std::nullopt, ""}));
  EXPECT_EQ(heard[2], (Heard{10 * sim::kMicrosecond, "B@peer"}));
}

TEST(MaxBusDelay, ANewRequirementHoldsATieAndALateHandlerHearsTheLimitInForce) {
  MaxBusDelay delay;
  int a = 0, b = 0;
  delay.require(&a, "A@dev", 25 * sim::kMicrosecond);
  delay.require(&b, "B@peer", 25 * sim::kMicrosecond);
  EXPECT_EQ(delay.holder(), "B@peer");
  std::optional<Heard> late;
  const std::uint64_t id = delay.add_handler(
      [&](std::optional<sim::SimTime> limit, std::string_view holder) { late = Heard{limit, std::string(holder)}; });
  EXPECT_EQ(late, (Heard{25 * sim::kMicrosecond, "B@peer"}));
  // When the holder leaves, the first of the remaining smallest holds it.
  delay.release(&b);
  EXPECT_EQ(late, (Heard{25 * sim::kMicrosecond, "A@dev"}));
  delay.remove_handler(id);
  delay.release(&a);
  EXPECT_EQ(late, (Heard{25 * sim::kMicrosecond, "A@dev"}));  // removed: not told
  EXPECT_EQ(delay.limit(), std::nullopt);
}

}  // namespace
}  // namespace dexthil::platform
