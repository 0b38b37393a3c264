// The finding log keeps the first few findings of each id in each place and counts the rest.
#include <gtest/gtest.h>

#include "harness/checks/finding.hpp"

namespace dexthil::checks {
namespace {

Finding finding(const std::string& check, const std::string& where, sim::SimTime t) {
  return {check, where, t, "what " + std::to_string(t), "why", where + "-subject"};
}

TEST(FindingLog, KeepsTheFirstOfEachIdPerPlaceAndCountsTheRest) {
  FindingLog log(3);
  for (sim::SimTime t = 0; t < 1000; ++t) log.add(finding("dma.outside-mapping", "lsi", t));
  log.add(finding("dma.outside-mapping", "dev", 5));  // another place: kept
  log.add(finding("dart.fault", "lsi", 6));           // another id: kept
  EXPECT_EQ(log.total(), 1002u);
  ASSERT_EQ(log.all().size(), 5u);
  EXPECT_EQ(log.all()[0].time, 0u);
  EXPECT_EQ(log.all()[2].time, 2u);  // the first three, in order
  EXPECT_EQ(log.all()[3].where, "dev");
  ASSERT_EQ(log.held_back().size(), 1u);
  EXPECT_EQ(log.held_back()[0].check, "dma.outside-mapping");
  EXPECT_EQ(log.held_back()[0].where, "lsi");
  EXPECT_EQ(log.held_back()[0].subject, "lsi-subject");  // what [[expect]] endpoint= matches
  EXPECT_EQ(log.held_back()[0].count, 997u);
}

TEST(FindingLog, AnEmptyLogIsEmptyAndTheDefaultKeepsTen) {
  FindingLog log;
  EXPECT_TRUE(log.empty());
  for (sim::SimTime t = 0; t < 12; ++t) log.add(finding("budget.dma-latency", "dev", t));
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.all().size(), FindingLog::kDefaultKeptPerPlace);
  EXPECT_EQ(log.held_back()[0].count, 2u);
  EXPECT_EQ(log.held_back()[0].subject, "dev-subject");
  // Without a subject, the place is what expectations match.
  FindingLog plain(1);
  plain.add({"dma.data-mismatch", "dma0", 1, "w", "y"});
  plain.add({"dma.data-mismatch", "dma0", 2, "w", "y"});
  EXPECT_EQ(plain.held_back()[0].subject, "dma0");
}

}  // namespace
}  // namespace dexthil::checks
