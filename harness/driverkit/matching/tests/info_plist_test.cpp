#include <gtest/gtest.h>

#include <plist/plist.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/driverkit/matching/info_plist.hpp"
#include "harness/xcode/build_settings.hpp"

namespace dexthil::driverkit {
namespace {

std::vector<std::string> rules(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.rule);
  return out;
}

TEST(InfoPlist, ReadsThePersonalities) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/lsi-mpt.plist", &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->bundle_id, "org.dexthil.LSIMPT");
  ASSERT_EQ(info->personalities.size(), 1u);
  const Personality& p = info->personalities[0];
  EXPECT_EQ(p.name, "LSIMPT");
  EXPECT_EQ(p.io_class, "IOUserSCSIParallelInterfaceController");
  EXPECT_EQ(p.provider_class, "IOPCIDevice");
  EXPECT_EQ(p.probe_score, 1000);
  ASSERT_EQ(p.pci_primary.size(), 1u);
  EXPECT_EQ(p.pci_primary[0].value, 0x00301000u);
  EXPECT_EQ(p.pci_primary[0].mask, 0xffffffffu);
}

TEST(InfoPlist, BinaryPlistsReadTheSame) {
  std::ifstream in("fixtures/plists/lsi-mpt.plist");
  std::stringstream xml;
  xml << in.rdbuf();
  plist_t root = nullptr;
  plist_from_xml(xml.str().data(), static_cast<std::uint32_t>(xml.str().size()), &root);
  ASSERT_NE(root, nullptr);
  char* bin = nullptr;
  std::uint32_t length = 0;
  plist_to_bin(root, &bin, &length);
  plist_free(root);
  const auto path = std::filesystem::temp_directory_path() / "dexthil-binary-Info.plist";
  std::ofstream(path, std::ios::binary).write(bin, length);
  std::free(bin);
  std::string error;
  auto info = load_info_plist(path.string(), &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->personalities.at(0).pci_primary.at(0).value, 0x00301000u);
}

TEST(InfoPlist, MalformedInputGetsOnePreciseError) {
  std::string error;
  EXPECT_FALSE(load_info_plist("fixtures/plists/not-a-plist.plist", &error));
  EXPECT_EQ(error, "fixtures/plists/not-a-plist.plist: error: not a property list (neither XML nor binary plist parses)");
  EXPECT_FALSE(load_info_plist("fixtures/plists/bad-pattern.plist", &error));
  EXPECT_EQ(error,
            "fixtures/plists/bad-pattern.plist: error: IOKitPersonalities.Broken.IOPCIPrimaryMatch: \"1000:0030\" is not "
            "0xDEVIVEND or 0xDEVIVEND&0xMASKMASK (device ID in the upper 16 bits)");
  EXPECT_FALSE(load_info_plist("fixtures/plists/lsi-mpt.entitlements", &error));  // a plist, but no personalities
  EXPECT_EQ(error, "fixtures/plists/lsi-mpt.entitlements: error: IOKitPersonalities: missing: a dext without personalities never matches");
  EXPECT_FALSE(load_info_plist("no/such/Info.plist", &error));
}

TEST(Matching, PciPatternsMasksClassAndProbeScore) {
  std::vector<PciPattern> patterns;
  std::string error;
  ASSERT_TRUE(parse_pci_patterns("0x00301000&0xFFFFFFFF 0x00001000&0x0000FFFF", &patterns, &error));
  ASSERT_EQ(patterns.size(), 2u);
  EXPECT_TRUE(patterns[1].matches(0x12341000));
  EXPECT_FALSE(patterns[0].matches(0x00311000));
  EXPECT_TRUE(patterns[0].covered_by(patterns[1]));   // LSI 0030 lies within "any LSI device"
  EXPECT_FALSE(patterns[1].covered_by(patterns[0]));
  PciPattern anything{0xffffffff, 0, "0xFFFFFFFF&0x00000000"};  // the development entitlement
  EXPECT_TRUE(patterns[1].covered_by(anything));

  DextInfo info;
  Personality generic;
  generic.name = "AnyLSI";
  generic.provider_class = "IOPCIDevice";
  generic.pci_match = {patterns[1]};
  Personality specific = generic;
  specific.name = "LSI1030";
  specific.pci_match = {patterns[0]};
  specific.probe_score = 100;
  Personality scsi_class = generic;
  scsi_class.name = "AnySCSI";
  scsi_class.pci_match.clear();
  scsi_class.pci_class = {PciPattern{0x01000000, 0xffff0000, "0x01000000&0xFFFF0000"}};
  scsi_class.probe_score = 50;
  info.personalities = {generic, specific, scsi_class};
  EXPECT_EQ(best_pci_match(info, 0x1000, 0x0030, 0x010000)->name, "LSI1030");
  EXPECT_EQ(best_pci_match(info, 0x1000, 0x0062, 0x010400)->name, "AnyLSI");
  EXPECT_EQ(best_pci_match(info, 0x9005, 0x0001, 0x010000)->name, "AnySCSI");
  EXPECT_EQ(best_pci_match(info, 0x8086, 0x10d3, 0x020000), nullptr);
}

