#pragma once
// The simulated PCIe fabric, as the silicon behaves: config cycles routed by bus number, MMIO
// routed by the BARs and bridge windows software programmed, and device DMA carried upstream
// through bridges (which may replace the requester ID) to the root port's RID-to-SID table, the
// DART, and host memory. Software's part (enumeration, DMA mapping) is in harness/platform/.
#include <array>
#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/dma/transaction.hpp"
#include "harness/hostmem/page_allocator.hpp"
#include "harness/hostmem/sparse_memory.hpp"
#include "harness/iommu/dart.hpp"
#include "harness/pcie/topology.hpp"
#include "harness/sim/simulator.hpp"
#include "harness/util/record_pool.hpp"

namespace dexthil::pcie {

class Fabric;

// One DMA as it travelled, for checkers.
struct DmaPath {
  const Node* endpoint = nullptr;
  Bdf own_rid;
  Bdf arrived_as;                          // the RID the root port saw
  const Node* aliasing_bridge = nullptr;   // the bridge that replaced the RID, if any
  const Node* root_port = nullptr;
  std::uint32_t sid = 0;
  std::optional<std::size_t> rid2sid_entry;  // index into the port's table; none: the default SID
  dma::DmaRequest request;
  iommu::DartTranslation translation;      // the first failing page's, or else the first page's
  std::uint32_t iotlb_misses = 0;
  LatencyBreakdown latency;
};

class DmaPathObserver {
 public:
  virtual ~DmaPathObserver() = default;
  virtual void on_dma(const DmaPath& path, const Fabric& fabric) = 0;
};

// A device model's BARs as the host's memory requests reach them: `size` bytes (1, 2, 4 or 8)
// at `offset`, naturally aligned, so the request's byte enables are exactly those bytes (a
// narrow write never touches its neighbours). Each request arrives once, in the order the host
// issued them, so a read may have side effects (a FIFO pop, a clear-on-read counter). A read is
// answered through `done` whenever the device has the data (after its clock edge, say); a
// device that never answers leaves the host waiting for the completion timeout.
class MmioDevice {
 public:
  using ReadDone = std::function<void(std::uint64_t value)>;
  virtual ~MmioDevice() = default;
  virtual void mmio_read(std::size_t bar, std::uint64_t offset, unsigned size, ReadDone done) = 0;
  virtual void mmio_write(std::size_t bar, std::uint64_t offset, unsigned size, std::uint64_t value) = 0;
};

// How a host memory request ended.
struct MmioResult {
  enum class Status { kOk, kUnsupportedRequest, kCompletionTimeout };
  Status status = Status::kOk;
  std::uint64_t value = 0;  // a read's data; all ones for a read that failed, as the root complex returns
  const Node* endpoint = nullptr;  // the function the address routed to, if any
  std::string why;  // for a failure: which rule refused it
  bool ok() const { return status == Status::kOk; }
};

// Message signalled interrupts as the host receives them.
using MsiHandler = std::function<void(const Node& endpoint, std::uint64_t address, std::uint32_t data)>;

// A PORT_RID2SID entry as macOS programs it: the endpoint's own RID only.
struct Rid2SidEntry {
  std::uint16_t rid;
  std::uint32_t sid;
  const Node* endpoint;
};

// A requester ID an endpoint's DMA can arrive with, and the bridge responsible (none: its own).
struct Arrival {
  Bdf rid;
  const Node* bridge = nullptr;
};

class Fabric {
 public:
  static constexpr std::size_t kRid2SidEntries = 64;  // PORT_RID2SID holds 64 entries

  // Builds every node's config space at its power-on values, a DART per root port, and trains
  // the links. Nothing is numbered or mapped: platform::PciePlatform enumerates it as firmware
  // does. Throws std::runtime_error with a message naming the node when the topology cannot be
  // realised.
  Fabric(Topology topology, sim::Simulator& sim, hostmem::SparseMemory& memory, hostmem::PageAllocator& pages);
  ~Fabric();

  // Config cycles by BDF; a function that is not there reads all-ones.
  std::uint32_t config_read(Bdf bdf, std::uint16_t offset, unsigned size) const;
  void config_write(Bdf bdf, std::uint16_t offset, unsigned size, std::uint32_t value);
  // The function that answers config cycles at `bdf` as the bridges' bus numbers route them.
  Node* function_at(Bdf bdf) const;
  // Writes a root port's PORT_RID2SID table (at most kRid2SidEntries entries).
  void program_rid2sid(const Node& root_port, std::vector<Rid2SidEntry> table);

