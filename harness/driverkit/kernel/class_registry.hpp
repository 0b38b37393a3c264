#pragma once
// The dext classes the kernel can instantiate by IOUserClass name. Code iig generates registers
// each class as the dext's shared object is loaded (dexthil::iig::register_class).
#include <optional>
#include <string>
#include <vector>

#include <DriverKit/IORPC.h>

class OSObject;

namespace dexthil::driverkit {

struct DextClass {
  std::string name;
  const OSMetaClass* meta = nullptr;
  dexthil::iig::ClassFactory factory = nullptr;  // a new, uninitialised object
};

// Loads a dext's shared object (once per path) and returns the classes it registered, or
// nullopt with *error naming the file and the loader's reason (an undefined DriverKit symbol the
// harness does not provide yet, for instance). Classes belong to their library: two dexts may
// both have a class called MyDriver, as two bundles may on macOS.
std::optional<std::vector<DextClass>> load_dext_library(const std::string& path, std::string* error);

}  // namespace dexthil::driverkit
