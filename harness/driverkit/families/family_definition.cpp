#include "harness/driverkit/families/family_definition.hpp"

#include <algorithm>

namespace dexthil::driverkit::families {

const std::vector<const FamilyDefinition*>& all() {
  static const std::vector<const FamilyDefinition*> families = {&driverkit(), &pci(), &usb(),
                                                                &hid(),       &scsi_controller(), &audio()};
  return families;
}

const FamilyDefinition* family_of_kernel_class(std::string_view io_class) {
  for (const FamilyDefinition* f : all()) {
    if (std::find(f->kernel_classes.begin(), f->kernel_classes.end(), io_class) != f->kernel_classes.end()) return f;
  }
  return nullptr;
}

std::vector<std::string_view> kernel_sent_messages() {
  std::vector<std::string_view> out;
  for (const FamilyDefinition* f : all()) {
    for (const ClassDefinition& c : f->classes) {
      for (std::string_view m : c.kernel_sent) {
        if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
      }
    }
  }
  return out;
}

bool is_kernel_sent(std::string_view method) {
  static const std::vector<std::string_view> messages = kernel_sent_messages();
  return std::find(messages.begin(), messages.end(), method) != messages.end();
}

}  // namespace dexthil::driverkit::families
