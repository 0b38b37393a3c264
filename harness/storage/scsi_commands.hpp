#pragma once
// The SCSI commands the block front end sends, built as SPC-4 and SBC-3 lay out their CDBs.
#include <cstdint>
#include <string_view>
#include <vector>

#include "harness/storage/scsi_initiator.hpp"

namespace dexthil::storage::cdb {

// Operation codes (SPC-4, SBC-3), for the commands built here and the disks that answer them.
enum Opcode : std::uint8_t {
  kTestUnitReady = 0x00,
  kRequestSense = 0x03,
  kRead6 = 0x08,
  kWrite6 = 0x0A,
  kInquiry = 0x12,
  kModeSelect6 = 0x15,
  kModeSense6 = 0x1A,
  kStartStopUnit = 0x1B,
  kPreventAllowMediumRemoval = 0x1E,
  kReadCapacity10 = 0x25,
  kRead10 = 0x28,
  kWrite10 = 0x2A,
  kSynchronizeCache10 = 0x35,
  kModeSense10 = 0x5A,
  kRead16 = 0x88,
  kWrite16 = 0x8A,
  kServiceActionIn16 = 0x9E,  // READ CAPACITY(16) is its service action 0x10
  kReportLuns = 0xA0,
};

// The command's name as the standards print it, for findings.
std::string_view name_of(const ScsiCommand& command);

ScsiCommand test_unit_ready();
ScsiCommand inquiry(std::uint16_t allocation, std::uint8_t vpd_page = 0, bool evpd = false);
ScsiCommand read_capacity10();
ScsiCommand read_capacity16();
// `dbd`: no block descriptors.
ScsiCommand mode_sense6(std::uint8_t page, std::uint8_t allocation, bool dbd);
ScsiCommand mode_sense10(std::uint8_t page, std::uint16_t allocation, bool dbd);
// PF set, SP clear; `parameters` as the disk returned them from MODE SENSE(6).
ScsiCommand mode_select6(std::vector<std::uint8_t> parameters);
ScsiCommand start_stop_unit(bool start);
ScsiCommand report_luns(std::uint32_t allocation);
ScsiCommand synchronize_cache10();
// READ/WRITE(10) while the LBA and count fit, else (16).
ScsiCommand read(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size);
ScsiCommand write(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size);

}  // namespace dexthil::storage::cdb
