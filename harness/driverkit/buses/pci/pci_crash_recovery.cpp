// IOPCIDevice's side of a crashed client (IOPCIFamily-726: IOPCIDevice::ClientCrashed_Impl,
// IOPCIBridge::childClientCrashRecoveryGated, getChildResetType, IOPCIDevice::resetFunction,
// IOPCIBridge::resetDeviceGated and hotReset). Only a client that had the device open may have
// changed its state, so only then is it reset: by a Function Level Reset where the function
// advertises one (Device Capabilities bit 28), else by a hot reset, a Secondary Bus Reset from the
// upstream bridge, which resets every function below that bridge and terminates their drivers so
// they are matched again. Before the reset each function reached loses Memory Space and Bus
// Master; its config space is saved after that and restored after the reset, so both stay off
// until the next driver turns them on.
#include <algorithm>
#include <string>
#include <vector>

#include <DriverKit/IODMACommand.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include "harness/driverkit/buses/pci/pci_bus.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/pcie/config_space.hpp"

namespace dexthil::driverkit {
namespace {

namespace cfg = pcie::cfg;

constexpr std::uint16_t kCommandIo = 1 << 0, kCommandSerr = 1 << 8, kCommandInterruptDisable = 1 << 10;
constexpr std::uint16_t kDeviceStatus = 0x0a;  // in the PCIe capability; bit 5: Transactions Pending

// IOPCIFamily's waits (IOSleep): for posted requests before any reset, a Secondary Bus Reset's
// hold, the link and the function after a reset (PCIe Base 6.6.1: 100 ms), the FLR poll interval.
constexpr sim::SimTime kPostedRequestWait = 100 * sim::kMillisecond;
constexpr sim::SimTime kHotResetHold = 100 * sim::kMillisecond;
constexpr sim::SimTime kAfterReset = 100 * sim::kMillisecond;
constexpr sim::SimTime kTransactionsPendingPoll = 2 * sim::kMillisecond;

std::string names(const std::vector<pcie::Node*>& functions) {
  std::string out;
  for (const pcie::Node* f : functions) out += (out.empty() ? "" : ", ") + f->name;
  return out;
}

void clear_command(pcie::Fabric& fabric, const pcie::Node& f, std::uint16_t bits) {
  const std::uint32_t command = fabric.config_read(f.bdf, cfg::kCommand, 2);
  if (command & bits) fabric.config_write(f.bdf, cfg::kCommand, 2, command & ~std::uint32_t{bits});
}

}  // namespace

void PciBus::client_died(Nub& nub, const IOService* client) {
  PciProvider* p = provider(nub);
  if (!p) return;
  if (client && p->open_client == client) p->open_client = nullptr;
  const std::vector<IODMACommand*> commands(p->prepared_commands.begin(), p->prepared_commands.end());
  for (IODMACommand* c : commands) c->CompleteDMA(0);
}

BusPlugin::CrashRecovery PciBus::client_crashed(Nub& nub, const IOService* client, const std::string& client_name,
                                                bool started) {
  CrashRecovery r;
  PciProvider* p = provider(nub);
  if (!p) return r;
  // xnu unregisters the provider's interrupts when a started client died unexpectedly.
  if (started) p->sources = {};
  // The reset below clears the function's MSI set-up: the next process starts from the default
  // interrupt list, as a new nub's driver would.
  p->msi_vectors = 0;
  p->interrupts_configured = false;
  const bool was_open = client && p->open_client == client;
  if (was_open) p->open_client = nullptr;  // the kernel closes what the dead client had open
  // The dead process's DMA commands: the kernel frees them, which unmaps their DART mappings, once
  // the device can no longer master (the recovery turns Bus Master off first).
  std::vector<IODMACommand*> commands(p->prepared_commands.begin(), p->prepared_commands.end());
  auto free_commands = [commands] {
    for (IODMACommand* c : commands) c->CompleteDMA(0);
  };
  pcie::Node& node = p->node();
  const std::string& name = nub.location;
  if (!was_open || nub.terminated || node.removed) {
    r.what = "IOPCIDevice::ClientCrashed: " + name +
             (was_open ? " is gone (removed), so there is nothing to reset."
                       : " was not open by " + client_name +
                             ", so IOPCIFamily leaves the device as it is (only a client that opened it can have "
                             "changed its state).");
    free_commands();
    return r;
  }

  // The reset type, as IOPCIBridge::getChildResetType chooses it.
  const std::uint16_t pcie = node.config.find_capability(cfg::kCapPciExpress);
  const bool flr = pcie && (node.config.read(static_cast<std::uint16_t>(pcie + 4), 4) & cfg::kDevCapFunctionLevelReset);
  pcie::Node* bridge = node.parent;
  std::vector<pcie::Node*> functions;
  if (flr) {
    functions.push_back(&node);
  } else {
    for (pcie::Node* ep : fabric_.topology().endpoints_below(*bridge)) {
      if (!ep->removed) functions.push_back(ep);
    }
  }
  for (const pcie::Node* f : functions) r.reset.push_back(f->name);
  for (const auto& other : providers_) {
    if (other.get() == p || std::find(functions.begin(), functions.end(), &other->node()) == functions.end()) continue;
    if (Nub* n = kernel_.registry().find(other->nub())) r.terminated.push_back(n);
  }
  const std::string start = "IOPCIDevice::ClientCrashed: " + name + " was open by " + client_name +
                            ", so IOPCIFamily recovers it (IOPCIBridge::childClientCrashRecovery): ";
  if (flr) {
    r.reset_type = "kIOPCIDeviceResetTypeFunctionReset";
    r.what = start + "it turns off " + name + "'s Memory Space and Bus Master, waits 100 ms for posted requests, and " +
             "resets it with kIOPCIDeviceResetTypeFunctionReset, a Function Level Reset (" + name +
             " advertises FLR in its Device Capabilities), its config space saved before and restored 100 ms after. "
             "Memory Space and Bus Master stay off until the next driver turns them on.";
  } else {
    r.reset_type = "kIOPCIDeviceResetTypeHotReset";
    r.what = start + name +
             (pcie ? " does not advertise Function Level Reset in its Device Capabilities"
                   : " is conventional PCI, without the PCIe capability a Function Level Reset needs") +
             ", so it is kIOPCIDeviceResetTypeHotReset: a Secondary Bus Reset from " + bridge->name +
             "'s Bridge Control, which resets every function below " + bridge->name + ": " + names(functions) +
             ". It turns off their Memory Space and Bus Master, waits 100 ms for posted requests, holds the reset "
             "100 ms, waits 100 ms for the link, and restores their config space; Memory Space and Bus Master stay "
             "off until each next driver turns them on." +
             (r.terminated.empty() ? std::string()
                                   : " It terminates the drivers of the others reset with it, to be matched again.");
  }

  r.perform = [this, &node, bridge, functions, flr, free_commands] {
    pcie::Fabric& fabric = fabric_;
    FiberRuntime& runtime = kernel_.runtime();
    kernel_.trace(node.name, std::string("crash recovery: ") + (flr ? "Function Level Reset" : "hot reset from " + bridge->name) +
                                 " of " + names(functions));
    // No new upstream requests, then let those in flight drain (Transactions Pending never stays
    // set in the model).
    for (const pcie::Node* f : functions) clear_command(fabric, *f, cfg::kCommandMemory | cfg::kCommandBusMaster);
    for (const pcie::Node* f : functions) {
      if (const std::uint16_t cap = f->config.find_capability(cfg::kCapPciExpress)) {
        fabric.config_read(f->bdf, static_cast<std::uint16_t>(cap + kDeviceStatus), 1);
      }
    }
    runtime.sleep_for(kPostedRequestWait);
    // Requests the device issued before its Bus Master went off may still be on their way up
    // (posted writes cross every hop): the mappings go only once they have landed.
    free_commands();
    if (flr) {
      // IOPCIDevice::resetFunction: save, prepareFLR, flr, completeFLR, restore.
      const PciProvider::ConfigImage image = read_config_image(fabric, node.bdf);
      const std::uint32_t command = fabric.config_read(node.bdf, cfg::kCommand, 2);
      fabric.config_write(node.bdf, cfg::kCommand, 2,
                          (command & ~std::uint32_t{cfg::kCommandBusMaster | kCommandSerr}) | kCommandInterruptDisable);
      const std::uint16_t cap = node.config.find_capability(cfg::kCapPciExpress);
      fabric.config_read(node.bdf, static_cast<std::uint16_t>(cap + kDeviceStatus), 1);
      runtime.sleep_for(kTransactionsPendingPoll);
      const std::uint16_t control = static_cast<std::uint16_t>(cap + 8);
      fabric.config_write(node.bdf, control, 2,
                          fabric.config_read(node.bdf, control, 2) | cfg::kDevCtlInitiateFunctionLevelReset);
      runtime.sleep_for(kAfterReset);
      write_config_image(fabric, node.bdf, image);
    } else {
      // IOPCIBridge::resetDeviceGated with hotReset: every function's state saved, the bridge's
      // forwarding off, Secondary Bus Reset held, forwarding on, the link, each function back.
      std::vector<PciProvider::ConfigImage> images;
      for (const pcie::Node* f : functions) images.push_back(read_config_image(fabric, f->bdf));
      clear_command(fabric, *bridge, kCommandIo | cfg::kCommandMemory);
      const std::uint32_t control = fabric.config_read(bridge->bdf, cfg::kBridgeControl, 2);
      fabric.config_write(bridge->bdf, cfg::kBridgeControl, 2, control | cfg::kBridgeControlSecondaryBusReset);
      runtime.sleep_for(kHotResetHold);
      fabric.config_write(bridge->bdf, cfg::kBridgeControl, 2, control);
      fabric.config_write(bridge->bdf, cfg::kCommand, 2,
                          fabric.config_read(bridge->bdf, cfg::kCommand, 2) | kCommandIo | cfg::kCommandMemory);
      runtime.sleep_for(kAfterReset);
      for (std::size_t i = 0; i < functions.size(); ++i) {
        fabric.config_read(functions[i]->bdf, cfg::kVendorId, 4);  // waitForDeviceReady
        write_config_image(fabric, functions[i]->bdf, images[i]);
      }
    }
    kernel_.trace(node.name, "crash recovery done: " + names(functions) + " reset, config space restored");
  };
  return r;
}

}  // namespace dexthil::driverkit
