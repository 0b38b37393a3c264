#include "harness/pcie/fabric.hpp"

#include <algorithm>
#include <stdexcept>

#include "harness/util/hex.hpp"

namespace dexthil::pcie {

namespace {

void build_pcie_capability(Node& n, cfg::PortType type) {
  ConfigSpace& c = n.config;
  const std::uint16_t at = c.add_capability(cfg::kCapPciExpress, 0x3c);
  c.init16(at + 2, static_cast<std::uint16_t>(2 | static_cast<unsigned>(type) << 4));  // version 2
  // Device Capabilities: max payload 256 bytes supported; endpoints can do a function level reset.
  c.init32(at + 4, 0x1 | (type == cfg::PortType::kEndpoint ? cfg::kDevCapFunctionLevelReset : 0u));
  // Device Control: max payload 128 bytes (000b), max read request 512 bytes (010b); both writable.
  c.init16(at + 8, 2 << 12, 0x7 << 5 | 0x7 << 12);
  const LinkSpec l = n.link.value_or(LinkSpec{});
  const std::uint32_t aspm = (l.l0s_supported ? 1u : 0u) | (l.l1_supported ? 2u : 0u);
  const std::uint32_t link_caps = l.gen | static_cast<std::uint32_t>(l.width) << 4 | aspm << 10 |
                                  static_cast<std::uint32_t>(l.l0s_exit) << 12 |
                                  static_cast<std::uint32_t>(l.l1_exit) << 15;
  c.init32(at + 0x0c, link_caps);
  c.init16(at + 0x10, static_cast<std::uint16_t>((l.l0s_enabled ? 1 : 0) | (l.l1_enabled ? 2 : 0)), 0x3);  // ASPM control
  c.init16(at + 0x12, static_cast<std::uint16_t>(l.gen | l.width << 4));
  c.init16(at + 0x30, l.gen, 0xf);  // Link Control 2: Target Link Speed, the highest supported
}

void build_config_space(Node& n) {
  ConfigSpace& c = n.config;
  c.init16(cfg::kVendorId, n.ids.vendor);
  c.init16(cfg::kDeviceId, n.ids.device);
  c.init16(cfg::kCommand, 0, cfg::kCommandMemory | cfg::kCommandBusMaster);
  c.init8(cfg::kRevision, n.revision);
  c.init8(cfg::kClassCode, static_cast<std::uint8_t>(n.class_code));
  c.init8(cfg::kClassCode + 1, static_cast<std::uint8_t>(n.class_code >> 8));
  c.init8(cfg::kClassCode + 2, static_cast<std::uint8_t>(n.class_code >> 16));
  if (n.is_bridge()) {
    c.init8(cfg::kHeaderType, 1);
    c.init8(cfg::kPrimaryBus, 0, 0xff);
    c.init8(cfg::kSecondaryBus, 0, 0xff);
    c.init8(cfg::kSubordinateBus, 0, 0xff);
    c.init16(cfg::kMemoryBase, 0, 0xfff0);
    c.init16(cfg::kMemoryLimit, 0, 0xfff0);
    c.init16(cfg::kPrefetchBase, 0x1, 0xfff0);  // 64-bit capable, unused: nothing prefetchable is placed there
    c.init16(cfg::kPrefetchLimit, 0x1, 0xfff0);
    c.init16(cfg::kBridgeControl, 0, cfg::kBridgeControlSecondaryBusReset);
  } else {
    c.init8(cfg::kHeaderType, 0);
    std::uint16_t reg = cfg::kBar0;
    for (const BarSpec& bar : n.bars) {
      const std::uint32_t flags = (bar.is64 ? 0x4u : 0u) | (bar.prefetchable ? 0x8u : 0u);
      // Address bits below the size are hard-wired to zero: that is how software sizes a BAR.
      c.init32(reg, flags, static_cast<std::uint32_t>(~(bar.size - 1)) & 0xfffffff0u);
      if (bar.is64) c.init32(reg + 4, 0, static_cast<std::uint32_t>(~(bar.size - 1) >> 32));
      reg = static_cast<std::uint16_t>(reg + (bar.is64 ? 8 : 4));
    }
    c.init8(cfg::kInterruptPin, 1);
  }
  // Power management (version 3) on every function.
  const std::uint16_t pm = n.config.add_capability(cfg::kCapPowerManagement, 8);
  c.init16(pm + 2, 0x3);
  c.init16(pm + 4, 0, 0x3);  // PMCSR power state D0..D3hot
  switch (n.kind) {
    case NodeKind::kRootPort: build_pcie_capability(n, cfg::PortType::kRootPort); break;
    case NodeKind::kSwitchUpstream: build_pcie_capability(n, cfg::PortType::kSwitchUpstream); break;
    case NodeKind::kSwitchDownstream: build_pcie_capability(n, cfg::PortType::kSwitchDownstream); break;
    case NodeKind::kPcieToPciBridge: build_pcie_capability(n, cfg::PortType::kPcieToPciBridge); break;
    case NodeKind::kPciBridge: break;  // conventional: no PCIe capability, which is what marks it
    case NodeKind::kEndpoint: {
      // MSI, 64-bit address capable, one message.
      const std::uint16_t msi = c.add_capability(cfg::kCapMsi, 14);
      c.init16(msi + 2, 1 << 7, 0x71);  // enable and multiple-message-enable writable
      c.init32(msi + 4, 0, 0xfffffffc);
      c.init32(msi + 8, 0, 0xffffffff);
      c.init16(msi + 12, 0, 0xffff);
      if (!n.is_conventional()) build_pcie_capability(n, cfg::PortType::kEndpoint);
      break;
    }
  }
}

}  // namespace

struct Fabric::PortState {
  Node* root_port;
  std::unique_ptr<iommu::Dart> dart;
  std::vector<Rid2SidEntry> rid2sid;
};

class Fabric::EndpointPort final : public dma::DmaUpstream {
 public:
  EndpointPort(Fabric& fabric, const Node& endpoint) : fabric_(fabric), endpoint_(endpoint) {}
  void submit(dma::DmaRequest request, Done done) override { fabric_.dma(endpoint_, std::move(request), std::move(done)); }
  const Node& endpoint() const { return endpoint_; }

