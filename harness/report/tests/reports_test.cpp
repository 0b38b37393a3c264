#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/report/reports.hpp"

namespace dexthil::report {
namespace {

std::vector<runner::ScenarioResult> sample() {
  runner::ScenarioResult pass;
  pass.name = "ok";
  pass.file = "a.toml";
  pass.seed = 3;
  pass.outcome = runner::Outcome::kPass;
  pass.trace_hash = 0xabc;
  runner::ScenarioResult fail;
  fail.name = "bad <one> & \"two\"";
  fail.file = "b.toml";
  fail.seed = 4;
  fail.outcome = runner::Outcome::kFail;
  fail.failures = {"unexpected finding x"};
  fail.findings = {{{"dma.data-mismatch", "dma0", 1500, "byte read 0x01\nexpected 0x02", "why \\ because", "", {{"offset", "0x10"}}}, false}};
  fail.models = {{"dma0", {{"requests_issued", "2"}}}};
  runner::ScenarioResult error;
  error.name = "broken";
  error.outcome = runner::Outcome::kError;
  error.failures = {"cannot load dexts yet"};
  return {pass, fail, error};
}

TEST(Reports, JUnitCountsEscapesAndCarriesSeeds) {
  const std::string x = junit_xml({"0.1.0", 42}, sample());
  EXPECT_NE(x.find("<testsuites name=\"dexthil\" tests=\"3\" failures=\"1\" errors=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("name=\"bad &lt;one&gt; &amp; &quot;two&quot;\""), std::string::npos);
  EXPECT_NE(x.find("<property name=\"seed\" value=\"42\"/>"), std::string::npos);
  EXPECT_NE(x.find("<property name=\"seed\" value=\"4\"/>"), std::string::npos);
  EXPECT_NE(x.find("<failure message=\"unexpected finding x\" type=\"scenario\">"), std::string::npos);
  EXPECT_NE(x.find("<error message=\"cannot load dexts yet\" type=\"input\">"), std::string::npos);
  EXPECT_EQ(x.find("<one>"), std::string::npos);
  EXPECT_NE(x.find("why: why \\ because\n  data: offset=0x10"), std::string::npos) << x;
}

TEST(Reports, SummaryJsonHasTheDocumentedShape) {
  const std::string j = summary_json({"0.1.0", std::nullopt}, sample());
  EXPECT_NE(j.find("\"schema\": \"dexthil-summary/1\""), std::string::npos);
  EXPECT_NE(j.find("\"seed_override\": null"), std::string::npos);
  EXPECT_NE(j.find("\"totals\": {\"scenarios\": 3, \"pass\": 1, \"fail\": 1, \"error\": 1, \"harness_error\": 0}"), std::string::npos);
  EXPECT_NE(j.find("\"trace_hash\": \"0000000000000abc\""), std::string::npos);
  EXPECT_NE(j.find("\"what\": \"byte read 0x01\\nexpected 0x02\""), std::string::npos);
  EXPECT_NE(j.find("\"why\": \"why \\\\ because\""), std::string::npos);
  EXPECT_NE(j.find("\"subject\": \"dma0\", \"data\": {\"offset\": \"0x10\"}"), std::string::npos) << j;
  EXPECT_NE(j.find("\"bad <one> & \\\"two\\\"\""), std::string::npos);
  EXPECT_NE(j.find("\"dma0\": {\"requests_issued\": \"2\"}"), std::string::npos);
  // Balanced brackets: a cheap guard against a malformed document.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (in_string) {
      if (j[i] == '\\') ++i;
      else if (j[i] == '"') in_string = false;
    } else if (j[i] == '"') {
      in_string = true;
    } else if (j[i] == '{' || j[i] == '[') {
      ++depth;
    } else if (j[i] == '}' || j[i] == ']') {
      ASSERT_GT(depth, 0);
      --depth;
    }
  }
  EXPECT_EQ(depth, 0);
}

TEST(Reports, WritesBothFilesAndReportsAnUnwritableFolder) {
  const auto dir = std::filesystem::temp_directory_path() / "dexthil-report-test";
  std::filesystem::remove_all(dir);
  std::string error;
  ASSERT_TRUE(write_reports(dir.string(), {"0.1.0", std::nullopt}, sample(), &error)) << error;
  EXPECT_TRUE(std::filesystem::exists(dir / "junit.xml"));
  EXPECT_TRUE(std::filesystem::exists(dir / "summary.json"));
  EXPECT_FALSE(write_reports((dir / "junit.xml" / "sub").string(), {"0.1.0", std::nullopt}, sample(), &error));
  EXPECT_NE(error.find("cannot create the report folder"), std::string::npos) << error;
}

}  // namespace
}  // namespace dexthil::report
