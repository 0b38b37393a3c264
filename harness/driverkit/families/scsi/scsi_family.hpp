#pragma once
// SCSIControllerDriverKit's kernel half: for each service whose IOClass is
// IOUserSCSIParallelInterfaceController it brings the controller up in the family's order and
// creates its targets, and it answers the controller's calls into the kernel. What it sees goes
// to the monitor (harness/monitor/scsi_events.hpp) for ScsiFamilyChecker.
//
// Bring-up (after the dext's Start, on the service's kernel thread), as IOSCSIParallelFamily's
// kernel code orders it: UserInitializeController (which must report the HBA constraints),
// UserReportInitiatorIdentifier, UserReportHighestSupportedDeviceID, UserReportMaximumTaskCount,
// UserReportHBAHighestLogicalUnitNumber, UserDoesHBAPerformAutoSense, UserGetDMASpecification,
// UserMapHBAData once per task, UserMapBundledParallelTaskCommandAndResponseBuffers (an error
// opts out of bundled tasks), UserStartController, UserDoesHBAPerformDeviceManagement; when the
// HBA does not manage its devices, UserTargetPresentForID for IDs 0 to the highest and a target
// for each present one. Tasks and the block front end come next (docs/lsi53c1030.md).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/driverkit/families/scsi/scsi_kernel_side.hpp"
#include "harness/driverkit/kernel/family_plugin.hpp"

namespace dexthil::driverkit {

class ScsiFamily final : public FamilyPlugin, public ScsiControllerKernelSide {
 public:
  explicit ScsiFamily(Kernel& kernel) : kernel_(kernel) {}

  const families::FamilyDefinition& definition() const override;
  void started(Kernel& kernel, ServiceRecord& service) override;
  void stopping(Kernel& kernel, ServiceRecord& service) override;

  // What the family knows of one controller.
  struct Controller {
    ServiceRecord* record = nullptr;
    IOUserSCSIParallelInterfaceController* hba = nullptr;
    bool initializing = false;  // inside UserInitializeController
    bool constraints_reported = false;
    std::map<std::string, std::uint64_t> constraints;  // the numeric keys reported
    std::uint64_t initiator_id = 0;
    std::uint64_t highest_id = 0;
    std::uint32_t max_tasks = 0;
    std::uint64_t highest_lun = 0;
    bool auto_sense = false;
    std::uint64_t max_transfer = 0;
    std::uint32_t alignment = 0;
    std::uint8_t address_bits = 0;
    std::vector<std::uint32_t> task_ids;  // UserMapHBAData's, in order
    bool started = false;                  // UserStartController succeeded
    std::set<std::uint64_t> targets;       // created and initialised
    std::vector<std::string> steps;        // the messages sent, in order, for tests and traces
  };
  // nullptr for a service the family does not serve.
  const Controller* controller(const IOService* service) const;

  // ScsiControllerKernelSide.
  kern_return_t create_target(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                              OSDictionary* properties) override;
  kern_return_t destroy_target(IOUserSCSIParallelInterfaceController* hba, SCSITargetIdentifier target) override;
  kern_return_t data_buffer(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                            uint64_t controller_task, IOBufferMemoryDescriptor** buffer) override;
  kern_return_t report_constraints(IOUserSCSIParallelInterfaceController* hba, OSDictionary* constraints) override;
  kern_return_t set_properties(IOUserSCSIParallelInterfaceController* hba, std::optional<SCSIDeviceIdentifier> target,
                               OSDictionary* properties) override;
  kern_return_t remove_properties(IOUserSCSIParallelInterfaceController* hba, std::optional<SCSIDeviceIdentifier> target,
                                  OSArray* keys) override;
  kern_return_t media_parameters_changed(IOUserSCSIParallelInterfaceController* hba) override;
  void task_completed(IOUserSCSIParallelInterfaceController* hba, OSAction* action,
                      const SCSIUserParallelResponse& response) override;
  void bundled_tasks_completed(IOUserSCSIParallelInterfaceController* hba, OSAction* action, const uint16_t* slots,
                               uint16_t count) override;

 private:
  bool bring_up(Controller& c);
  // A step answered with an error (or success with something wrong): the finding's event.
  bool failed(const Controller& c, std::string_view step, kern_return_t result, std::string_view why = {});
  Controller* find(const IOService* service);

  Kernel& kernel_;
  std::map<const IOService*, Controller> controllers_;
};

}  // namespace dexthil::driverkit
