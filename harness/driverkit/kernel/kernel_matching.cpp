// The kernel: loading dexts and matching their personalities against the nubs.
#include "harness/driverkit/kernel/kernel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/kernel/kernel_internal.hpp"
#include "harness/driverkit/libkern/object_registry.hpp"
#include "harness/driverkit/pci/pci_provider.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

namespace dexthil::driverkit {

using namespace kernel_internal;

bool Kernel::load_dext(const std::string& library, const std::string& info_plist, std::string* error) {
  auto info = load_info_plist(info_plist, error);
  if (!info) return false;
  auto classes = load_dext_library(library, error);
  if (!classes) return false;
  for (const Personality& p : info->personalities) {
    if (p.user_class.empty()) continue;
    if (std::none_of(classes->begin(), classes->end(), [&](const DextClass& c) { return c.name == p.user_class; })) {
      std::string list;
      for (const auto& c : *classes) list += (list.empty() ? "" : ", ") + c.name;
      *error = info_plist + ": error: IOKitPersonalities." + p.name + ".IOUserClass: class '" + p.user_class +
               "' is not in " + library + " (it has: " + (list.empty() ? "no iig classes" : list) + ")";
      return false;
    }
  }
  dexts_.push_back(std::make_unique<LoadedDext>(LoadedDext{library, std::move(*info), std::move(*classes)}));
  return true;
}

void Kernel::start_matching() {
  std::set<const LoadedDext*> matched;
  for (pcie::Node* node : fabric_.topology().endpoints()) {
    const LoadedDext* best_dext = nullptr;
    const Personality* best = nullptr;
    for (const auto& d : dexts_) {
      const Personality* p = best_pci_match(d->info, node->ids.vendor, node->ids.device, node->class_code);
      if (p && p->provider_class == "IOPCIDevice" && (!best || p->probe_score > best->probe_score)) {
        best = p;
        best_dext = d.get();
      }
    }
    if (!best) continue;
    matched.insert(best_dext);
    IOPCIDevice* nub = pci_nub(node->name);
    auto process = std::make_unique<DextProcess>();
    process->id = next_process_id();
    process->server_name = best->user_server_name.empty() ? best_dext->info.bundle_id : best->user_server_name;
    process->user_class = best->user_class;
    for (const DextClass& c : best_dext->classes) {
      if (c.name == best->user_class) process->dext_class = &c;
    }
    process->dext = best_dext;
    process->personality = best;
    process->node = node;
    process->nub = nub;
    processes_.push_back(std::move(process));
    start_process(processes_.back().get());
  }
  for (const auto& d : dexts_) {
    if (!matched.count(d.get())) report_no_match(*d);
  }
}

// A dext none of whose personalities matched a nub: the kernel never starts it, which on a Mac
// looks like nothing at all. Name the personality and function that came closest, and why not.
void Kernel::report_no_match(const LoadedDext& dext) {
  const Personality* closest = nullptr;
  const pcie::Node* closest_node = nullptr;
  std::vector<std::string> closest_why;
  for (const Personality& p : dext.info.personalities) {
    for (const pcie::Node* node : fabric_.topology().endpoints()) {
      std::vector<std::string> why = pci_mismatches(p, node->ids.vendor, node->ids.device, node->class_code);
      if (why.empty()) continue;  // it matched, and lost on IOProbeScore to another dext
      if (!closest || why.size() < closest_why.size()) {
        closest = &p;
        closest_node = node;
        closest_why = std::move(why);
      }
    }
  }
  const std::string name = dext.info.bundle_id.empty() ? dext.library : dext.info.bundle_id;
  std::string why;
  for (const std::string& w : closest_why) why += (why.empty() ? "" : "; ") + w;
  if (closest) {
    char ids[16];
    std::snprintf(ids, sizeof ids, "%04x:%04x", closest_node->ids.vendor, closest_node->ids.device);
    why = "Closest: personality \"" + closest->name + "\" against " + closest_node->name + " (" + ids + ", " +
          closest_node->bdf.str() + "): " + why + ".";
  } else {
    why = dext.info.personalities.empty() ? "The Info.plist has no IOKitPersonalities." : "The topology has no PCI function.";
  }
  report({"dext.no-match", name, 0, name + " matched nothing: the kernel started none of its personalities",
          why + " The kernel starts a dext only for a nub one of its personalities matches; `dexthil topo` lists the "
                "functions' IDs.",
          closest_node ? closest_node->name : std::string()});
}

IOPCIDevice* Kernel::pci_nub(const std::string& endpoint) {
  pcie::Node* node = fabric_.node(endpoint);
  if (!node || node->is_bridge()) return nullptr;
  for (auto& p : providers_) {
    if (&p->node() == node) return p->nub();
  }
  IOPCIDevice* nub = OSTypeAlloc(IOPCIDevice);
  nub->init();
  providers_.push_back(std::make_unique<PciProvider>(*this, *node, nub));
  nub->set_provider_impl(providers_.back().get());
  return nub;
}

}  // namespace dexthil::driverkit
