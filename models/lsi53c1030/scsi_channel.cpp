#include "models/lsi53c1030/scsi_channel.hpp"

#include <algorithm>
#include <array>
#include <memory>

namespace dexthil::models::lsi {
namespace {

// What the targets can do: Ultra320 disks (SPI-4: DT at factor 0x08, wide, QAS).
constexpr std::uint8_t kFastestFactor = 0x08;
// Messages around a command: IDENTIFY, and SIMPLE QUEUE TAG's two bytes when tagged; a PPR
// exchange is 8 bytes each way; the end is STATUS and COMMAND COMPLETE, after a reselection's
// IDENTIFY and the tag again.
constexpr std::uint64_t kIdentifyBytes = 1;
constexpr std::uint64_t kTagBytes = 2;
constexpr std::uint64_t kPprExchangeBytes = 16;
constexpr std::uint64_t kStatusBytes = 2;

struct Transfer {
  bool media = false;
  bool write = false;
  std::uint64_t lba = 0;
  std::uint64_t blocks = 0;
};

std::uint64_t be(std::span<const std::uint8_t> bytes, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && at + i < bytes.size(); ++i) v = v << 8 | bytes[at + i];
  return v;
}

// The media access a CDB asks for: READ and WRITE (6), (10), (16).
Transfer transfer_of(std::span<const std::uint8_t> cdb) {
  if (cdb.empty()) return {};
  switch (cdb[0]) {
    case 0x08:
    case 0x0A: {
      const std::uint64_t count = cdb.size() > 4 ? cdb[4] : 0;
      return {true, cdb[0] == 0x0A, be(cdb, 1, 3) & 0x1FFFFF, count == 0 ? 256 : count};
    }
    case 0x28:
    case 0x2A: return {true, cdb[0] == 0x2A, be(cdb, 2, 4), be(cdb, 7, 2)};
    case 0x88:
    case 0x8A: return {true, cdb[0] == 0x8A, be(cdb, 2, 8), be(cdb, 10, 4)};
    default: return {};
  }
}

}  // namespace

ScsiChannel::ScsiChannel(sim::Simulator& sim, std::string name, scsi::BusTiming timing)
    : sim_(sim), name_(std::move(name)), timing_(timing) {}

void ScsiChannel::attach(std::uint8_t id, std::unique_ptr<scsi::Disk> disk, scsi::ServiceModel service) {
  Target& t = targets_.at(id);
  t.service = std::make_unique<scsi::ServiceTime>(service, disk->blocks(), disk->block_bytes(),
                                                  sim_.random_stream(name_ + ".target" + std::to_string(id)));
  t.disk = std::move(disk);
}

void ScsiChannel::request(std::uint8_t id, scsi::Agreement wanted) {
  Target& t = targets_.at(id);
  if (t.wanted == wanted) return;
  t.wanted = wanted;
  t.negotiated = false;
}

void ScsiChannel::reset_negotiation() {
  for (std::uint8_t id = 0; id < kIds; ++id) reset_negotiation(id);
}

void ScsiChannel::reset_negotiation(std::uint8_t id) {
  targets_.at(id).agreement = {};
  targets_.at(id).negotiated = false;
}

sim::SimTime ScsiChannel::message(std::uint8_t id, std::uint64_t bytes) {
  const scsi::Agreement& agreed = targets_.at(id).agreement;
  return connect(timing_.connection(agreed) + timing_.control(bytes)) - sim_.now();
}

sim::SimTime ScsiChannel::connect(sim::SimTime duration) {
  const sim::SimTime start = std::max(sim_.now(), bus_free_at_);
  bus_free_at_ = start + duration;
  bus_busy_ += duration;
  return bus_free_at_;
}

sim::SimTime ScsiChannel::service_time(Target& target, std::span<const std::uint8_t> cdb, bool write) {
  const Transfer t = transfer_of(cdb);
  if (!t.media) return 0;  // answered from the target's own data, in no time the bus would see
  return target.service->command(t.lba, t.blocks * target.disk->block_bytes(), write);
}

