#pragma once
// What the kernel and dexthil-iig know about each DriverKit family: the dext-side classes it
// declares with the messages the kernel sends them, the kernel classes a personality names as
// IOClass to work through the family, and the entitlement that admits a dext to it. One table per
// family (families/<family>/definition.cpp); dexthil-iig reads its list of kernel-sent messages
// from here, `dexthil lint-plist` its family classes, and the kernel its family plug-ins' names.
// Pure data: nothing here depends on the kernel, so the iig tool links it alone.
#include <string_view>
#include <vector>

namespace dexthil::driverkit::families {

// A class a dext subclasses (IOService, IOUserSCSIParallelInterfaceController) and the messages
// the kernel or the family's kernel half sends to it. A dext's override of one of these is a
// message (dispatched on a queue, routable with QUEUENAME), not a plain C++ virtual.
struct ClassDefinition {
  std::string_view name;
  std::string_view base;  // empty for a root
  std::vector<std::string_view> kernel_sent;
};

struct FamilyDefinition {
  std::string_view name;         // the framework: "SCSIControllerDriverKit"
  // The entitlement that admits a dext to the family and obliges its personalities to name one of
  // the kernel classes as IOClass; empty where no single rule holds.
  std::string_view entitlement;
  // IOClass values whose kernel half this family supplies (IOUserSCSIParallelInterfaceController).
  std::vector<std::string_view> kernel_classes;
  std::vector<ClassDefinition> classes;
};

// Every family dexthil knows, DriverKit's own first.
const std::vector<const FamilyDefinition*>& all();
// The family whose kernel classes include `io_class`, or nullptr (IOUserService is DriverKit's).
const FamilyDefinition* family_of_kernel_class(std::string_view io_class);
// Is `method` a message the kernel sends to some class of some family?
bool is_kernel_sent(std::string_view method);
// Every kernel-sent message name, each once, in family order.
std::vector<std::string_view> kernel_sent_messages();

// The tables, one per family (families/<family>/definition.cpp).
const FamilyDefinition& driverkit();
const FamilyDefinition& pci();
const FamilyDefinition& usb();
const FamilyDefinition& hid();
const FamilyDefinition& scsi_controller();
const FamilyDefinition& audio();

}  // namespace dexthil::driverkit::families