// The Megatec/Q1 bridge's interface 0 (HID class 3, subclass 0), and its device.
UsbNub ups_interface() {
  UsbNub n;
  n.vendor = 0x0665;
  n.product = 0x5161;
  n.bcd_device = 0x0002;
  n.interface_class = 3;
  return n;
}

const Personality& named(const DextInfo& info, const std::string& name) {
  for (const auto& p : info.personalities) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no personality " + name);
}

TEST(UsbMatching, ReadsNumbersRealsWildcardsAndArrays) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/usb-personalities.plist", &error);
  ASSERT_TRUE(info) << error;
  ASSERT_EQ(info->personalities.size(), 4u);
  const Personality& any = named(*info, "AnyProductOfTheVendor");
  EXPECT_EQ(any.usb_vendor, 0x0665u);  // written as <real> by some plist editors
  EXPECT_TRUE(any.usb_keys.at("idProduct").wildcard);
  EXPECT_FALSE(any.usb_product);
  EXPECT_EQ(named(*info, "ProductList").usb_product_array, (std::vector<std::uint32_t>{0x5160, 0x5161}));
}

TEST(UsbMatching, CombinationsScoresAndTheVendorSpecificRule) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/usb-personalities.plist", &error);
  ASSERT_TRUE(info) << error;
  auto named = [&](const std::string& name) -> const Personality& { return driverkit::named(*info, name); };
  const UsbNub ups = ups_interface();
  EXPECT_EQ(usb_match_score(named("ExactInterface"), ups), 90000);  // vendor+product+configuration+interface
  EXPECT_EQ(usb_match_score(named("AnyProductOfTheVendor"), ups), 89000);  // the same, less 1000 for the "*"
  EXPECT_EQ(usb_match_score(named("HidClass"), ups), 50000);        // class+subclass
  EXPECT_FALSE(usb_match_score(named("ProductList"), ups));          // a device personality, and this is an interface
  std::int64_t score = 0;
  EXPECT_EQ(best_usb_match(*info, ups, &score), &named("ExactInterface"));
  EXPECT_EQ(score, 90000);

  UsbNub other = ups;
  other.interface_number = 1;
  EXPECT_FALSE(usb_match_score(named("ExactInterface"), other));
  // A class-only personality never matches a vendor-specific (0xFF) interface.
  UsbNub vendor_specific = ups;
  vendor_specific.interface_class = 0xff;
  Personality hid = named("HidClass");
  hid.usb_keys["bInterfaceClass"].value = 0xff;
  EXPECT_FALSE(usb_match_score(hid, vendor_specific));
  // There, vendor+subclass is the form to use.
  Personality vendor;
  vendor.provider_class = "IOUSBHostInterface";
  vendor.usb_keys = {{"idVendor", {0x0665, false}}, {"bInterfaceSubClass", {0, false}}};
  EXPECT_EQ(usb_match_score(vendor, vendor_specific), 70000);
  EXPECT_FALSE(usb_match_score(vendor, ups));  // but not on a class-3 interface

  // Device nubs: idProductArray, IOProbeScore (capped at 9000), and idProductMask's penalty.
  UsbNub device = ups;
  device.interface = false;
  Personality list = named("ProductList");
  EXPECT_EQ(usb_match_score(list, device), 90000);
  list.probe_score = 20000;
  EXPECT_EQ(usb_match_score(list, device), 99000);
  Personality masked;
  masked.provider_class = "IOUSBHostDevice";
  masked.usb_keys = {{"idVendor", {0x0665, false}}, {"idProduct", {0x5100, false}}};
  EXPECT_FALSE(usb_match_score(masked, device));
  masked.usb_product_mask = 0xff00;
  EXPECT_EQ(usb_match_score(masked, device), 89500);
  // A key outside every combination makes the personality match nothing.
  masked.usb_keys["bInterfaceNumber"] = {0, false};
  EXPECT_FALSE(usb_match_score(masked, device));
}

