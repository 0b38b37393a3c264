#pragma once
// The checkers that judge what the host DriverKit reports through the monitor: how a dext uses
// its device, DMA preparation, its services' lives and its processes. A run with dexts, and a
// test that runs a kernel, subscribes all of them before the kernel starts.
#include "harness/checks/device_access_checker.hpp"
#include "harness/checks/dext_process_checker.hpp"
#include "harness/checks/dma_prepare_checker.hpp"
#include "harness/checks/lifecycle_checker.hpp"
#include "harness/checks/scsi_family_checker.hpp"
#include "harness/checks/storage_checker.hpp"

namespace dexthil::checks {

struct DriverKitCheckers {
  DriverKitCheckers(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
      : device_access(monitor, findings, trace),
        dma_prepare(monitor, findings, trace),
        lifecycle(monitor, findings, trace),
        dext_process(monitor, findings, trace),
        scsi_family(monitor, findings, trace),
        storage(monitor, findings, trace) {}

  DeviceAccessChecker device_access;
  DmaPrepareChecker dma_prepare;
  LifecycleChecker lifecycle;
  DextProcessChecker dext_process;
  ScsiFamilyChecker scsi_family;
  StorageChecker storage;  // the block front end above the SCSI family
};

}  // namespace dexthil::checks
