// The rules behind `dexthil lint-plist`: personality mistakes that make a dext fail on a Mac in
// ways that are hard to trace back to the plist.
#include <algorithm>
#include <map>

#include "harness/driverkit/families/family_definition.hpp"
#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/util/hex.hpp"

namespace dexthil::driverkit {
namespace {

// Keys that only one kind of nub has, so a personality for another provider class can never
// match with them: the provider classes that publish each.
struct ProviderKeys {
  const char* key;
  std::vector<std::string_view> providers;
};

// IOMatchCategory puts a dext in a match category of its own, beside whatever system driver
// matches the same nub in the default one. On IOResources/IOUserResources that is its purpose.
// On USB, Apple's own vendor-specific sample (VendorSpecificUSBDriverKitSample) uses it: Darwin
// leaves a vendor-specific device (class 255) to its driver, so nothing competes. A USB
// personality is flagged only when it names a class other than 255, where a system class
// driver does match the same nub; matched by IDs alone, its class is unknown here.
void match_category(const Personality& p, const std::string& at, std::vector<LintFinding>* out) {
  if (p.match_category.empty() || p.provider_class == "IOResources" || p.provider_class == "IOUserResources") return;
  const std::string finding = "IOMatchCategory \"" + p.match_category + "\" on a personality matching " + p.provider_class;
  const std::string consequence =
      "it puts the dext in a category of its own, so a system driver matches the same nub beside it and may open the "
      "provider first, and the dext's Open() then fails with kIOReturnExclusiveAccess.";
  const bool usb_device = p.provider_class == "IOUSBHostDevice";
  if (usb_device || p.provider_class == "IOUSBHostInterface") {
    const char* class_key = usb_device ? "bDeviceClass" : "bInterfaceClass";
    auto named = p.usb_keys.find(class_key);
    constexpr std::uint32_t kVendorSpecific = 0xFF;
    if (named == p.usb_keys.end() || named->second.wildcard || named->second.value == kVendorSpecific) return;
    const std::string value = std::to_string(named->second.value);
    // Device class 0 gives the class per interface: the system's composite-device driver takes
    // such a device and configures it; any other standard class has a class driver.
    const std::string competitor = usb_device && named->second.value == 0
                                       ? "A USB device of bDeviceClass 0 (class given per interface) is taken by "
                                         "the system's composite-device driver, which configures it."
                                       : std::string("A USB ") + (usb_device ? "device" : "interface") +
                                             " of a standard class (" + class_key + " " + value +
                                             ", not 255, vendor-specific) has a system class driver of its own.";
    out->push_back({"plist.match-category", at + ".IOMatchCategory", finding + " of " + class_key + " " + value,
                    competitor + " There IOMatchCategory " + consequence +
                        " Apple's samples use it on USB only for vendor-specific devices, which Darwin leaves to "
                        "their driver."});
    return;
  }
  out->push_back({"plist.match-category", at + ".IOMatchCategory", finding,
                  "IOMatchCategory belongs only on IOResources/IOUserResources matches. Elsewhere " + consequence});
}

void impossible_keys(const Personality& p, const std::string& at, std::vector<LintFinding>* out) {
  static const std::vector<std::string_view> kUsb{"IOUSBHostDevice", "IOUSBHostInterface"};
  static const std::vector<std::string_view> kInterface{"IOUSBHostInterface"};
  static const std::vector<std::string_view> kPci{"IOPCIDevice"};
  std::vector<ProviderKeys> present;
  for (const auto& [key, value] : p.usb_keys) {
    (void)value;
    const bool interface_key = key.rfind("bInterface", 0) == 0;
    present.push_back({key.c_str(), interface_key ? kInterface : kUsb});
  }
  if (!p.pci_primary.empty()) present.push_back({"IOPCIPrimaryMatch", kPci});
  if (!p.pci_match.empty()) present.push_back({"IOPCIMatch", kPci});
  if (!p.pci_class.empty()) present.push_back({"IOPCIClassMatch", kPci});
  for (const ProviderKeys& k : present) {
    if (std::find(k.providers.begin(), k.providers.end(), p.provider_class) != k.providers.end()) continue;
    std::string publishers;
    for (std::string_view c : k.providers) publishers += (publishers.empty() ? "" : " and ") + std::string(c);
    // A device personality with interface keys never matches: IOUSBHostFamily's matching fails a
    // personality whose keys form no combination for the nub. Elsewhere the family's matching
    // never looks at another bus's keys, so they are dead weight that hides a wrong
    // IOProviderClass.
    const bool never_matches = p.provider_class == "IOUSBHostDevice";
    out->push_back({"plist.impossible-key", at + "." + k.key,
                    std::string(k.key) + " on a personality whose IOProviderClass is " +
                        (p.provider_class.empty() ? std::string("missing") : p.provider_class),
                    "Only " + publishers + " nubs carry " + k.key + ". " +
                        (never_matches ? std::string("IOUSBHostFamily matches a device personality on the device's "
                                                     "own fields, so this personality can never match. ")
                                       : std::string("The matching of " + p.provider_class +
                                                     " never looks at it, so the key does nothing. ")) +
                        "Check IOProviderClass (an interface's keys belong on IOUSBHostInterface, a device's on "
                        "IOUSBHostDevice)."});
  }
}

}  // namespace

std::vector<LintFinding> lint(const DextInfo& info, const Entitlements* entitlements) {
  std::vector<LintFinding> out;
  for (const UnsetSetting& u : info.unset_settings) {
    out.push_back({"plist.build-setting", u.where, u.where + " uses $(" + u.name + "), which no build setting defines",
                   "Xcode expands build settings in Info.plist when it builds the dext, and one that is not set becomes "
                   "an empty string in the installed plist. Set it: dexthil_add_dext(... BUILD_SETTINGS " + u.name +
                       "=VALUE), lint-plist --setting " + u.name + "=VALUE, or build the dext from its Xcode project "
                       "(dexthil_add_xcode_dext), which takes it from the target."});
  }
  if (info.bundle_id.empty()) {
    out.push_back({"plist.bundle-id", "CFBundleIdentifier", "CFBundleIdentifier is missing or empty",
                   "A dext is known by its bundle identifier: the system installs and launches it by that name, "
                   "IOUserServerName must equal it, and its entitlements are granted to it."});
  }
  if (entitlements) {
    for (const auto& [key, type] : entitlements->malformed_transports) {
      out.push_back({"plist.entitlement-format", key, key + " is " + type + ", not an array of dictionaries",
                     "A transport entitlement lists the hardware the dext may drive, one dictionary per device "
                     "(IOPCIPrimaryMatch for PCI, idVendor for USB), as Apple documents the entitlement. A " + type +
                         " lists no hardware, so nothing tells the kernel what the dext may drive."});
    }
  }
  for (const Personality& p : info.personalities) {
    const std::string at = "IOKitPersonalities." + p.name;
    for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"IOClass", p.io_class},
                                     {"IOProviderClass", p.provider_class},
                                     {"IOUserClass", p.user_class},
                                     {"IOUserServerName", p.user_server_name}}) {
      if (value.empty()) {
        out.push_back({"plist.missing-key", at + "." + key, std::string(key) + " is missing",
                       std::string("IOKit needs ") + key + " to start a dext's service: without it the personality "
                       "matches, the kernel cannot instantiate anything, and the device sits unclaimed."});
      }
    }
    if (!p.user_server_name.empty() && !info.bundle_id.empty() && p.user_server_name != info.bundle_id) {
      out.push_back({"plist.server-name", at + ".IOUserServerName",
                     "IOUserServerName \"" + p.user_server_name + "\" is not the dext's bundle identifier \"" +
                         info.bundle_id + "\"",
                     "Apple documents IOUserServerName as the driver extension's bundle identifier: the kernel launches "
                     "the dext's process by that name, so any other name launches nothing."});
    }
    impossible_keys(p, at, &out);
    match_category(p, at, &out);
    if (entitlements) {
      for (const families::FamilyDefinition* family : families::all()) {
        const auto& classes = family->kernel_classes;
        if (family->entitlement.empty() || classes.empty() || !entitlements->keys.count(std::string(family->entitlement)) ||
            std::find(classes.begin(), classes.end(), p.io_class) != classes.end()) {
          continue;
        }
        std::string wanted;
        for (std::string_view c : classes) wanted += (wanted.empty() ? "" : " or ") + std::string(c);
        out.push_back({"plist.family-class", at + ".IOClass",
                       "IOClass is \"" + p.io_class + "\" but the dext is entitled to " + std::string(family->entitlement),
                       "A family dext works through the family's kernel class; set IOClass to " + wanted +
                           ". With IOUserService the family's methods return kIOReturnUnsupported."});
      }
      // A malformed transport entitlement is its own finding (above); its coverage means nothing.
      auto malformed = [&](const char* key) {
        return std::any_of(entitlements->malformed_transports.begin(), entitlements->malformed_transports.end(),
                           [&](const auto& m) { return m.first == key; });
      };
      if (p.provider_class == "IOPCIDevice" && !malformed("com.apple.developer.driverkit.transport.pci")) {
        for (const auto* patterns : {&p.pci_primary, &p.pci_match}) {
          for (const PciPattern& pattern : *patterns) {
            bool covered = false;
            for (const PciPattern& allowed : entitlements->pci) covered |= pattern.covered_by(allowed);
            if (!covered) {
              out.push_back({"plist.entitlement-coverage", at,
                             "PCI match " + pattern.text + " is not covered by " +
                                 (entitlements->has_pci ? "any com.apple.developer.driverkit.transport.pci entry"
                                                        : "a com.apple.developer.driverkit.transport.pci entitlement (there is none)"),
                             "The kernel refuses to start a dext on hardware its transport entitlement does not list, "
                             "even when a personality matches it."});
            }
          }
        }
      }
      if (p.usb_vendor && !malformed("com.apple.developer.driverkit.transport.usb")) {
        bool covered = false;
        for (const auto& vendor : entitlements->usb_vendors) covered |= !vendor || *vendor == *p.usb_vendor;
        if (!covered) {
          out.push_back({"plist.entitlement-coverage", at + ".idVendor",
                         "idVendor " + util::hex(*p.usb_vendor, 4) + " is not covered by com.apple.developer.driverkit.transport.usb",
                         "The kernel refuses to start a dext on a USB device whose vendor its entitlement does not list."});
        }
      }
    }
  }
  return out;
}

}  // namespace dexthil::driverkit
