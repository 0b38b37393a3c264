#include "harness/storage/scsi_commands.hpp"

#include <algorithm>

namespace dexthil::storage::cdb {
namespace {

ScsiCommand make(std::uint8_t length, std::initializer_list<std::uint8_t> bytes,
                 ScsiCommand::Direction direction = ScsiCommand::Direction::kNone, std::uint64_t data = 0) {
  ScsiCommand c;
  c.cdb_length = length;
  std::size_t i = 0;
  for (std::uint8_t b : bytes) c.cdb[i++] = b;
  c.direction = direction;
  c.length = data;
  return c;
}

void put_be(ScsiCommand& c, std::size_t at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) c.cdb[at + i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
}

ScsiCommand transfer(bool is_write, std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size) {
  const auto dir = is_write ? ScsiCommand::Direction::kToTarget : ScsiCommand::Direction::kFromTarget;
  const std::uint64_t bytes = std::uint64_t{blocks} * block_size;
  if (lba <= 0xFFFFFFFFull && blocks <= 0xFFFF) {
    ScsiCommand c = make(10, {is_write ? kWrite10 : kRead10}, dir, bytes);
    put_be(c, 2, lba, 4);
    put_be(c, 7, blocks, 2);
    return c;
  }
  ScsiCommand c = make(16, {is_write ? kWrite16 : kRead16}, dir, bytes);
  put_be(c, 2, lba, 8);
  put_be(c, 10, blocks, 4);
  return c;
}

}  // namespace

std::string_view name_of(const ScsiCommand& c) {
  switch (c.cdb[0]) {
    case kTestUnitReady: return "TEST UNIT READY";
    case kRequestSense: return "REQUEST SENSE";
    case kInquiry: return (c.cdb[1] & 1) ? "INQUIRY (VPD)" : "INQUIRY";
    case kModeSelect6: return "MODE SELECT(6)";
    case kModeSense6: return "MODE SENSE(6)";
    case kStartStopUnit: return "START STOP UNIT";
    case kPreventAllowMediumRemoval: return "PREVENT ALLOW MEDIUM REMOVAL";
    case kReadCapacity10: return "READ CAPACITY(10)";
    case kRead10: return "READ(10)";
    case kWrite10: return "WRITE(10)";
    case kSynchronizeCache10: return "SYNCHRONIZE CACHE(10)";
    case kModeSense10: return "MODE SENSE(10)";
    case kRead16: return "READ(16)";
    case kWrite16: return "WRITE(16)";
    case kServiceActionIn16: return (c.cdb[1] & 0x1f) == 0x10 ? "READ CAPACITY(16)" : "SERVICE ACTION IN(16)";
    case kReportLuns: return "REPORT LUNS";
    default: return "command";
  }
}

ScsiCommand test_unit_ready() { return make(6, {kTestUnitReady}); }

ScsiCommand inquiry(std::uint16_t allocation, std::uint8_t vpd_page, bool evpd) {
  ScsiCommand c = make(6, {kInquiry, static_cast<std::uint8_t>(evpd ? 1 : 0), vpd_page},
                       ScsiCommand::Direction::kFromTarget, allocation);
  put_be(c, 3, allocation, 2);
  return c;
}

ScsiCommand read_capacity10() { return make(10, {kReadCapacity10}, ScsiCommand::Direction::kFromTarget, 8); }

ScsiCommand read_capacity16() {
  ScsiCommand c = make(16, {kServiceActionIn16, 0x10}, ScsiCommand::Direction::kFromTarget, 32);
  put_be(c, 10, 32, 4);
  return c;
}

ScsiCommand mode_sense6(std::uint8_t page, std::uint8_t allocation, bool dbd) {
  return make(6, {kModeSense6, static_cast<std::uint8_t>(dbd ? 0x08 : 0), page, 0, allocation},
              ScsiCommand::Direction::kFromTarget, allocation);
}

ScsiCommand mode_sense10(std::uint8_t page, std::uint16_t allocation, bool dbd) {
  ScsiCommand c = make(10, {kModeSense10, static_cast<std::uint8_t>(dbd ? 0x08 : 0), page},
                       ScsiCommand::Direction::kFromTarget, allocation);
  put_be(c, 7, allocation, 2);
  return c;
}

ScsiCommand mode_select6(std::vector<std::uint8_t> parameters) {
  ScsiCommand c = make(6, {kModeSelect6, 0x10 /* PF */, 0, 0, static_cast<std::uint8_t>(parameters.size())},
                       ScsiCommand::Direction::kToTarget, parameters.size());
  c.fill = [parameters = std::move(parameters)](std::span<std::uint8_t> out) {
    std::copy(parameters.begin(), parameters.end(), out.begin());
  };
  return c;
}

ScsiCommand start_stop_unit(bool start) { return make(6, {kStartStopUnit, 0, 0, 0, static_cast<std::uint8_t>(start)}); }

ScsiCommand report_luns(std::uint32_t allocation) {
  ScsiCommand c = make(12, {kReportLuns}, ScsiCommand::Direction::kFromTarget, allocation);
  put_be(c, 6, allocation, 4);
  return c;
}

ScsiCommand synchronize_cache10() { return make(10, {kSynchronizeCache10}); }

ScsiCommand read(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size) {
  return transfer(false, lba, blocks, block_size);
}
ScsiCommand write(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size) {
  return transfer(true, lba, blocks, block_size);
}

}  // namespace dexthil::storage::cdb
