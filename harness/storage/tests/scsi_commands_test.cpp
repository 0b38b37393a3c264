// CDBs as SBC-3 and SPC-4 lay them out, written out byte by byte.
#include "harness/storage/scsi_commands.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dexthil::storage {
namespace {

std::vector<std::uint8_t> bytes(const ScsiCommand& c) { return {c.cdb.begin(), c.cdb.begin() + c.cdb_length}; }

TEST(ScsiCommands, ReadAndWriteUseTheTenByteFormWhileItFits) {
  const ScsiCommand r = cdb::read(0x12345678, 0x20, 512);
  EXPECT_EQ(bytes(r), (std::vector<std::uint8_t>{0x28, 0, 0x12, 0x34, 0x56, 0x78, 0, 0x00, 0x20, 0}));
  EXPECT_EQ(r.direction, ScsiCommand::Direction::kFromTarget);
  EXPECT_EQ(r.length, 0x20u * 512);
  EXPECT_EQ(cdb::name_of(r), "READ(10)");
  const ScsiCommand w = cdb::write(0x100000000ull, 8, 4096);
  EXPECT_EQ(bytes(w), (std::vector<std::uint8_t>{0x8A, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0}));
  EXPECT_EQ(w.direction, ScsiCommand::Direction::kToTarget);
  EXPECT_EQ(cdb::name_of(w), "WRITE(16)");
  EXPECT_EQ(bytes(cdb::read(0, 0x10000, 512))[0], 0x88);  // a count beyond 16 bits
}

TEST(ScsiCommands, ProbeCommands) {
  EXPECT_EQ(bytes(cdb::inquiry(255, 0x80, true)), (std::vector<std::uint8_t>{0x12, 0x01, 0x80, 0x00, 0xFF, 0}));
  EXPECT_EQ(cdb::name_of(cdb::inquiry(36)), "INQUIRY");
  EXPECT_EQ(bytes(cdb::read_capacity16()),
            (std::vector<std::uint8_t>{0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}));
  EXPECT_EQ(cdb::name_of(cdb::read_capacity16()), "READ CAPACITY(16)");
  EXPECT_EQ(bytes(cdb::mode_sense6(0x08, 4, false)), (std::vector<std::uint8_t>{0x1A, 0, 0x08, 0, 4, 0}));
  EXPECT_EQ(bytes(cdb::mode_sense10(0x03, 8, true)), (std::vector<std::uint8_t>{0x5A, 0x08, 0x03, 0, 0, 0, 0, 0, 8, 0}));
  EXPECT_EQ(bytes(cdb::report_luns(16)), (std::vector<std::uint8_t>{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0}));
  EXPECT_EQ(bytes(cdb::start_stop_unit(true)), (std::vector<std::uint8_t>{0x1B, 0, 0, 0, 1, 0}));
  const ScsiCommand select = cdb::mode_select6({0, 0, 0, 0, 0x08, 0x12, 0x04});
  EXPECT_EQ(bytes(select), (std::vector<std::uint8_t>{0x15, 0x10, 0, 0, 7, 0}));
  std::vector<std::uint8_t> out(7);
  select.fill(out);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{0, 0, 0, 0, 0x08, 0x12, 0x04}));
}

}  // namespace
}  // namespace dexthil::storage