 private:
  Fabric& fabric_;
  const Node& endpoint_;
};

Fabric::Fabric(Topology topology, sim::Simulator& sim, hostmem::SparseMemory& memory, hostmem::PageAllocator& pages)
    : topology_(std::move(topology)), sim_(sim), memory_(memory) {
  if (topology_.root_ports.empty()) throw std::runtime_error(topology_.file + ": error: the topology has no root port");
  for (const auto& n : topology_.nodes) build_config_space(*n);
  for (Node* rp : topology_.root_ports) {
    auto state = std::make_unique<PortState>();
    state->root_port = rp;
    if (rp->has_dart) state->dart = std::make_unique<iommu::Dart>(rp->dart, memory, pages);
    ports_.push_back(std::move(state));
  }
  for (Node* ep : topology_.endpoints()) endpoint_ports_.push_back(std::make_unique<EndpointPort>(*this, *ep));
  // Links train at power-on, to the highest speed both ends support.
  for (const auto& n : topology_.nodes) {
    if (n->link && n->parent && n->parent->link) n->trained_gen = std::min(n->link->gen, n->parent->link->gen);
  }
}

Fabric::~Fabric() {
  if (read_timer_) sim_.cancel(read_timer_);  // it would call into this fabric
}

Fabric::PortState& Fabric::port(const Node& root_port) const {
  for (const auto& p : ports_) {
    if (p->root_port == &root_port) return *p;
  }
  throw std::logic_error("\"" + root_port.name + "\" is not a root port of this fabric");
}

iommu::Dart* Fabric::dart(const Node& root_port) const { return port(root_port).dart.get(); }
const std::vector<Rid2SidEntry>& Fabric::rid2sid(const Node& root_port) const { return port(root_port).rid2sid; }

dma::DmaUpstream& Fabric::upstream(const Node& endpoint) {
  for (auto& p : endpoint_ports_) {
    if (&p->endpoint() == &endpoint) return *p;
  }
  throw std::logic_error("\"" + endpoint.name + "\" is not an endpoint of this fabric");
}

// ---- Config routing: as bridges do it, from the bus numbers programmed in their registers. ----

Node* Fabric::route_below(Node* bridge, Bdf bdf) const {
  const auto secondary = static_cast<std::uint8_t>(bridge->config.read(cfg::kSecondaryBus, 1));
  const auto subordinate = static_cast<std::uint8_t>(bridge->config.read(cfg::kSubordinateBus, 1));
  if (secondary == 0 || bdf.bus < secondary || bdf.bus > subordinate) return nullptr;
  for (Node* child : bridge->children) {
    if (bdf.bus == secondary) {
      if (child->device == bdf.device && child->function == bdf.function) return child;
    } else if (child->is_bridge()) {
      if (Node* n = route_below(child, bdf)) return n;
    }
  }
  return nullptr;
}

void Fabric::surprise_remove(Node& endpoint) {
  endpoint.removed = true;
  mmio_devices_.erase(&endpoint);
  reset_handlers_.erase(&endpoint);
  sim_.trace().record(sim_.now(), endpoint.name, "surprise removal: link down");
}

Node* Fabric::function_at(Bdf bdf) const {
  for (Node* rp : topology_.root_ports) {
    if (bdf.bus == 0) {
      if (rp->device == bdf.device && bdf.function == 0) return rp;
    } else if (Node* n = route_below(rp, bdf)) {
      return n;
    }
  }
  return nullptr;
}

std::uint32_t Fabric::config_read(Bdf bdf, std::uint16_t offset, unsigned size) const {
  const Node* n = function_at(bdf);
  if (n && n->removed) n = nullptr;  // nothing answers behind a link that is down
  const std::uint32_t value = n ? n->config.read(offset, size) : size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
  sim_.trace().record(sim_.now(), "fabric",
                      "cfg rd " + bdf.str() + "+" + util::hex(offset) + "/" + std::to_string(size) + " = " + util::hex(value) +
                          (n ? "" : " (no function)"));
  return value;
}

void Fabric::config_write(Bdf bdf, std::uint16_t offset, unsigned size, std::uint32_t value) {
  Node* n = function_at(bdf);
  if (n && n->removed) n = nullptr;
  sim_.trace().record(sim_.now(), "fabric",
                      "cfg wr " + bdf.str() + "+" + util::hex(offset) + "/" + std::to_string(size) + " = " + util::hex(value) +
                          (n ? "" : " (no function)"));
  if (!n) return;
  const auto writes = [&](std::uint16_t reg, std::uint32_t bit) {
    return reg >= offset && reg < offset + size && ((value >> ((reg - offset) * 8)) & bit) != 0;
  };
  if (n->is_bridge()) {
    const bool was_held = n->config.read(cfg::kBridgeControl, 2) & cfg::kBridgeControlSecondaryBusReset;
    n->config.write(offset, size, value);
    const bool held = n->config.read(cfg::kBridgeControl, 2) & cfg::kBridgeControlSecondaryBusReset;
    if (held && !was_held) {
      for (Node* ep : topology_.endpoints_below(*n)) reset_function(*ep);
    }
    return;
  }
  n->config.write(offset, size, value);
  // Initiate Function Level Reset always reads as 0, so it never sticks in the bytes.
  if (const std::uint16_t pcie = n->config.find_capability(cfg::kCapPciExpress);
      pcie && (n->config.read(pcie + 4, 4) & cfg::kDevCapFunctionLevelReset) &&
      writes(static_cast<std::uint16_t>(pcie + 9), cfg::kDevCtlInitiateFunctionLevelReset >> 8)) {
    reset_function(*n);
  }
}

void Fabric::retrain_link(Node& downstream) {
  Node* up = downstream.parent;
  if (!up || !downstream.link || !up->link) return;
  const std::uint16_t up_cap = up->config.find_capability(cfg::kCapPciExpress);
  const std::uint8_t target = up_cap ? static_cast<std::uint8_t>(up->config.read(up_cap + 0x30, 2) & 0xf) : 0;
  std::uint8_t speed = std::min(downstream.link->gen, up->link->gen);
  if (target) speed = std::min(speed, target);
  downstream.trained_gen = speed;
  // Current Link Speed in both ends' Link Status (hardware-owned, so written past the masks).
  show_link_speed(downstream, speed);
  show_link_speed(*up, speed);
}

void Fabric::show_link_speed(Node& n, std::uint8_t speed) {
  if (const std::uint16_t cap = n.config.find_capability(cfg::kCapPciExpress)) {
    n.config.set8(static_cast<std::uint16_t>(cap + 0x12), static_cast<std::uint8_t>((n.config.read(cap + 0x12, 1) & 0xf0) | speed));
  }
}

void Fabric::reset_function(Node& endpoint) {
  // Config space returns to its power-on values (BARs, Command, MSI and Device Control cleared);
  // the routing facts enumeration learnt (the BDF) stay, as the function sits where it sat.
  endpoint.config = ConfigSpace{};
  build_config_space(endpoint);
  if (endpoint.trained_gen) show_link_speed(endpoint, endpoint.trained_gen);  // the link is not retrained
  ++resets_[&endpoint];
  if (auto it = reset_handlers_.find(&endpoint); it != reset_handlers_.end() && it->second) it->second();
}

void Fabric::on_reset(const Node& endpoint, ResetHandler handler) {
  if (handler) reset_handlers_[&endpoint] = std::move(handler);
  else reset_handlers_.erase(&endpoint);
}

std::uint64_t Fabric::resets(const Node& endpoint) const {
  auto it = resets_.find(&endpoint);
  return it == resets_.end() ? 0 : it->second;
}

void Fabric::program_rid2sid(const Node& root_port, std::vector<Rid2SidEntry> table) {
  if (table.size() > kRid2SidEntries) {
    throw std::logic_error("PORT_RID2SID of \"" + root_port.name + "\" holds " + std::to_string(kRid2SidEntries) +
                           " entries, not " + std::to_string(table.size()));
  }
  port(root_port).rid2sid = std::move(table);
}

namespace {

// Decodes `address` against an endpoint's BAR registers, as the function itself does.
std::optional<Fabric::MmioTarget> decode_bars(Node* ep, std::uint64_t address, Fabric::RouteWitness& read) {
  read.emplace_back(ep, ep->config.version());
  if (!(ep->config.read(cfg::kCommand, 2) & cfg::kCommandMemory)) return std::nullopt;
  std::uint16_t reg = cfg::kBar0;
  for (std::size_t i = 0; i < ep->bars.size(); ++i) {
    std::uint64_t base = ep->config.read(reg, 4) & 0xfffffff0u;
    if (ep->bars[i].is64) base |= static_cast<std::uint64_t>(ep->config.read(reg + 4, 4)) << 32;
    if (address >= base && address - base < ep->bars[i].size) return Fabric::MmioTarget{ep, i, address - base};
    reg = static_cast<std::uint16_t>(reg + (ep->bars[i].is64 ? 8 : 4));
  }
  return std::nullopt;
}

// Follows a bridge's memory window down the tree, as the bridge forwards memory requests.
std::optional<Fabric::MmioTarget> route_through(Node* bridge, std::uint64_t address, Fabric::RouteWitness& read) {
  read.emplace_back(bridge, bridge->config.version());
  if (!(bridge->config.read(cfg::kCommand, 2) & cfg::kCommandMemory)) return std::nullopt;
  const std::uint64_t base = static_cast<std::uint64_t>(bridge->config.read(cfg::kMemoryBase, 2) & 0xfff0) << 16;
  const std::uint64_t limit = (static_cast<std::uint64_t>(bridge->config.read(cfg::kMemoryLimit, 2) & 0xfff0) << 16) | 0xfffff;
  if (base > limit || address < base || address > limit) return std::nullopt;
  for (Node* child : bridge->children) {
    auto hit = child->is_bridge() ? route_through(child, address, read) : decode_bars(child, address, read);
    if (hit) return hit;
  }
  return std::nullopt;
}

bool unchanged(const Fabric::RouteWitness& read) {
  for (const auto& [node, version] : read) {
    if (node->config.version() != version) return false;
  }
  return true;
}

}  // namespace

std::optional<Fabric::MmioTarget> Fabric::route_mmio(std::uint64_t address) const {
  RouteMemo& memo = route_memo_[address / 4 % route_memo_.size()];
  if (memo.used && memo.address == address && unchanged(memo.witness)) return memo.target;
  memo.used = false;
  memo.witness.clear();
  for (Node* rp : topology_.root_ports) {
    if (auto hit = route_through(rp, address, memo.witness)) {
      memo.used = true;
      memo.address = address;
      memo.target = *hit;
      return hit;
    }
  }
  return std::nullopt;
}

void Fabric::attach_mmio(const Node& endpoint, MmioDevice* device) { mmio_devices_[&endpoint] = device; }

sim::SimTime Fabric::one_way_latency(const Node& endpoint) const {
  sim::SimTime t = 0;
  for (const Node* n = &endpoint; n; n = n->parent) t += n->hop_latency;
  return t;
}

Fabric::MmioRoute Fabric::route_request(std::uint64_t address, unsigned size, bool write) const {
  MmioRoute r;
  r.refusal.status = MmioResult::Status::kUnsupportedRequest;
  r.refusal.value = size == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
  const char* what = write ? "write" : "read";
  r.target = route_mmio(address);
  if (!r.target) {
    r.refusal.why = std::string("no BAR or bridge window claims the ") + what + " at " + util::hex(address) +
                    " (or memory decoding is off in a Command register on the way)";
    return r;
  }
  const Node& ep = *r.target->endpoint;
  r.refusal.endpoint = &ep;
  if (ep.removed) {
    r.refusal.why = "the link to " + ep.name + " is down: the device was removed";
    return r;
  }
  if (r.target->offset % size || r.target->offset + size > ep.bars[r.target->bar].size) {
    r.refusal.why = "the " + std::to_string(size) + "-byte " + what + " at offset " + util::hex(r.target->offset) +
                    " of BAR " + std::to_string(r.target->bar) + " is misaligned or runs past its end";
    return r;
  }
  if (const std::uint16_t pm = ep.config.find_capability(cfg::kCapPowerManagement); pm && (ep.config.read(pm + 4, 2) & 3) == 3) {
    r.refusal.why = ep.name + " is in D3hot (PMCSR PowerState 3); a function in D3hot takes only configuration requests";
    return r;
  }
  auto it = mmio_devices_.find(&ep);
  if (it == mmio_devices_.end() || !it->second) {
    r.refusal.why = "nothing answers at " + ep.name + ": no device model is attached to it";
    return r;
  }
  r.device = it->second;
  return r;
}

// One read's state. Records are reused, and the events and the device's answer on a read's way
// hold a ticket (the record's index and generation, small enough for std::function and
// sim::Callback to keep without allocating): a ticket whose record has moved on to another read
// finds nothing, as an answer after the completion timeout finds no one waiting for it.
struct Fabric::PendingRead {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  std::uint64_t address = 0;
  unsigned size = 0;
  const Node* ep = nullptr;
  sim::SimTime one_way = 0;
  std::size_t bar = 0;
  std::uint64_t offset = 0;
  std::function<void(const MmioResult&)> done;
  sim::SimTime deadline = 0;  // the root port's completion timeout
  bool settled = false;       // the completion is sent once: by the device's answer or by the timeout
  bool completed = false;     // it was sent
  bool waiting = false;       // in pending_reads_
  std::uint64_t value = 0;    // the device's answer
};

struct Fabric::ReadTicket {
  Fabric* fabric;
  std::uint32_t index;
  std::uint32_t generation;
  PendingRead* read() const {
    PendingRead& r = fabric->reads_.at(index);
    return r.generation == generation ? &r : nullptr;
  }
};

// Free once its completion was sent and the timeout queue let go of it.
void Fabric::recycle_if_done(PendingRead& read) {
  if (!read.completed || read.waiting) return;
  ++read.generation;
  read.done = nullptr;
  reads_.give(read);
}

void Fabric::complete_read(PendingRead& read, const MmioResult& result) {
  sim_.trace().record_fields(sim_.now(), read.ep ? std::string_view(read.ep->name) : std::string_view("fabric"),
                             {'R', read.address, result.value, static_cast<std::uint64_t>(result.status)}, [&] {
                               return "mmio rd " + util::hex(read.address) + " = " + util::hex(result.value) +
                                      (result.ok() ? "" : " (" + result.why + ")");
                             });
  read.completed = true;
  const std::function<void(const MmioResult&)> done = std::move(read.done);
  recycle_if_done(read);
  done(result);  // may issue reads
}

void Fabric::mmio_read(std::uint64_t address, unsigned size, std::function<void(const MmioResult&)> done) {
  MmioRoute route = route_request(address, size, false);
  bool made = false;
  PendingRead& read = reads_.take(&made);
  if (made) read.index = static_cast<std::uint32_t>(reads_.made_count() - 1);
  read.address = address;
  read.size = size;
  read.ep = route.target ? route.target->endpoint : nullptr;
  read.one_way = route.target ? one_way_latency(*route.target->endpoint) : 0;
  read.bar = route.target ? route.target->bar : 0;
  read.offset = route.target ? route.target->offset : 0;
  read.done = std::move(done);
  read.deadline = 0;
  read.settled = read.completed = read.waiting = false;
  read.value = 0;
  const ReadTicket ticket{this, read.index, read.generation};
  if (!route.device) {
    // Unsupported Request: the completion comes back from where the request died.
    sim_.after(2 * read.one_way, [ticket, refusal = std::move(route.refusal)] {
      if (PendingRead* r = ticket.read()) ticket.fabric->complete_read(*r, refusal);
    });
    return;
  }
  read.deadline = sim_.now() + kCompletionTimeout;
  read.waiting = true;
  pending_reads_.push_back(&read);
  if (!read_timer_) read_timer_ = sim_.at(pending_reads_.front()->deadline, [this] { expire_reads(); });
  sim_.after(read.one_way, [ticket] {
    PendingRead* r = ticket.read();
    if (!r) return;
    Fabric& f = *ticket.fabric;
    // Looked up on arrival: the device may have gone since the request was issued.
    auto it = f.mmio_devices_.find(r->ep);
    if (it == f.mmio_devices_.end() || !it->second) return;  // no answer: the completion timeout ends it
    it->second->mmio_read(r->bar, r->offset, r->size, [ticket](std::uint64_t value) {
      PendingRead* read = ticket.read();
      if (!read || read->settled) return;  // too late: the root port gave up
      read->settled = true;
      read->value = value;
      Fabric& f = *ticket.fabric;
      // A completion heading up may not pass the function's earlier DMA.
      const sim::SimTime back = std::max(f.sim_.now() + read->one_way, read->ep->last_dma_arrival);
      read->ep->last_dma_arrival = back;
      f.sim_.at(back, [ticket] {
        PendingRead* r = ticket.read();
        if (!r) return;
        MmioResult result;
        result.value = r->value;
        result.endpoint = r->ep;
        ticket.fabric->complete_read(*r, result);
      });
      f.drop_settled_reads();
    });
  });
}

void Fabric::drop_settled_reads() {
  while (!pending_reads_.empty() && pending_reads_.front()->settled) {
    PendingRead& read = *pending_reads_.front();
    pending_reads_.pop_front();
    read.waiting = false;
    recycle_if_done(read);
  }
}

void Fabric::expire_reads() {
  read_timer_ = 0;
  drop_settled_reads();
  while (!pending_reads_.empty() && pending_reads_.front()->deadline <= sim_.now()) {
    PendingRead& read = *pending_reads_.front();
    pending_reads_.pop_front();
    read.waiting = false;
    if (read.settled) {  // answered, its completion on the way
      recycle_if_done(read);
      continue;
    }
    read.settled = true;
    MmioResult r;
    r.status = MmioResult::Status::kCompletionTimeout;
    r.value = read.size == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * read.size)) - 1;
    r.endpoint = read.ep;
    r.why = read.ep->name + " never completed the read at " + util::hex(read.address) + " within the " +
            sim::format_time(kCompletionTimeout) + " completion timeout";
    complete_read(read, r);  // may issue reads, and arm the timer for the oldest
    drop_settled_reads();
  }
  // Nothing waiting: no timer until the next read (this one may have fired with nothing to do).
  if (!pending_reads_.empty() && !read_timer_) {
    read_timer_ = sim_.at(pending_reads_.front()->deadline, [this] { expire_reads(); });
  }
}