TEST(UsbMatching, MismatchesNameEachKeyOrTheCombination) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/usb-personalities.plist", &error);
  ASSERT_TRUE(info) << error;
  const UsbNub ups = ups_interface();
  EXPECT_TRUE(usb_mismatches(named(*info, "ExactInterface"), ups).empty());
  UsbNub other = ups;
  other.product = 0x5162;
  other.interface_number = 1;
  EXPECT_EQ(usb_mismatches(named(*info, "ExactInterface"), other),
            (std::vector<std::string>{"idProduct does not match the nub's 0x5162",
                                      "bInterfaceNumber does not match the nub's 0x01"}));
  EXPECT_EQ(usb_mismatches(named(*info, "ProductList"), ups),
            std::vector<std::string>{"IOProviderClass is \"IOUSBHostDevice\", not IOUSBHostInterface"});
  // Every key matches, but vendor + interface number is no form IOUSBHostFamily knows.
  Personality loose;
  loose.provider_class = "IOUSBHostInterface";
  loose.usb_keys = {{"idVendor", {0x0665, false}}, {"bInterfaceNumber", {0, false}}};
  EXPECT_EQ(usb_mismatches(loose, ups),
            std::vector<std::string>{
                "its keys (idVendor, bInterfaceNumber) are not a combination IOUSBHostFamily matches on"});
}

TEST(UsbMatching, MalformedKeysAreNamed) {
  const auto path = std::filesystem::temp_directory_path() / "dexthil-usb-bad.plist";
  std::ofstream(path) << "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>IOKitPersonalities</key><dict>"
                         "<key>P</key><dict><key>idVendor</key><string>apple</string></dict></dict></dict></plist>";
  std::string error;
  EXPECT_FALSE(load_info_plist(path.string(), &error));
  EXPECT_EQ(error, path.string() + ": error: IOKitPersonalities.P.idVendor: \"apple\" is neither a number nor \"*\"");
}

TEST(Lint, ACorrectDextIsClean) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/lsi-mpt.plist", &error);
  auto entitlements = load_entitlements("fixtures/plists/lsi-mpt.entitlements", &error);
  ASSERT_TRUE(info && entitlements) << error;
  EXPECT_TRUE(lint(*info, &*entitlements).empty());
}

TEST(Lint, TheFieldsMistakesAreEachNamed) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/lsi-mpt-mistakes.plist", &error);
  auto entitlements = load_entitlements("fixtures/plists/lsi-mpt.entitlements", &error);
  ASSERT_TRUE(info && entitlements) << error;
  const auto findings = lint(*info, &*entitlements);
  EXPECT_EQ(rules(findings), (std::vector<std::string>{"plist.server-name", "plist.match-category", "plist.family-class",
                                                       "plist.entitlement-coverage"}));
  EXPECT_EQ(findings[3].what, "PCI match 0x00621000 is not covered by any com.apple.developer.driverkit.transport.pci entry");
  // Without the entitlements only the plist's own rules can run.
  EXPECT_EQ(rules(lint(*info, nullptr)), (std::vector<std::string>{"plist.server-name", "plist.match-category"}));
  // A personality missing its keys.
  DextInfo bare;
  bare.personalities.push_back(Personality{});
  bare.personalities[0].name = "Bare";
  EXPECT_EQ(rules(lint(bare, nullptr)), (std::vector<std::string>{"plist.bundle-id", "plist.missing-key", "plist.missing-key",
                                                                   "plist.missing-key", "plist.missing-key"}));
}

