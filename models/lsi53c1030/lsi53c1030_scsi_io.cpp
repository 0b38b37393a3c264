// SCSI_IO on one LSI53C1030 function: the request checked, a write's data fetched through its
// SGL, the command run on the channel's bus, a read's data moved to the host while the bus
// carries it, autosense written, and the answer: a context reply when all went well, otherwise
// an address reply with MPI's SCSI IO reply. docs/lsi53c1030.md says what each field means.
#include <algorithm>
#include <cstring>

#include "harness/util/hex.hpp"
#include "models/lsi53c1030/lsi53c1030.hpp"

namespace dexthil::models {
namespace {

namespace mpi = lsi::mpi;

// SCSI_IO request fields (MPI 1.x MSG_SCSI_IO_REQUEST).
constexpr std::size_t kTargetId = 0x00, kBus = 0x01, kCdbLength = 0x04, kSenseBufferLength = 0x05, kLun = 0x0C,
                      kControl = 0x14, kCdb = 0x18, kDataLength = 0x28, kSenseBufferLowAddr = 0x2C, kSgl = 0x30;
constexpr std::uint8_t kMsgFlagsSense64 = 0x01;  // the sense buffer's upper half is IOCInit's SenseBufferHighAddr
constexpr std::uint32_t kDirectionShift = 24, kDirectionMask = 0x3;
enum Direction : std::uint32_t { kNoData = 0, kWrite = 1, kRead = 2 };
constexpr std::uint32_t kAttributeShift = 8, kAttributeMask = 0x7, kUntagged = 4;
// SCSI IO reply: Linux's MSG_SCSI_IO_REPLY, 9 dwords with TaskTag.
constexpr std::uint8_t kReplyDwords = 9;
constexpr std::size_t kScsiStatus = 0x0C, kScsiState = 0x0D, kTransferCount = 0x14, kSenseCount = 0x18;
enum ScsiState : std::uint8_t { kAutosenseValid = 0x01, kAutosenseFailed = 0x02, kTerminated = 0x08 };

using util::hex;

}  // namespace

struct Lsi53c1030Function::ScsiIo {
  Request request;
  std::uint64_t generation = 0;
  std::uint8_t target = 0;
  std::uint8_t lun = 0;
  std::uint8_t sense_length = 0;
  std::uint64_t sense_address = 0;
  std::uint32_t context = 0;
  std::uint32_t data_length = 0;
  Direction direction = kNoData;
  bool tagged = true;
  std::vector<std::uint8_t> cdb;
  std::vector<std::uint8_t> data;  // the data window (lsi_local::data_window of its slot)
  // Progress.
  bool bus_done = false;
  bool data_in_moving = false;
  std::uint32_t moved = 0;          // bytes that reached the host (reads) or the target (writes)
  bool overrun = false;             // the target had more to send than DataLength
  bool terminated = false;          // answered by task management: what is still in flight is void
  std::uint16_t dma_status = mpi::kSuccess;
  lsi::ScsiChannel::Outcome outcome;
};

std::vector<std::uint8_t>& Lsi53c1030Function::data_of(ScsiIo& io) { return io.data; }

bool Lsi53c1030Function::stale(const ScsiIo& io) const { return io.generation != generation_ || io.terminated; }

void Lsi53c1030Function::malformed(const std::shared_ptr<ScsiIo>& io, const std::string& what,
                                   std::uint16_t ioc_status) {
  if (findings_) {
    findings_->add({"lsi.malformed-request", name_, sim_.now(), "malformed " + describe(io->request) + ": " + what,
                    "the IOC refuses it with IOCStatus " + hex(ioc_status) +
                        " and runs nothing on the bus; MPI 1.x MSG_SCSI_IO_REQUEST: TargetID 0x00, Bus 0x01, "
                        "CDBLength 0x04 (1-16), Control 0x14 (direction 25:24: 0 none, 1 write, 2 read), DataLength 0x28",
                    {},
                    {{"context", hex(io->context)}, {"mfa", hex(io->request.mfa)}}});
  }
  reply_scsi_io(io, ioc_status, 0, 0);
}

void Lsi53c1030Function::handle_scsi_io(const Request& request) {
  const mpi::FrameView frame(frame_of(request));
  auto io = std::make_shared<ScsiIo>();
  io->request = request;
  io->generation = generation_;
  io->target = frame.u8(kTargetId);
  io->lun = frame.u8(kLun + 1);  // single-level LUN
  io->sense_length = frame.u8(kSenseBufferLength);
  io->sense_address = frame.u32(kSenseBufferLowAddr) |
                      ((frame.u8(mpi::kOffsetMsgFlags) & kMsgFlagsSense64)
                           ? static_cast<std::uint64_t>(firmware_.sense_buffer_high()) << 32
                           : 0);
  io->context = frame.u32(mpi::kOffsetMsgContext);
  io->data_length = frame.u32(kDataLength);
  const std::uint32_t control = frame.u32(kControl);
  const std::uint32_t direction = control >> kDirectionShift & kDirectionMask;
  io->tagged = (control >> kAttributeShift & kAttributeMask) != kUntagged;
  const std::uint8_t cdb_length = frame.u8(kCdbLength);

  if (frame.u8(kBus) != 0) {
    reply_scsi_io(io, mpi::kScsiInvalidBus, 0, 0);
    return;
  }
  if (io->target >= lsi::ScsiChannel::kIds) {
    reply_scsi_io(io, mpi::kScsiInvalidTargetId, 0, 0);
    return;
  }
  if (cdb_length == 0 || cdb_length > 16) {
    malformed(io, "CDBLength " + std::to_string(cdb_length) + " at byte 0x04 (a CDB has 1 to 16 bytes)",
              mpi::kInvalidField);
    return;
  }
  if (direction == 3 || (direction == kNoData) != (io->data_length == 0)) {
    malformed(io,
              "Control 0x14 gives data direction " + std::to_string(direction) + " with DataLength " +
                  std::to_string(io->data_length) + " at byte 0x28 (no data must have DataLength 0, and data a direction)",
              mpi::kInvalidField);
    return;
  }
  if (io->data_length > lsi_local::kDataWindowBytes) {
    malformed(io,
              "DataLength " + std::to_string(io->data_length) + " at byte 0x28 is more than dexthil's model of the IOC "
              "moves in one SCSI_IO (16 MiB)",
              mpi::kInvalidField);
    return;
  }
  io->direction = static_cast<Direction>(direction);
  ios_.push_back(io);
  io->cdb.assign(frame.bytes().begin() + kCdb, frame.bytes().begin() + kCdb + cdb_length);
  // The window is the request's own, so what is still in flight for it after task management
  // ended it cannot reach the next request in the same slot. A read's is the disk's data, taken
  // when the data-in phase begins.
  if (io->direction != kRead) io->data.resize(io->data_length);
  window_of_[request.slot] = io;
  if (io->direction != kWrite) {
    run_on_bus(io);
    return;
  }
  // A write's data comes in through its SGL before the command goes on the bus.
  walk(request, kSgl, false, lsi_local::data_window(request.slot), io->data_length, [this, io](const DmaDone& done) {
    if (stale(*io)) return;
    if (done.result != DmaResult::kOk) {
      reply_scsi_io(io, dma_failure(io->request, "the data-out", done), 0, 0);
      return;
    }
    io->moved = done.moved;
    run_on_bus(io);
  });
}

void Lsi53c1030Function::ask_for_agreement(std::uint8_t target) {
  // The pages change only when the host writes one or a reset restores them: what they asked
  // for is remembered until then, not looked up again for every command.
  WantedAgreement& known = wanted_[target];
  if (known.pages_version == firmware_.pages_version()) {
    channel_.request(target, known.agreement);
    return;
  }
  scsi::Agreement wanted;
  const lsi::mpi::Frame* device1 = firmware_.find_page(lsi::mpi::kScsiDevice, 1, target);
  const std::uint32_t requested = device1 ? device1->u32(0x04) : 0;
  if (requested != 0) {
    // RequestedParameters: bit 2 QAS, factor 15:8, offset 23:16 (0: asynchronous), bit 29 wide.
    const bool synchronous = (requested >> 16 & 0xFF) != 0;
    wanted.period_factor = synchronous ? static_cast<std::uint8_t>(requested >> 8) : 0;
    wanted.wide = requested >> 29 & 1;
    wanted.qas = requested >> 2 & 1;
  } else if (const lsi::mpi::Frame* port2 = firmware_.find_page(lsi::mpi::kScsiPort, 2)) {
    // The NVRAM's settings for the target: SyncFactor, and DeviceFlags' wide disable (0x10).
    const std::uint32_t settings = port2->u32(0x0C + 4u * target);
    const lsi::mpi::Frame* port0 = firmware_.find_page(lsi::mpi::kScsiPort, 0);
    wanted.period_factor = static_cast<std::uint8_t>(settings >> 8);
    wanted.wide = !(settings >> 16 & 0x10);
    wanted.qas = port0 && (port0->u32(0x04) >> 2 & 1);
  }
  known = {firmware_.pages_version(), wanted};
  channel_.request(target, wanted);
}

void Lsi53c1030Function::report_agreement(std::uint8_t target) {
  lsi::mpi::Frame* device0 = firmware_.find_page(lsi::mpi::kScsiDevice, 0, target);
  if (!device0 || !channel_.negotiated(target)) return;
  const scsi::Agreement& a = channel_.agreement(target);
  // NegotiatedParameters as Port page 0's capabilities: IU 0, DT 1, QAS 2, factor 15:8, offset
  // 23:16, wide 29. Ultra320's factor 0x08 is DT with information units; 0x09 is DT.
  std::uint32_t p = 0;
  if (a.period_factor != 0) {
    p |= static_cast<std::uint32_t>(a.period_factor) << 8 | 0x7Fu << 16;
    if (a.period_factor == 0x08) p |= 0x1;
    if (a.period_factor <= 0x09) p |= 0x2;
    if (a.qas) p |= 0x4;
  }
  if (a.wide) p |= 1u << 29;
  device0->set_u32(0x04, p);
  device0->set_u32(0x08, 0x1);  // Information: parameters negotiated
}

void Lsi53c1030Function::run_on_bus(const std::shared_ptr<ScsiIo>& io) {
  ask_for_agreement(io->target);
  lsi::ScsiChannel::Command command;
  command.target = io->target;
  command.lun = io->lun;
  command.cdb = io->cdb;
  command.tagged = io->tagged;
  if (io->direction == kWrite) command.data_out = std::span<const std::uint8_t>(io->data).first(io->moved);
  channel_.execute(
      command,
      [this, io](scsi::Result& result, sim::SimTime) {
        // The data-in phase began: move what fits the host's buffer while the bus carries it.
        if (stale(*io) || io->direction != kRead) return;
        const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(result.data_in.size(), io->data_length));
        io->overrun = result.data_in.size() > io->data_length;
        // The disk's buffer becomes the window, cut or padded to DataLength: 512 KiB reads spent
        // a tenth of their time zeroing a window and copying into it.
        io->data = std::move(result.data_in);
        io->data.resize(io->data_length);
        io->data_in_moving = true;
        walk(io->request, kSgl, true, lsi_local::data_window(io->request.slot), n, [this, io](const DmaDone& done) {
          if (stale(*io)) return;
          io->data_in_moving = false;
          io->moved = done.moved;
          if (done.result != DmaResult::kOk) io->dma_status = dma_failure(io->request, "the data-in", done);
          if (io->bus_done) complete_scsi_io(io);
        });
      },
      [this, io](lsi::ScsiChannel::Outcome outcome) {
        if (stale(*io)) return;
        io->outcome = std::move(outcome);
        io->bus_done = true;
        report_agreement(io->target);
        if (!io->data_in_moving) complete_scsi_io(io);
      });
}

