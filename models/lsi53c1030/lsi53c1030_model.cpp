// The "lsi53c1030" scenario model type: one function of the LSI53C1030 (one IOC, one SCSI
// channel) behind a topology endpoint, with SCSI disks on its bus. The chip has two functions;
// a scenario places one model per function (channel 0 and 1) behind the endpoints of the chip's
// two functions, as fixtures/topologies show them.
#include <memory>
#include <stdexcept>

#include "models/builtin_models.hpp"
#include "models/common/rtl_assertions.hpp"
#include "models/lsi53c1030/lsi53c1030.hpp"

namespace dexthil::models {
namespace {

class Lsi53c1030Model final : public runner::ScenarioModel {
 public:
  explicit Lsi53c1030Model(runner::ModelContext& ctx)
      : name_(ctx.spec.name),
        findings_(ctx.findings),
        function_(std::make_unique<Lsi53c1030Function>(ctx.spec.name, ctx.sim, *ctx.fabric, *ctx.endpoint, 0,
                                                       identity(ctx), &ctx.findings)) {
    attach_disks(ctx);
    ctx.sim.attach(*function_, *ctx.clock);
  }

  void finish(sim::SimTime now) override {
    function_->finish_run();
    halted(now);
  }
  void halted(sim::SimTime) override { rtl_assertions::report(name_, findings_); }
  void removed() override { function_->unplug(); }
  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"requests_fetched", std::to_string(function_->requests_fetched())},
            {"replies_posted", std::to_string(function_->replies_posted())},
            {"scsi_ios", std::to_string(function_->scsi_ios_completed())},
            {"interrupts", std::to_string(function_->interrupts_signalled())},
            {"bus_busy", sim::format_time(function_->channel().bus_busy())}};
  }

 private:
  static lsi::IocIdentity identity(const runner::ModelContext& ctx) {
    lsi::IocIdentity id;
    id.function = static_cast<std::uint8_t>(ctx.spec.integer("channel"));
    return id;
  }

  // "file:line:col: error: model "lsi0": what", at the parameter's value, for what the loader's
  // ranges cannot check.
  [[noreturn]] static void refuse(const runner::ModelContext& ctx, const std::string& param, const std::string& what) {
    throw std::invalid_argument(ctx.spec.param_pos(param).str() + ": error: model \"" + ctx.spec.name + "\": " + param +
                                ": " + what);
  }

  void attach_disks(const runner::ModelContext& ctx) {
    const std::string& kind = ctx.spec.params.at("service").string;
    scsi::ServiceModel service;
    if (kind == "fixed") {
      service.kind = scsi::ServiceModel::Kind::kFixed;
      service.fixed = ctx.spec.duration("service_time");
    } else if (kind == "mechanical") {
      service.kind = scsi::ServiceModel::Kind::kMechanical;
    } else if (kind == "ssd") {
      service.kind = scsi::ServiceModel::Kind::kSolidState;
    } else {
      refuse(ctx, "service", "\"" + kind + "\" is not fixed, mechanical or ssd");
    }
    if (const std::int64_t rate = ctx.spec.integer("media_mb_per_s")) {
      service.media_bytes_per_second = service.flash_bytes_per_second = static_cast<double>(rate) * 1e6;
    }
    const std::uint64_t blocks = static_cast<std::uint64_t>(ctx.spec.integer("disk_mib")) << 11;  // 512-byte blocks
    const std::string& image = ctx.spec.params.at("disk_image").string;
    std::int64_t left = ctx.spec.integer("disks");
    for (std::uint8_t id = 0; left > 0; ++id) {
      if (id == lsi::IocFirmware::kInitiatorId) continue;  // the IOC's own ID
      --left;
      scsi::DiskIdentity who;
      who.serial = name_ + "-" + std::to_string(id);
      who.naa = 0x5000'0000'0000'0000ull | static_cast<std::uint64_t>(ctx.spec.integer("channel")) << 8 | id;
      std::unique_ptr<scsi::BlockStore> store;
      if (!image.empty()) {
        std::string path = image;
        if (const std::size_t at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, std::to_string(id));
        std::string error;
        store = scsi::FileStore::open(path, blocks * 512, &error);
        if (!store) refuse(ctx, "disk_image", error);
      }
      function_->channel().attach(id, std::make_unique<scsi::Disk>(who, blocks, 512, std::move(store)), service);
    }
  }

  std::string name_;
  checks::FindingLog& findings_;
  std::unique_ptr<Lsi53c1030Function> function_;
};

