// The kernel: loading dexts, the nub registry the buses publish into, and matching personalities
// against its nubs.
#include "harness/driverkit/kernel/kernel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <DriverKit/DriverKit.h>

#include "harness/driverkit/kernel/class_registry.hpp"
#include "harness/driverkit/kernel/crash_report.hpp"
#include "harness/driverkit/kernel/kernel_internal.hpp"
#include "harness/driverkit/libkern/object_registry.hpp"
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

void Kernel::add_bus(std::unique_ptr<BusPlugin> bus) {
  buses_.push_back(std::move(bus));
  buses_.back()->publish();
}

void Kernel::add_family(std::unique_ptr<FamilyPlugin> family) { families_.push_back(std::move(family)); }

Nub& Kernel::publish(BusPlugin& bus, std::string provider_class, std::string location, IOService* object,
                     NubProperties properties) {
  Nub& nub = registry_.publish(bus, std::move(provider_class), std::move(location), object, std::move(properties));
  sim_.trace().record(sim_.now(), nub.location, "nub published: " + nub.provider_class + " (" + bus.describe(nub) + ")");
  if (matching_started_) match(nub);
  return nub;
}

void Kernel::start_matching() {
  matching_started_ = true;
  std::set<const LoadedDext*> matched;
  // Index, not iterator: starting a service may publish more nubs.
  for (std::size_t n = 0; n < registry_.all().size(); ++n) {
    for (const LoadedDext* d : match(*registry_.all()[n])) matched.insert(d);
  }
  for (const auto& d : dexts_) {
    if (!matched.count(d.get())) report_no_match(*d);
  }
}

namespace {
// A personality's match category: each category of a nub gets its own winner, as IOKit matches
// (IOResources dexts each name their own, so all of them start on the one resources nub).
std::string category_of(const Personality& p) {
  return p.match_category.empty() ? std::string("IODefaultMatchCategory") : p.match_category;
}
}  // namespace

std::vector<const LoadedDext*> Kernel::match(Nub& nub) {
  if (nub.terminated) return {};
  // A relaunch after a crash (IOService::doServiceMatch): the nub carries the crashed service's
  // personality, used up by this matching, and its IORematchCount. While the count is within
  // dextrelaunch only that personality may match; beyond it, only the others.
  const Personality* rematch = nub.rematch_personality;
  nub.rematch_personality = nullptr;
  const unsigned count = nub.rematch_count.value_or(0);
  // A category whose service on this nub is alive keeps it (a rematch after one category's crash
  // leaves the others' services alone).
  auto category_taken = [&](const std::string& category) {
    return std::any_of(processes_.begin(), processes_.end(), [&](const auto& p) {
      if (p->nub != &nub || p->crashed || !p->personality || p->services.empty()) return false;
      const auto stage = p->services.front()->stage;
      const bool alive = stage != ServiceRecord::Stage::kStopped && stage != ServiceRecord::Stage::kStartFailed;
      return alive && category_of(*p->personality) == category;
    });
  };
  // IOKit's order: the personalities whose IOProviderClass is the nub's class, each scored by the
  // bus's keys; in each match category the highest score wins, the first in load and file order
  // on a tie.
  struct Winner {
    std::string category;
    const LoadedDext* dext;
    const Personality* personality;
    std::int64_t score;
  };
  std::vector<Winner> winners;  // in the order categories first appear
  for (const auto& d : dexts_) {
    for (const Personality& p : d->info.personalities) {
      if (p.provider_class != nub.provider_class) continue;
      if (rematch && profile_.dext_relaunch_max == 0) continue;  // relaunching dexts is off
      if (rematch && ((&p == rematch) == (count > profile_.dext_relaunch_max))) continue;
      const std::optional<std::int64_t> score = nub.bus->match(p, nub);
      if (!score) continue;
      const std::string category = category_of(p);
      if (category_taken(category)) continue;
      auto it = std::find_if(winners.begin(), winners.end(), [&](const Winner& w) { return w.category == category; });
      if (it == winners.end()) {
        winners.push_back({category, d.get(), &p, *score});
      } else if (*score > it->score) {
        *it = {category, d.get(), &p, *score};
      }
    }
  }
  // A nub that had a process before gets new process images: a relaunched dext starts afresh.
  const bool relaunch = std::any_of(processes_.begin(), processes_.end(), [&](const auto& p) { return p->nub == &nub; });
  std::vector<const LoadedDext*> started;
  for (const Winner& w : winners) {
    DextProcess* process = new_process(nub, *w.dext, *w.personality, relaunch);
    trace(nub.location,
          "matched " + w.personality->name + " (" + process->server_name + ", score " + std::to_string(w.score) + ")");
    start_process(process);
    started.push_back(w.dext);
  }
  return started;
}

