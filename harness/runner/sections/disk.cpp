#include "harness/runner/sections/disk.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/monitor/storage_events.hpp"
#include "harness/runner/run_context.hpp"
#include "harness/storage/block_front_end.hpp"
#include "harness/storage/fio_iolog.hpp"

namespace dexthil::runner {
namespace {

struct DiskSpec {
  std::string endpoint;  // the controller's PCI function
  std::uint64_t target = 0;
  storage::FrontEndOptions options;
  storage::SyntheticWorkload synthetic;
  std::optional<storage::FioIolog> iolog;  // replayed instead of the synthetic workload
  std::string iolog_path;
  std::string place() const { return endpoint + ".t" + std::to_string(target); }
};

// One [[disk]] during a run: its front end once the target exists.
struct DiskRun {
  const DiskSpec* spec = nullptr;
  std::unique_ptr<storage::BlockFrontEnd> front;
  std::string probe = "not found";  // "not found", "probing", "failed", "published"
  bool workload_done = false;
};

std::string decimal(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

class DiskData final : public scenario::SectionData {
 public:
  explicit DiskData(std::vector<DiskSpec> disks) : disks_(std::move(disks)) {}

  std::vector<std::string> places() const override {
    std::vector<std::string> places;
    for (const DiskSpec& d : disks_) places.push_back(d.place());
    return places;
  }

  void apply(RunContext& run) const override {
    auto runs = std::make_shared<std::vector<DiskRun>>(disks_.size());
    for (std::size_t i = 0; i < disks_.size(); ++i) (*runs)[i].spec = &disks_[i];
    sim::Simulator& sim = run.sim;
    monitor::Monitor& monitor = run.monitor;
    // Without dexts nothing creates targets: each [[disk]] ends as a probe failure.
    if (run.scsi) run.scsi->on_target([runs, &sim, &monitor](driverkit::ScsiTargetPort& port) {
      for (DiskRun& d : *runs) {
        if (d.spec->endpoint != port.location() || d.spec->target != port.target()) continue;
        if (d.front) {
          // Its controller came back (a restarted dext): the same disk, probed again, and the
          // workload goes on.
          d.probe = "probing";
          d.front->reattach(port, [&d](bool ok) { d.probe = ok ? "published" : "failed"; });
          continue;
        }
        storage::FrontEndOptions options = d.spec->options;
        options.seed = sim.random_stream("disk content " + d.spec->place()).next_u64();  // what writes carry
        d.front = std::make_unique<storage::BlockFrontEnd>(sim, monitor, port, options);
        d.probe = "probing";
        d.front->probe([&d, &sim](bool ok) {
          d.probe = ok ? "published" : "failed";
          if (!ok) return;
          auto workload = d.spec->iolog ? storage::make_replay(d.spec->iolog->ops)
                                        : storage::make_synthetic(d.spec->synthetic, sim.random_stream("disk " + d.spec->place()));
          d.front->run(std::move(workload), [&d] { d.workload_done = true; });
        });
      }
    });
    run.at_duration_end.push_back([runs, &sim, &monitor] {
      for (DiskRun& d : *runs) {
        if (d.front) {
          d.front->finish();
          continue;
        }
        // No controller created the target: the stack would have had no disk to probe.
        monitor::BlockProbeFailed e;
        e.time = sim.now();
        const std::string device = "disk " + d.spec->place();
        e.device = device;
        const std::string why = "the target never appeared: no SCSI controller dext on " + d.spec->endpoint +
                                " created target " + std::to_string(d.spec->target);
        e.why = why;
        monitor.emit(e);
      }
    });
    run.figures.push_back([runs](RunContext::Figures& out) {
      for (const DiskRun& d : *runs) {
        std::vector<std::pair<std::string, std::string>> v;
        v.emplace_back("probe", d.probe);
        if (d.front) {
          const storage::FrontEndFigures& f = d.front->figures();
          const storage::DiskIdentity& id = d.front->identity();
          v.emplace_back("blocks", std::to_string(id.blocks));
          v.emplace_back("block_size", std::to_string(id.block_size));
          // A refused workload also ends (its done runs), so the refusal is asked first.
          const char* workload = !d.front->workload_error().empty() ? "refused"
                                 : d.workload_done                  ? "done"
                                 : d.probe == "published"           ? "running"
                                                                    : "not started";
          v.emplace_back("workload", workload);
          if (!d.front->workload_error().empty()) v.emplace_back("workload_error", d.front->workload_error());
          v.emplace_back("reads", std::to_string(f.reads));
          v.emplace_back("writes", std::to_string(f.writes));
          v.emplace_back("syncs", std::to_string(f.syncs));
          v.emplace_back("bytes_read", std::to_string(f.bytes_read));
          v.emplace_back("bytes_written", std::to_string(f.bytes_written));
          v.emplace_back("blocks_verified", std::to_string(f.blocks_verified));
          v.emplace_back("blocks_unverified", std::to_string(f.blocks_unverified));
          v.emplace_back("mismatches", std::to_string(f.mismatches));
          v.emplace_back("errors", std::to_string(f.errors));
          v.emplace_back("retries", std::to_string(f.retries));
          v.emplace_back("reattached", std::to_string(f.reattached));
          v.emplace_back("max_outstanding", std::to_string(f.max_outstanding));
          v.emplace_back("simulated_mb_per_s", decimal(f.simulated_mb_per_s()));
          v.emplace_back("mean_latency_us",
                         decimal(f.latency_samples ? static_cast<double>(f.latency_total) / f.latency_samples /
                                                         sim::kMicrosecond
                                                   : 0.0));
        }
        out.emplace_back("disk@" + d.spec->place(), std::move(v));
      }
    });
  }

 private:
  std::vector<DiskSpec> disks_;
};

class DiskSection final : public scenario::SectionPlugin {
 public:
  std::string_view key() const override { return "disk"; }
  std::string_view summary() const override {
    return "macOS's storage stack on a SCSI target a controller dext creates: the probe, then verified I/O "
           "(endpoint, target, queue_depth, pattern, io_size, read_percent, total, region, iolog, ...)";
  }
  std::shared_ptr<const scenario::SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                    const scenario::SectionScope& scope) const override {
    std::vector<DiskSpec> disks;
    in.for_each_table(section, "disk", [&](const toml::table& t, const std::string& path) {
      in.allow_keys(t, path,
                    {"endpoint", "target", "queue_depth", "pattern", "io_size", "read_percent", "total", "region",
                     "region_offset", "write_then_read", "fresh_media_zeroed", "io_timeout", "iolog"});
      DiskSpec d;
      d.endpoint = scenario::read_endpoint(in, t, path, true, scope.has_topology, scope.endpoints).value();
      d.target = static_cast<std::uint64_t>(in.integer(t, "target", path, 0, 15).value_or(0));
      d.options.queue_depth = static_cast<unsigned>(in.integer(t, "queue_depth", path, 1, 128).value_or(1));
      d.options.fresh_media_zeroed = in.boolean(t, "fresh_media_zeroed", path).value_or(false);
      if (auto timeout = in.duration(t, "io_timeout", path, false, sim::kMillisecond, 3600 * sim::kSecond)) {
        d.options.io_timeout_ms = static_cast<std::uint32_t>(*timeout / sim::kMillisecond);
      }
      for (const DiskSpec& other : disks) {
        if (other.place() == d.place()) {
          in.fail(*t.get("endpoint"), path + ".endpoint", "target " + std::to_string(d.target) + " on \"" +
                                                              d.endpoint + "\" already has a [[disk]]");
        }
      }
      if (const auto log = in.string(t, "iolog", path, false)) {
        for (std::string_view k : {"pattern", "io_size", "read_percent", "total", "region", "region_offset",
                                   "write_then_read"}) {
          if (const toml::node* n = t.get(k)) in.fail(*n, path + "." + std::string(k), "a replayed \"iolog\" is the workload: leave \"" + std::string(k) + "\" out");
        }
        d.iolog_path = in.existing_file(t, "iolog", path, *log);
        try {
          d.iolog = storage::read_fio_iolog(d.iolog_path);
        } catch (const storage::FioIologError& e) {
          in.fail(*t.get("iolog"), path + ".iolog", e.what());
        }
      } else {
        storage::SyntheticWorkload& w = d.synthetic;
        w.pattern = in.one_of(t, "pattern", path, {"sequential", "random"}, "sequential") == "random"
                        ? storage::SyntheticWorkload::Pattern::kRandom
                        : storage::SyntheticWorkload::Pattern::kSequential;
        const toml::node* total = t.get("total");
        if (!total) in.fail_at(in.pos(t), path, "a [[disk]] needs a workload: \"total\" (with \"pattern\", \"io_size\", ...) or \"iolog\"");
        w.total_bytes = in.size_value(*total, path + ".total", false);
        w.io_bytes = t.get("io_size") ? in.size_value(*t.get("io_size"), path + ".io_size", false) : 4096;
        if (w.io_bytes % 512 != 0 || w.io_bytes == 0) {
          in.fail(*t.get("io_size"), path + ".io_size", "must be a whole number of 512-byte blocks");
        }
        w.read_percent = static_cast<unsigned>(in.integer(t, "read_percent", path, 0, 100).value_or(0));
        if (const toml::node* n = t.get("region")) w.region_bytes = in.size_value(*n, path + ".region", false);
        if (const toml::node* n = t.get("region_offset")) w.region_offset = in.size_value(*n, path + ".region_offset", false);
        w.write_then_read = in.boolean(t, "write_then_read", path).value_or(false);
        if (w.write_then_read && (w.pattern != storage::SyntheticWorkload::Pattern::kSequential || w.read_percent != 50)) {
          in.fail(*t.get("write_then_read"), path + ".write_then_read",
                  "takes a sequential pattern with read_percent = 50 (a write pass, then a read pass)");
        }
      }
      disks.push_back(std::move(d));
    });
    return std::make_shared<DiskData>(std::move(disks));
  }
};

}  // namespace

std::shared_ptr<const scenario::SectionPlugin> disk_section() { return std::make_shared<DiskSection>(); }

}  // namespace dexthil::runner
