#include "models/scsi/scsi_disk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "harness/storage/scsi_commands.hpp"

namespace dexthil::models::scsi {

namespace {

namespace op = storage::cdb;  // the operation codes

constexpr std::uint8_t kReadCapacity16ServiceAction = 0x10;

// CDB fields are big-endian.
std::uint64_t be(std::span<const std::uint8_t> cdb, std::size_t at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = v << 8 | (at + i < cdb.size() ? cdb[at + i] : 0);
  return v;
}
void put_be(std::vector<std::uint8_t>& out, std::size_t at, std::uint64_t value, std::size_t bytes) {
  if (out.size() < at + bytes) out.resize(at + bytes, 0);
  for (std::size_t i = 0; i < bytes; ++i) out[at + i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
}
void put_text(std::vector<std::uint8_t>& out, std::size_t at, std::size_t width, const std::string& text) {
  if (out.size() < at + width) out.resize(at + width, 0);
  for (std::size_t i = 0; i < width; ++i) out[at + i] = i < text.size() ? static_cast<std::uint8_t>(text[i]) : ' ';
}
// Data-in is cut to what the CDB's allocation length allows.
Result good(std::vector<std::uint8_t> data, std::uint64_t allocation) {
  if (data.size() > allocation) data.resize(allocation);
  return {kGood, std::move(data), {}};
}

// Where a READ or WRITE's LBA and block count are: (6), (10), (16).
struct Span {
  std::uint64_t lba, count;
};
Span transfer(std::span<const std::uint8_t> cdb) {
  switch (cdb[0]) {
    case op::kRead6:
    case op::kWrite6: {
      const std::uint64_t count = be(cdb, 4, 1);
      return {be(cdb, 1, 3) & 0x1FFFFF, count == 0 ? 256 : count};  // 0 blocks means 256
    }
    case op::kRead10:
    case op::kWrite10: return {be(cdb, 2, 4), be(cdb, 7, 2)};
    default: return {be(cdb, 2, 8), be(cdb, 10, 4)};
  }
}
bool is_write(std::uint8_t opcode) { return opcode == op::kWrite6 || opcode == op::kWrite10 || opcode == op::kWrite16; }

}  // namespace

// ---- stores ----

std::uint8_t* MemoryStore::page(std::uint64_t number, bool create) {
  const std::uint64_t chunk = number / kChunkPages;
  if (chunk >= chunks_.size()) {
    if (!create) return nullptr;
    chunks_.resize(chunk + 1);
  }
  std::unique_ptr<Chunk>& c = chunks_[chunk];
  if (!c) {
    if (!create) return nullptr;
    c = std::make_unique<Chunk>();
  }
  std::unique_ptr<std::uint8_t[]>& p = (*c)[number % kChunkPages];
  if (!p && create) p = std::make_unique<std::uint8_t[]>(kPageBytes);  // value-initialised: zeros
  return p.get();
}

bool MemoryStore::read(std::uint64_t offset, std::span<std::uint8_t> bytes) {
  // Page by page: the part of each page the range covers; pages never written read as zeros.
  for (std::size_t done = 0; done < bytes.size();) {
    const std::uint64_t at = offset + done;
    const std::uint64_t within = at % kPageBytes;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kPageBytes - within, bytes.size() - done));
    if (const std::uint8_t* p = page(at / kPageBytes, false)) std::memcpy(bytes.data() + done, p + within, n);
    else std::memset(bytes.data() + done, 0, n);
    done += n;
  }
  return true;
}

bool MemoryStore::write(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    const std::uint64_t at = offset + done;
    const std::uint64_t within = at % kPageBytes;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kPageBytes - within, bytes.size() - done));
    std::memcpy(page(at / kPageBytes, true) + within, bytes.data() + done, n);
    done += n;
  }
  return true;
}

std::unique_ptr<FileStore> FileStore::open(const std::string& path, std::uint64_t bytes, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct stat st{};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (static_cast<std::uint64_t>(st.st_size) < bytes && ftruncate(fd, static_cast<off_t>(bytes)) != 0)) {
    const std::string why = fd >= 0 && !S_ISREG(st.st_mode) ? "not a regular file" : std::strerror(errno);
    if (fd >= 0) ::close(fd);
    *error = path + ": error: cannot open the disk image: " + why;
    return nullptr;
  }
  return std::unique_ptr<FileStore>(new FileStore(fd));
}

FileStore::~FileStore() { ::close(fd_); }

bool FileStore::read(std::uint64_t offset, std::span<std::uint8_t> bytes) {
  return pread(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset)) == static_cast<ssize_t>(bytes.size());
}

bool FileStore::write(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  return pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset)) == static_cast<ssize_t>(bytes.size());
}