void Lsi53c1030Function::complete_scsi_io(const std::shared_ptr<ScsiIo>& io) {
  const lsi::ScsiChannel::Outcome& o = io->outcome;
  if (!o.selected) {
    reply_scsi_io(io, mpi::kScsiDeviceNotThere, kTerminated, 0);
    return;
  }
  if (io->direction == kWrite) {
    // The target took what its CDB asks for, at most what was sent.
    const std::uint64_t wanted = channel_.disk(io->target)->data_out_bytes(io->cdb);
    io->moved = static_cast<std::uint32_t>(std::min<std::uint64_t>(io->moved, wanted));
  } else if (io->direction == kNoData) {
    io->moved = 0;
  }
  std::uint16_t status = io->dma_status;
  if (status == mpi::kSuccess) {
    if (io->overrun) status = mpi::kScsiDataOverrun;
    else if (io->moved < io->data_length && o.result.status == scsi::kGood) status = mpi::kScsiDataUnderrun;
  }
  const std::size_t sense = std::min<std::size_t>(io->sense_length, o.result.sense.size());
  if (o.result.status != scsi::kCheckCondition || sense == 0) {
    reply_scsi_io(io, status, 0, 0);
    return;
  }
  // Autosense: the sense data goes to the host's sense buffer before the reply.
  std::memcpy(&local_[lsi_local::sense(io->request.slot)], o.result.sense.data(), sense);
  DmaCommand c;
  c.to_host = true;
  c.host_addr = io->sense_address;
  c.laddr = lsi_local::sense(io->request.slot);
  c.length = static_cast<std::uint32_t>(sense);
  c.done = [this, io, status, sense](const DmaDone& done) {
    if (stale(*io)) return;
    const bool ok = done.result == DmaResult::kOk;
    if (!ok) dma_failure(io->request, "the sense data", done);
    reply_scsi_io(io, status, ok ? kAutosenseValid : kAutosenseFailed, ok ? static_cast<std::uint32_t>(sense) : 0);
  };
  dma(std::move(c));
}

