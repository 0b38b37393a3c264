// The rules behind `dexthil lint-plist`: personality mistakes that make a dext fail on a Mac in
// ways that are hard to trace back to the plist.
#include <algorithm>
#include <map>

#include "harness/driverkit/families/family_definition.hpp"
#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/util/hex.hpp"

namespace dexthil::driverkit {
std::vector<LintFinding> lint(const DextInfo& info, const Entitlements* entitlements) {
  std::vector<LintFinding> out;
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
                     "IOUserServerName \"" + p.user_server_name + "\" is not the dext's bundle ID \"" + info.bundle_id + "\"",
                     "The kernel launches the dext by IOUserServerName; a name that is not the bundle ID launches nothing."});
    }
    if (!p.match_category.empty() && p.provider_class != "IOResources" && p.provider_class != "IOUserResources") {
      out.push_back({"plist.match-category", at + ".IOMatchCategory",
                     "IOMatchCategory \"" + p.match_category + "\" on a personality matching " + p.provider_class,
                     "IOMatchCategory belongs only on IOResources/IOUserResources matches. Elsewhere it puts the dext in a "
                     "category of its own, so a system driver matches the same nub beside it and may open the provider "
                     "first, and the dext's Open() then fails with kIOReturnExclusiveAccess."});
    }
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
      if (p.provider_class == "IOPCIDevice") {
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
      if (p.usb_vendor) {
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
