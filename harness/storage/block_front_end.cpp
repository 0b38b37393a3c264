#include "harness/storage/block_front_end.hpp"

#include <algorithm>
#include <stdexcept>

#include "harness/monitor/storage_events.hpp"
#include "harness/storage/scsi_commands.hpp"

namespace dexthil::storage {
namespace {

constexpr unsigned kMaxQueueDepth = 128;

monitor::ScsiFailure failure_of(const ScsiOutcome& o) {
  monitor::ScsiFailure f;
  f.response = static_cast<std::uint8_t>(o.response);
  f.status = o.status;
  // Fixed-format sense (0x70/0x71): key in byte 2, ASC/ASCQ in 12/13; descriptor format (0x72/0x73): 1, 2, 3.
  if (o.sense.size() >= 14 && (o.sense[0] & 0x7e) == 0x70) {
    f.has_sense = true;
    f.sense_key = o.sense[2] & 0x0f;
    f.asc = o.sense[12];
    f.ascq = o.sense[13];
  } else if (o.sense.size() >= 4 && (o.sense[0] & 0x7e) == 0x72) {
    f.has_sense = true;
    f.sense_key = o.sense[1] & 0x0f;
    f.asc = o.sense[2];
    f.ascq = o.sense[3];
  }
  return f;
}

std::string trimmed(const std::uint8_t* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::uint64_t be(std::span<const std::uint8_t> d, std::size_t at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = v << 8 | d[at + i];
  return v;
}

class Synthetic final : public WorkloadSource {
 public:
  Synthetic(const SyntheticWorkload& spec, sim::Random random) : spec_(spec), random_(random) {}
  std::optional<BlockOp> next(std::uint64_t disk_bytes) override {
    const std::uint64_t start = std::min(spec_.region_offset, disk_bytes);
    const std::uint64_t region = spec_.region_bytes ? std::min(spec_.region_bytes, disk_bytes - start) : disk_bytes - start;
    const std::uint64_t slots = region / spec_.io_bytes;
    if (issued_ >= spec_.total_bytes || slots == 0) return std::nullopt;
    BlockOp op;
    op.length = std::min(spec_.io_bytes, spec_.total_bytes - issued_);
    const std::uint64_t n = issued_ / spec_.io_bytes;  // which operation this is
    issued_ += op.length;
    if (spec_.pattern == SyntheticWorkload::Pattern::kSequential) {
      op.offset = start + (n % slots) * spec_.io_bytes;
      const bool second_half = spec_.write_then_read && (n / slots) % 2 == 1;
      op.kind = spec_.write_then_read ? (second_half ? BlockOp::Kind::kRead : BlockOp::Kind::kWrite) : draw_kind();
    } else {
      op.offset = start + random_.uniform(0, slots - 1) * spec_.io_bytes;
      op.kind = draw_kind();
    }
    return op;
  }

 private:
  BlockOp::Kind draw_kind() {
    if (spec_.read_percent == 0) return BlockOp::Kind::kWrite;
    if (spec_.read_percent >= 100) return BlockOp::Kind::kRead;
    return random_.uniform(0, 99) < spec_.read_percent ? BlockOp::Kind::kRead : BlockOp::Kind::kWrite;
  }
  SyntheticWorkload spec_;
  sim::Random random_;
  std::uint64_t issued_ = 0;
};

class Replay final : public WorkloadSource {
 public:
  explicit Replay(std::vector<BlockOp> ops) : ops_(std::move(ops)) {}
  std::optional<BlockOp> next(std::uint64_t) override {
    if (at_ >= ops_.size()) return std::nullopt;
    return ops_[at_++];
  }

 private:
  std::vector<BlockOp> ops_;
  std::size_t at_ = 0;
};

}  // namespace

std::unique_ptr<WorkloadSource> make_synthetic(const SyntheticWorkload& spec, sim::Random random) {
  if (spec.io_bytes == 0) throw std::invalid_argument("a synthetic workload needs an I/O size");
  return std::make_unique<Synthetic>(spec, random);
}

std::unique_ptr<WorkloadSource> make_replay(std::vector<BlockOp> ops) { return std::make_unique<Replay>(std::move(ops)); }

double FrontEndFigures::simulated_mb_per_s() const {
  const sim::SimTime span = workload_end - workload_start;
  if (span <= 0) return 0;
  return static_cast<double>(bytes_read + bytes_written) / 1e6 / (static_cast<double>(span) / sim::kSecond);
}

BlockFrontEnd::BlockFrontEnd(sim::Simulator& sim, monitor::Monitor& monitor, ScsiInitiator& disk,
                             FrontEndOptions options)
    : sim_(sim), monitor_(monitor), disk_(&disk), options_(options) {
  if (options_.queue_depth < 1 || options_.queue_depth > kMaxQueueDepth) {
    throw std::invalid_argument("queue depth must be 1 to 128, not " + std::to_string(options_.queue_depth));
  }
}

// ---- The probe ----
//
// The order and rules are IOSCSIArchitectureModelFamily's (docs/research/macos-scsi-probe-
// sequence.md, steps A1-D18): the target's presence and identity, the logical unit nub's
// interrogation, the block driver's start (not-ready loop, write cache), then the media poll.
// Loops the stack runs without limit stop here after kLoopLimit rounds, as a probe failure.

namespace {
constexpr unsigned kLoopLimit = 100;
constexpr std::uint32_t kShortTimeoutMs = 10'000, kLongTimeoutMs = 30'000;

bool sense_is(const monitor::ScsiFailure& f, std::uint8_t asc, std::uint8_t ascq) {
  return f.has_sense && f.asc == asc && f.ascq == ascq;
}
}  // namespace

void BlockFrontEnd::probe(std::function<void(bool)> done) {
  probe_done_ = std::move(done);
  // A1: is anything there? Any TASK_COMPLETE answers yes, but "logical unit not supported".
  probe_command(cdb::test_unit_ready(), kShortTimeoutMs, [this](const ScsiOutcome& o) {
    if (o.response != ServiceResponse::kTaskComplete || sense_is(failure_of(o), 0x25, 0x00)) {
      return probe_failed("TEST UNIT READY", &o, "the target did not answer as present");
    }
    probe_inquiry_header(1);
  });
}

void BlockFrontEnd::probe_command(ScsiCommand command, std::uint32_t timeout_ms,
                                  std::function<void(const ScsiOutcome&)> then) {
  command.timeout_ms = timeout_ms;
  probe_log_.emplace_back(cdb::name_of(command));
  ++figures_.probe_commands;
  disk_->submit(std::move(command), std::move(then));
}

void BlockFrontEnd::probe_failed(std::string_view command, const ScsiOutcome* outcome, std::string_view why) {
  monitor::BlockProbeFailed e;
  e.time = sim_.now();
  const std::string device = disk_->name();
  e.device = device;
  e.command = command;
  if (outcome) e.failure = failure_of(*outcome);
  e.why = why;
  monitor_.emit(e);
  if (auto done = std::move(probe_done_)) done(false);
}

void BlockFrontEnd::probe_inquiry_header(unsigned attempt) {
  // A2, A3: INQUIRY for its first 6 bytes, then all of it (ADDITIONAL LENGTH + 5); 2 attempts, 1 s apart.
  probe_command(cdb::inquiry(6), kShortTimeoutMs, [this, attempt](const ScsiOutcome& o) {
    if (!o.good() || o.transferred < 6) {
      if (attempt < 2) {
        sim_.after(sim::kSecond, [this, attempt] { probe_inquiry_header(attempt + 1); });
        return;
      }
      return probe_failed("INQUIRY", &o, "the first 6 bytes of its standard data did not come");
    }
    const std::uint16_t full = std::min<std::uint16_t>(255, o.data[4] + 5);
    probe_command(cdb::inquiry(full), kShortTimeoutMs, [this](const ScsiOutcome& all) {
      if (!all.good() || all.transferred < 5) return probe_failed("INQUIRY", &all, "its standard data did not come");
      identity_.version = all.data[2];
      probe_vpd([this] { probe_report_luns(); });
    });
  });
}

void BlockFrontEnd::probe_vpd(std::function<void()> then) {
  // A4: the VPD pages the disk lists, each asked for 4 bytes first, then the whole page. Failures
  // only leave the page out.
  probe_vpd_page({0x00}, 0, std::move(then));
}

void BlockFrontEnd::probe_vpd_page(std::vector<std::uint8_t> pages, std::size_t at, std::function<void()> then) {
  if (at >= pages.size()) return then();
  const std::uint8_t code = pages[at];
  probe_command(cdb::inquiry(4, code, true), kShortTimeoutMs,
                [this, pages = std::move(pages), at, code, then = std::move(then)](const ScsiOutcome& head) mutable {
    if (!head.good() || head.transferred < 4 || head.data[1] != code) {
      return probe_vpd_page(std::move(pages), at + 1, std::move(then));
    }
    const std::uint16_t full = static_cast<std::uint16_t>(4 + (head.data[2] << 8 | head.data[3]));
    probe_command(cdb::inquiry(full, code, true), kShortTimeoutMs,
                  [this, pages = std::move(pages), at, code, then = std::move(then)](const ScsiOutcome& o) mutable {
      if (o.good() && o.transferred >= 4 && o.data[1] == code) {
        const std::size_t n = std::min<std::size_t>(o.transferred, o.data.size()) - 4;
        if (code == 0x00) {
          // The supported pages: ask for the serial number (0x80) and identification (0x83).
          for (std::size_t i = 0; i < n; ++i) {
            if (o.data[4 + i] == 0x80 || o.data[4 + i] == 0x83) pages.push_back(o.data[4 + i]);
          }
        } else if (code == 0x80) {
          identity_.serial = trimmed(&o.data[4], n);
        }
      }
      probe_vpd_page(std::move(pages), at + 1, std::move(then));
    });
  });
}

void BlockFrontEnd::probe_report_luns() {
  // A5: REPORT LUNS from SPC (version 3) on, 16 bytes then the whole list; the front end uses
  // LUN 0, which the stack always creates. A6: that LUN's VPD pages again.
  auto lun0 = [this] { probe_vpd([this] { probe_lun_nub(); }); };
  if (identity_.version < 3) return lun0();
  probe_command(cdb::report_luns(16), kShortTimeoutMs, [this, lun0](const ScsiOutcome& o) {
    if (!o.good() || o.transferred < 8) return lun0();
    const std::uint32_t length = static_cast<std::uint32_t>(be(o.data, 0, 4));
    probe_command(cdb::report_luns(length + 8), kShortTimeoutMs, [lun0](const ScsiOutcome&) { lun0(); });
  });
}

void BlockFrontEnd::probe_lun_nub() {
  // B7, B8: the logical unit nub: TEST UNIT READY, 100 ms, then INQUIRY for 36 bytes (8 attempts,
  // 1 s apart), which must transfer all 36.
  probe_command(cdb::test_unit_ready(), kShortTimeoutMs, [this](const ScsiOutcome& o) {
    if (o.response != ServiceResponse::kTaskComplete || sense_is(failure_of(o), 0x25, 0x00)) {
      return probe_failed("TEST UNIT READY", &o, "the logical unit did not answer as present");
    }
    sim_.after(100 * sim::kMillisecond, [this] {
      probe_inquiry36(1, [this] {
        // The peripheral driver for type 0 matches the nub; C9 onwards.
        probe_not_ready_loop(1);
      });
    });
  });
}

void BlockFrontEnd::probe_inquiry36(unsigned attempt, std::function<void()> then) {
  probe_command(cdb::inquiry(36), kShortTimeoutMs, [this, attempt, then = std::move(then)](const ScsiOutcome& o) mutable {
    if (!o.good() || o.transferred < 36 || o.data.size() < 36) {
      if (attempt < 8) {
        sim_.after(sim::kSecond, [this, attempt, then = std::move(then)]() mutable {
          probe_inquiry36(attempt + 1, std::move(then));
        });
        return;
      }
      return probe_failed("INQUIRY", o.good() ? nullptr : &o, "36 bytes of standard data did not come in 8 attempts");
    }
    if ((o.data[0] & 0xe0) == 0x60) return probe_failed("INQUIRY", nullptr, "reported no logical unit (qualifier 011b)");
    identity_.device_type = o.data[0] & 0x1f;
    if (identity_.device_type != 0x00) {
      return probe_failed("INQUIRY", nullptr, "reported a peripheral device type other than 0 (direct access)");
    }
    identity_.removable = (o.data[1] & 0x80) != 0;
    identity_.version = o.data[2];
    identity_.command_queuing = (o.data[7] & 0x02) != 0;
    identity_.vendor = trimmed(&o.data[8], 8);
    identity_.product = trimmed(&o.data[16], 16);
    identity_.revision = trimmed(&o.data[32], 4);
    then();
  });
}

void BlockFrontEnd::probe_not_ready_loop(unsigned round) {
  // C9: TEST UNIT READY until the disk is ready: "becoming ready" waits 200 ms, "initializing
  // command required" and the like get START STOP UNIT (start). Any other sense counts as ready.
  if (round > kLoopLimit) return probe_failed("TEST UNIT READY", nullptr, "the disk never became ready");
  probe_command(cdb::test_unit_ready(), kShortTimeoutMs, [this, round](const ScsiOutcome& o) {
    const monitor::ScsiFailure f = failure_of(o);
    if (o.response != ServiceResponse::kTaskComplete || sense_is(f, 0x04, 0x01)) {
      sim_.after(200 * sim::kMillisecond, [this, round] { probe_not_ready_loop(round + 1); });
      return;
    }
    if (f.has_sense && f.sense_key == 0x2 && f.asc == 0x04 && (f.ascq == 0x00 || f.ascq == 0x02 || f.ascq == 0x03)) {
      probe_command(cdb::start_stop_unit(true), kShortTimeoutMs, [this, round](const ScsiOutcome&) {
        probe_not_ready_loop(round + 1);
      });
      return;
    }
    // C10: INQUIRY again, then (fixed disks) the write cache.
    probe_inquiry36(1, [this] {
      if (identity_.removable) return probe_media_poll(1);
      probe_write_cache(false);
    });
  });
}

void BlockFrontEnd::probe_write_cache(bool after_select) {
  // C11: MODE SENSE(6) for the caching page's first 4 bytes, then for all of it; a disk whose
  // write cache is off gets MODE SELECT(6) turning it on, once.
  probe_command(cdb::mode_sense6(0x08, 4, false), kShortTimeoutMs, [this, after_select](const ScsiOutcome& head) {
    auto poll = [this] { sim_.after(sim::kSecond, [this] { probe_media_poll(1); }); };
    if (!head.good() || head.transferred != 4) return poll();
    const std::uint8_t length = static_cast<std::uint8_t>(
        std::min<unsigned>(head.data[0] + 1u, 4u + head.data[3] + 20u));
    probe_command(cdb::mode_sense6(0x08, length, false), kShortTimeoutMs,
                  [this, after_select, poll](const ScsiOutcome& o) {
      const std::size_t page = 4 + (o.data.size() >= 4 ? o.data[3] : 0);
      if (!o.good() || o.transferred < page + 3 || (o.data[page] & 0x3f) != 0x08) return poll();
      identity_.write_cache = (o.data[page + 2] & 0x04) != 0;
      if (identity_.write_cache || after_select) return poll();
      // Turn it on: the page as read, PS cleared, WCE set.
      std::vector<std::uint8_t> select(o.data.begin(), o.data.begin() + static_cast<std::ptrdiff_t>(o.transferred));
      select[0] = 0;  // MODE DATA LENGTH is reserved in MODE SELECT
      select[page] &= 0x7f;
      select[page + 2] |= 0x04;
      probe_command(cdb::mode_select6(std::move(select)), kShortTimeoutMs, [this](const ScsiOutcome&) {
        probe_write_cache(true);
      });
    });
  });
}

void BlockFrontEnd::probe_media_poll(unsigned round) {
  // D14: media present when TEST UNIT READY is GOOD (or CHECK CONDITION with no sense code);
  // else poll again in 1 s.
  if (round > kLoopLimit) return probe_failed("TEST UNIT READY", nullptr, "the media poll never found media");
  probe_command(cdb::test_unit_ready(), kShortTimeoutMs, [this, round](const ScsiOutcome& o) {
    const monitor::ScsiFailure f = failure_of(o);
    const bool present = o.response == ServiceResponse::kTaskComplete &&
                         (o.status == kStatusGood || (o.status == kStatusCheckCondition && sense_is(f, 0, 0)));
    if (!present) {
      sim_.after(sim::kSecond, [this, round] { probe_media_poll(round + 1); });
      return;
    }
    probe_capacity();
  });
}

void BlockFrontEnd::probe_capacity() {
  // D16: READ CAPACITY(10); (16) when the LBA does not fit and the disk claims SPC-3 or later.
  probe_command(cdb::read_capacity10(), kLongTimeoutMs, [this](const ScsiOutcome& o) {
    if (!o.good() || o.transferred < 8) {
      return sim_.after(sim::kSecond, [this] { probe_media_poll(1); }), void();
    }
    const std::uint64_t last = be(o.data, 0, 4);
    identity_.block_size = static_cast<std::uint32_t>(be(o.data, 4, 4));
    identity_.blocks = last + 1;
    auto checked = [this](std::string_view command) {
      if (identity_.block_size == 0 || identity_.block_size % 512 != 0) {
        return probe_failed(command, nullptr, "reported a block size that is not a multiple of 512");
      }
      probe_geometry();
    };
    if (last != 0xFFFFFFFFull || identity_.version < 5) return checked("READ CAPACITY(10)");
    probe_command(cdb::read_capacity16(), kLongTimeoutMs, [this, checked](const ScsiOutcome& o16) {
      if (o16.good() && o16.transferred >= 12) {
        identity_.blocks = be(o16.data, 0, 8) + 1;
        identity_.block_size = static_cast<std::uint32_t>(be(o16.data, 8, 4));
      }
      checked("READ CAPACITY(16)");
    });
  });
}

void BlockFrontEnd::probe_geometry() {
  // D17 (fixed disks, optional): pages 3 and 4, each 8 bytes then the page, down the ladder
  // MODE SENSE(10) DBD=1, (10) DBD=0, (6) DBD=1, (6) DBD=0 until a form answers in full; the
  // form found stays for the next page. Nothing here stops the media from being published.
  if (identity_.removable) return probe_published();
  probe_geometry_page(0x03, 0);
}

void BlockFrontEnd::probe_geometry_page(std::uint8_t page, unsigned form) {
  if (page > 0x04) return probe_published();
  if (form >= 4) return probe_geometry_page(page + 1, 0);
  const bool ten = form < 2, dbd = form % 2 == 0;
  ScsiCommand head = ten ? cdb::mode_sense10(page, 8, dbd) : cdb::mode_sense6(page, 8, dbd);
  probe_command(std::move(head), kLongTimeoutMs, [this, page, form, ten, dbd](const ScsiOutcome& o) {
    if (!o.good() || o.transferred != 8) return probe_geometry_page(page, form + 1);
    const unsigned header = ten ? 8 : 4;
    const unsigned bdl = ten ? (o.data[6] << 8 | o.data[7]) : o.data[3];
    const unsigned full = header + bdl + 24;
    ScsiCommand all = ten ? cdb::mode_sense10(page, static_cast<std::uint16_t>(full), dbd)
                          : cdb::mode_sense6(page, static_cast<std::uint8_t>(std::min(full, 255u)), dbd);
    probe_command(std::move(all), kLongTimeoutMs,
                  [this, page, form](const ScsiOutcome&) { probe_geometry_page(page + 1, form); });
  });
}

void BlockFrontEnd::probe_published() {
  // D18: a fixed disk is writable without asking; the media is published.
  std::vector<std::uint8_t> zeros(identity_.block_size, 0);
  zero_block_checksum_ = block_checksum(zeros);
  if (auto done = std::move(probe_done_)) done(true);
}

// ---- The workload ----

void BlockFrontEnd::run(std::unique_ptr<WorkloadSource> workload, std::function<void()> done) {
  if (identity_.block_size == 0) throw std::logic_error("run() before a successful probe");
  workload_ = std::move(workload);
  run_done_ = std::move(done);
  workload_ended_ = false;
  held_.reset();
  figures_.workload_start = sim_.now();
  pump();
}

std::string BlockFrontEnd::misfit(const BlockOp& op) const {
  if (op.kind == BlockOp::Kind::kSync) return {};
  const std::uint64_t bs = identity_.block_size;
  const std::string what = std::string(op.kind == BlockOp::Kind::kRead ? "a read" : "a write") + " of " +
                           std::to_string(op.length) + " bytes at offset " + std::to_string(op.offset);
  if (op.length == 0 || op.offset % bs != 0 || op.length % bs != 0) {
    return what + " is not whole " + std::to_string(bs) + "-byte blocks";
  }
  if (op.offset > identity_.bytes() || op.length > identity_.bytes() - op.offset) {
    return what + " goes beyond the disk's end (" + std::to_string(identity_.bytes()) + " bytes)";
  }
  return {};
}

bool BlockFrontEnd::overlaps(std::uint64_t lba, std::uint64_t blocks) const {
  for (const auto& [id, f] : in_flight_) {
    if (lba < f.lba + f.blocks && f.lba < lba + blocks) return true;
  }
  return false;
}

void BlockFrontEnd::reattach(ScsiInitiator& disk, std::function<void(bool)> done) {
  disk_ = &disk;
  device_gone_ = false;
  const DiskIdentity before = identity_;
  probe([this, before, done = std::move(done)](bool ok) {
    if (ok && (identity_.blocks != before.blocks || identity_.block_size != before.block_size)) {
      ok = false;
      probe_failed("READ CAPACITY(10)", nullptr, "reported another capacity or block size than before: not the same disk");
    }
    if (ok) {
      ++figures_.reattached;
      if (run_done_) pump();  // the workload goes on
    }
    done(ok);
  });
}

void BlockFrontEnd::pump() {
  if (device_gone_) return;  // until reattach()
  const std::uint64_t bs = identity_.block_size;
  const std::uint64_t max_bytes = std::max<std::uint64_t>(bs, disk_->max_transfer() / bs * bs);
  while (in_flight_.size() < options_.queue_depth) {
    if (!held_) {
      if (workload_ended_) break;
      held_ = workload_->next(identity_.bytes());
      if (!held_) {
        workload_ended_ = true;
        break;
      }
    }
    BlockOp op = *held_;
    const sim::SimTime due = figures_.workload_start + op.not_before;
    if (due > sim_.now()) {
      if (!pump_scheduled_) {
        pump_scheduled_ = true;
        sim_.at(due, [this] {
          pump_scheduled_ = false;
          pump();
        });
      }
      break;
    }
    if (std::string why = misfit(op); !why.empty()) {
      // The rest of the workload cannot mean what it says either: stop taking it.
      workload_error_ = (op.line ? "line " + std::to_string(op.line) + ": " : std::string()) + why;
      held_.reset();
      workload_ended_ = true;
      break;
    }
    if (op.kind == BlockOp::Kind::kSync) {
      // A barrier: everything before it completes, then it runs alone.
      if (!in_flight_.empty()) break;
      held_.reset();
      issue(op);
      break;
    }
    // A piece the controller takes in one command; the rest stays held.
    BlockOp piece = op;
    piece.length = std::min(op.length, max_bytes);
    if (overlaps(piece.offset / bs, piece.length / bs)) break;  // waits for the overlapping command
    if (piece.length == op.length) {
      held_.reset();
    } else {
      held_->offset += piece.length;
      held_->length -= piece.length;
    }
    issue(piece);
  }
  if (workload_ended_ && !held_ && in_flight_.empty()) {
    figures_.workload_end = sim_.now();
    if (auto done = std::move(run_done_)) done();
  }
}

void BlockFrontEnd::issue(const BlockOp& op, unsigned attempt, std::uint64_t generation) {
  const std::uint32_t bs = identity_.block_size;
  const std::uint64_t id = next_id_++;
  ScsiCommand command;
  // A write's checksums, filled in with its content; shared with the completion.
  auto sums = std::make_shared<std::vector<std::uint64_t>>();
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
  if (op.kind == BlockOp::Kind::kSync) {
    command = cdb::synchronize_cache10();
  } else {
    lba = op.offset / bs;
    blocks = static_cast<std::uint32_t>(op.length / bs);
    if (op.kind == BlockOp::Kind::kWrite) {
      command = cdb::write(lba, blocks, bs);
      if (generation == 0) generation = ++generation_;
      sums->resize(blocks);
      // The content goes straight into the task's buffer; its checksums are what the disk must
      // give back once it has acknowledged the write.
      command.fill = [seed = options_.seed, lba, bs, generation, sums](std::span<std::uint8_t> bytes) {
        for (std::size_t b = 0; b < sums->size(); ++b) {
          auto block = bytes.subspan(b * bs, bs);
          fill_block_pattern(block, seed, lba + b, generation);
          (*sums)[b] = block_checksum(block);
        }
      };
    } else {
      command = cdb::read(lba, blocks, bs);
    }
  }
  command.timeout_ms = options_.io_timeout_ms;
  in_flight_[id] = {lba, blocks, cdb::name_of(command), sim_.now()};
  figures_.max_outstanding = std::max<unsigned>(figures_.max_outstanding, static_cast<unsigned>(in_flight_.size()));
  disk_->submit(std::move(command), [this, id, op, attempt, generation, sums](const ScsiOutcome& o) {
    completed(id, o, op, attempt, generation, std::move(*sums));
  });
}

void BlockFrontEnd::completed(std::uint64_t id, const ScsiOutcome& outcome, BlockOp op, unsigned attempt,
                              std::uint64_t generation, std::vector<std::uint64_t> written) {
  const InFlight f = in_flight_.at(id);
  in_flight_.erase(id);
  const bool complete = outcome.good() && (op.kind == BlockOp::Kind::kSync || outcome.transferred == op.length);
  if (op.kind != BlockOp::Kind::kSync) {
    const sim::SimTime latency = sim_.now() - f.submitted;
    figures_.latency_total += latency;
    figures_.latency_max = std::max(figures_.latency_max, latency);
    ++figures_.latency_samples;
  }
  if (!complete) {
    if (outcome.response == ServiceResponse::kServiceDeliveryOrTargetFailure &&
        outcome.status == kStatusDeviceNotPresent) {
      device_gone_ = true;
    }
    // Reads and writes are sent again while retries last; a gone disk is not retried.
    const bool retry = op.kind != BlockOp::Kind::kSync && !device_gone_ && attempt <= kReadWriteRetries;
    monitor::BlockIoFailed e;
    e.time = sim_.now();
    const std::string device = disk_->name();
    e.device = device;
    e.command = f.command;
    e.lba = f.lba;
    e.blocks = f.blocks;
    e.transferred = outcome.transferred;
    e.failure = failure_of(outcome);
    e.attempt = attempt;
    e.retries_left = retry ? kReadWriteRetries + 1 - attempt : 0;
    monitor_.emit(e);
    if (retry) {
      ++figures_.retries;
      issue(op, attempt + 1, generation);
      pump();
      return;
    }
    ++figures_.errors;
    // A write that failed may have reached some blocks: what they hold is unknown now.
    if (op.kind == BlockOp::Kind::kWrite) {
      for (std::uint64_t b = 0; b < f.blocks; ++b) ledger_.forget(f.lba + b);
    }
  } else if (op.kind == BlockOp::Kind::kWrite) {
    ++figures_.writes;
    figures_.bytes_written += op.length;
    for (std::uint64_t b = 0; b < written.size(); ++b) ledger_.record(f.lba + b, written[b]);
  } else if (op.kind == BlockOp::Kind::kRead) {
    ++figures_.reads;
    figures_.bytes_read += op.length;
    verify(op, outcome);
  } else {
    ++figures_.syncs;
  }
  pump();
}

void BlockFrontEnd::finish() {
  const std::string device = disk_->name();
  for (const auto& [id, f] : in_flight_) {
    monitor_.emit(monitor::BlockIoIncomplete{sim_.now(), device, f.command, f.lba, f.blocks, f.submitted});
  }
}

void BlockFrontEnd::verify(const BlockOp& op, const ScsiOutcome& outcome) {
  const std::uint32_t bs = identity_.block_size;
  const std::uint64_t lba = op.offset / bs, blocks = op.length / bs;
  monitor::BlockDataMismatch first;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    std::optional<std::uint64_t> expected = ledger_.expected(lba + b);
    const bool fresh = !expected && options_.fresh_media_zeroed;
    if (!expected && !fresh) {
      ++figures_.blocks_unverified;
      continue;
    }
    const std::uint64_t want = expected ? *expected : zero_block_checksum_;
    const std::uint64_t got = block_checksum(outcome.data.subspan(b * bs, bs));
    if (got == want) {
      ++figures_.blocks_verified;
      continue;
    }
    if (first.blocks_bad++ == 0) {
      first.lba = lba + b;
      first.expected = want;
      first.got = got;
      first.never_written = fresh;
    }
  }
  if (first.blocks_bad > 0) {
    ++figures_.mismatches;
    first.time = sim_.now();
    const std::string device = disk_->name();
    first.device = device;
    monitor_.emit(first);
  }
}

}  // namespace dexthil::storage