// ---- the target ----

Disk::Disk(DiskIdentity identity, std::uint64_t blocks, std::uint32_t block_bytes, std::unique_ptr<BlockStore> store)
    : identity_(std::move(identity)),
      blocks_(blocks),
      block_bytes_(block_bytes),
      store_(store ? std::move(store) : std::make_unique<MemoryStore>()) {}

Result Disk::check_condition(SenseKey key, AdditionalSense asc) {
  // Fixed-format sense: response code 0x70 (current), the key, 10 more bytes, ASC and ASCQ.
  std::vector<std::uint8_t> sense(18, 0);
  sense[0] = 0x70;
  sense[2] = key;
  sense[7] = 10;
  sense[12] = static_cast<std::uint8_t>(asc >> 8);
  sense[13] = static_cast<std::uint8_t>(asc);
  last_sense_ = sense;
  return {kCheckCondition, {}, std::move(sense)};
}

std::uint64_t Disk::data_out_bytes(std::span<const std::uint8_t> cdb) const {
  if (cdb.empty() || !is_write(cdb[0])) return 0;
  const Span s = transfer(cdb);
  return s.count * block_bytes_;
}

Result Disk::execute(const Command& command) {
  const std::span<const std::uint8_t> cdb = command.cdb;
  if (cdb.empty()) return check_condition(kIllegalRequest, kInvalidOperationCode);
  const std::uint8_t opcode = cdb[0];
  if (command.lun != 0) {
    // Not there: INQUIRY says so (peripheral qualifier 3), anything else is refused.
    if (opcode == op::kInquiry) {
      std::vector<std::uint8_t> data(36, 0);
      data[0] = 0x7F;
      data[4] = 31;
      return good(std::move(data), be(cdb, 3, 2));
    }
    if (opcode != op::kRequestSense && opcode != op::kReportLuns) {
      return check_condition(kIllegalRequest, kLogicalUnitNotSupported);
    }
  }
  switch (opcode) {
    case op::kTestUnitReady:
    case op::kSynchronizeCache10: return {kGood, {}, {}};
    case op::kRequestSense: {
      std::vector<std::uint8_t> sense = last_sense_;
      if (sense.empty()) {  // nothing to report: NO SENSE
        sense.assign(18, 0);
        sense[0] = 0x70;
        sense[7] = 10;
      }
      last_sense_.clear();
      return good(std::move(sense), be(cdb, 4, 1));
    }
    case op::kInquiry: return inquiry(cdb);
    case op::kReadCapacity10: return read_capacity_10();
    case op::kServiceActionIn16:
      if ((cdb.size() > 1 ? cdb[1] & 0x1F : 0) == kReadCapacity16ServiceAction) return read_capacity_16(cdb);
      return check_condition(kIllegalRequest, kInvalidFieldInCdb);
    case op::kModeSense6: return mode_sense(cdb, false);
    case op::kModeSense10: return mode_sense(cdb, true);
    case op::kReportLuns: return report_luns(cdb);
    case op::kRead6:
    case op::kRead10:
    case op::kRead16: {
      const Span s = transfer(cdb);
      return read_blocks(s.lba, s.count);
    }
    case op::kWrite6:
    case op::kWrite10:
    case op::kWrite16: {
      const Span s = transfer(cdb);
      return write_blocks(s.lba, s.count, command.data_out);
    }
    default: return check_condition(kIllegalRequest, kInvalidOperationCode);
  }
}

Result Disk::inquiry(std::span<const std::uint8_t> cdb) {
  const bool evpd = be(cdb, 1, 1) & 0x01;
  const std::uint8_t page = static_cast<std::uint8_t>(be(cdb, 2, 1));
  const std::uint64_t allocation = be(cdb, 3, 2);
  std::vector<std::uint8_t> data;
  if (!evpd) {
    if (page != 0) return check_condition(kIllegalRequest, kInvalidFieldInCdb);
    data.assign(36, 0);
    data[0] = 0x00;  // a direct-access block device, connected
    data[2] = 0x05;  // SPC-3
    data[3] = 0x02;  // response data format 2
    data[4] = 31;    // additional length
    data[7] = 0x32;  // WBus16, Sync, CmdQue: a wide, synchronous SPI target with tagged queueing
    put_text(data, 8, 8, identity_.vendor);
    put_text(data, 16, 16, identity_.product);
    put_text(data, 32, 4, identity_.revision);
    return good(std::move(data), allocation);
  }
  data.assign(4, 0);
  data[1] = page;
  switch (page) {
    case 0x00:  // the pages supported
      data.insert(data.end(), {0x00, 0x80, 0x83});
      break;
    case 0x80:  // unit serial number
      put_text(data, 4, identity_.serial.size(), identity_.serial);
      break;
    case 0x83:  // device identification: one NAA designator for the logical unit
      data.insert(data.end(), {0x01, 0x03, 0x00, 0x08});  // binary; LU association, NAA; 8 bytes
      put_be(data, data.size(), identity_.naa, 8);
      break;
    default: return check_condition(kIllegalRequest, kInvalidFieldInCdb);
  }
  put_be(data, 2, data.size() - 4, 2);  // page length
  return good(std::move(data), allocation);
}