TEST(Lint, IOMatchCategoryOnUsbIsAFindingOnlyWhereASystemClassDriverMatchesToo) {
  // Apple's vendor-specific USB sample puts IOMatchCategory on a device matched by its IDs and on
  // an interface; Darwin leaves vendor-specific devices (class 255) to their driver. A standard
  // class (here HID, 3) has a system driver matching the same nub.
  auto usb = [](const char* name, const char* provider) {
    Personality p;
    p.name = name;
    p.io_class = "IOUserService";
    p.provider_class = provider;
    p.user_class = "Driver";
    p.user_server_name = "org.example.usb";
    p.match_category = "org.example.usb";
    p.usb_keys["idVendor"] = {0x045E, false};
    return p;
  };
  DextInfo info;
  info.bundle_id = "org.example.usb";
  info.personalities.push_back(usb("ByIds", "IOUSBHostDevice"));
  info.personalities.push_back(usb("VendorInterface", "IOUSBHostInterface"));
  info.personalities.back().usb_keys["bInterfaceClass"] = {255, false};
  info.personalities.push_back(usb("HidInterface", "IOUSBHostInterface"));
  info.personalities.back().usb_keys["bInterfaceClass"] = {3, false};
  info.personalities.push_back(usb("CompositeDevice", "IOUSBHostDevice"));
  info.personalities.back().usb_keys["bDeviceClass"] = {0, false};
  const auto findings = lint(info, nullptr);
  ASSERT_EQ(rules(findings), (std::vector<std::string>{"plist.match-category", "plist.match-category"}));
  EXPECT_EQ(findings[0].where, "IOKitPersonalities.HidInterface.IOMatchCategory");
  EXPECT_EQ(findings[0].what,
            "IOMatchCategory \"org.example.usb\" on a personality matching IOUSBHostInterface of bInterfaceClass 3");
  EXPECT_NE(findings[0].why.find("has a system class driver of its own"), std::string::npos) << findings[0].why;
  EXPECT_EQ(findings[1].where, "IOKitPersonalities.CompositeDevice.IOMatchCategory");
}

TEST(Lint, BuildSettingsAreExpandedBeforeTheRulesJudge) {
  // Without the settings, each reference is a finding and the names it left empty are too.
  std::string error;
  auto info = load_info_plist("fixtures/plists/xcode-settings.plist", &error);
  ASSERT_TRUE(info) << error;
  const auto findings = lint(*info, nullptr);
  EXPECT_EQ(rules(findings), (std::vector<std::string>{"plist.build-setting", "plist.build-setting", "plist.build-setting",
                                                       "plist.bundle-id", "plist.missing-key"}));
  EXPECT_EQ(findings[0].where, "CFBundleIdentifier");
  EXPECT_EQ(findings[0].what, "CFBundleIdentifier uses $(PRODUCT_BUNDLE_IDENTIFIER), which no build setting defines");
  EXPECT_EQ(findings[2].where, "IOKitPersonalities.LSIMPT.IOUserServerName");

  // With them, as Xcode builds it: clean, and the names are the expanded ones.
  xcode::BuildSettings settings;
  ASSERT_TRUE(settings.assign(xcode::BuildSettings::kTarget, "PRODUCT_BUNDLE_IDENTIFIER", "org.dexthil.LSIMPT", "", &error));
  ASSERT_TRUE(settings.assign(xcode::BuildSettings::kTarget, "PRODUCT_NAME", "LSI MPT", "", &error));
  info = load_info_plist("fixtures/plists/xcode-settings.plist", &error, &settings);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->bundle_id, "org.dexthil.LSIMPT");
  EXPECT_EQ(info->personalities[0].user_server_name, "org.dexthil.LSIMPT");
  EXPECT_TRUE(lint(*info, nullptr).empty());

  // The bundle's copy has every string expanded (CFBundleName through :rfc1034identifier).
  const auto out = std::filesystem::temp_directory_path() / "dexthil-expanded-Info.plist";
  std::vector<UnsetSetting> unset;
  ASSERT_TRUE(write_expanded_info_plist("fixtures/plists/xcode-settings.plist", out.string(), settings, &unset, &error))
      << error;
  EXPECT_TRUE(unset.empty());
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<string>LSI-MPT</string>"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find("$("), std::string::npos) << text.str();
}

