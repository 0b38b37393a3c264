#pragma once
// A dext's Info.plist (XML or binary) as IOKit reads it for matching: its IOKitPersonalities, and
// its entitlements file's transport and family entitlements. Matching against the simulated nubs
// and the lint rules behind `dexthil lint-plist` live here too.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace dexthil::xcode {
class BuildSettings;
}

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

// A USB matching key as a personality gives it: a number, or the string "*" (any value).
struct UsbKey {
  std::uint32_t value = 0;
  bool wildcard = false;
};

struct Personality {
  std::string name;  // its key under IOKitPersonalities
  std::string io_class, provider_class, user_class, user_server_name, match_category;
  std::string resource_match;  // IOResourceMatch: a resource that must be published
  std::int64_t probe_score = 0;
  std::vector<PciPattern> pci_primary;  // IOPCIPrimaryMatch: (device << 16) | vendor
  std::vector<PciPattern> pci_match;    // IOPCIMatch: primary or subsystem IDs
  std::vector<PciPattern> pci_class;    // IOPCIClassMatch: class code << 8
  std::optional<std::uint32_t> usb_vendor, usb_product;  // when given as numbers
  std::map<std::string, UsbKey> usb_keys;  // idVendor, idProduct, bcdDevice, bConfigurationValue, bInterface*, bDevice*
  std::vector<std::uint32_t> usb_product_array;  // idProductArray
  std::optional<std::uint32_t> usb_product_mask;  // idProductMask
  std::map<std::string, ServiceProperties> service_properties;  // by key, dictionaries with an IOUserClass
  // Every key with a string, number or boolean value, in file order: what the matched service's
  // registry entry gets (CopyProperties). Dictionaries and arrays are not copied.
  std::vector<std::pair<std::string, std::variant<std::string, std::int64_t, bool>>> properties;
};

// A $(NAME) in the plist that no build setting defines: Xcode expands it to "".
struct UnsetSetting {
  std::string where;  // the key path: "IOKitPersonalities.MyDriver.IOUserServerName"
  std::string name;   // "PRODUCT_BUNDLE_IDENTIFIER"
};

struct DextInfo {
  std::string file;
  std::string bundle_id;  // CFBundleIdentifier
  std::vector<Personality> personalities;
  std::vector<UnsetSetting> unset_settings;  // found while expanding build settings
};

struct Entitlements {
  std::string file;
  bool has_pci = false;  // com.apple.developer.driverkit.transport.pci present
  // Transport entitlements that are not an array of dictionaries (a boolean, say): the key and
  // what it is. The kernel's check finds no hardware in them.
  std::vector<std::pair<std::string, std::string>> malformed_transports;
  std::vector<PciPattern> pci;
  bool has_usb = false;
  std::vector<std::optional<std::uint32_t>> usb_vendors;  // nullopt: "*"
  std::set<std::string> keys;  // every entitlement key, for family checks
};

// Each returns nullopt with "file: error: key.path: what is wrong" in *error.
// load_info_plist expands build settings ($(NAME), ${NAME}) in every string first, as Xcode does
// when it copies Info.plist into the bundle; without `settings` none is defined.
std::optional<DextInfo> load_info_plist(const std::string& path, std::string* error,
                                        const xcode::BuildSettings* settings = nullptr);
// Writes `in` with its build settings expanded to `out` as an XML plist: the bundle's Info.plist.
// The settings no level defines are added to *unset.
bool write_expanded_info_plist(const std::string& in, const std::string& out, const xcode::BuildSettings& settings,
                               std::vector<UnsetSetting>* unset, std::string* error);
std::optional<Entitlements> load_entitlements(const std::string& path, std::string* error);
// "0x00301000&0xFFFFFFFF 0x00311000" -> patterns; false with *error on a malformed one.
bool parse_pci_patterns(const std::string& text, std::vector<PciPattern>* out, std::string* error);

// Does the personality match a PCI function with these IDs (IOProviderClass IOPCIDevice)?
// Subsystem IDs are not modelled yet, so IOPCIMatch is tried against the primary IDs only.
bool matches_pci(const Personality& p, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code);
// Why `p` does not match that PCI function: each key that fails, in words ("IOPCIPrimaryMatch
// \"0x00011234\" does not match 1234:5678"); empty when it matches.
std::vector<std::string> pci_mismatches(const Personality& p, std::uint16_t vendor, std::uint16_t device,
                                        std::uint32_t class_code);
// The matching personality with the highest IOProbeScore (the first in file order on a tie).
const Personality* best_pci_match(const DextInfo& info, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code);

// A USB device or interface nub as IOUSBHostFamily publishes it (the descriptors' fields).
struct UsbNub {
  bool interface = true;  // IOUSBHostInterface; false: IOUSBHostDevice
  std::uint16_t vendor = 0, product = 0, bcd_device = 0;
  std::uint8_t device_class = 0, device_subclass = 0, device_protocol = 0;
  std::uint8_t configuration_value = 1;
  std::uint8_t interface_number = 0, interface_class = 0, interface_subclass = 0, interface_protocol = 0;
};
// IOKit's USB matching (Technical Q&A QA1076, IOUSBFamily's matchPropertyTable): the
// personality's keys must form one of the recognised combinations, which sets the base score
// (100000 for vendor+product+bcdDevice(+configuration+interface) down to 50000 for
// class+subclass); the vendor-specific combinations need class 0xFF and the class ones another
// class. The probe score is the base plus IOProbeScore (at most 9000 counted), less 1000 per "*"
// the combination used and 500 when idProductMask was needed. nullopt: no match.
std::optional<std::int64_t> usb_match_score(const Personality& p, const UsbNub& nub);
// Why `p` does not match that nub: each key whose value differs ("idProduct does not match the
// nub's 0x5161"), or that its keys form no recognised combination; empty when it matches.
std::vector<std::string> usb_mismatches(const Personality& p, const UsbNub& nub);
// The matching personality with the highest score (the first in file order on a tie).
const Personality* best_usb_match(const DextInfo& info, const UsbNub& nub, std::int64_t* score = nullptr);

struct LintFinding {
  std::string rule;   // e.g. "plist.match-category"
  std::string where;  // "IOKitPersonalities.MyDriver.IOMatchCategory"
  std::string what;
  std::string why;
};
std::vector<LintFinding> lint(const DextInfo& info, const Entitlements* entitlements);

}  // namespace dexthil::driverkit
