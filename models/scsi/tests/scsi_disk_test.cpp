// The SCSI disk target: CDBs and the expected data written out byte by byte from SPC-3 and
// SBC-2, in the order a host's scan sends them (INQUIRY, REPORT LUNS, TEST UNIT READY, READ
// CAPACITY, MODE SENSE), then I/O and its errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "models/scsi/scsi_disk.hpp"

namespace dexthil::models::scsi {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Target {
  Disk disk{DiskIdentity{}, 2048, 512};  // 1 MiB
  Result run(const Bytes& cdb, const Bytes& data_out = {}, std::uint8_t lun = 0) {
    return disk.execute({cdb, lun, data_out});
  }
};

// The fixed-format sense of a CHECK CONDITION: key and ASC/ASCQ.
void expect_sense(const Result& r, std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
  ASSERT_EQ(r.status, kCheckCondition);
  ASSERT_EQ(r.sense.size(), 18u);
  EXPECT_EQ(r.sense[0], 0x70);
  EXPECT_EQ(r.sense[2], key);
  EXPECT_EQ(r.sense[7], 10);
  EXPECT_EQ(r.sense[12], asc);
  EXPECT_EQ(r.sense[13], ascq);
}

TEST(ScsiDisk, StandardInquiryIsAWideTaggedDisk) {
  Target t;
  const Result r = t.run({0x12, 0x00, 0x00, 0x00, 0x24, 0x00});
  ASSERT_EQ(r.status, kGood);
  const Bytes expected = {
      0x00, 0x00, 0x05, 0x02, 0x1F, 0x00, 0x00, 0x32,  // disk, SPC-3, format 2, 31 more, WBus16|Sync|CmdQue
      'D',  'E',  'X',  'T',  'H',  'I',  'L',  ' ',   // vendor
      'U',  'L',  'T',  'R',  'A',  '3',  '2',  '0',  ' ', 'D', 'I', 'S', 'K', ' ', ' ', ' ',  // product
      '0',  '0',  '0',  '1',                            // revision
  };
  EXPECT_EQ(r.data_in, expected);
  // A shorter allocation length gets the first bytes only.
  EXPECT_EQ(t.run({0x12, 0x00, 0x00, 0x00, 0x05, 0x00}).data_in, (Bytes{0x00, 0x00, 0x05, 0x02, 0x1F}));
  // A LUN that is not there: peripheral qualifier 3, no device type.
  EXPECT_EQ(t.run({0x12, 0x00, 0x00, 0x00, 0x24, 0x00}, {}, 1).data_in.at(0), 0x7F);
}

TEST(ScsiDisk, VitalProductDataPages) {
  Target t;
  EXPECT_EQ(t.run({0x12, 0x01, 0x00, 0x00, 0xFF, 0x00}).data_in, (Bytes{0x00, 0x00, 0x00, 0x03, 0x00, 0x80, 0x83}));
  EXPECT_EQ(t.run({0x12, 0x01, 0x80, 0x00, 0xFF, 0x00}).data_in,
            (Bytes{0x00, 0x80, 0x00, 0x0A, '0', '0', '0', '0', '0', '0', '0', '0', '0', '1'}));
  EXPECT_EQ(t.run({0x12, 0x01, 0x83, 0x00, 0xFF, 0x00}).data_in,
            (Bytes{0x00, 0x83, 0x00, 0x0C, 0x01, 0x03, 0x00, 0x08, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}));
  expect_sense(t.run({0x12, 0x01, 0xB0, 0x00, 0xFF, 0x00}), kIllegalRequest, 0x24, 0x00);  // no such page
  expect_sense(t.run({0x12, 0x00, 0x80, 0x00, 0xFF, 0x00}), kIllegalRequest, 0x24, 0x00);  // page without EVPD
}

TEST(ScsiDisk, ScanCommands) {
  Target t;
  // REPORT LUNS: one LUN, 0.
  EXPECT_EQ(t.run({0xA0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00, 0, 0}).data_in,
            (Bytes{0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(t.run({0x00, 0, 0, 0, 0, 0}).status, kGood);  // TEST UNIT READY
  // READ CAPACITY(10): last LBA 2047, 512-byte blocks.
  EXPECT_EQ(t.run({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}).data_in, (Bytes{0x00, 0x00, 0x07, 0xFF, 0x00, 0x00, 0x02, 0x00}));
  // READ CAPACITY(16): SERVICE ACTION IN(16), action 0x10, allocation 32.
  const Result cap16 = t.run({0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0});
  ASSERT_EQ(cap16.data_in.size(), 32u);
  EXPECT_EQ(Bytes(cap16.data_in.begin(), cap16.data_in.begin() + 12),
            (Bytes{0, 0, 0, 0, 0, 0, 0x07, 0xFF, 0x00, 0x00, 0x02, 0x00}));
  // MODE SENSE(6), the caching page: header, a block descriptor (2048 blocks of 512), the page.
  const Result caching = t.run({0x1A, 0x00, 0x08, 0x00, 0xFF, 0x00});
  const Bytes expected = {
      0x1F, 0x00, 0x00, 0x08,                          // 31 more bytes, block descriptor length 8
      0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x00,  // 2048 blocks, 512 bytes
      0x08, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // caching page, 18 bytes, WCE
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  EXPECT_EQ(caching.data_in, expected);
  // MODE SENSE(10), all pages, no block descriptor: an 8-byte header, caching, control.
  const Result all = t.run({0x5A, 0x08, 0x3F, 0, 0, 0, 0, 0x00, 0xFF, 0});
  ASSERT_EQ(all.data_in.size(), 8u + 20u + 12u);
  EXPECT_EQ(Bytes(all.data_in.begin(), all.data_in.begin() + 8), (Bytes{0x00, 0x26, 0, 0, 0, 0, 0x00, 0x00}));
  EXPECT_EQ(all.data_in.at(28), 0x0A);  // the control page follows the caching page
  expect_sense(t.run({0x1A, 0x00, 0x19, 0x00, 0xFF, 0x00}), kIllegalRequest, 0x24, 0x00);  // no such page
}

TEST(ScsiDisk, WritesAreReadBackAndUnwrittenBlocksReadZero) {
  Target t;
  Bytes block(1024);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<std::uint8_t>(i * 7);
  // WRITE(10) of 2 blocks at LBA 100.
  const Bytes write10 = {0x2A, 0, 0x00, 0x00, 0x00, 0x64, 0, 0x00, 0x02, 0};
  EXPECT_EQ(t.disk.data_out_bytes(write10), 1024u);
  EXPECT_EQ(t.run(write10, block).status, kGood);
  // READ(16) of 3 blocks from LBA 99: a zero block, then the two written.
  const Result r = t.run({0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0, 0, 0, 0x03, 0, 0});
  ASSERT_EQ(r.data_in.size(), 1536u);
  EXPECT_EQ(Bytes(r.data_in.begin(), r.data_in.begin() + 512), Bytes(512, 0));
  EXPECT_EQ(Bytes(r.data_in.begin() + 512, r.data_in.end()), block);
  // READ(6) and WRITE(6): a transfer length of 0 means 256 blocks.
  EXPECT_EQ(t.run({0x08, 0x00, 0x00, 0x64, 0x00, 0x00}).data_in.size(), 256u * 512u);
  EXPECT_EQ(t.disk.data_out_bytes(Bytes{0x0A, 0x00, 0x00, 0x00, 0x01, 0x00}), 512u);
  EXPECT_EQ(t.run({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}).status, kGood);  // SYNCHRONIZE CACHE(10)
}

// The sparse store in pages of 4 KiB and chunks of 16 MiB: a write across both boundaries, and
// reads that take in pages never written (zeros) before, between and after it.
TEST(MemoryStore, WritesAcrossPagesAndChunksReadBackAndTheRestReadsZero) {
  MemoryStore store;
  constexpr std::uint64_t kChunk = 16u << 20;
  Bytes written(10000);
  for (std::size_t i = 0; i < written.size(); ++i) written[i] = static_cast<std::uint8_t>(i * 13 + 1);
  const std::uint64_t at = kChunk - 5000;  // 5000 bytes before the chunk boundary, 5000 past it
  ASSERT_TRUE(store.write(at, written));
  Bytes around(written.size() + 2 * 4096, 0xEE);
  ASSERT_TRUE(store.read(at - 4096, around));
  EXPECT_EQ(Bytes(around.begin(), around.begin() + 4096), Bytes(4096, 0));
  EXPECT_EQ(Bytes(around.begin() + 4096, around.end() - 4096), written);
  EXPECT_EQ(Bytes(around.end() - 4096, around.end()), Bytes(4096, 0));
  Bytes far(512, 0xEE);  // in a chunk nothing was written to, past the last one
  ASSERT_TRUE(store.read(100 * kChunk, far));
  EXPECT_EQ(far, Bytes(512, 0));
  ASSERT_TRUE(store.read(0, far));  // in a chunk before it, never made
  EXPECT_EQ(far, Bytes(512, 0));
}

TEST(ScsiDisk, ErrorsAreCheckConditionsWithTheirSense) {
  Target t;
  // Past the last block: LBA OUT OF RANGE.
  expect_sense(t.run({0x28, 0, 0x00, 0x00, 0x07, 0xFF, 0, 0x00, 0x02, 0}), kIllegalRequest, 0x21, 0x00);
  // A write whose data phase does not carry the blocks named.
  expect_sense(t.run({0x2A, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0}, Bytes(512)), kAbortedCommand, 0x4B, 0x00);
  // An opcode the target does not have.
  expect_sense(t.run({0xC1, 0, 0, 0, 0, 0}), kIllegalRequest, 0x20, 0x00);
  // Any command but INQUIRY to a LUN that is not there.
  expect_sense(t.run({0x00, 0, 0, 0, 0, 0}, {}, 2), kIllegalRequest, 0x25, 0x00);
  // REQUEST SENSE returns the last sense, then NO SENSE.
  const Result sense = t.run({0x03, 0, 0, 0, 0x12, 0});
  ASSERT_EQ(sense.status, kGood);
  EXPECT_EQ(sense.data_in.at(2), kIllegalRequest);
  EXPECT_EQ(sense.data_in.at(12), 0x25);
  EXPECT_EQ(t.run({0x03, 0, 0, 0, 0x12, 0}).data_in.at(2), kNoSense);
}

TEST(ScsiDisk, ADiskImageFileKeepsItsBlocksAcrossRuns) {
  const std::filesystem::path image = std::filesystem::temp_directory_path() / "dexthil-scsi-disk-test.img";
  std::filesystem::remove(image);
  Bytes block(512, 0xA5);
  {
    std::string error;
    auto store = FileStore::open(image.string(), 2048 * 512, &error);
    ASSERT_NE(store, nullptr) << error;
    Disk disk(DiskIdentity{}, 2048, 512, std::move(store));
    ASSERT_EQ(disk.execute({Bytes{0x2A, 0, 0, 0, 0x00, 0x07, 0, 0, 0x01, 0}, 0, block}).status, kGood);  // LBA 7
  }
  // Grown to the disk's size, sparse, and the block where LBA 7 is.
  EXPECT_EQ(std::filesystem::file_size(image), 2048u * 512u);
  std::ifstream in(image, std::ios::binary);
  in.seekg(7 * 512);
  Bytes on_disk(512);
  in.read(reinterpret_cast<char*>(on_disk.data()), 512);
  EXPECT_EQ(on_disk, block);
  // A second run on the same image reads it back.
  std::string error;
  Disk again(DiskIdentity{}, 2048, 512, FileStore::open(image.string(), 2048 * 512, &error));
  const Result r = again.execute({Bytes{0x28, 0, 0, 0, 0x00, 0x07, 0, 0, 0x01, 0}, 0, {}});
  EXPECT_EQ(r.data_in, block);
  std::filesystem::remove(image);
  // Something that is not a file cannot be a disk image.
  EXPECT_EQ(FileStore::open(std::filesystem::temp_directory_path().string(), 512, &error), nullptr);
  EXPECT_EQ(error, std::filesystem::temp_directory_path().string() + ": error: cannot open the disk image: " +
                       "Is a directory");
}

// A medium that fails every access.
class FailingStore final : public BlockStore {
 public:
  bool read(std::uint64_t, std::span<std::uint8_t>) override { return false; }
  bool write(std::uint64_t, std::span<const std::uint8_t>) override { return false; }
};

TEST(ScsiDisk, AFailingMediumIsAMediumError) {
  Disk disk(DiskIdentity{}, 16, 512, std::make_unique<FailingStore>());
  expect_sense(disk.execute({Bytes{0x28, 0, 0, 0, 0, 0, 0, 0, 0x01, 0}, 0, {}}), kMediumError, 0x11, 0x00);
  expect_sense(disk.execute({Bytes{0x2A, 0, 0, 0, 0, 0, 0, 0, 0x01, 0}, 0, Bytes(512)}), kMediumError, 0x0C, 0x00);
}

}  // namespace
}  // namespace dexthil::models::scsi
