#pragma once
// One SCSI channel of the LSI53C1030 with its targets: a parallel SCSI bus that one connection
// holds at a time, in simulated time. A command is two connections with the target's own time
// between them (the target disconnects while it works, so other commands use the bus):
//
//   select     bus free, arbitration and selection (QAS arbitration once agreed), the messages
//              (IDENTIFY, a queue tag), negotiation's PPR exchange when the target has none yet,
//              the CDB, and a write's data-out at the agreed rate; the target disconnects
//   service    the target's service time (scsi::ServiceTime) for READ and WRITE; targets work
//              on one command at a time, in the order they received them
//   reselect   the target reconnects: arbitration and reselection, a read's data-in at the agreed
//              rate, status and COMMAND COMPLETE; the bus is free again
//
// Connections take the bus in the order they ask for it (SPI's ID priority is not modelled). A
// selection nobody answers ends at the selection timeout. The command runs on the target when its
// select phase ends, so targets see commands in bus order.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness/sim/simulator.hpp"
#include "models/scsi/scsi_disk.hpp"
#include "models/scsi/service_time.hpp"
#include "models/scsi/spi_timing.hpp"

namespace dexthil::models::lsi {

class ScsiChannel {
 public:
  static constexpr std::uint8_t kIds = 16;
  // SPI's recommended selection time-out delay.
  static constexpr sim::SimTime kSelectionTimeout = 250 * sim::kMillisecond;

  struct Command {
    std::uint8_t target = 0;
    std::uint8_t lun = 0;
    std::span<const std::uint8_t> cdb;
    std::span<const std::uint8_t> data_out;  // a write's data, already fetched by the HBA
    bool tagged = true;
  };
  struct Outcome {
    bool selected = true;        // false: nobody answered the selection
    scsi::Result result;         // status, data-in and sense
  };
  // `data_in` runs when the data-in phase starts (with the phase's end), so the HBA can move the
  // data to the host while the bus carries it; it may take result.data_in, which `done`'s
  // outcome then lacks. `done` runs when the bus is free again.
  using DataIn = std::function<void(scsi::Result& result, sim::SimTime phase_end)>;
  using Done = std::function<void(Outcome outcome)>;

  ScsiChannel(sim::Simulator& sim, std::string name, scsi::BusTiming timing = {});

  void attach(std::uint8_t id, std::unique_ptr<scsi::Disk> disk, scsi::ServiceModel service);
  bool present(std::uint8_t id) const { return id < kIds && targets_[id].disk != nullptr; }
  scsi::Disk* disk(std::uint8_t id) { return present(id) ? targets_[id].disk.get() : nullptr; }

  // What the initiator asks for with a target; negotiated (again) at its next selection if it
  // differs from what it asked for before.
  void request(std::uint8_t id, scsi::Agreement wanted);
  bool negotiated(std::uint8_t id) const { return id < kIds && targets_[id].negotiated; }
  const scsi::Agreement& agreement(std::uint8_t id) const { return targets_[id].agreement; }
  // A bus reset (the IOC's hard reset): agreements are gone, every target is asynchronous and
  // narrow until negotiated again. Commands in progress finish as their events were scheduled.
  void reset_negotiation();
  void reset_negotiation(std::uint8_t id);  // a target reset: that target's alone

  // A connection that carries only messages to a target (task management): how long until the
  // message is delivered.
  sim::SimTime message(std::uint8_t id, std::uint64_t bytes);

  void execute(const Command& command, DataIn data_in, Done done);

  // Simulated time the bus was held by connections, for throughput figures.
  sim::SimTime bus_busy() const { return bus_busy_; }

 private:
  struct Target {
    std::unique_ptr<scsi::Disk> disk;
    std::unique_ptr<scsi::ServiceTime> service;
    scsi::Agreement wanted;
    scsi::Agreement agreement;  // asynchronous, narrow until negotiated
    bool negotiated = false;
    sim::SimTime busy_until = 0;
  };
  // Holds the bus for `duration` from when it is next free (or now): when the connection ends.
  sim::SimTime connect(sim::SimTime duration);
  // One command on its way over the bus: each phase's event owns it and hands it to the next.
  struct Run;
  void command_phase(std::unique_ptr<Run> run);
  void reconnect_phase(std::unique_ptr<Run> run);
  sim::SimTime service_time(Target& target, std::span<const std::uint8_t> cdb, bool write);

  sim::Simulator& sim_;
  std::string name_;
  scsi::BusTiming timing_;
  std::array<Target, kIds> targets_;
  sim::SimTime bus_free_at_ = 0;
  sim::SimTime bus_busy_ = 0;
};

}  // namespace dexthil::models::lsi
