#pragma once
// What the block front end (harness/storage) sees of a disk, for StorageChecker. Plain data,
// valid only during the handler.
#include <cstdint>
#include <string_view>

#include "harness/sim/time.hpp"

namespace dexthil::monitor {

// How a SCSI command ended, when it did not end well.
struct ScsiFailure {
  std::uint8_t response = 0;  // SCSIServiceResponse
  std::uint8_t status = 0;    // SCSITaskStatus
  std::uint8_t sense_key = 0, asc = 0, ascq = 0;  // from autosense, when there was any
  bool has_sense = false;
};

// The disk did not answer the probe as a direct-access disk must: the storage stack publishes no media.
struct BlockProbeFailed {
  sim::SimTime time = 0;
  std::string_view device;   // the initiator's name: "Controller@location target 0"
  std::string_view command;  // "INQUIRY", "READ CAPACITY(10)", ...
  ScsiFailure failure;
  std::string_view why;      // what was wrong when the command itself succeeded
};

// A read or write the front end issued failed. The storage stack sends it again while
// `retries_left` > 0; at 0 the application hears kIOReturnIOError.
struct BlockIoFailed {
  sim::SimTime time = 0;
  std::string_view device;
  std::string_view command;  // "WRITE(10)", ...
  std::uint64_t lba = 0;
  std::uint64_t blocks = 0;
  std::uint64_t transferred = 0;  // bytes the controller reported
  ScsiFailure failure;
  unsigned attempt = 1;       // 1: the first time it was sent
  unsigned retries_left = 0;  // sends still to come, this failure's included; 0: it was the last
};

// A block read back differs from what the disk acknowledged writing there.
struct BlockDataMismatch {
  sim::SimTime time = 0;
  std::string_view device;
  std::uint64_t lba = 0;        // the first differing block of the read
  std::uint64_t blocks_bad = 0;  // how many of the read's blocks differ
  std::uint64_t expected = 0, got = 0;  // that block's checksums
  bool never_written = false;   // expected the zeros of fresh media
};

// The run ended with a command the disk never completed (the storage stack's READ and WRITE
// have no timeout unless one is set, so on a Mac the I/O hangs).
struct BlockIoIncomplete {
  sim::SimTime time = 0;
  std::string_view device;
  std::string_view command;
  std::uint64_t lba = 0;
  std::uint64_t blocks = 0;
  sim::SimTime submitted = 0;
};

}  // namespace dexthil::monitor
