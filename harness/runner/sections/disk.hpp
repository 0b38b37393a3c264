#pragma once
// [[disk]]: macOS's storage stack on a SCSI target a controller dext creates. The block front end
// (harness/storage) probes the target as the stack does, then runs the section's workload through
// it (sequential or random I/O at a queue depth, or an fio iolog replayed) and verifies every
// byte it reads back. Its figures are "disk@ENDPOINT.tID.NAME" for [[expect]] stat.
#include <memory>

#include "harness/scenario/section.hpp"

namespace dexthil::runner {

std::shared_ptr<const scenario::SectionPlugin> disk_section();

}  // namespace dexthil::runner
