#pragma once
// IOReturn values as people read them in findings: "kIOReturnTimeout (0xe00002d6)".
#include <string>

#include <DriverKit/IOReturn.h>

namespace dexthil::driverkit {

std::string ioreturn_name(IOReturn value);

}  // namespace dexthil::driverkit
