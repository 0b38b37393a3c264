#include "harness/checks/storage_checker.hpp"

#include <cstdio>
#include <string>

#include "harness/storage/scsi_initiator.hpp"

namespace dexthil::checks {
namespace {

// SCSITask.h's names for what the initiator saw.
std::string outcome_text(const monitor::ScsiFailure& f) {
  const char* response = storage::service_response_name(f.response);
  std::string text = response ? response : "service response " + std::to_string(f.response);
  const bool delivered = f.response == 2;
  const char* status = nullptr;
  switch (f.status) {
    case 0x00: status = "kSCSITaskStatus_GOOD"; break;
    case 0x02: status = delivered ? "kSCSITaskStatus_CHECK_CONDITION" : "kSCSITaskStatus_ProtocolTimeoutOccurred"; break;
    case 0x08: status = "kSCSITaskStatus_BUSY"; break;
    case 0x28: status = "kSCSITaskStatus_TASK_SET_FULL"; break;
    case 0x01: status = "kSCSITaskStatus_TaskTimeoutOccurred"; break;
    case 0x03: status = "kSCSITaskStatus_DeviceNotResponding"; break;
    case 0x04: status = delivered ? "kSCSITaskStatus_CONDITION_MET" : "kSCSITaskStatus_DeviceNotPresent"; break;
    case 0x05: status = "kSCSITaskStatus_DeliveryFailure"; break;
    default: break;
  }
  text += ", ";
  text += status ? status : "status " + std::to_string(f.status);
  if (f.has_sense) {
    char sense[64];
    std::snprintf(sense, sizeof sense, ", sense key 0x%X ASC/ASCQ 0x%02X/0x%02X", f.sense_key, f.asc, f.ascq);
    text += sense;
  }
  return text;
}

}  // namespace

StorageChecker::StorageChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::BlockProbeFailed>([this](const monitor::BlockProbeFailed& e) {
    const std::string what = (e.command.empty() ? "" : std::string(e.command) + " ") +
                             (e.why.empty() ? "ended " + outcome_text(e.failure) : std::string(e.why));
    findings_.add({"storage.probe-failed", std::string(e.device), e.time,
                   what + ": macOS would publish no media for this disk",
                   "macOS's storage stack probes a new target with TEST UNIT READY, INQUIRY (6 bytes, then all of "
                   "it, then 36), its VPD pages, the write-cache page and READ CAPACITY before it publishes the disk "
                   "(docs/research/macos-scsi-probe-sequence.md). The dext must report each command's real status, "
                   "sense and transferred byte count."});
  });
  monitor.subscribe<monitor::BlockIoFailed>([this](const monitor::BlockIoFailed& e) {
    const std::string what = std::string(e.command) + " of " + std::to_string(e.blocks) + " blocks at LBA " +
                             std::to_string(e.lba) + " ended " + outcome_text(e.failure) + " after " +
                             std::to_string(e.transferred) + " bytes";
    if (e.retries_left > 0) {
      // Worth knowing (a Mac hides it from the application), not an error by itself.
      Finding f{"storage.io-retried", std::string(e.device), e.time,
                what + " (attempt " + std::to_string(e.attempt) + "): sent again, retry " + std::to_string(e.attempt) +
                    " of " + std::to_string(e.attempt - 1 + e.retries_left),
                "IOBlockStorageServices sends a failed READ or WRITE again, up to 4 times, at once and unchanged, "
                "unless the disk is gone (docs/research/scsi-task-management.md). The application sees nothing "
                "unless every attempt fails, so a dext that fails I/O now and then looks healthy on a Mac."};
      f.informational = true;
      findings_.add(std::move(f));
      return;
    }
    findings_.add({"storage.io-error", std::string(e.device), e.time,
                   what + (e.attempt > 1 ? " on attempt " + std::to_string(e.attempt) + ", the last" : std::string()) +
                       ": kIOReturnIOError",
                   "The block storage driver turns anything but a full transfer with GOOD status into "
                   "kIOReturnIOError for the application once its retries are spent (none when the disk is gone); "
                   "a write that fails leaves the blocks' content unknown, so dexthil stops verifying them until "
                   "they are written again."});
  });
  monitor.subscribe<monitor::BlockDataMismatch>([this](const monitor::BlockDataMismatch& e) {
    char sums[80];
    std::snprintf(sums, sizeof sums, " (checksum 0x%016llX, expected 0x%016llX)", static_cast<unsigned long long>(e.got),
                  static_cast<unsigned long long>(e.expected));
    findings_.add({"storage.data-mismatch", std::string(e.device), e.time,
                   "a read returned different data at LBA " + std::to_string(e.lba) + sums + ", " +
                       std::to_string(e.blocks_bad) + " block(s) of the read differ",
                   e.never_written
                       ? "The block was never written, so fresh media reads as zeros; the disk returned other bytes."
                       : "The disk acknowledged a write of these blocks and now returns other bytes: data was lost "
                         "or misplaced (a wrong SGL, a reused buffer, a DMA that went elsewhere)."});
  });
  monitor.subscribe<monitor::BlockIoIncomplete>([this](const monitor::BlockIoIncomplete& e) {
    findings_.add({"storage.io-incomplete", std::string(e.device), e.time,
                   std::string(e.command) + " of " + std::to_string(e.blocks) + " blocks at LBA " +
                       std::to_string(e.lba) + ", sent at " + sim::format_time(e.submitted) +
                       ", had not completed when the run ended",
                   "macOS's storage stack gives READ and WRITE no timeout unless the controller sets \"Read Time Out "
                   "Duration\" or \"Write Time Out Duration\", so on a Mac this I/O hangs the application."});
  });
}

}  // namespace dexthil::checks