Result Disk::read_capacity_10() const {
  std::vector<std::uint8_t> data(8, 0);
  // The last LBA; 0xFFFFFFFF when it does not fit, telling the initiator to use the (16).
  put_be(data, 0, std::min<std::uint64_t>(blocks_ - 1, 0xFFFFFFFF), 4);
  put_be(data, 4, block_bytes_, 4);
  return {kGood, std::move(data), {}};
}

Result Disk::read_capacity_16(std::span<const std::uint8_t> cdb) const {
  std::vector<std::uint8_t> data(32, 0);
  put_be(data, 0, blocks_ - 1, 8);
  put_be(data, 8, block_bytes_, 4);
  return good(std::move(data), be(cdb, 10, 4));
}

Result Disk::mode_sense(std::span<const std::uint8_t> cdb, bool ten) {
  const bool dbd = be(cdb, 1, 1) & 0x08;
  const std::uint8_t page = static_cast<std::uint8_t>(be(cdb, 2, 1) & 0x3F);
  const std::uint64_t allocation = ten ? be(cdb, 7, 2) : be(cdb, 4, 1);
  // The pages: caching (0x08: write cache enabled) and control (0x0A).
  std::vector<std::uint8_t> pages;
  auto caching = [&pages] {
    std::vector<std::uint8_t> p(20, 0);
    p[0] = 0x08;
    p[1] = 18;
    p[2] = 0x04;  // WCE
    pages.insert(pages.end(), p.begin(), p.end());
  };
  auto control = [&pages] {
    std::vector<std::uint8_t> p(12, 0);
    p[0] = 0x0A;
    p[1] = 10;
    pages.insert(pages.end(), p.begin(), p.end());
  };
  if (page == 0x08) caching();
  else if (page == 0x0A) control();
  else if (page == 0x3F) {
    caching();
    control();
  } else {
    return check_condition(kIllegalRequest, kInvalidFieldInCdb);
  }
  std::vector<std::uint8_t> block;  // one short block descriptor, unless DBD
  if (!dbd) {
    block.assign(8, 0);
    put_be(block, 1, std::min<std::uint64_t>(blocks_, 0xFFFFFF), 3);
    put_be(block, 5, block_bytes_, 3);
  }
  std::vector<std::uint8_t> data(ten ? 8 : 4, 0);
  if (ten) put_be(data, 6, block.size(), 2);
  else data[3] = static_cast<std::uint8_t>(block.size());
  data.insert(data.end(), block.begin(), block.end());
  data.insert(data.end(), pages.begin(), pages.end());
  // Mode data length: the bytes after itself.
  if (ten) put_be(data, 0, data.size() - 2, 2);
  else data[0] = static_cast<std::uint8_t>(data.size() - 1);
  return good(std::move(data), allocation);
}

Result Disk::report_luns(std::span<const std::uint8_t> cdb) const {
  std::vector<std::uint8_t> data(16, 0);  // one LUN, 0
  put_be(data, 0, 8, 4);
  return good(std::move(data), be(cdb, 6, 4));
}

Result Disk::read_blocks(std::uint64_t lba, std::uint64_t count) {
  if (lba > blocks_ || count > blocks_ - lba) return check_condition(kIllegalRequest, kLbaOutOfRange);
  std::vector<std::uint8_t> data(count * block_bytes_, 0);
  if (!store_->read(lba * block_bytes_, data)) return check_condition(kMediumError, kUnrecoveredReadError);
  return {kGood, std::move(data), {}};
}

Result Disk::write_blocks(std::uint64_t lba, std::uint64_t count, std::span<const std::uint8_t> data) {
  if (lba > blocks_ || count > blocks_ - lba) return check_condition(kIllegalRequest, kLbaOutOfRange);
  // The data phase must carry exactly the blocks the CDB names.
  if (data.size() != count * block_bytes_) return check_condition(kAbortedCommand, kDataPhaseError);
  if (!store_->write(lba * block_bytes_, data)) return check_condition(kMediumError, kWriteError);
  return {kGood, {}, {}};
}

}  // namespace dexthil::models::scsi
