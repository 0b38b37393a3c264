#include "harness/driverkit/matching/info_plist.hpp"

#include <plist/plist.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "harness/xcode/build_settings.hpp"

namespace dexthil::driverkit {
namespace {

struct PlistFree {
  void operator()(plist_t p) const { plist_free(p); }
};
using PlistPtr = std::unique_ptr<void, PlistFree>;

struct Problem {
  std::string key;
  std::string message;
};

std::optional<std::string> string_of(plist_t node) {
  if (!node || plist_get_node_type(node) != PLIST_STRING) return std::nullopt;
  char* value = nullptr;
  plist_get_string_val(node, &value);
  std::string s = value ? value : "";
  std::free(value);
  return s;
}

std::string type_name(plist_t node) {
  switch (plist_get_node_type(node)) {
    case PLIST_BOOLEAN: return "a boolean";
    case PLIST_UINT: return "an integer";
    case PLIST_REAL: return "a real";
    case PLIST_STRING: return "a string";
    case PLIST_ARRAY: return "an array";
    case PLIST_DICT: return "a dictionary";
    case PLIST_DATE: return "a date";
    case PLIST_DATA: return "data";
    default: return "something else";
  }
}

// Reads a string key if present; a value of another type is an error.
std::string get_string(plist_t dict, const char* key, const std::string& path) {
  plist_t node = plist_dict_get_item(dict, key);
  if (!node) return "";
  auto s = string_of(node);
  if (!s) throw Problem{path + "." + key, "expected a string, got " + type_name(node)};
  return *s;
}

// IOKit accepts numbers written as integers or as strings ("0x05ac").
std::optional<std::uint64_t> get_number(plist_t dict, const char* key, const std::string& path) {
  plist_t node = plist_dict_get_item(dict, key);
  if (!node) return std::nullopt;
  if (plist_get_node_type(node) == PLIST_UINT) {
    std::uint64_t v = 0;
    plist_get_uint_val(node, &v);
    return v;
  }
  if (auto s = string_of(node)) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s->c_str(), &end, 0);
    if (!s->empty() && end && *end == '\0') return v;
    throw Problem{path + "." + key, "\"" + *s + "\" is not a number"};
  }
  throw Problem{path + "." + key, "expected a number, got " + type_name(node)};
}

PlistPtr read_plist(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": error: cannot open the file";
    return nullptr;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  plist_t root = nullptr;
  plist_from_memory(data.data(), static_cast<std::uint32_t>(data.size()), &root);
  if (!root) {
    *error = path + ": error: not a property list (neither XML nor binary plist parses)";
    return nullptr;
  }
  if (plist_get_node_type(root) != PLIST_DICT) {
    *error = path + ": error: the top level is " + type_name(root) + ", not a dictionary";
    plist_free(root);
    return nullptr;
  }
  return PlistPtr(root);
}

template <class Fn>
void for_each_entry(plist_t dict, Fn fn) {
  plist_dict_iter it = nullptr;
  plist_dict_new_iter(dict, &it);
  // fn throws on malformed input: the iterator must be freed on that path too.
  const std::unique_ptr<void, void (*)(void*)> owned(it, std::free);
  for (;;) {
    char* key = nullptr;
    plist_t value = nullptr;
    plist_dict_next_item(dict, it, &key, &value);
    if (!key) break;
    std::string k = key;
    std::free(key);
    fn(k, value);
  }
}

void read_patterns(plist_t dict, const char* key, const std::string& path, std::vector<PciPattern>* out) {
  const std::string text = get_string(dict, key, path);
  if (text.empty()) return;
  std::string error;
  if (!parse_pci_patterns(text, out, &error)) throw Problem{path + "." + key, error};
}

// A USB key's value: an integer (or a real with an integral value, which plist editors write), or
// "*" for any value.
UsbKey usb_key(plist_t node, const std::string& path) {
  UsbKey k;
  if (auto s = string_of(node); s && *s == "*") {
    k.wildcard = true;
    return k;
  }
  if (plist_get_node_type(node) == PLIST_REAL) {
    double d = 0;
    plist_get_real_val(node, &d);
    if (d < 0 || d > 0xffffffff || d != static_cast<double>(static_cast<std::uint32_t>(d))) {
      throw Problem{path, "expected a whole number from 0 to 0xFFFFFFFF"};
    }
    k.value = static_cast<std::uint32_t>(d);
    return k;
  }
  if (plist_get_node_type(node) != PLIST_UINT && !string_of(node)) {
    throw Problem{path, "expected a number or \"*\", got " + type_name(node)};
  }
  if (plist_get_node_type(node) == PLIST_UINT) {
    std::uint64_t v = 0;
    plist_get_uint_val(node, &v);
    if (v > 0xffffffff) throw Problem{path, "expected a whole number from 0 to 0xFFFFFFFF"};
    k.value = static_cast<std::uint32_t>(v);
    return k;
  }
  throw Problem{path, "\"" + *string_of(node) + "\" is neither a number nor \"*\""};
}

