// The LSI53C1030 model's I/O rate per wall second, driven as an interrupt-driven host driver
// drives it: SCSI_IO frames posted to the request FIFO, the reply interrupt as an MSI, the reply
// FIFO drained by MMIO reads until it reads empty, and the next I/O posted from the completion.
// Each slot writes its blocks and reads them back, and every read is compared with what was
// written, so the figures are of verified I/O. No DriverKit here: this is the model, the fabric
// and the DART (docs/performance.md has the figures; the SCSIControllerDriverKit path adds to it).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "models/lsi53c1030/tests/mpt_host.hpp"
#include "models/scsi/scsi_disk.hpp"

namespace {

using namespace dexthil;
using models::testing::HostBuffer;
using models::testing::Machine;
using models::testing::MptHost;
namespace mpi = models::lsi::mpi;
namespace lsi_regs = models::lsi_regs;
namespace scsi = models::scsi;

constexpr const char* kTopology = R"(
[topology]
name = "bench-lsi"
[[node]]
name = "rp0"
kind = "root-port"
ids = "106b:1015"
dart = "dart-apcie0"
hop_latency = "150ns"
[node.link]
gen = 3
width = 4
[[node]]
name = "dev"
kind = "endpoint"
parent = "rp0"
ids = "1000:0030"
bars = [{ size = "16KiB" }]
hop_latency = "100ns"
[node.link]
gen = 3
width = 4
)";

class LsiRig {
 public:
  LsiRig(std::uint32_t io_bytes, bool random, unsigned depth, bool checkers)
      : m_("bench-lsi", 1, kTopology, checkers), h_(m_), io_bytes_(io_bytes), random_(random), depth_(depth) {
    scsi::ServiceModel ssd;
    ssd.kind = scsi::ServiceModel::Kind::kSolidState;
    h_.ioc.channel().attach(0, std::make_unique<scsi::Disk>(scsi::DiskIdentity{}, kDiskBlocks), ssd);
    // Max Payload Size 512 and Max Read Request Size 4096, as a platform may program them.
    const std::uint16_t pcie = h_.node.config.find_capability(pcie::cfg::kCapPciExpress);
    const auto control = static_cast<std::uint16_t>(m_.fabric->config_read(h_.node.bdf, pcie + 8, 2));
    m_.fabric->config_write(h_.node.bdf, pcie + 8, 2, (control & ~0x70E0u) | 2u << 5 | 5u << 12);
    models::testing::bring_up_as_freebsd(h_);
    while (h_.read(lsi_regs::kReplyFifo) != 0xFFFF'FFFFu) {
    }
    buffers_ = h_.allocate(static_cast<std::uint64_t>(depth) * 2 * io_bytes);
    slots_.resize(depth);
    for (unsigned s = 0; s < depth; ++s) {
      slots_[s].write_frame = frame(s, 0x2A, 1);
      slots_[s].read_frame = frame(s, 0x28, 2);
    }
    m_.fabric->set_msi_handler([this](const pcie::Node&, std::uint64_t, std::uint32_t) { drain(); });
    h_.write(lsi_regs::kHostInterruptMask, 0x1);  // the reply interrupt on
  }

  // Runs `ios` verified I/Os (each a write and its read back); false if any went wrong. Not
  // inlined, so that `valgrind --tool=callgrind --toggle-collect='*LsiRig::run*'` counts the
  // instructions of the I/O alone (docs/performance.md).
  [[gnu::noinline]] bool run(std::uint64_t ios) {
    left_to_start_ = ios;
    left_to_finish_ = ios;
    for (unsigned s = 0; s < depth_ && left_to_start_ > 0; ++s) start(s);
    // A second of simulated time without a completion is a stall, not a slow run.
    std::uint64_t seen = left_to_finish_;
    sim::SimTime progress_at = m_.sim.now();
    while (left_to_finish_ > 0 && !failed_) {
      m_.sim.run_until(m_.sim.now() + sim::kMillisecond);
      if (left_to_finish_ != seen) {
        seen = left_to_finish_;
        progress_at = m_.sim.now();
      } else if (m_.sim.now() - progress_at > sim::kSecond) {
        failed_ = true;
      }
    }
    return !failed_ && m_.findings.empty();
  }
  std::uint64_t bytes_moved() const { return bytes_; }
  std::uint64_t edges() const { return h_.ioc.edges_evaluated(); }
  std::uint64_t scsi_ios() const { return h_.ioc.scsi_ios_completed(); }
  sim::SimTime simulated() const { return m_.sim.now(); }