void Lsi53c1030Function::reply_scsi_io(const std::shared_ptr<ScsiIo>& io, std::uint16_t ioc_status,
                                       std::uint8_t scsi_state, std::uint32_t sense_count) {
  if (stale(*io)) return;
  std::erase(ios_, io);
  finished(io->request);
  ++scsi_ios_completed_;
  const std::uint8_t scsi_status = io->outcome.selected && io->bus_done ? io->outcome.result.status : 0;
  // All went well and there is nothing to say: the MsgContext alone (bit 31 clear marks a context
  // reply, so a MsgContext with bit 31 set can only be answered with a frame).
  if (ioc_status == mpi::kSuccess && scsi_status == scsi::kGood && scsi_state == 0 && io->moved == io->data_length &&
      !(io->context & 0x8000'0000u)) {
    to_post_.push_back(io->context);
    sim_.wake(*this);
    return;
  }
  const mpi::Frame request(frame_of(io->request));
  mpi::Frame reply(kReplyDwords * 4u);
  reply.set_u8(0x00, request.u8(kTargetId));
  reply.set_u8(0x01, request.u8(kBus));
  reply.set_u8(mpi::kOffsetMsgLength, kReplyDwords);
  reply.set_u8(mpi::kOffsetFunction, mpi::kScsiIo);
  reply.set_u8(0x04, request.u8(kCdbLength));
  reply.set_u8(0x05, request.u8(kSenseBufferLength));
  reply.set_u8(mpi::kOffsetMsgFlags, request.u8(mpi::kOffsetMsgFlags));
  reply.set_u32(mpi::kOffsetMsgContext, io->context);
  reply.set_u8(kScsiStatus, scsi_status);
  reply.set_u8(kScsiState, scsi_state);
  reply.set_u16(mpi::kOffsetIocStatus, ioc_status);
  reply.set_u32(kTransferCount, io->moved);
  reply.set_u32(kSenseCount, sense_count);
  post_address_reply(reply.bytes());
}

// ---------------------------------------------------------------------------- task management

namespace {
// SCSI_TASK_MGMT request (MPI 1.x MSG_SCSI_TASK_MGMT) and reply fields.
constexpr std::size_t kTaskType = 0x05, kTaskMsgContext = 0x30, kTerminationCount = 0x14;
enum TaskType : std::uint8_t {
  kAbortTask = 0x01,
  kAbortTaskSet = 0x02,
  kTargetReset = 0x03,
  kResetBus = 0x04,
  kLogicalUnitReset = 0x05,
};
constexpr std::uint8_t kTaskReplyDwords = 6;
// A message to the target: IDENTIFY and the task management message (ABORT TASK takes the tag
// too); SPI's reset hold time for a bus reset.
constexpr std::uint64_t kTaskMessageBytes = 4;
constexpr sim::SimTime kResetHold = 25 * sim::kMicrosecond;
}  // namespace

void Lsi53c1030Function::handle_task_management(const Request& request) {
  const mpi::Frame frame(frame_of(request));
  const std::uint8_t type = frame.u8(kTaskType);
  const std::uint8_t target = frame.u8(kTargetId);
  const std::uint8_t lun = frame.u8(kLun + 1);
  const std::uint32_t task_context = frame.u32(kTaskMsgContext);
  mpi::Frame reply(kTaskReplyDwords * 4u);
  reply.set_u8(0x00, target);
  reply.set_u8(0x01, frame.u8(kBus));
  reply.set_u8(mpi::kOffsetMsgLength, kTaskReplyDwords);
  reply.set_u8(mpi::kOffsetFunction, mpi::kScsiTaskMgmt);
  reply.set_u8(kTaskType, type);
  reply.set_u8(mpi::kOffsetMsgFlags, frame.u8(mpi::kOffsetMsgFlags));
  reply.set_u32(mpi::kOffsetMsgContext, frame.u32(mpi::kOffsetMsgContext));
  // The reply always comes through the reply FIFO; a handshake that carried the request just ends.
  if (request.by_handshake()) close_handshake_ = true;
  finished(request);

  auto matches = [=](const ScsiIo& io) {
    switch (type) {
      case kAbortTask: return io.target == target && io.lun == lun && io.context == task_context;
      case kAbortTaskSet:
      case kLogicalUnitReset: return io.target == target && io.lun == lun;
      case kTargetReset: return io.target == target;
      case kResetBus: return true;
      default: return false;
    }
  };
  if (type < kAbortTask || type > kLogicalUnitReset || frame.u8(kBus) != 0 || target >= lsi::ScsiChannel::kIds) {
    reply.set_u16(mpi::kOffsetIocStatus, type < kAbortTask || type > kLogicalUnitReset ? mpi::kInvalidField
                                                                                        : mpi::kScsiInvalidTargetId);
    post_address_reply(reply.bytes());
    return;
  }
  // The message reaches the target (or the bus is reset) before anything is terminated.
  const sim::SimTime took = type == kResetBus ? kResetHold : channel_.message(target, kTaskMessageBytes);
  const std::uint64_t generation = generation_;
  sim_.after(took, [this, type, target, matches, reply, generation]() mutable {
    if (generation != generation_) return;
    if (type == kResetBus) channel_.reset_negotiation();
    if (type == kTargetReset) channel_.reset_negotiation(target);
    std::uint32_t terminated = 0;
    const std::vector<std::shared_ptr<ScsiIo>> outstanding = ios_;
    for (const std::shared_ptr<ScsiIo>& io : outstanding) {
      if (!matches(*io)) continue;
      reply_scsi_io(io, mpi::kScsiTaskTerminated, kTerminated, 0);
      io->terminated = true;  // after its reply: whatever of it is still on the bus or in DMA is void
      ++terminated;
    }
    reply.set_u32(kTerminationCount, terminated);
    post_address_reply(reply.bytes());
  });
}

}  // namespace dexthil::models
