#pragma once
// The scenario sections built into dexthil's runner, registered beside the model types.
#include "harness/runner/model_catalog.hpp"
#include "harness/runner/sections/dext_crash.hpp"
#include "harness/runner/sections/disk.hpp"
#include "harness/runner/sections/hotplug.hpp"
#include "harness/runner/sections/scsi_task_management.hpp"
#include "harness/runner/sections/usb_device.hpp"

namespace dexthil::runner {

inline void register_builtin_sections(ModelCatalog& catalog) {
  catalog.add_section(hotplug_section());
  catalog.add_section(usb_device_section());
  catalog.add_section(disk_section());
  catalog.add_section(dext_crash_section());
  catalog.add_section(scsi_task_management_section());
}

}  // namespace dexthil::runner