 private:
  static constexpr std::uint64_t kDiskBlocks = 1u << 21;           // 1 GiB of 512-byte blocks
  static constexpr std::uint64_t kWorkingSet = 64ull << 20;         // where the I/O goes (bounds the store)
  static constexpr std::uint32_t kFirstSlot = 8;                    // request frames past the bring-up's
  struct Slot {
    std::uint32_t lba = 0;
    bool reading = false;
    std::uint8_t seed = 0;
    // The slot's WRITE(10) and READ(10) frames, built once: each I/O changes only the LBA, as a
    // driver that keeps its request frames changes only what differs.
    std::vector<std::uint8_t> write_frame, read_frame;
    std::vector<std::uint8_t> pattern;  // what the slot's write sent: its read must bring it back
  };
  static constexpr std::size_t kCdbLba = 0x18 + 2;  // the CDB's big-endian LBA, in the frame

  std::uint64_t write_buffer(unsigned s) const { return buffers_.iova + static_cast<std::uint64_t>(s) * 2 * io_bytes_; }
  std::uint64_t read_buffer(unsigned s) const { return write_buffer(s) + io_bytes_; }

  void start(unsigned s) {
    --left_to_start_;
    Slot& slot = slots_[s];
    // Each slot has its own part of the working set, so no two I/Os in flight overlap (the
    // read-back of one would see the other's write).
    const std::uint32_t blocks = io_bytes_ / 512;
    const std::uint64_t positions = kWorkingSet / io_bytes_ / depth_;
    const std::uint64_t position = random_ ? rng_() % positions : next_sequential_++ / depth_ % positions;
    slot.lba = static_cast<std::uint32_t>((s * positions + position) * blocks);
    slot.seed = static_cast<std::uint8_t>(rng_());
    slot.reading = false;
    slot.pattern.resize(io_bytes_);  // zeros, but for the byte every 64 that each I/O sets
    for (std::uint32_t i = 0; i < io_bytes_; i += 64) slot.pattern[i] = static_cast<std::uint8_t>(slot.seed + i / 64);
    m_.memory.write(buffers_.pa_of(write_buffer(s)), slot.pattern);
    post(s, slot.write_frame);
  }

  // Slot `s`'s SCSI_IO frame: `opcode` (READ(10) or WRITE(10)) of the slot's blocks, to or from
  // its buffer; the LBA is filled in when it is posted.
  std::vector<std::uint8_t> frame(unsigned s, std::uint8_t opcode, std::uint32_t direction) const {
    const std::uint16_t blocks = static_cast<std::uint16_t>(io_bytes_ / 512);
    mpi::Frame f = models::testing::scsi_io_request(
        0, {opcode, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(blocks >> 8), static_cast<std::uint8_t>(blocks), 0},
        io_bytes_, direction, s);
    const std::uint8_t flags = mpi::kSgeLastElement | mpi::kSgeEndOfBuffer | mpi::kSgeEndOfList | mpi::kSgeAddress64 |
                               (direction == 1 ? mpi::kSgeHostToIoc : 0);
    models::testing::add_simple(f, 0x30, flags, io_bytes_, direction == 1 ? write_buffer(s) : read_buffer(s));
    std::vector<std::uint8_t> bytes = f.bytes();
    bytes.resize(MptHost::kFrameBytes, 0);
    return bytes;
  }