  struct MmioTarget {
    Node* endpoint;
    std::size_t bar;
    std::uint64_t offset;
  };
  // Follows the bridges' memory windows and the endpoints' BAR registers as programmed, so a
  // window or BAR that software got wrong routes wrongly here too.
  std::optional<MmioTarget> route_mmio(std::uint64_t address) const;
  // The nodes whose configuration a route read, each with its version then.
  using RouteWitness = std::vector<std::pair<const Node*, std::uint64_t>>;

  // Host memory requests by CPU physical address, as PCIe transactions. A request travels down
  // the hops to the function (one way: the sum of their hop latencies) and reaches its device
  // model then. A read is non-posted: `done` runs when its completion is back at the root
  // complex, one way up after the device answered. A write is posted: nothing comes back. Both
  // keep issue order per function (MMIO is not subject to the DMA stall model). A request the
  // function cannot take (nothing claims the address, memory decoding off, no device model, the
  // function in D3hot) is an Unsupported Request; a read the device never answers ends at the
  // completion timeout. Failed reads return all ones. The write returns how it was received
  // (known at once here, though a real posted write's error goes unseen by the CPU).
  static constexpr sim::SimTime kCompletionTimeout = 50 * sim::kMillisecond;  // PCIe's default range ends at 50 ms
  void attach_mmio(const Node& endpoint, MmioDevice* device);
  void mmio_read(std::uint64_t address, unsigned size, std::function<void(const MmioResult&)> done);
  MmioResult mmio_write(std::uint64_t address, unsigned size, std::uint64_t value);
  // The time a request takes from the root complex down to `endpoint` (and a completion back up).
  sim::SimTime one_way_latency(const Node& endpoint) const;

  // Resets as the spec triggers them: writing Initiate Function Level Reset (Device Control bit
  // 15) resets that endpoint; setting Secondary Bus Reset (Bridge Control bit 6) on a bridge
  // resets every endpoint below it (bridges below keep their own configuration). A reset puts
  // the function's config space back to power-on values and runs the device model's handler.
  using ResetHandler = std::function<void()>;
  void on_reset(const Node& endpoint, ResetHandler handler);  // nullptr removes it
  std::uint64_t resets(const Node& endpoint) const;           // how many times it was reset

  // Surprise removal (a cable pulled, a card yanked): the link to the endpoint goes down, its
  // device model is disconnected, memory requests to it end as Unsupported Requests and config
  // reads as all ones. Requests already on their way arrive as they would.
  void surprise_remove(Node& endpoint);

  // Trains the link above `downstream` again at the highest speed both ends support and the
  // upstream port's Target Link Speed (Link Control 2) allows; DMA then serialises at it.
  // The result is the node's trained_gen.
  void retrain_link(Node& downstream);

  // A device signals its MSI: if the host enabled MSI in the function's capability, the message
  // (address, data) reaches the handler after the path's latency. Returns false when disabled.
  bool signal_msi(const Node& endpoint);
  void set_msi_handler(MsiHandler handler) { msi_handler_ = std::move(handler); }

  // Where an endpoint's device model sends its DMA.
  dma::DmaUpstream& upstream(const Node& endpoint);
  void add_observer(DmaPathObserver* observer) { observers_.push_back(observer); }

  const Topology& topology() const { return topology_; }
  Node* node(const std::string& name) const { return topology_.find(name); }
  // The DART behind a root port; nullptr for a port without an IOMMU.
  iommu::Dart* dart(const Node& root_port) const;
  const std::vector<Rid2SidEntry>& rid2sid(const Node& root_port) const;
  // The SID the port gives `rid`, and the table entry that decided it (none: the default).
  std::uint32_t sid_for(const Node& root_port, std::uint16_t rid, std::optional<std::size_t>* entry = nullptr) const;
  // Every requester ID the endpoint's DMA can reach the root port with, and the bridge that makes
  // it so: what the bridges on the path do (each bridge to PCI that takes ownership replaces the
  // RID with its alias, so the one nearest the root decides; a mixed one may or may not).
  std::vector<Arrival> possible_arrivals(const Node& endpoint) const;
  // Every alias Linux's pci_for_each_dma_alias yields for the endpoint, in its order: the own RID,
  // then each bridge to PCI's alias on the way up (Node::requester_alias), whatever the bridge
  // does with requester IDs. Linux maps a device's DMA under all of them.
  std::vector<Arrival> dma_aliases(const Node& endpoint) const;

