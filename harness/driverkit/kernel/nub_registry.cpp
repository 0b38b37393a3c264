#include "harness/driverkit/kernel/nub_registry.hpp"

namespace dexthil::driverkit {

const NubProperty* Nub::property(std::string_view key) const {
  for (const auto& [name, value] : properties) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::optional<std::uint64_t> Nub::number(std::string_view key) const {
  const NubProperty* value = property(key);
  if (!value || !std::holds_alternative<std::uint64_t>(*value)) return std::nullopt;
  return std::get<std::uint64_t>(*value);
}

Nub& NubRegistry::publish(BusPlugin& bus, std::string provider_class, std::string location, IOService* object,
                          NubProperties properties) {
  auto nub = std::make_unique<Nub>();
  // macOS's registry entry IDs start above 0x100000000; the exact base carries no meaning.
  nub->entry_id = 0x100000100 + nubs_.size();
  nub->provider_class = std::move(provider_class);
  nub->location = std::move(location);
  nub->bus = &bus;
  nub->object = object;
  nub->properties = std::move(properties);
  nubs_.push_back(std::move(nub));
  return *nubs_.back();
}

Nub* NubRegistry::find(std::string_view location) const {
  // The newest first: a device plugged in again where one was removed is a new nub.
  for (auto it = nubs_.rbegin(); it != nubs_.rend(); ++it) {
    if ((*it)->location == location) return it->get();
  }
  return nullptr;
}

Nub* NubRegistry::find(const IOService* object) const {
  for (const auto& nub : nubs_) {
    if (nub->object == object) return nub.get();
  }
  return nullptr;
}

}  // namespace dexthil::driverkit