MmioResult Fabric::mmio_write(std::uint64_t address, unsigned size, std::uint64_t value) {
  MmioRoute route = route_request(address, size, true);
  const Node* ep = route.target ? route.target->endpoint : nullptr;
  sim_.trace().record_fields(sim_.now(), ep ? std::string_view(ep->name) : std::string_view("fabric"),
                             {'W', address, value, size, route.device != nullptr}, [&] {
                               return "mmio wr " + util::hex(address) + "/" + std::to_string(size) + " = " +
                                      util::hex(value) + (route.device ? "" : " (" + route.refusal.why + ")");
                             });
  if (!route.device) return route.refusal;
  // Captures within sim::Callback's inline bytes: a posted write allocates nothing.
  sim_.after(one_way_latency(*ep), [this, ep, bar = route.target->bar, offset = route.target->offset, size, value] {
    auto it = mmio_devices_.find(ep);
    if (it != mmio_devices_.end() && it->second) it->second->mmio_write(bar, offset, size, value);
  });
  MmioResult ok;
  ok.endpoint = ep;
  return ok;
}

bool Fabric::signal_msi(const Node& endpoint) {
  const std::uint16_t msi = endpoint.config.find_capability(cfg::kCapMsi);
  if (!msi || !(endpoint.config.read(msi + 2, 2) & 1)) return false;
  const std::uint64_t address = endpoint.config.read(msi + 4, 4) | static_cast<std::uint64_t>(endpoint.config.read(msi + 8, 4)) << 32;
  const std::uint32_t data = endpoint.config.read(msi + 12, 2);
  // An MSI is a posted memory write: it travels up the same hops as the device's DMA and may not
  // pass the function's earlier DMA (the interrupt handler must see the data it announces).
  const sim::SimTime arrival = std::max(sim_.now() + one_way_latency(endpoint), endpoint.last_dma_arrival);
  endpoint.last_dma_arrival = arrival;
  sim_.at(arrival, [this, &endpoint, address, data] {
    sim_.trace().record_fields(sim_.now(), endpoint.name, {'I', address, data},
                               [&] { return "msi " + util::hex(address) + " data " + util::hex(data); });
    if (msi_handler_) msi_handler_(endpoint, address, data);
  });
  return true;
}

