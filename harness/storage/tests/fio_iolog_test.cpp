#include "harness/storage/fio_iolog.hpp"

#include <gtest/gtest.h>

namespace dexthil::storage {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_fio_iolog(text, "log");
  } catch (const FioIologError& e) {
    return e.what();
  }
  return "no error";
}

TEST(FioIolog, VersionTwoWithWaits) {
  const FioIolog log = parse_fio_iolog(
      "fio version 2 iolog\n/tmp/f add\n/tmp/f open\n/tmp/f write 0 4096\n/tmp/f wait 50 0\n/tmp/f wait 250 0\n"
      "/tmp/f read 4096 8192\n/tmp/f sync 0 0\n/tmp/f close\n",
      "log");
  EXPECT_EQ(log.version, 2);
  EXPECT_EQ(log.file, "/tmp/f");
  ASSERT_EQ(log.ops.size(), 3u);
  EXPECT_EQ(log.ops[0].kind, BlockOp::Kind::kWrite);
  EXPECT_EQ(log.ops[0].not_before, 0);
  EXPECT_EQ(log.ops[1].kind, BlockOp::Kind::kRead);
  EXPECT_EQ(log.ops[1].offset, 4096u);
  EXPECT_EQ(log.ops[1].length, 8192u);
  EXPECT_EQ(log.ops[1].not_before, 250 * sim::kMicrosecond);  // the 50 us wait is below fio's 100
  EXPECT_EQ(log.ops[2].kind, BlockOp::Kind::kSync);
  EXPECT_EQ(log.reads, 1u);
  EXPECT_EQ(log.writes, 1u);
  EXPECT_EQ(log.syncs, 1u);
}

TEST(FioIolog, VersionThreeTimestampsAreMicroseconds) {
  const FioIolog log = parse_fio_iolog(
      "fio version 3 iolog\n19 /s add\n220 /s open\n225 /s write 61440 4096\n263 /s read 880640 4096\n693 /s close\n",
      "log");
  EXPECT_EQ(log.version, 3);
  ASSERT_EQ(log.ops.size(), 2u);
  EXPECT_EQ(log.ops[0].not_before, 225 * sim::kMicrosecond);
  EXPECT_EQ(log.ops[1].not_before, 263 * sim::kMicrosecond);
}

TEST(FioIolog, BadLogsNameTheLineAndTheProblem) {
  EXPECT_EQ(error_of("fio version 1 iolog\n"),
            "log:1: error: not an fio iolog of version 2 or 3: the first line must be \"fio version 2 iolog\" or "
            "\"fio version 3 iolog\"");
  EXPECT_EQ(error_of(""), "log:1: error: not an fio iolog of version 2 or 3: the first line must be \"fio version 2 "
                          "iolog\" or \"fio version 3 iolog\"");
  EXPECT_EQ(error_of("fio version 3 iolog\n1 /f add\n2 /f open\n3 /f wait 500 0\n"),
            "log:4: error: \"wait\" is not allowed in a version 3 log (timestamps replace it)");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/f open\n/f trim 0 4096\n"),
            "log:4: error: \"trim\" cannot be replayed: the storage stack here sends no UNMAP");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/g add\n"),
            "log:3: error: a second file \"/g\" (the log already uses \"/f\"): a replay maps one file onto the disk");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/f read 0 512\n"),
            "log:3: error: I/O on \"/f\", which is not open");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/f open\n/f read x 512\n"),
            "log:4: error: offset \"x\" is not a non-negative integer");
  EXPECT_EQ(error_of("fio version 3 iolog\n/f add\n"),
            "log:2: error: timestamp \"/f\" is not a non-negative integer");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/f open\n/f read 0\n"),
            "log:4: error: expected \"filename action\" or \"...filename action offset length\", found 3 fields");
  EXPECT_EQ(error_of("fio version 2 iolog\n/f add\n/f open\n/f write 0 0\n"), "log:4: error: a write of length 0");
}

}  // namespace
}  // namespace dexthil::storage