TEST(Lint, AGeneratedInfoPlistGetsTheBundleKeysFromTheTarget) {
  // GENERATE_INFOPLIST_FILE = YES: Xcode adds CFBundleIdentifier and the other bundle keys, and
  // each INFOPLIST_KEY_<Key>, to what the file has; the file's own keys stay.
  const auto path = std::filesystem::temp_directory_path() / "dexthil-generated-Info.plist";
  std::ofstream(path) << "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>CFBundleName</key><string>Mine</string>"
                         "<key>IOKitPersonalities</key><dict/></dict></plist>";
  xcode::BuildSettings settings;
  std::string error;
  for (const auto& [name, value] : {std::pair<const char*, const char*>{"GENERATE_INFOPLIST_FILE", "YES"},
                                    {"PRODUCT_BUNDLE_IDENTIFIER", "org.dexthil.Generated"},
                                    {"PRODUCT_NAME", "Generated"},
                                    {"INFOPLIST_KEY_OSBundleUsageDescription", "For tests"}}) {
    ASSERT_TRUE(settings.assign(xcode::BuildSettings::kTarget, name, value, "", &error)) << error;
  }
  auto info = load_info_plist(path.string(), &error, &settings);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->bundle_id, "org.dexthil.Generated");
  const auto out = std::filesystem::temp_directory_path() / "dexthil-generated-out.plist";
  std::vector<UnsetSetting> unset;
  ASSERT_TRUE(write_expanded_info_plist(path.string(), out.string(), settings, &unset, &error)) << error;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<key>CFBundleName</key>\n\t<string>Mine</string>"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("<key>OSBundleUsageDescription</key>\n\t<string>For tests</string>"), std::string::npos)
      << text.str();
  // Generated keys whose settings this target does not set are left out (no CFBundleVersion
  // without CURRENT_PROJECT_VERSION), so nothing expands to an empty string.
  EXPECT_TRUE(unset.empty());
  EXPECT_EQ(text.str().find("CFBundleVersion"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find("CFBundleExecutable"), std::string::npos) << text.str();
}

TEST(Lint, ABooleanTransportEntitlementIsAFindingAndTheOtherRulesStillRun) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/lsi-mpt-mistakes.plist", &error);
  auto entitlements = load_entitlements("fixtures/plists/boolean-transport.entitlements", &error);
  ASSERT_TRUE(info && entitlements) << error;
  const auto findings = lint(*info, &*entitlements);
  EXPECT_EQ(rules(findings), (std::vector<std::string>{"plist.entitlement-format", "plist.server-name",
                                                       "plist.match-category", "plist.family-class"}));
  EXPECT_EQ(findings[0].what, "com.apple.developer.driverkit.transport.pci is a boolean, not an array of dictionaries");
}

TEST(Lint, KeysTheProviderClassNeverHasAreFindings) {
  std::string error;
  auto info = load_info_plist("fixtures/plists/impossible-keys.plist", &error);
  ASSERT_TRUE(info) << error;
  const auto findings = lint(*info, nullptr);
  EXPECT_EQ(rules(findings),
            (std::vector<std::string>{"plist.impossible-key", "plist.impossible-key", "plist.impossible-key"}));
  EXPECT_EQ(findings[0].where, "IOKitPersonalities.DeviceWithInterfaceKeys.bInterfaceNumber");
  EXPECT_EQ(findings[0].what, "bInterfaceNumber on a personality whose IOProviderClass is IOUSBHostDevice");
  EXPECT_EQ(findings[1].where, "IOKitPersonalities.PciWithUsbKeys.idVendor");
  EXPECT_EQ(findings[2].where, "IOKitPersonalities.InterfaceWithPciMatch.IOPCIMatch");
  EXPECT_NE(findings[2].why.find("Only IOPCIDevice nubs carry IOPCIMatch"), std::string::npos) << findings[2].why;
}

}  // namespace
}  // namespace dexthil::driverkit
