#include "harness/checks/finding.hpp"

#include <algorithm>

namespace dexthil::checks {

void FindingLog::add(Finding finding) {
  ++total_;
  std::size_t& seen = per_place_[{finding.check, finding.where}];
  if (++seen <= kept_per_place_) {
    findings_.push_back(std::move(finding));
    return;
  }
  for (HeldBack& h : held_back_) {
    if (h.check == finding.check && h.where == finding.where) {
      ++h.count;
      return;
    }
  }
  std::string subject = finding.matched_name();  // before `where` is moved from: it may be the subject
  held_back_.push_back({std::move(finding.check), std::move(finding.where), std::move(subject), 1,
                        finding.informational});
}

const std::vector<CheckInfo>& known_checks() {
  static const std::vector<CheckInfo> checks = {
      {"dma.completion-status", "a DMA request completed with a status other than SC"},
      {"dma.data-mismatch", "read data differs from what the device last wrote there"},
      {"dma.unexpected-completion", "a completion arrived for a tag with no request in flight"},
      {"dma.incomplete", "a DMA request was still in flight when the scenario ended"},
      {"rtl.assertion", "a SystemVerilog assertion in a model's RTL failed (a model or harness bug, not the dext's)"},
      {"dart.fault", "the DART refused a DMA: no translation for its SID and IOVA, or no permission"},
      {"kernel.panic",
       "the Mac panicked: xnu's DART driver panics on a DART error, and the run stops there ([kernel] dart_fault)"},
      {"dma.outside-mapping", "a DMA the DART let through falls outside every buffer prepared for the device"},
      {"dma.direction", "a DMA moved data in a direction its prepared buffer does not allow"},
      {"dma.after-complete", "a DMA touched a buffer after CompleteDMA"},
      {"dma.address-width", "a DMA address needs more bits than the device can drive"},
      {"pcie.crosses-4k", "a memory request crosses a 4 KiB boundary"},
      {"pcie.max-payload", "a write request exceeds the function's Max Payload Size"},
      {"pcie.max-read-request", "a read request exceeds the function's Max Read Request Size"},
      {"budget.dma-latency", "a DMA request took longer than the scenario's latency budget"},
      {"serial.framing-error", "characters on a serial line reached a UART set to other settings (baud, framing)"},
      {"dma.prepare-failed",
       "PrepareForDMA failed (maxAddressBits the DART's IOVAs or, without an IOMMU, host memory cannot meet; or IOVA space exhausted)"},
      {"dma.bounce",
       "informational: without an IOMMU, PrepareForDMA double-buffered memory above maxAddressBits through low pages"},
      {"dext.queue-assertion", "a synchronous message reached a dext before the queue it is routed to existed"},
      {"dext.exception", "dext code ended with an uncaught C++ exception"},
      {"dext.signal", "dext code died of a signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: abort, std::terminate)"},
      {"dext.stack-overflow", "dext code ran past the end of its dispatch thread's stack"},
      {"dext.hang", "a dext callback ran longer than the wall-clock limit without returning to its queue"},
      {"dext.crashed", "a dext process died: the provider's ClientCrashed (an IOPCIDevice resets its device) and the "
                       "kernel's rematch"},
      {"dext.crash-loop", "a dext crashed more than its daily limit (3), or its device ran out of relaunches"},
      {"dext.no-match", "a loaded dext matched no nub: named with its closest personality and why it failed"},
      {"dext.family-not-simulated",
       "a personality's IOClass asks for a family's kernel half dexthil does not simulate yet: the service ran as a "
       "plain IOUserService"},
      {"dext.leak", "an object the dext created was still alive after its service was freed"},
      {"scsi.hba-constraints",
       "panic: a SCSI controller dext's UserInitializeController returned without the required HBA constraints"},
      {"scsi.controller-failed", "a step of a SCSI controller's bring-up failed: the family does not bring it up"},
      {"scsi.create-target-deadlock",
       "UserCreateTargetForID called from the Default queue, which never returns on a Mac (answered kIOReturnBusy)"},
      {"scsi.completion-version",
       "a task's completion carried the wrong response version: the kernel dropped it and the task timed out"},
      {"scsi.task-completed-twice", "a SCSI controller dext completed a task a second time"},
      {"scsi.completion-mismatch", "a completion's response named another task or target than its action's"},
      {"scsi.task-timeout", "a SCSI task timed out (kSCSITaskStatus_TaskTimeoutOccurred): the family ended it and sent an abort"},
      {"scsi.tmf-response",
       "a task management request (UserAbortTaskRequest ...) was answered without a task management response"},
      {"scsi.tmf-tasks-left", "a task management request answered FUNCTION_COMPLETE with tasks it covered still outstanding"},
      {"storage.probe-failed", "a new disk did not answer macOS's probe sequence: no media would be published"},
      {"storage.io-error", "a read or write through the storage stack failed (kIOReturnIOError) on its last attempt"},
      {"storage.io-retried", "a read or write failed and the storage stack sent it again (informational)"},
      {"storage.data-mismatch", "data read back differs from what the disk acknowledged writing"},
      {"storage.io-incomplete", "a read or write was still outstanding when the run ended"},
      {"lifecycle.start-failed", "a matched service's init or Start failed"},
      {"lifecycle.super-start", "Start succeeded without calling Start(provider, SUPERDISPATCH)"},
      {"lifecycle.super-stop", "Stop(provider, SUPERDISPATCH) never called, in Stop or after it"},
      {"lifecycle.stop-failed", "Stop returned an error"},
      {"lifecycle.user-client", "NewUserClient or IOService::Create could not give an application its user client"},
      {"lifecycle.io-after-stop", "interrupts, timers, DMA or the provider left running after Stop"},
      {"power.ack-timeout", "a SetPowerState was not acknowledged within the kernel's 20 s"},
      {"power.access-while-off", "the dext touched its device while it was powered off"},
      {"pci.access-during-reset", "the dext touched its device while IOPCIDevice::Reset was in progress"},
      {"pci.unsupported-request",
       "a memory request the function could not take (no BAR claims it, decoding off, D3hot, no device): UR, all ones"},
      {"pci.completion-timeout", "a read the device never answered ended at the PCIe completion timeout, all ones"},
  };
  return checks;
}

bool is_known_check(const std::string& id) {
  const auto& checks = known_checks();
  return std::any_of(checks.begin(), checks.end(), [&](const CheckInfo& c) { return id == c.id; });
}

}  // namespace dexthil::checks
