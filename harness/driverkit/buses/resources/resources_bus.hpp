#pragma once
// The resources every Mac publishes: one IOUserResources nub, which a dext with no hardware
// matches (IOProviderClass IOUserResources, IOResourceMatch naming a published resource), as
// Apple's user-client samples do. The kernel adds this bus itself.
#include "harness/driverkit/kernel/bus_plugin.hpp"

namespace dexthil::driverkit {

class Kernel;

class ResourcesBus final : public BusPlugin {
 public:
  explicit ResourcesBus(Kernel& kernel) : kernel_(kernel) {}
  ~ResourcesBus() override;
  ResourcesBus(const ResourcesBus&) = delete;
  ResourcesBus& operator=(const ResourcesBus&) = delete;

  // The resources IOResourceMatch can name: what macOS publishes by the time dexts load.
  static const std::vector<std::string>& published_resources();

  void publish() override;
  std::optional<std::int64_t> match(const Personality& personality, const Nub& nub) const override;
  std::vector<std::string> mismatches(const Personality& personality, const Nub& nub) const override;
  std::string describe(const Nub& nub) const override;

 private:
  Kernel& kernel_;
  IOService* object_ = nullptr;
};

}  // namespace dexthil::driverkit
