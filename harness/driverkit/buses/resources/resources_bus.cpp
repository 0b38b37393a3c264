#include "harness/driverkit/buses/resources/resources_bus.hpp"

#include <algorithm>

#include <DriverKit/IOService.h>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/matching/info_plist.hpp"

namespace dexthil::driverkit {

ResourcesBus::~ResourcesBus() {
  if (object_) object_->release();
}

const std::vector<std::string>& ResourcesBus::published_resources() {
  // IOKit publishes itself; the BSD layer publishes IOBSD once it is up, before any dext loads.
  static const std::vector<std::string> resources{"IOKit", "IOBSD"};
  return resources;
}

void ResourcesBus::publish() {
  object_ = OSTypeAlloc(IOService);
  object_->init();
  kernel_.publish(*this, "IOUserResources", "IOUserResources", object_, {});
}

std::optional<std::int64_t> ResourcesBus::match(const Personality& personality, const Nub& nub) const {
  if (!mismatches(personality, nub).empty()) return std::nullopt;
  return personality.probe_score;
}

std::vector<std::string> ResourcesBus::mismatches(const Personality& personality, const Nub&) const {
  const auto& published = published_resources();
  if (personality.resource_match.empty() ||
      std::find(published.begin(), published.end(), personality.resource_match) != published.end()) {
    return {};
  }
  return {"IOResourceMatch is \"" + personality.resource_match +
          "\", a resource the simulated Mac does not publish (it publishes IOKit and IOBSD)"};
}

std::string ResourcesBus::describe(const Nub&) const { return "IOUserResources"; }

}  // namespace dexthil::driverkit
