#pragma once
// [[dext_crash]]: fault injection. At a given time the process of the dext driving a topology
// endpoint is killed, as a crash would end it; the kernel then does what it does for any crash
// of a started service (ClientCrashed, the provider's recovery, a relaunch).
#include <memory>

#include "harness/scenario/section.hpp"

namespace dexthil::runner {

std::shared_ptr<const scenario::SectionPlugin> dext_crash_section();

}  // namespace dexthil::runner
