#pragma once
// What the kernel tests share: where the harness's own dexts are built, the last service the
// kernel started, a number a dext published with SetProperties, and the findings as text.
#include <cstdint>
#include <string>
#include <vector>

#include <DriverKit/DriverKit.h>

#include "harness/checks/finding.hpp"
#include "harness/driverkit/kernel/kernel.hpp"

namespace dexthil::driverkit::testing {

inline std::string dext_library(const std::string& target) {
  return std::string(DEXTHIL_DEXT_DIR) + "/" + target + ".dext/lib" + target + ".so";
}

inline const ServiceRecord* last_service(const Kernel& kernel) {
  auto all = kernel.services();
  return all.empty() ? nullptr : all.back();
}

// The number the service published under `key` (kept in its registry entry's
// IOUserServiceProperties; CopyProperties lifts those keys to the top level), or all ones when
// there is none.
inline std::uint64_t published_number(const ServiceRecord* rec, const char* key) {
  if (!rec || !rec->service) return ~0ull;
  OSDictionary* props = nullptr;
  rec->service->CopyProperties(&props);
  const OSNumber* n = OSDynamicCast(OSNumber, props->getObject(key));
  const std::uint64_t value = n ? n->unsigned64BitValue() : ~0ull;
  props->release();
  return value;
}

inline std::vector<checks::Finding> findings_with_check(const checks::FindingLog& findings, const std::string& check) {
  std::vector<checks::Finding> out;
  for (const auto& f : findings.all()) {
    if (f.check == check) out.push_back(f);
  }
  return out;
}

inline std::string findings_text(const checks::FindingLog& findings) {
  std::string out;
  for (const auto& f : findings.all()) out += f.check + ": " + f.what + "\n";
  return out;
}

}  // namespace dexthil::driverkit::testing
