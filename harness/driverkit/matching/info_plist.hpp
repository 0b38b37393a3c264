#pragma once
// A dext's Info.plist (XML or binary) as IOKit reads it for matching: its IOKitPersonalities, and
// its entitlements file's transport and family entitlements. Matching against the simulated nubs
// and the lint rules behind `dexthil lint-plist` live here too.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dexthil::driverkit {

// One "0xDDDDVVVV&0xMMMMMMMM" pattern (the mask defaults to all ones).
struct PciPattern {
  std::uint32_t value = 0;
  std::uint32_t mask = 0xffffffff;
  std::string text;
  bool matches(std::uint32_t id) const { return (id & mask) == (value & mask); }
  // Every ID this pattern matches is also matched by `other`.
  bool covered_by(const PciPattern& other) const {
    return (other.mask & ~mask) == 0 && (value & other.mask) == (other.value & other.mask);
  }
};

// A dictionary inside a personality that IOService::Create(provider, "Key", &service) turns into
// a new service, e.g. UserClientProperties = { IOClass = IOUserUserClient; IOUserClass = ... }.
struct ServiceProperties {
  std::string io_class, user_class;
};

struct Personality {
  std::string name;  // its key under IOKitPersonalities
  std::string io_class, provider_class, user_class, user_server_name, match_category;
  std::int64_t probe_score = 0;
  std::vector<PciPattern> pci_primary;  // IOPCIPrimaryMatch: (device << 16) | vendor
  std::vector<PciPattern> pci_match;    // IOPCIMatch: primary or subsystem IDs
  std::vector<PciPattern> pci_class;    // IOPCIClassMatch: class code << 8
  std::optional<std::uint32_t> usb_vendor, usb_product;
  std::map<std::string, ServiceProperties> service_properties;  // by key, dictionaries with an IOUserClass
};

struct DextInfo {
  std::string file;
  std::string bundle_id;  // CFBundleIdentifier
  std::vector<Personality> personalities;
};

struct Entitlements {
  std::string file;
  bool has_pci = false;  // com.apple.developer.driverkit.transport.pci present
  std::vector<PciPattern> pci;
  bool has_usb = false;
  std::vector<std::optional<std::uint32_t>> usb_vendors;  // nullopt: "*"
  std::set<std::string> keys;  // every entitlement key, for family checks
};

// Each returns nullopt with "file: error: key.path: what is wrong" in *error.
std::optional<DextInfo> load_info_plist(const std::string& path, std::string* error);
std::optional<Entitlements> load_entitlements(const std::string& path, std::string* error);
// "0x00301000&0xFFFFFFFF 0x00311000" -> patterns; false with *error on a malformed one.
bool parse_pci_patterns(const std::string& text, std::vector<PciPattern>* out, std::string* error);

// Does the personality match a PCI function with these IDs (IOProviderClass IOPCIDevice)?
// Subsystem IDs are not modelled yet, so IOPCIMatch is tried against the primary IDs only.
bool matches_pci(const Personality& p, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code);
// The matching personality with the highest IOProbeScore (the first in file order on a tie).
const Personality* best_pci_match(const DextInfo& info, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code);

struct LintFinding {
  std::string rule;   // e.g. "plist.match-category"
  std::string where;  // "IOKitPersonalities.MyDriver.IOMatchCategory"
  std::string what;
  std::string why;
};
std::vector<LintFinding> lint(const DextInfo& info, const Entitlements* entitlements);

}  // namespace dexthil::driverkit