  // The platform's bus-stall limit (RequireMaxBusStall's system-wide minimum, applied by
  // platform::PciePlatform): while set, the injected stalls a DMA meets on its path add up to at
  // most `bound`. nullopt lifts it. ASPM exits are not stalls of this kind and stay as they are.
  // `holder` names who requires it, for the trace.
  void set_stall_bound(std::optional<sim::SimTime> bound, std::string_view holder = {});
  std::optional<sim::SimTime> stall_bound() const { return stall_bound_; }

  // Link Control's ASPM bits of a PCIe function (bit 0 L0s, bit 1 L1); 0 without a PCIe capability.
  static std::uint32_t aspm_control(const Node& n);
  // Max Payload Size and Max Read Request Size from a function's Device Control, in bytes;
  // nullopt for conventional PCI functions, which have neither.
  static std::optional<std::uint32_t> max_payload(const Node& n);
  static std::optional<std::uint32_t> max_read_request(const Node& n);

  // The DMA path itself (EndpointPort::submit calls this).
  void dma(const Node& endpoint, dma::DmaRequest request, dma::DmaUpstream::Done done);

 private:
  struct PortState;
  class EndpointPort;
  Node* route_below(Node* bridge, Bdf bdf) const;
  void reset_function(Node& endpoint);
  void show_link_speed(Node& n, std::uint8_t speed);  // Link Status' Current Link Speed
  PortState& port(const Node& root_port) const;
  sim::Random& mixed_random(const Node& bridge);
  sim::Random& stall_random(const Node& hop);
  // Everything but the IOTLB, which the translation at arrival adds; reserves the links on the
  // path for the transfer's data (the queueing it had to do is part of the result).
  LatencyBreakdown round_trip(const Node& endpoint, const dma::DmaRequest& request);
  // A DMA between its issue and the delivery of its completion. Its two events (the arrival and
  // the completion) point at one of these; they are reused, where each event used to hold the
  // whole path and allocate.
  struct DmaInFlight {
    const Node* endpoint = nullptr;
    DmaPath path;
    sim::SimTime back = 0;  // the completion's trip down
    dma::DmaUpstream::Done done;
    dma::DmaCompletion completion;
  };
  void arrive(DmaInFlight& d);
  void deliver(DmaInFlight& d);
  util::RecordPool<DmaInFlight> dmas_;

  Topology topology_;
  sim::Simulator& sim_;
  hostmem::SparseMemory& memory_;
  std::vector<std::unique_ptr<PortState>> ports_;
  std::vector<std::unique_ptr<EndpointPort>> endpoint_ports_;
  std::vector<DmaPathObserver*> observers_;
  std::map<const Node*, sim::Random> mixed_random_;
  std::map<const Node*, sim::Random> stall_random_;
  std::map<const Node*, sim::SimTime> link_last_active_;  // keyed by the link's downstream node

  std::map<const Node*, MmioDevice*> mmio_devices_;
  // Reads waiting for their completion, in issue order and so in deadline order: one timer
  // watches the oldest, instead of a timeout event scheduled and cancelled for every read.
  struct PendingRead;
  struct ReadTicket;
  void recycle_if_done(PendingRead& read);
  void complete_read(PendingRead& read, const MmioResult& result);
  void expire_reads();
  void drop_settled_reads();  // the oldest reads that were answered
  util::RecordPool<PendingRead> reads_;
  std::deque<PendingRead*> pending_reads_;
  sim::EventId read_timer_ = 0;  // 0: not armed
  std::optional<sim::SimTime> stall_bound_;
  std::map<const Node*, ResetHandler> reset_handlers_;
  std::map<const Node*, std::uint64_t> resets_;
  MsiHandler msi_handler_;
  // Where a memory request goes, or why it cannot: the MmioResult of a request that fails.
  struct MmioRoute {
    MmioDevice* device = nullptr;
    std::optional<MmioTarget> target;
    MmioResult refusal;
  };
  MmioRoute route_request(std::uint64_t address, unsigned size, bool write) const;
  // The last routes found, by address, with the configuration they read: a driver's register
  // accesses go to a few addresses, and walking windows and BARs again for each cost more than
  // the access itself. A route is reused only while every node it read is unchanged.
  struct RouteMemo {
    bool used = false;
    std::uint64_t address = 0;
    MmioTarget target{};
    RouteWitness witness;
  };
  mutable std::array<RouteMemo, 8> route_memo_{};
};

}  // namespace dexthil::pcie