using Value = scenario::ParamValue;

}  // namespace

void register_lsi53c1030(runner::ModelCatalog& catalog) {
  using scenario::ParamKind;
  catalog.add(
      {scenario::ModelTypeInfo{
           "lsi53c1030",
           "one function (one SCSI channel) of the LSI53C1030 Fusion-MPT SCSI controller behind a topology endpoint, "
           "with SCSI disks on its bus (models/lsi53c1030; needs endpoint; docs/lsi53c1030.md)",
           {{"channel", ParamKind::kInteger, "which function of the chip: 0 (channel A) or 1 (channel B)", Value::of_integer(0), 0, 1},
            {"disks", ParamKind::kInteger, "how many disks on the bus, at target IDs 0, 1, ... (skipping the IOC's 7)",
             Value::of_integer(1), 0, 15},
            {"disk_mib", ParamKind::kInteger, "each disk's size in MiB (512-byte blocks)", Value::of_integer(1024), 1, 1 << 21},
            {"service", ParamKind::kString, "the disks' own time per command: fixed, mechanical or ssd",
             Value::of_string("mechanical")},
            {"service_time", ParamKind::kDuration, "the time per command of a fixed service", Value::of_duration(100 * sim::kMicrosecond),
             0, sim::kSecond},
            {"media_mb_per_s", ParamKind::kInteger,
             "the disks' media rate in MB/s, for mechanical and ssd (0: theirs, 90 and 250)", Value::of_integer(0), 0,
             10000},
            {"disk_image", ParamKind::kString,
             "a disk image file per disk (\"{id}\" becomes its target ID), kept across runs; empty: sparse in memory",
             Value::of_string("")}},
           {{scenario::PortKind::kPcieFunction, true}, {scenario::PortKind::kClock, true}},
           {{"lsi.bad-sgl",
             "an LSI53C1030 request's scatter-gather list is malformed (a chain loop, an element past its frame or "
             "chain segment, a zero-length element, a wrong direction flag): IOCStatus INVALID_SGL"},
            {"lsi.malformed-request",
             "an LSI53C1030 request frame the IOC cannot take (a field out of range or contradicting another)"},
            {"lsi.doorbell-protocol",
             "a Doorbell write the LSI53C1030's handshake protocol does not allow at that point (ignored by the IOC)"},
            {"lsi.config-write",
             "an LSI53C1030 config page write the IOC refused: a read-only page, a corrupt header, a value out of range"},
            {"lsi.reply-frame-returned-twice", "a driver returned an LSI53C1030 reply frame that was already free"},
            {"lsi.reply-frame-not-returned",
             "LSI53C1030 replies waited for a free reply frame until the end: the driver kept frames it had read"},
            {"lsi.interrupt-left-raised",
             "an LSI53C1030's interrupt stayed raised 100 ms after its MSI, so no further MSI was sent: the driver's "
             "handler returned with the reply or doorbell interrupt still set"},
            {"lsi.dma-error",
             "an LSI53C1030 DMA (frame fetch, page buffer, data, reply or sense) completed with an error"}}},
       [](runner::ModelContext& ctx) -> std::unique_ptr<runner::ScenarioModel> {
         return std::make_unique<Lsi53c1030Model>(ctx);
       }});
}

}  // namespace dexthil::models
