#include <gtest/gtest.h>

#include "harness/sim/time.hpp"

namespace dexthil::sim {
namespace {

TEST(Time, ParsesDurationsInEveryUnit) {
  std::string error;
  EXPECT_EQ(parse_duration("250ps", &error), 250u);
  EXPECT_EQ(parse_duration("10ns", &error), 10'000u);
  EXPECT_EQ(parse_duration("1.5 us", &error), 1'500'000u);
  EXPECT_EQ(parse_duration("2ms", &error), 2 * kMillisecond);
  EXPECT_EQ(parse_duration("3s", &error), 3 * kSecond);
  EXPECT_EQ(parse_duration("0ns", &error), 0u);
}

TEST(Time, RejectsMalformedDurationsWithReasons) {
  std::string error;
  EXPECT_FALSE(parse_duration("-1ms", &error));
  EXPECT_EQ(error, "duration must not have a sign: \"-1ms\"");
  EXPECT_FALSE(parse_duration("10", &error));
  EXPECT_EQ(error, "unknown or missing unit in \"10\" (use one of ps, ns, us, ms, s)");
  EXPECT_FALSE(parse_duration("10 min", &error));
  EXPECT_FALSE(parse_duration("ms", &error));
  EXPECT_EQ(error, "expected a number followed by a unit, got \"ms\"");
  EXPECT_FALSE(parse_duration("0.5ps", &error));
  EXPECT_EQ(error, "duration \"0.5ps\" is not a whole number of picoseconds");
  EXPECT_FALSE(parse_duration("99999999999s", &error));
  EXPECT_EQ(error, "duration \"99999999999s\" is too large");
}

TEST(Time, FrequencyGivesPeriodRoundedToPicoseconds) {
  std::string error;
  EXPECT_EQ(parse_frequency_period("250MHz", &error), 4000u);
  EXPECT_EQ(parse_frequency_period("1GHz", &error), 1000u);
  EXPECT_EQ(parse_frequency_period("48MHz", &error), 20833u);
  EXPECT_EQ(parse_frequency_period("32.768kHz", &error), 30517578u);
  EXPECT_FALSE(parse_frequency_period("0Hz", &error));
  EXPECT_FALSE(parse_frequency_period("5THz", &error));
}

TEST(Time, FormatsWithTheLargestFittingUnit) {
  EXPECT_EQ(format_time(0), "0 ps");
  EXPECT_EQ(format_time(999), "999 ps");
  EXPECT_EQ(format_time(2 * kMicrosecond), "2 us");
  EXPECT_EQ(format_time(1'250'000), "1.250 us");
  EXPECT_EQ(format_time(3 * kSecond), "3 s");
}

}  // namespace
}  // namespace dexthil::sim
