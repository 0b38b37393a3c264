#pragma once
// [[hotplug]]: surprise removal of the device behind a topology endpoint during the run. The
// link goes down, the model leaves the simulation, and the kernel terminates the nub's services.
#include <memory>

#include "harness/scenario/section.hpp"

namespace dexthil::runner {

std::shared_ptr<const scenario::SectionPlugin> hotplug_section();

}  // namespace dexthil::runner