// ---- Requester IDs and SIDs ----

std::uint32_t Fabric::sid_for(const Node& rp, std::uint16_t rid, std::optional<std::size_t>* entry) const {
  const auto& table = rid2sid(rp);
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].rid == rid) {
      if (entry) *entry = i;
      return table[i].sid;
    }
  }
  if (entry) entry->reset();
  return rp.unlisted_rid_sid;
}

std::vector<Arrival> Fabric::possible_arrivals(const Node& ep) const {
  std::vector<Arrival> arrivals{{ep.bdf, nullptr}};
  for (const Node* p = ep.parent; p; p = p->parent) {
    if (!p->is_bridge_to_pci()) continue;
    const Arrival alias{p->requester_alias(), p};
    if (p->rid_behaviour == RequesterIdBehaviour::kTakesOwnership) {
      arrivals = {alias};
    } else if (p->rid_behaviour == RequesterIdBehaviour::kMixed) {
      if (std::none_of(arrivals.begin(), arrivals.end(), [&](const Arrival& a) { return a.rid == alias.rid; })) {
        arrivals.push_back(alias);
      }
    }
  }
  return arrivals;
}

std::vector<Arrival> Fabric::dma_aliases(const Node& ep) const {
  // pci_for_each_dma_alias: the device's own RID, then, walking up, every bridge to PCI's alias
  // whatever the bridge does with requester IDs (switch and root ports add none).
  std::vector<Arrival> aliases{{ep.bdf, nullptr}};
  for (const Node* p = ep.parent; p; p = p->parent) {
    if (p->is_bridge_to_pci()) aliases.push_back({p->requester_alias(), p});
  }
  return aliases;
}