bool Kernel::has_driver(const Nub& nub) const {
  using Stage = ServiceRecord::Stage;
  return std::any_of(processes_.begin(), processes_.end(), [&](const auto& p) {
    return p->nub == &nub && !p->crashed && !p->services.empty() &&
           (p->services.front()->stage == Stage::kCreated || p->services.front()->stage == Stage::kStarting ||
            p->services.front()->stage == Stage::kStarted);
  });
}

DextProcess* Kernel::new_process(Nub& nub, const LoadedDext& dext, const Personality& personality, bool fresh_image) {
  const LoadedDext* image = &dext;
  if (fresh_image) {
    // A new process maps the dext afresh: its globals start as the library defines them.
    std::string error;
    auto classes = load_fresh_dext_copy(dext.library, &error);
    if (!classes) throw std::runtime_error("relaunching " + dext.info.bundle_id + ": " + error);
    restarted_images_.push_back(std::make_unique<LoadedDext>(LoadedDext{dext.library, dext.info, std::move(*classes)}));
    image = restarted_images_.back().get();
  }
  auto process = std::make_unique<DextProcess>();
  process->id = next_process_id();
  process->server_name = personality.user_server_name.empty() ? dext.info.bundle_id : personality.user_server_name;
  process->user_class = personality.user_class;
  for (const DextClass& c : image->classes) {
    if (c.name == personality.user_class) process->dext_class = &c;
  }
  process->dext = image;
  process->personality = &personality;
  process->nub = &nub;
  for (auto& f : families_) {
    const auto& classes = f->definition().kernel_classes;
    if (std::find(classes.begin(), classes.end(), personality.io_class) != classes.end()) process->family = f.get();
  }
  processes_.push_back(std::move(process));
  return processes_.back().get();
}

// A dext none of whose personalities matched a nub: the kernel never starts it, which on a Mac
// looks like nothing at all. Name the personality and nub that came closest, and why not.
void Kernel::report_no_match(const LoadedDext& dext) {
  const Personality* closest = nullptr;
  const Nub* closest_nub = nullptr;
  std::vector<std::string> closest_why;
  std::size_t closest_distance = 0;
  for (const Personality& p : dext.info.personalities) {
    for (const auto& nub : registry_.all()) {
      if (nub->terminated) continue;
      const bool same_class = p.provider_class == nub->provider_class;
      // Every Mac has the resources nub: it explains nothing about a personality for hardware.
      if (!same_class && nub->provider_class == "IOUserResources") continue;
      std::vector<std::string> why =
          same_class ? nub->bus->mismatches(p, *nub)
                     : std::vector<std::string>{"IOProviderClass is \"" + p.provider_class + "\", not " + nub->provider_class};
      // It matched, and lost on its score to another dext: not a dext that matches nothing.
      if (why.empty()) return;
      // A nub of the personality's own class is nearer than any of another class.
      const std::size_t distance = why.size() + (same_class ? 0 : 1000);
      if (!closest || distance < closest_distance) {
        closest = &p;
        closest_nub = nub.get();
        closest_why = std::move(why);
        closest_distance = distance;
      }
    }
  }
  const std::string name = dext.info.bundle_id.empty() ? dext.library : dext.info.bundle_id;
  const std::string nub = closest_nub ? closest_nub->bus->describe(*closest_nub) : "";
  const std::string ids = closest_nub ? closest_nub->bus->where_ids_are_listed() : "";
  trace(name, "matched nothing");
  monitor_.emit(monitor::DextMatchedNothing{sim_.now(), name, !dext.info.personalities.empty(),
                                            closest ? std::string_view(closest->name) : "", nub,
                                            closest_nub ? std::string_view(closest_nub->location) : "", closest_why,
                                            ids});
}

}  // namespace dexthil::driverkit
