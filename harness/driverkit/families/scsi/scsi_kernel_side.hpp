#pragma once
// What IOUserSCSIParallelInterfaceController's kernel calls reach: the SCSI family's kernel half
// for the calling service (a FamilyPlugin that also implements this). Without one, the calls are
// kIOReturnUnsupported, as a family method is when IOClass is left IOUserService.
#include <optional>

#include <SCSIControllerDriverKit/IOUserSCSIParallelInterfaceController.h>

namespace dexthil::driverkit {

class ScsiControllerKernelSide {
 public:
  virtual kern_return_t create_target(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                                      OSDictionary* properties) = 0;
  virtual kern_return_t destroy_target(IOUserSCSIParallelInterfaceController* hba, SCSITargetIdentifier target) = 0;
  virtual kern_return_t data_buffer(IOUserSCSIParallelInterfaceController* hba, SCSIDeviceIdentifier target,
                                    uint64_t controller_task, IOBufferMemoryDescriptor** buffer) = 0;
  virtual kern_return_t report_constraints(IOUserSCSIParallelInterfaceController* hba, OSDictionary* constraints) = 0;
  virtual kern_return_t set_properties(IOUserSCSIParallelInterfaceController* hba, std::optional<SCSIDeviceIdentifier> target,
                                       OSDictionary* properties) = 0;
  virtual kern_return_t remove_properties(IOUserSCSIParallelInterfaceController* hba,
                                          std::optional<SCSIDeviceIdentifier> target, OSArray* keys) = 0;
  virtual kern_return_t media_parameters_changed(IOUserSCSIParallelInterfaceController* hba) = 0;
  // The dext completed a task through its action (the kernel's UserCompleteParallelTask).
  virtual void task_completed(IOUserSCSIParallelInterfaceController* hba, OSAction* action,
                              const SCSIUserParallelResponse& response) = 0;
  virtual void bundled_tasks_completed(IOUserSCSIParallelInterfaceController* hba, OSAction* action,
                                       const uint16_t* slots, uint16_t count) = 0;

 protected:
  ~ScsiControllerKernelSide() = default;
};

// The kernel half serving `hba`, or nullptr.
ScsiControllerKernelSide* scsi_kernel_side(IOUserSCSIParallelInterfaceController* hba);

}  // namespace dexthil::driverkit