// ---- Latency ----

void Fabric::set_stall_bound(std::optional<sim::SimTime> bound, std::string_view holder) {
  if (bound == stall_bound_) return;
  stall_bound_ = bound;
  sim_.trace().record(sim_.now(), "platform",
                      bound ? "MaxBusDelay " + sim::format_time(*bound) + " (held by " + std::string(holder) +
                                  "): injected stalls are bounded by it"
                            : std::string("MaxBusDelay none: injected stalls are not bounded"));
}

std::uint32_t Fabric::aspm_control(const Node& n) {
  const std::uint16_t cap = n.config.find_capability(cfg::kCapPciExpress);
  return cap ? n.config.read(static_cast<std::uint16_t>(cap + 0x10), 2) & 0x3 : 0;
}

std::optional<std::uint32_t> Fabric::max_payload(const Node& n) {
  const std::uint32_t size = n.config.transfer_sizes().max_payload;
  return size ? std::optional<std::uint32_t>(size) : std::nullopt;
}

std::optional<std::uint32_t> Fabric::max_read_request(const Node& n) {
  const std::uint32_t size = n.config.transfer_sizes().max_read_request;
  return size ? std::optional<std::uint32_t>(size) : std::nullopt;
}

sim::Random& Fabric::stall_random(const Node& hop) {
  auto it = stall_random_.find(&hop);
  if (it == stall_random_.end()) it = stall_random_.emplace(&hop, sim_.random_stream("pcie/stall/" + hop.name)).first;
  return it->second;
}