void read_usb_keys(plist_t dict, const std::string& path, Personality* per) {
  static const char* const kKeys[] = {"idVendor", "idProduct", "bcdDevice", "bConfigurationValue", "bInterfaceNumber",
                                      "bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol", "bDeviceClass",
                                      "bDeviceSubClass", "bDeviceProtocol"};
  for (const char* key : kKeys) {
    if (plist_t node = plist_dict_get_item(dict, key)) per->usb_keys[key] = usb_key(node, path + "." + key);
  }
  if (auto it = per->usb_keys.find("idVendor"); it != per->usb_keys.end() && !it->second.wildcard) per->usb_vendor = it->second.value;
  if (auto it = per->usb_keys.find("idProduct"); it != per->usb_keys.end() && !it->second.wildcard) per->usb_product = it->second.value;
  if (plist_t array = plist_dict_get_item(dict, "idProductArray")) {
    const std::string ap = path + ".idProductArray";
    if (plist_get_node_type(array) != PLIST_ARRAY) throw Problem{ap, "expected an array of numbers, got " + type_name(array)};
    for (std::uint32_t i = 0; i < plist_array_get_size(array); ++i) {
      const UsbKey k = usb_key(plist_array_get_item(array, i), ap + "[" + std::to_string(i) + "]");
      if (k.wildcard) throw Problem{ap + "[" + std::to_string(i) + "]", "\"*\" is not allowed in idProductArray"};
      per->usb_product_array.push_back(k.value);
    }
  }
  if (plist_t mask = plist_dict_get_item(dict, "idProductMask")) {
    const UsbKey k = usb_key(mask, path + ".idProductMask");
    if (k.wildcard) throw Problem{path + ".idProductMask", "a mask must be a number"};
    per->usb_product_mask = k.value;
  }
}

}  // namespace

