#pragma once
// A SCSI direct-access target (a disk) as the commands SPC and SBC define reach it: a CDB and the
// data the initiator sends in; status, the data it returns and, on CHECK CONDITION, sense data
// (fixed format, what autosense hands back) out. The blocks live in a BlockStore: sparse in
// memory (a block never written reads as zeros) or in a disk image file. One logical unit,
// LUN 0; any other is not present.
//
// Commands: TEST UNIT READY, REQUEST SENSE, INQUIRY (standard data; VPD pages 0x00, 0x80,
// 0x83), READ CAPACITY(10) and (16), READ and WRITE (6), (10) and (16), MODE SENSE(6) and (10)
// (the caching and control pages), SYNCHRONIZE CACHE(10), REPORT LUNS. Anything else is
// CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE. How long a command takes
// is the SCSI bus model's, not this one's.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dexthil::models::scsi {

// SAM status codes.
enum Status : std::uint8_t { kGood = 0x00, kCheckCondition = 0x02 };

// Sense keys, and the additional sense codes this target reports (ASC << 8 | ASCQ).
enum SenseKey : std::uint8_t { kNoSense = 0x0, kMediumError = 0x3, kIllegalRequest = 0x5, kAbortedCommand = 0xB };
enum AdditionalSense : std::uint16_t {
  kNoAdditionalSense = 0x0000,
  kWriteError = 0x0C00,
  kUnrecoveredReadError = 0x1100,
  kInvalidOperationCode = 0x2000,
  kLbaOutOfRange = 0x2100,
  kInvalidFieldInCdb = 0x2400,
  kLogicalUnitNotSupported = 0x2500,
  kDataPhaseError = 0x4B00,
};

// Where a disk's bytes are. false: the medium failed (MEDIUM ERROR to the initiator).
class BlockStore {
 public:
  virtual ~BlockStore() = default;
  virtual bool read(std::uint64_t offset, std::span<std::uint8_t> bytes) = 0;
  virtual bool write(std::uint64_t offset, std::span<const std::uint8_t> bytes) = 0;
};

// Sparse in memory, in 4 KiB pages: what was never written reads as zeros.
class MemoryStore final : public BlockStore {
 public:
  bool read(std::uint64_t offset, std::span<std::uint8_t> bytes) override;
  bool write(std::uint64_t offset, std::span<const std::uint8_t> bytes) override;

 private:
  // Pages rather than blocks: a 4 KiB I/O is one lookup, and one allocation when first written.
  // The lookup is a two-level table (a hash map's chain cost three cache misses per random I/O):
  // a page's number indexes a chunk of kChunkPages page pointers, made when one of them is first
  // written, so the top level of a 2 TiB disk is at most 1 MiB.
  static constexpr std::uint64_t kPageBytes = 4096;
  static constexpr std::uint64_t kChunkPages = 4096;  // 16 MiB of disk per chunk
  using Chunk = std::array<std::unique_ptr<std::uint8_t[]>, kChunkPages>;
  // The page, or nullptr if it was never written (and `create` is false).
  std::uint8_t* page(std::uint64_t number, bool create);
  std::vector<std::unique_ptr<Chunk>> chunks_;
};

// A disk image file, grown (sparse) to the disk's size if it is shorter; its contents persist
// across runs.
class FileStore final : public BlockStore {
 public:
  // nullptr and `error` ("PATH: error: cannot open the disk image: why") when it cannot be used.
  static std::unique_ptr<FileStore> open(const std::string& path, std::uint64_t bytes, std::string* error);
  ~FileStore() override;
  bool read(std::uint64_t offset, std::span<std::uint8_t> bytes) override;
  bool write(std::uint64_t offset, std::span<const std::uint8_t> bytes) override;

 private:
  explicit FileStore(int fd) : fd_(fd) {}
  int fd_;
};

struct DiskIdentity {
  std::string vendor = "DEXTHIL";        // INQUIRY, 8 characters
  std::string product = "ULTRA320 DISK";  // 16
  std::string revision = "0001";          // 4
  std::string serial = "0000000001";      // VPD 0x80
  std::uint64_t naa = 0x5000000000000001;  // VPD 0x83: an NAA 5 (IEEE registered) identifier
};

struct Command {
  std::span<const std::uint8_t> cdb;
  std::uint8_t lun = 0;
  std::span<const std::uint8_t> data_out;  // what the initiator sends (a WRITE's blocks)
};

struct Result {
  std::uint8_t status = kGood;
  std::vector<std::uint8_t> data_in;  // at most what the CDB's allocation or transfer length asks
  std::vector<std::uint8_t> sense;    // fixed format, 18 bytes, on CHECK CONDITION
};

class Disk {
 public:
  // Blocks in memory unless `store` is given.
  Disk(DiskIdentity identity, std::uint64_t blocks, std::uint32_t block_bytes = 512,
       std::unique_ptr<BlockStore> store = nullptr);

  Result execute(const Command& command);

  std::uint64_t blocks() const { return blocks_; }
  std::uint32_t block_bytes() const { return block_bytes_; }
  // How many bytes a WRITE with this CDB takes from the initiator (0 for any other command): what
  // the HBA moves to the target before it executes the command.
  std::uint64_t data_out_bytes(std::span<const std::uint8_t> cdb) const;

 private:
  Result check_condition(SenseKey key, AdditionalSense asc);
  Result inquiry(std::span<const std::uint8_t> cdb);
  Result read_capacity_10() const;
  Result read_capacity_16(std::span<const std::uint8_t> cdb) const;
  Result mode_sense(std::span<const std::uint8_t> cdb, bool ten);
  Result report_luns(std::span<const std::uint8_t> cdb) const;
  Result read_blocks(std::uint64_t lba, std::uint64_t count);
  Result write_blocks(std::uint64_t lba, std::uint64_t count, std::span<const std::uint8_t> data);

  DiskIdentity identity_;
  std::uint64_t blocks_;
  std::uint32_t block_bytes_;
  std::unique_ptr<BlockStore> store_;
  std::vector<std::uint8_t> last_sense_;  // what REQUEST SENSE returns
};

}  // namespace dexthil::models::scsi