LatencyBreakdown Fabric::round_trip(const Node& ep, const dma::DmaRequest& request) {
  LatencyBreakdown l;
  const Node* rp = nullptr;
  for (const Node* n = &ep; n; n = n->parent) {
    l.hops += 2 * n->hop_latency;
    if (n->stall.kind != StallSpec::Kind::kNone) l.stall += n->stall.sample(stall_random(*n));
    rp = n;
  }
  // The platform bounds its stall sources while a service requires it (every sample is still
  // drawn, so the seeded streams stay the same with and without a bound).
  if (stall_bound_ && l.stall > *stall_bound_) l.stall = *stall_bound_;

  // PCIe links on the path: between a node and a parent that is a root port or a switch
  // downstream port. Each end has its own Link Capabilities; the link runs at the lower
  // speed and width and exits ASPM as slowly as its slower end.
  const std::uint32_t tlp_payload =
      !request.write ? rp->read_completion_boundary : request.tlps() > 1 ? request.tlp_payload : max_payload(ep).value_or(256);
  sim::SimTime slowest = 0, l1_worst = 0, l0s_worst = 0;
  unsigned switches_above = 0;
  for (const Node* n = &ep; n->parent; n = n->parent) {
    if (n->kind == NodeKind::kSwitchUpstream) ++switches_above;
  }
  for (const Node* c = &ep; c->parent; c = c->parent) {
    if (c->kind == NodeKind::kSwitchUpstream) --switches_above;
    const Node* p = c->parent;
    if (!c->link || !p->link || (p->kind != NodeKind::kRootPort && p->kind != NodeKind::kSwitchDownstream)) continue;
    const LinkSpec& down = *c->link;
    const LinkSpec& up = *p->link;
    const sim::SimTime on_this_link =
        serialization_time(request.length, tlp_payload, c->trained_gen, std::min(down.width, up.width));
    slowest = std::max(slowest, on_this_link);
    // The data holds this link's direction for its serialization time; a transfer that finds it
    // busy (another device behind the same switch) waits for it.
    sim::SimTime& free_at = c->link_free_at[request.write ? 0 : 1];
    const sim::SimTime start = std::max(sim_.now(), free_at);
    l.queueing = std::max(l.queueing, start - sim_.now());
    free_at = start + on_this_link;
    const std::uint32_t enabled = aspm_control(*c) & aspm_control(*p);
    sim::SimTime& last = link_last_active_[c];
    const sim::SimTime idle = sim_.now() - last;
    last = sim_.now();
    const sim::SimTime l1_exit =
        std::max(l1_exit_latency(down.l1_exit), l1_exit_latency(up.l1_exit)) + switches_above * kL1ExitPerSwitch;
    const sim::SimTime l0s_exit = std::max(l0s_exit_latency(down.l0s_exit), l0s_exit_latency(up.l0s_exit));
    if ((enabled & 2) && idle >= down.l1_entry_idle) {
      l1_worst = std::max(l1_worst, l1_exit);
    } else if ((enabled & 1) && idle >= down.l0s_entry_idle) {
      l0s_worst = std::max(l0s_worst, l0s_exit);
    }
  }
  l.serialization = slowest;
  l.aspm = std::max(l1_worst, l0s_worst);
  return l;
}