bool parse_pci_patterns(const std::string& text, std::vector<PciPattern>* out, std::string* error) {
  std::istringstream words(text);
  std::string word;
  auto parse32 = [](const std::string& s, std::uint32_t* v) {
    if (s.size() < 3 || s.size() > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(s.c_str() + 2, &end, 16);
    if (*end != '\0') return false;
    *v = static_cast<std::uint32_t>(x);
    return true;
  };
  while (words >> word) {
    PciPattern p;
    p.text = word;
    const auto amp = word.find('&');
    const bool ok = amp == std::string::npos ? parse32(word, &p.value)
                                             : parse32(word.substr(0, amp), &p.value) && parse32(word.substr(amp + 1), &p.mask);
    if (!ok) {
      *error = "\"" + word + "\" is not 0xDEVIVEND or 0xDEVIVEND&0xMASKMASK (device ID in the upper 16 bits)";
      return false;
    }
    out->push_back(p);
  }
  return true;
}

namespace {

// Expands build settings in every string below `node`, as Xcode does in Info.plist values.
void expand_strings(plist_t node, const std::string& path, const xcode::BuildSettings& settings,
                    std::vector<UnsetSetting>* unset) {
  switch (plist_get_node_type(node)) {
    case PLIST_DICT:
      for_each_entry(node, [&](const std::string& key, plist_t value) {
        expand_strings(value, path.empty() ? key : path + "." + key, settings, unset);
      });
      break;
    case PLIST_ARRAY:
      for (std::uint32_t i = 0; i < plist_array_get_size(node); ++i) {
        expand_strings(plist_array_get_item(node, i), path + "[" + std::to_string(i) + "]", settings, unset);
      }
      break;
    case PLIST_STRING: {
      const std::string text = string_of(node).value_or("");
      if (text.find('$') == std::string::npos) break;
      std::vector<std::string> undefined;
      std::string error;
      const std::optional<std::string> expanded = settings.expand(text, &undefined, &error);
      if (!expanded) {
        // BuildSettings' messages start "error: "; the Problem adds its own.
        throw Problem{path, error.rfind("error: ", 0) == 0 ? error.substr(7) : error};
      }
      for (const std::string& name : undefined) unset->push_back({path, name});
      plist_set_string_val(node, expanded->c_str());
      break;
    }
    default:
      break;
  }
}

// GENERATE_INFOPLIST_FILE = YES: Xcode adds the bundle keys a target's settings give (and every
// INFOPLIST_KEY_<Key>) to the Info.plist it writes; keys the file sets itself stay as they are.
void add_generated_keys(plist_t root, const xcode::BuildSettings& settings) {
  std::string error;
  if (settings.value("GENERATE_INFOPLIST_FILE", nullptr, &error).value_or("") != "YES") return;
  std::vector<std::pair<std::string, std::string>> generated{
      {"CFBundleIdentifier", "$(PRODUCT_BUNDLE_IDENTIFIER)"},
      {"CFBundleExecutable", "$(EXECUTABLE_NAME)"},
      {"CFBundleName", "$(PRODUCT_NAME)"},
      {"CFBundlePackageType", "$(PRODUCT_BUNDLE_PACKAGE_TYPE)"},
      {"CFBundleDevelopmentRegion", "$(DEVELOPMENT_LANGUAGE)"},
      {"CFBundleInfoDictionaryVersion", "6.0"},
      {"CFBundleVersion", "$(CURRENT_PROJECT_VERSION)"},
      {"CFBundleShortVersionString", "$(MARKETING_VERSION)"}};
  constexpr std::string_view kPrefix = "INFOPLIST_KEY_";
  for (const std::string& name : settings.names()) {
    if (name.rfind(kPrefix, 0) == 0 && name.size() > kPrefix.size()) {
      generated.push_back({name.substr(kPrefix.size()), "$(" + name + ")"});
    }
  }
  for (const auto& [key, value] : generated) {
    if (plist_dict_get_item(root, key.c_str())) continue;  // the file's own value stays
    // A key whose setting the target does not set (or sets empty) is left out, not written empty.
    if (value.rfind("$(", 0) == 0) {
      const std::string name = value.substr(2, value.size() - 3);
      if (settings.value(name, nullptr, &error).value_or("").empty()) continue;
    }
    plist_dict_set_item(root, key.c_str(), plist_new_string(value.c_str()));
  }
}

}  // namespace

bool write_expanded_info_plist(const std::string& in, const std::string& out, const xcode::BuildSettings& settings,
                               std::vector<UnsetSetting>* unset, std::string* error) {
  PlistPtr root = read_plist(in, error);
  if (!root) return false;
  try {
    add_generated_keys(root.get(), settings);
    expand_strings(root.get(), "", settings, unset);
  } catch (const Problem& problem) {
    *error = in + ": error: " + problem.key + ": " + problem.message;
    return false;
  }
  char* xml = nullptr;
  std::uint32_t length = 0;
  plist_to_xml(root.get(), &xml, &length);
  const std::unique_ptr<char, void (*)(void*)> owned(xml, std::free);
  const std::string temporary = out + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file.write(xml, length);
    if (!file) {
      *error = out + ": error: cannot write the file";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, out, ec);
  if (ec) {
    *error = out + ": error: cannot write the file (" + ec.message() + ")";
    return false;
  }
  return true;
}

std::optional<DextInfo> load_info_plist(const std::string& path, std::string* error,
                                        const xcode::BuildSettings* settings) {
  PlistPtr root = read_plist(path, error);
  if (!root) return std::nullopt;
  try {
    DextInfo info;
    info.file = path;
    const xcode::BuildSettings none;
    add_generated_keys(root.get(), settings ? *settings : none);
    expand_strings(root.get(), "", settings ? *settings : none, &info.unset_settings);
    info.bundle_id = get_string(root.get(), "CFBundleIdentifier", "");
    plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
    if (!personalities) throw Problem{"IOKitPersonalities", "missing: a dext without personalities never matches"};
    if (plist_get_node_type(personalities) != PLIST_DICT) {
      throw Problem{"IOKitPersonalities", "expected a dictionary, got " + type_name(personalities)};
    }
    for_each_entry(personalities, [&](const std::string& name, plist_t value) {
      const std::string p = "IOKitPersonalities." + name;
      if (plist_get_node_type(value) != PLIST_DICT) throw Problem{p, "expected a dictionary, got " + type_name(value)};
      Personality per;
      per.name = name;
      per.io_class = get_string(value, "IOClass", p);
      per.provider_class = get_string(value, "IOProviderClass", p);
      per.user_class = get_string(value, "IOUserClass", p);
      per.user_server_name = get_string(value, "IOUserServerName", p);
      per.match_category = get_string(value, "IOMatchCategory", p);
      per.resource_match = get_string(value, "IOResourceMatch", p);
      per.probe_score = static_cast<std::int64_t>(get_number(value, "IOProbeScore", p).value_or(0));
      read_patterns(value, "IOPCIPrimaryMatch", p, &per.pci_primary);
      read_patterns(value, "IOPCIMatch", p, &per.pci_match);
      read_patterns(value, "IOPCIClassMatch", p, &per.pci_class);
      read_usb_keys(value, p, &per);
      for_each_entry(value, [&](const std::string& key, plist_t item) {
        switch (plist_get_node_type(item)) {
          case PLIST_STRING:
            per.properties.emplace_back(key, string_of(item).value_or(""));
            break;
          case PLIST_UINT: {
            std::uint64_t n = 0;
            plist_get_uint_val(item, &n);
            per.properties.emplace_back(key, static_cast<std::int64_t>(n));
            break;
          }
          case PLIST_BOOLEAN: {
            std::uint8_t b = 0;
            plist_get_bool_val(item, &b);
            per.properties.emplace_back(key, b != 0);
            break;
          }
          default:
            break;
        }
      });
      // Dictionaries that describe further services IOService::Create makes from this
      // personality, such as the conventional UserClientProperties.
      for_each_entry(value, [&](const std::string& key, plist_t sub) {
        if (plist_get_node_type(sub) != PLIST_DICT || !plist_dict_get_item(sub, "IOUserClass")) return;
        const std::string sp = p + "." + key;
        per.service_properties[key] = {get_string(sub, "IOClass", sp), get_string(sub, "IOUserClass", sp)};
      });
      info.personalities.push_back(std::move(per));
    });
    return info;
  } catch (const Problem& problem) {
    *error = path + ": error: " + problem.key + ": " + problem.message;
    return std::nullopt;
  }
}

std::optional<Entitlements> load_entitlements(const std::string& path, std::string* error) {
  PlistPtr root = read_plist(path, error);
  if (!root) return std::nullopt;
  try {
    Entitlements e;
    e.file = path;
    for_each_entry(root.get(), [&](const std::string& key, plist_t value) {
      e.keys.insert(key);
      const bool pci = key == "com.apple.developer.driverkit.transport.pci";
      const bool usb = key == "com.apple.developer.driverkit.transport.usb";
      if (!pci && !usb) return;
      if (plist_get_node_type(value) != PLIST_ARRAY) {
        e.malformed_transports.push_back({key, type_name(value)});
        return;
      }
      (pci ? e.has_pci : e.has_usb) = true;
      for (std::uint32_t i = 0; i < plist_array_get_size(value); ++i) {
        plist_t item = plist_array_get_item(value, i);
        const std::string p = key + "[" + std::to_string(i) + "]";
        if (plist_get_node_type(item) != PLIST_DICT) throw Problem{p, "expected a dictionary, got " + type_name(item)};
        if (pci) {
          read_patterns(item, "IOPCIPrimaryMatch", p, &e.pci);
        } else {
          plist_t vendor = plist_dict_get_item(item, "idVendor");
          if (auto s = string_of(vendor); s && *s == "*") e.usb_vendors.push_back(std::nullopt);
          else if (auto v = get_number(item, "idVendor", p)) e.usb_vendors.push_back(static_cast<std::uint32_t>(*v));
        }
      }
    });
    return e;
  } catch (const Problem& problem) {
    *error = path + ": error: " + problem.key + ": " + problem.message;
    return std::nullopt;
  }
}

std::vector<std::string> pci_mismatches(const Personality& p, std::uint16_t vendor, std::uint16_t device,
                                        std::uint32_t class_code) {
  char ids[32];
  std::snprintf(ids, sizeof ids, "%04x:%04x", vendor, device);
  if (p.provider_class != "IOPCIDevice") {
    return {"IOProviderClass is \"" + p.provider_class + "\", not IOPCIDevice"};
  }
  // Every match key the personality gives must match; one without any key matches nothing.
  if (p.pci_primary.empty() && p.pci_match.empty() && p.pci_class.empty()) {
    return {"it has none of IOPCIPrimaryMatch, IOPCIMatch and IOPCIClassMatch, so it matches no PCI function"};
  }
  const std::uint32_t primary = static_cast<std::uint32_t>(device) << 16 | vendor;
  std::vector<std::string> out;
  auto check = [&](const char* key, const std::vector<PciPattern>& patterns, std::uint32_t id, const std::string& what) {
    if (patterns.empty()) return;
    for (const PciPattern& pattern : patterns) {
      if (pattern.matches(id)) return;
    }
    std::string list;
    for (const PciPattern& pattern : patterns) list += (list.empty() ? "" : " ") + pattern.text;
    out.push_back(std::string(key) + " \"" + list + "\" does not match " + what);
  };
  check("IOPCIPrimaryMatch", p.pci_primary, primary, std::string(ids) + " (device << 16 | vendor)");
  check("IOPCIMatch", p.pci_match, primary, ids);
  char cls[32];
  std::snprintf(cls, sizeof cls, "class 0x%06x", class_code);
  check("IOPCIClassMatch", p.pci_class, class_code << 8, cls);
  return out;
}

bool matches_pci(const Personality& p, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code) {
  return pci_mismatches(p, vendor, device, class_code).empty();
}

const Personality* best_pci_match(const DextInfo& info, std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code) {
  const Personality* best = nullptr;
  for (const Personality& p : info.personalities) {
    if (matches_pci(p, vendor, device, class_code) && (!best || p.probe_score > best->probe_score)) best = &p;
  }
  return best;
}

}  // namespace dexthil::driverkit
