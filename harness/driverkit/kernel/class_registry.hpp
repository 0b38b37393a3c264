#pragma once
// The dext classes the kernel can instantiate by IOUserClass name. Code iig generates registers
// each class as the dext's shared object is loaded (dexthil::iig::register_class).
#include <optional>
#include <string>
#include <vector>

class OSObject;

namespace dexthil::driverkit {

// Loads a dext's shared object (once per path) and returns the classes it registered, or
// nullopt with *error naming the file and the loader's reason (an undefined DriverKit symbol the
// harness does not provide yet, for instance).
std::optional<std::vector<std::string>> load_dext_library(const std::string& path, std::string* error);
// A new, uninitialised object of a registered class; nullptr if no such class.
OSObject* create_registered_object(const std::string& class_name);
bool is_registered_class(const std::string& class_name);

}  // namespace dexthil::driverkit