// ---- DMA ----

namespace {

// Behind a root port without an IOMMU the device's address is the physical one.
iommu::DartTranslation untranslated(std::uint64_t address) {
  iommu::DartTranslation t;
  t.ok = true;
  t.tlb_hit = true;
  t.pa = address;
  return t;
}

}  // namespace

sim::Random& Fabric::mixed_random(const Node& bridge) {
  // Each mixed bridge draws from its own stream, once per transaction it forwards.
  auto it = mixed_random_.find(&bridge);
  if (it == mixed_random_.end()) it = mixed_random_.emplace(&bridge, sim_.random_stream("pcie/" + bridge.name)).first;
  return it->second;
}

void Fabric::dma(const Node& ep, dma::DmaRequest request, dma::DmaUpstream::Done done) {
  // Endpoints sit below a root port, never on bus 0: bus 0 means no software numbered it yet.
  if (ep.bdf.bus == 0) throw std::logic_error("DMA from \"" + ep.name + "\" before the fabric was enumerated");
  // The record is filled where it lies (a path holds the request and its payload).
  DmaInFlight* d = &dmas_.take();
  DmaPath& path = d->path;
  path = DmaPath{};
  path.endpoint = &ep;
  path.own_rid = ep.bdf;
  path.arrived_as = ep.bdf;
  for (const Node* p = ep.parent; p; p = p->parent) {
    if (!p->is_bridge_to_pci()) continue;
    bool alias = p->rid_behaviour == RequesterIdBehaviour::kTakesOwnership;
    if (p->rid_behaviour == RequesterIdBehaviour::kMixed) alias = mixed_random(*p).chance(p->alias_probability);
    if (alias) {  // the bridge nearest the root that takes ownership decides
      path.arrived_as = p->requester_alias();
      path.aliasing_bridge = p;
    }
  }
  const Node* rp = ep.root_port();
  path.root_port = rp;
  path.sid = sid_for(*rp, path.arrived_as.rid(), &path.rid2sid_entry);

  path.request = std::move(request);
  path.latency = round_trip(ep, path.request);
  // The request reaches the root complex (and a write's data the memory) after the trip up; the
  // completion comes back after the trip down. Payload and queueing fall on the direction that
  // carries the data. Requests from one function arrive in issue order: a read never passes an
  // earlier write.
  const LatencyBreakdown& l = path.latency;
  const sim::SimTime one_way = l.hops / 2;
  const bool write = path.request.write;
  sim::SimTime arrival = sim_.now() + one_way + l.aspm + l.stall + (write ? l.serialization + l.queueing : 0);
  const sim::SimTime back = one_way + (write ? 0 : l.serialization + l.queueing);
  sim::SimTime& last = ep.last_dma_arrival;
  if (last > arrival) {
    path.latency.queueing += last - arrival;  // waiting behind the function's earlier requests
    arrival = last;
  }
  last = arrival;
  d->endpoint = &ep;
  d->back = back;
  d->done = std::move(done);
  sim_.at(arrival, [this, d] { arrive(*d); });
}

