#pragma once
// macOS's storage stack above a SCSI target, as a test client: it probes a new disk with the
// commands the peripheral driver sends before it publishes media, then runs a workload through
// it (synthetic, or an fio iolog replayed) at a queue depth of 1 to 128, and verifies every byte:
// each acknowledged write's content is recorded by checksum per block (BlockLedger) and each
// read compared. What goes wrong goes to the monitor (monitor/storage_events.hpp) for
// StorageChecker; figures (commands, bytes, blocks verified, simulated MB/s) stay here.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/monitor/monitor.hpp"
#include "harness/sim/random.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/storage/block_ledger.hpp"
#include "harness/storage/scsi_initiator.hpp"

namespace dexthil::storage {

// One operation of a workload, in bytes of the disk.
struct BlockOp {
  enum class Kind : std::uint8_t { kRead, kWrite, kSync };
  Kind kind = Kind::kRead;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  sim::SimTime not_before = 0;  // not sent before this long after the workload started (a replay's times)
  std::uint32_t line = 0;       // where a replayed log has it, for errors
};

class WorkloadSource {
 public:
  virtual ~WorkloadSource() = default;
  // The next operation, or nullopt when the workload is done. `disk_bytes` is the disk's size.
  virtual std::optional<BlockOp> next(std::uint64_t disk_bytes) = 0;
};

// Sequential or random I/O of one size over a region, reads and writes mixed, until `total_bytes`.
struct SyntheticWorkload {
  enum class Pattern { kSequential, kRandom };
  Pattern pattern = Pattern::kSequential;
  std::uint64_t io_bytes = 4096;
  unsigned read_percent = 0;        // 0: writes only; 100: reads only
  std::uint64_t total_bytes = 0;    // the workload's size
  std::uint64_t region_offset = 0;  // where on the disk it runs
  std::uint64_t region_bytes = 0;   // 0: to the end of the disk
  // Sequential: a write pass over the region, then reads of it, when read_percent is 50 and
  // `write_then_read` is set, so every read verifies; otherwise the mix is drawn per operation.
  bool write_then_read = false;
};
std::unique_ptr<WorkloadSource> make_synthetic(const SyntheticWorkload& spec, sim::Random random);
// A fixed list of operations (a replayed log).
std::unique_ptr<WorkloadSource> make_replay(std::vector<BlockOp> ops);

struct DiskIdentity {
  std::uint8_t device_type = 0x1f;
  std::uint8_t version = 0;  // INQUIRY's VERSION (5: SPC-3)
  bool removable = false;
  bool command_queuing = false;  // CmdQue: the stack tags its reads and writes
  std::string vendor, product, revision, serial;
  std::uint32_t block_size = 0;
  std::uint64_t blocks = 0;
  bool write_cache = false;
  std::uint64_t bytes() const { return blocks * block_size; }
};

struct FrontEndOptions {
  std::uint64_t seed = 1;               // write contents derive from it
  // READ and WRITE timeouts: the storage stack's default is 0, none ("Read/Write Time Out
  // Duration" set one); a command that never completes is reported at the run's end.
  std::uint32_t io_timeout_ms = 0;
  unsigned queue_depth = 1;             // commands outstanding at once, 1 to 128
  bool fresh_media_zeroed = false;      // blocks never written read as zeros (a new sparse disk)
};

struct FrontEndFigures {
  std::uint64_t probe_commands = 0;
  std::uint64_t reads = 0, writes = 0, syncs = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t blocks_verified = 0;    // read back and equal to what was written (or fresh zeros)
  std::uint64_t blocks_unverified = 0;  // read, with nothing known of their content
  std::uint64_t mismatches = 0;         // reads with a differing block
  std::uint64_t errors = 0;             // commands that failed on their last attempt
  std::uint64_t retries = 0;            // reads and writes sent again after a failure
  std::uint64_t reattached = 0;         // times the disk came back through a new initiator
  unsigned max_outstanding = 0;
  sim::SimTime workload_start = 0, workload_end = 0;
  sim::SimTime latency_total = 0, latency_max = 0;  // per read/write attempt, submit to completion
  std::uint64_t latency_samples = 0;                // read/write attempts completed
  double simulated_mb_per_s() const;  // (read + written bytes) over the workload's simulated time
};

// IOBlockStorageServices sends a failed READ or WRITE again this many times, at once and
// unchanged, unless the disk is gone (kNumberRetries; docs/research/scsi-task-management.md).
inline constexpr unsigned kReadWriteRetries = 4;

class BlockFrontEnd {
 public:
  BlockFrontEnd(sim::Simulator& sim, monitor::Monitor& monitor, ScsiInitiator& disk, FrontEndOptions options);

