#pragma once
// The dext classes the kernel can instantiate by IOUserClass name. Code iig generates registers
// each class as the dext's shared object is loaded (dexthil::iig::register_class).
#include <cstdint>
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

// Loads another copy of a dext's shared object, with globals of its own: what a new dext
// process gets when the kernel restarts a crashed one. The copy is a temporary file, removed
// once loaded.
std::optional<std::vector<DextClass>> load_fresh_dext_copy(const std::string& path, std::string* error);

// A loaded copy of a dext library: where its code lies and which file it came from.
struct DextLibraryInfo {
  std::string path;          // the library as the user built it (a fresh copy names its original)
  std::uintptr_t base = 0;   // load bias: file offsets are addresses minus this
  std::uintptr_t begin = 0, end = 0;  // its mapped segments
};
// The dext library an address lies in, or nullptr (harness code, libc, ...).
const DextLibraryInfo* dext_library_at(std::uintptr_t address);

}  // namespace dexthil::driverkit