void Fabric::arrive(DmaInFlight& in_flight) {
  const Node& ep = *in_flight.endpoint;
  DmaPath& path = in_flight.path;
  const dma::DmaRequest& request = path.request;
  iommu::Dart* d = dart(*path.root_port);
  dma::DmaCompletion completion;
  completion.tag = request.tag;
  const std::uint64_t page = iommu::Dart::kPageSize;
  std::vector<std::uint8_t> data;
  if (!request.write) data.resize(request.length);
  bool ok = true;
  // Each TLP translates every 16 KiB page it touches, now that it reached the DART; a zero-length
  // read still translates once. A TLP that faults is dropped, and the ones after it in a write
  // train are still sent; the request fails with its first fault.
  const std::uint32_t tlps = request.tlps();
  std::uint64_t offset = 0;
  // The table walks this request made are what its translations cost: an IOTLB hit costs
  // nothing, and neither does a bypassed stream, which has no tables.
  const std::uint64_t walks_before = d ? d->tlb_misses() : 0;
  for (std::uint32_t t = 0; t < tlps; ++t) {
    const std::uint64_t tlp_end = offset + request.tlp_length(t);
    bool tlp_ok = true;
    do {
      const std::uint64_t iova = request.address + offset;
      const std::uint64_t chunk = std::min<std::uint64_t>(tlp_end - offset, page - iova % page);
      const iommu::DartTranslation translation = d ? d->translate(path.sid, iova, request.write) : untranslated(iova);
      if (offset == 0 || (ok && !translation.ok)) path.translation = translation;  // the first page's or first fault's
      if (!translation.ok) {
        ok = tlp_ok = false;
        break;
      }
      if (request.write) {
        memory_.write(translation.pa, std::span<const std::uint8_t>(request.data).subspan(offset, chunk));
      } else {
        memory_.read(translation.pa, std::span<std::uint8_t>(data).subspan(offset, chunk));
      }
      offset += chunk;
    } while (offset < tlp_end);
    if (!tlp_ok) offset = tlp_end;
  }
  path.iotlb_misses = static_cast<std::uint32_t>(d ? d->tlb_misses() - walks_before : 0);
  if (ok) {
    completion.data = std::move(data);
  } else {
    completion.status = dma::CompletionStatus::kUnsupportedRequest;  // what a blocked DMA gets back
  }
  path.latency.iotlb = path.iotlb_misses * path.root_port->iotlb_miss;
  sim_.trace().record_fields(
      sim_.now(), ep.name,
      {'D', request.write, request.address, request.length, tlps, request.tag, path.arrived_as.rid(), path.sid, ok,
       ok ? path.translation.pa : path.translation.error_status, path.latency.total()},
      [&] {
        return std::string(request.write ? "dma wr " : "dma rd ") + util::hex(request.address) + "+" +
               std::to_string(request.length) + (tlps > 1 ? " in " + std::to_string(tlps) + " TLPs" : std::string()) +
               " tag " + std::to_string(request.tag) + " as " + path.arrived_as.str() +
               " sid " + std::to_string(path.sid) +
               (ok ? " -> pa " + util::hex(path.translation.pa) : " -> fault " + util::hex(path.translation.error_status)) +
               " in " + std::to_string(path.latency.total()) + " ps";
      });
  for (DmaPathObserver* o : observers_) o->on_dma(path, *this);
  in_flight.completion = std::move(completion);
  sim_.after(path.latency.iotlb + in_flight.back, [this, d = &in_flight] { deliver(*d); });
}

void Fabric::deliver(DmaInFlight& d) {
  // The record is free again before the device hears back: its answer may start the next DMA.
  dma::DmaUpstream::Done done = std::move(d.done);
  dma::DmaCompletion completion = std::move(d.completion);
  d.done = nullptr;
  dmas_.give(d);
  done(std::move(completion));
}

}  // namespace dexthil::pcie