  void post(unsigned s, std::vector<std::uint8_t>& frame) {
    const std::uint32_t lba = slots_[s].lba;
    for (int i = 0; i < 4; ++i) frame[kCdbLba + i] = static_cast<std::uint8_t>(lba >> (24 - 8 * i));
    h_.post_bytes(kFirstSlot + s, frame);
  }

  // The reply interrupt: pop replies until the FIFO reads empty, which clears it.
  void drain() {
    if (draining_) return;
    draining_ = true;
    pop();
  }
  void pop() {
    m_.fabric->mmio_read(h_.bar + lsi_regs::kReplyFifo, 4, [this](const pcie::MmioResult& r) {
      if (r.value == 0xFFFF'FFFFu) {
        draining_ = false;
        return;
      }
      completed(static_cast<std::uint32_t>(r.value));
      pop();
    });
  }

  void completed(std::uint32_t entry) {
    if (entry & 0x8000'0000u || entry >= depth_) {
      failed_ = true;  // only context replies are expected: everything goes well
      return;
    }
    Slot& slot = slots_[entry];
    bytes_ += io_bytes_;
    if (!slot.reading) {
      slot.reading = true;
      post(entry, slot.read_frame);
      return;
    }
    // The verifier: the read-back is what the write sent.
    back_.resize(io_bytes_);
    m_.memory.read(buffers_.pa_of(read_buffer(entry)), back_);
    if (std::memcmp(back_.data(), slot.pattern.data(), io_bytes_) != 0) failed_ = true;
    --left_to_finish_;
    if (left_to_start_ > 0) start(entry);
  }

  Machine m_;
  MptHost h_;
  std::uint32_t io_bytes_;
  bool random_;
  unsigned depth_;
  HostBuffer buffers_;
  std::vector<Slot> slots_;
  std::vector<std::uint8_t> back_;
  std::mt19937 rng_{1};
  std::uint64_t next_sequential_ = 0;
  std::uint64_t left_to_start_ = 0, left_to_finish_ = 0, bytes_ = 0;
  bool draining_ = false, failed_ = false;
};

// Arguments: bytes per I/O, random (1) or sequential (0), queue depth, checkers on (1) or off (0).
void BM_LsiModelIo(benchmark::State& state) {
  const auto bytes = static_cast<std::uint32_t>(state.range(0));
  LsiRig rig(bytes, state.range(1) != 0, static_cast<unsigned>(state.range(2)), state.range(3) != 0);
  const std::uint64_t ios_per_iteration = bytes >= 65536 ? 16 : 256;
  std::uint64_t ios = 0;
  for (auto _ : state) {
    if (!rig.run(ios_per_iteration)) {
      state.SkipWithError("an I/O went wrong (a reply frame, a finding, or read-back data that differs)");
      return;
    }
    ios += 2 * ios_per_iteration;  // each is a write and a read
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(rig.bytes_moved()));
  state.counters["simulated_iops"] = benchmark::Counter(static_cast<double>(ios), benchmark::Counter::kIsRate);
  state.counters["edges_per_io"] = static_cast<double>(rig.edges()) / static_cast<double>(rig.scsi_ios());
  state.counters["simulated_MBps_in_sim_time"] =
      static_cast<double>(rig.bytes_moved()) / (static_cast<double>(rig.simulated()) / sim::kSecond) / 1e6;
}
BENCHMARK(BM_LsiModelIo)
    ->ArgNames({"bytes", "random", "qd", "checkers"})
    ->Args({4096, 1, 1, 1})
    ->Args({4096, 1, 32, 1})
    ->Args({524288, 0, 1, 1})
    ->Args({524288, 0, 32, 1})
    ->Args({4096, 1, 32, 0})
    ->Args({524288, 0, 32, 0})
    ->Unit(benchmark::kMillisecond);

}  // namespace
