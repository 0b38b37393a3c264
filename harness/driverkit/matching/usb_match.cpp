// IOKit's USB matching: which key combinations a personality may use against a USB device or
// interface nub, and the probe score each gives (QA1076; IOUSBFamily's matchPropertyTable).
#include <algorithm>
#include <string_view>
#include <vector>

#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/util/hex.hpp"

namespace dexthil::driverkit {
namespace {

constexpr std::uint8_t kVendorSpecificClass = 0xff;

// How the personality's keys compare with one nub.
class UsbKeys {
 public:
  UsbKeys(const Personality& p, const UsbNub& nub) : p_(p), nub_(nub) {}

  bool has(const std::string& key) const {
    if (key == "idProduct" && !p_.usb_product_array.empty()) return true;
    return p_.usb_keys.count(key) != 0;
  }
  // Present and equal to the nub's value ("*" matches anything).
  bool matches(const std::string& key) const {
    if (key == "idProduct") return product_matches();
    auto it = p_.usb_keys.find(key);
    return it != p_.usb_keys.end() && (it->second.wildcard || it->second.value == nub_value(key));
  }
  bool wildcard(const std::string& key) const {
    auto it = p_.usb_keys.find(key);
    return it != p_.usb_keys.end() && it->second.wildcard;
  }
  bool used_mask() const { return used_mask_; }

  std::uint32_t nub_value(const std::string& key) const {
    if (key == "idVendor") return nub_.vendor;
    if (key == "idProduct") return nub_.product;
    if (key == "bcdDevice") return nub_.bcd_device;
    if (key == "bConfigurationValue") return nub_.configuration_value;
    if (key == "bInterfaceNumber") return nub_.interface_number;
    if (key == "bInterfaceClass") return nub_.interface_class;
    if (key == "bInterfaceSubClass") return nub_.interface_subclass;
    if (key == "bInterfaceProtocol") return nub_.interface_protocol;
    if (key == "bDeviceClass") return nub_.device_class;
    if (key == "bDeviceSubClass") return nub_.device_subclass;
    if (key == "bDeviceProtocol") return nub_.device_protocol;
    return ~0u;
  }
 private:
  // idProduct, idProductArray, then each of them under idProductMask.
  bool product_matches() const {
    const auto it = p_.usb_keys.find("idProduct");
    const bool given = it != p_.usb_keys.end();
    if (given && (it->second.wildcard || it->second.value == nub_.product)) return true;
    const auto& array = p_.usb_product_array;
    if (std::find(array.begin(), array.end(), nub_.product) != array.end()) return true;
    if (!p_.usb_product_mask) return false;
    const std::uint32_t mask = *p_.usb_product_mask;
    const auto masked = [&](std::uint32_t v) { return (v & mask) == (nub_.product & mask); };
    if ((given && masked(it->second.value)) || std::any_of(array.begin(), array.end(), masked)) {
      used_mask_ = true;
      return true;
    }
    return false;
  }

  const Personality& p_;
  const UsbNub& nub_;
  mutable bool used_mask_ = false;
};

// One recognised combination: the keys it needs, those it tolerates when they match, and a base.
struct Combination {
  std::int64_t base;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const char* const kUsbKeys[] = {"idVendor", "idProduct", "bcdDevice", "bConfigurationValue", "bInterfaceNumber",
                                "bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol", "bDeviceClass",
                                "bDeviceSubClass", "bDeviceProtocol"};

// Whether the personality's USB keys are exactly a combination's (required all present and
// matching, optional ones matching if present, nothing else), and the "*" it used.
std::optional<int> fits(const UsbKeys& keys, const Combination& c) {
  int wildcards = 0;
  for (std::string_view k : c.required) {
    if (!keys.matches(std::string(k))) return std::nullopt;
    wildcards += keys.wildcard(std::string(k));
  }
  for (const char* k : kUsbKeys) {
    const auto listed = [k](const std::vector<std::string_view>& l) { return std::find(l.begin(), l.end(), k) != l.end(); };
    if (!keys.has(k) || listed(c.required)) continue;
    if (!listed(c.optional) || !keys.matches(k)) return std::nullopt;
  }
  return wildcards;
}

}  // namespace

std::optional<std::int64_t> usb_match_score(const Personality& p, const UsbNub& nub) {
  if (p.provider_class != (nub.interface ? "IOUSBHostInterface" : "IOUSBHostDevice")) return std::nullopt;
  const UsbKeys keys(p, nub);
  const bool vendor_specific = (nub.interface ? nub.interface_class : nub.device_class) == kVendorSpecificClass;
  // Interfaces and devices have the same table over their own descriptor fields; an interface's
  // exact forms also name the configuration and the interface number.
  const char* cls = nub.interface ? "bInterfaceClass" : "bDeviceClass";
  const char* sub = nub.interface ? "bInterfaceSubClass" : "bDeviceSubClass";
  const char* proto = nub.interface ? "bInterfaceProtocol" : "bDeviceProtocol";
  std::vector<std::string_view> exact{"idVendor", "idProduct", "bcdDevice"};
  if (nub.interface) exact.insert(exact.end(), {"bConfigurationValue", "bInterfaceNumber"});
  std::vector<std::string_view> without_bcd = exact;
  std::erase(without_bcd, "bcdDevice");
  std::vector<Combination> table{{100000, exact, {cls, sub, proto}}, {90000, without_bcd, {"bcdDevice", cls, sub, proto}}};
  if (vendor_specific) {
    table.push_back({80000, {"idVendor", sub, proto}, {cls}});
    table.push_back({70000, {"idVendor", sub}, {cls}});
  } else {
    table.push_back({60000, {cls, sub, proto}, {}});
    table.push_back({50000, {cls, sub}, {}});
  }
  for (const Combination& c : table) {
    if (auto wildcards = fits(keys, c)) {
      const std::int64_t probe = p.probe_score >= 10000 ? 9000 : p.probe_score;
      return c.base + probe - 1000 * *wildcards - (keys.used_mask() ? 500 : 0);
    }
  }
  return std::nullopt;
}

std::vector<std::string> usb_mismatches(const Personality& p, const UsbNub& nub) {
  const char* nub_class = nub.interface ? "IOUSBHostInterface" : "IOUSBHostDevice";
  if (p.provider_class != nub_class) return {"IOProviderClass is \"" + p.provider_class + "\", not " + nub_class};
  if (usb_match_score(p, nub)) return {};
  const UsbKeys keys(p, nub);
  std::vector<std::string> out;
  std::string given;
  for (const char* k : kUsbKeys) {
    if (!keys.has(k)) continue;
    given += (given.empty() ? "" : ", ") + std::string(k);
    if (!keys.matches(k)) {
      const int digits = std::string_view(k).starts_with("id") || std::string_view(k) == "bcdDevice" ? 4 : 2;
      out.push_back(std::string(k) + " does not match the nub's " + util::hex(keys.nub_value(k), digits));
    }
  }
  if (out.empty()) {
    out.push_back(given.empty() ? std::string("it has no USB matching keys")
                                : "its keys (" + given + ") are not a combination IOUSBHostFamily matches on");
  }
  return out;
}

const Personality* best_usb_match(const DextInfo& info, const UsbNub& nub, std::int64_t* score) {
  const Personality* best = nullptr;
  std::int64_t best_score = 0;
  for (const Personality& p : info.personalities) {
    auto s = usb_match_score(p, nub);
    if (s && (!best || *s > best_score)) {
      best = &p;
      best_score = *s;
    }
  }
  if (best && score) *score = best_score;
  return best;
}

}  // namespace dexthil::driverkit