struct ScsiChannel::Run {
  std::uint8_t target = 0;
  std::uint8_t lun = 0;
  bool tagged = true;
  bool negotiate = false;
  scsi::Agreement agreed;
  // The CDB, copied: in place up to 32 bytes (MPI's largest SCSI I/O CDB), else on the heap.
  std::array<std::uint8_t, 32> short_cdb{};
  std::vector<std::uint8_t> long_cdb;
  std::size_t cdb_size = 0;
  std::span<const std::uint8_t> cdb() const {
    return cdb_size <= short_cdb.size() ? std::span<const std::uint8_t>(short_cdb).first(cdb_size) : std::span(long_cdb);
  }
  void keep_cdb(std::span<const std::uint8_t> bytes) {
    cdb_size = bytes.size();
    if (cdb_size <= short_cdb.size()) std::copy(bytes.begin(), bytes.end(), short_cdb.begin());
    else long_cdb.assign(bytes.begin(), bytes.end());
  }
  std::span<const std::uint8_t> data_out;
  DataIn data_in;
  Done done;
  Outcome outcome;
};

void ScsiChannel::execute(const Command& command, DataIn data_in, Done done) {
  if (!present(command.target)) {
    // Nobody answers: the initiator holds the bus until its selection timeout.
    const sim::SimTime end = connect(timing_.connection({}) + kSelectionTimeout);
    sim_.at(end, [done = std::move(done)] { done(Outcome{false, {}}); });
    return;
  }
  Target& target = targets_[command.target];
  auto run = std::make_unique<Run>();
  run->target = command.target;
  run->lun = command.lun;
  run->tagged = command.tagged;
  run->negotiate = !target.negotiated;
  run->agreed = target.agreement;
  if (run->negotiate) {
    run->agreed.period_factor = target.wanted.period_factor == 0 ? 0 : std::max(target.wanted.period_factor, kFastestFactor);
    run->agreed.wide = target.wanted.wide;
    run->agreed.qas = target.wanted.qas && run->agreed.period_factor != 0;
  }
  const std::uint64_t messages = kIdentifyBytes + (command.tagged ? kTagBytes : 0) + (run->negotiate ? kPprExchangeBytes : 0);
  const sim::SimTime select = timing_.connection(target.agreement) + timing_.control(messages + command.cdb.size()) +
                              timing_.data(run->agreed, command.data_out.size());
  const sim::SimTime selected = connect(select);
  // The CDB is copied; the data-out stays the caller's until `done`.
  run->keep_cdb(command.cdb);
  run->data_out = command.data_out;
  run->data_in = std::move(data_in);
  run->done = std::move(done);
  sim_.at(selected, [this, run = std::move(run)]() mutable { command_phase(std::move(run)); });
}

// The select phase ended: the target runs the command, and reconnects when it has served it.
void ScsiChannel::command_phase(std::unique_ptr<Run> run) {
  Target& target = targets_[run->target];
  if (run->negotiate) {
    target.agreement = run->agreed;
    target.negotiated = true;
  }
  run->outcome.result = target.disk->execute({run->cdb(), run->lun, run->data_out});
  const Transfer transfer = transfer_of(run->cdb());
  const sim::SimTime ready = std::max(sim_.now(), target.busy_until) + service_time(target, run->cdb(), transfer.write);
  target.busy_until = ready;
  sim_.at(ready, [this, run = std::move(run)]() mutable { reconnect_phase(std::move(run)); });
}

// The target reconnects for the data-in, status and command complete. The data-in phase's event
// borrows the command, which the end's event owns: it is due no later, and events due at one time
// run in the order they were scheduled.
void ScsiChannel::reconnect_phase(std::unique_ptr<Run> run) {
  const Target& target = targets_[run->target];
  const std::uint64_t in_bytes = run->outcome.result.data_in.size();
  const sim::SimTime lead = timing_.connection(target.agreement) + timing_.control(kIdentifyBytes + (run->tagged ? kTagBytes : 0));
  const sim::SimTime data = timing_.data(target.agreement, in_bytes);
  const sim::SimTime end = connect(lead + data + timing_.control(kStatusBytes));
  const sim::SimTime data_start = end - timing_.control(kStatusBytes) - data;
  if (in_bytes > 0 && run->data_in) {
    sim_.at(data_start, [r = run.get(), phase_end = data_start + data] { r->data_in(r->outcome.result, phase_end); });
  }
  sim_.at(end, [run = std::move(run)] { run->done(std::move(run->outcome)); });
}

}  // namespace dexthil::models::lsi