  // Probes the disk; `done(true)` once its media would be published, `done(false)` after a
  // BlockProbeFailed event.
  void probe(std::function<void(bool)> done);
  // Runs `workload` to its end at the queue depth; `done` once every command has completed.
  void run(std::unique_ptr<WorkloadSource> workload, std::function<void()> done);
  // The same disk again through a new initiator (its controller restarted and created the target
  // anew): the front end probes it, and once it is the same disk (capacity and block size) the
  // workload goes on where it stopped; what was acknowledged before is still verified. `done`
  // hears how the probe went.
  void reattach(ScsiInitiator& disk, std::function<void(bool)> done);
  // A command ended with DeviceNotPresent: the disk is gone and nothing more is sent until
  // reattach().
  bool device_gone() const { return device_gone_; }

  const DiskIdentity& identity() const { return identity_; }
  const FrontEndFigures& figures() const { return figures_; }
  const BlockLedger& ledger() const { return ledger_; }
  // The probe's commands by name, in the order sent.
  const std::vector<std::string>& probe_log() const { return probe_log_; }
  // At the run's end: every command still outstanding is a BlockIoIncomplete event.
  void finish();
  // Why the workload stopped early: an operation that is not whole blocks or lies beyond the
  // disk ("line 12: a write of 1000 bytes at offset 0 is not whole 512-byte blocks"). Empty
  // when it ran to its end.
  const std::string& workload_error() const { return workload_error_; }
  ScsiInitiator& disk() { return *disk_; }

 private:
  struct InFlight {
    std::uint64_t lba = 0, blocks = 0;
    std::string_view command;  // its name (a literal)
    sim::SimTime submitted = 0;
  };
  // Probe steps, in the order the storage stack takes them (block_front_end.cpp).
  void probe_command(ScsiCommand command, std::uint32_t timeout_ms, std::function<void(const ScsiOutcome&)> then);
  void probe_failed(std::string_view command, const ScsiOutcome* outcome, std::string_view why);
  void probe_inquiry_header(unsigned attempt);
  void probe_vpd(std::function<void()> then);
  void probe_vpd_page(std::vector<std::uint8_t> pages, std::size_t at, std::function<void()> then);
  void probe_report_luns();
  void probe_lun_nub();
  void probe_inquiry36(unsigned attempt, std::function<void()> then);
  void probe_not_ready_loop(unsigned round);
  void probe_write_cache(bool after_select);
  void probe_media_poll(unsigned round);
  void probe_capacity();
  void probe_geometry();
  void probe_geometry_page(std::uint8_t page, unsigned form);
  void probe_published();
  // Workload.
  void pump();
  bool overlaps(std::uint64_t lba, std::uint64_t blocks) const;
  std::string misfit(const BlockOp& op) const;  // why the disk cannot take it, or empty
  // `attempt` 1 is the first; a write's retries carry its first attempt's content (`generation`).
  void issue(const BlockOp& op, unsigned attempt = 1, std::uint64_t generation = 0);
  void completed(std::uint64_t id, const ScsiOutcome& outcome, BlockOp op, unsigned attempt, std::uint64_t generation,
                 std::vector<std::uint64_t> written);
  void verify(const BlockOp& op, const ScsiOutcome& outcome);

  sim::Simulator& sim_;
  monitor::Monitor& monitor_;
  ScsiInitiator* disk_;
  FrontEndOptions options_;
  DiskIdentity identity_;
  BlockLedger ledger_;
  FrontEndFigures figures_;
  std::vector<std::string> probe_log_;
  std::function<void(bool)> probe_done_;
  std::unique_ptr<WorkloadSource> workload_;
  std::function<void()> run_done_;
  std::optional<BlockOp> held_;  // the next operation, waiting for what it overlaps (or a sync for all)
  bool workload_ended_ = false;
  bool pump_scheduled_ = false;
  bool device_gone_ = false;
  std::string workload_error_;  // a pump waits for the held operation's time
  std::map<std::uint64_t, InFlight> in_flight_;  // by command id
  std::uint64_t next_id_ = 1;
  std::uint64_t generation_ = 0;  // of writes, so each write's content is new
  std::uint64_t zero_block_checksum_ = 0;
};

}  // namespace dexthil::storage
