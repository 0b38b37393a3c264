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
// for each present one.
//
// Tasks (scsi_tasks.cpp): each created target is a storage::ScsiInitiator (ScsiTargetPort) for
// the storage stack above. A command takes a free task of the controller's (one per
// UserMapHBAData identifier; others wait), the kernel fills its data buffer, prepares it for
// DMA through IODMACommand under the HBA's address bits (on the DART when the provider is a PCI
// function), and sends UserProcessParallelTask with a new completion action from the target's
// own kernel thread. ParallelTaskCompletion ends it: a response whose version is not
// kScsiUserParallelTaskResponseCurrentVersion1 is dropped, as the kernel drops it, so the task
// runs into its timeout; a second completion, a completion naming another task, and a timeout
// (after which the family sends UserAbortTaskRequest) are events for ScsiFamilyChecker.
//
// Task management (scsi_task_management.cpp): the six User*Request calls, from the target's
// thread, answered through *response; the family notes which of the nexus's outstanding tasks
// a request covered and which the dext had not completed when it answered.
//
// Bundled tasks (IOSCSIParallelFamily 343 on): a controller that takes the command and response
// buffers UserMapBundledParallelTaskCommandAndResponseBuffers offers gets its tasks through
// them: task slot N is command N and response N; the family writes the commands, sends
// UserProcessBundledParallelTasks with up to kMaxBundledParallelTasks slots in one message (the
// ones ready on the target's thread by then), and reads each response when the dext hands its
// slot back through BundledParallelTaskCompletion.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/driverkit/families/scsi/scsi_kernel_side.hpp"
#include "harness/driverkit/kernel/family_plugin.hpp"
#include "harness/driverkit/runtime/dispatch.hpp"
#include "harness/sim/event_queue.hpp"
#include "harness/storage/scsi_initiator.hpp"

class IODMACommand;
class OSAction;

namespace dexthil::driverkit {

class ScsiFamily;

// One target of one controller, as the storage stack above sees it. It outlives its controller:
// after the controller stopped, every command ends with DeviceNotPresent.
class ScsiTargetPort final : public storage::ScsiInitiator {
 public:
  ScsiTargetPort(ScsiFamily& family, std::uint64_t controller, std::string controller_name, std::string location,
                 std::uint64_t target, std::uint64_t max_transfer)
      : family_(family), controller_(controller), controller_name_(std::move(controller_name)),
        location_(std::move(location)), target_(target), max_transfer_(max_transfer) {}
  std::string name() const override { return controller_name_ + " target " + std::to_string(target_); }
  std::uint64_t max_transfer() const override { return max_transfer_; }
  void submit(storage::ScsiCommand command, std::function<void(const storage::ScsiOutcome&)> done) override;
  std::uint64_t target() const { return target_; }
  const std::string& location() const { return location_; }  // the controller's nub ("dev")

 private:
  ScsiFamily& family_;
  std::uint64_t controller_;
  std::string controller_name_;
  std::string location_;
  std::uint64_t target_;
  std::uint64_t max_transfer_;
};

class ScsiFamily final : public FamilyPlugin, public ScsiControllerKernelSide {
 public:
  explicit ScsiFamily(Kernel& kernel) : kernel_(kernel) {}
  ~ScsiFamily() override;

  const families::FamilyDefinition& definition() const override;
  void started(Kernel& kernel, ServiceRecord& service) override;
  // Stop is coming: the storage stack's commands end (DeviceNotPresent) and no new one is sent,
  // but the task buffers stay prepared for the device until Stop has quiesced it (stopped()).
  void stopping(Kernel& kernel, ServiceRecord& service) override;
  void stopped(Kernel& kernel, ServiceRecord& service) override;
  // The commands end (DeviceNotPresent); the buffers stay prepared until the provider's crash
  // recovery has stopped the device's DMA (it completes every preparation on the function).
  void crashed(Kernel& kernel, ServiceRecord& service) override;
  // scsi_tasks, scsi_task_messages (UserProcessParallelTask or UserProcessBundledParallelTasks
  // messages sent), scsi_bundled, scsi_timeouts: over every process the service had.
  void add_figures(const std::string& service, std::vector<std::pair<std::string, std::string>>& out) const override;

  // One of the controller's tasks (the kernel's SCSIParallelTask) and the command it carries.
  struct Task {
    std::uint32_t id = 0;                   // UserMapHBAData's: the task's fControllerTaskIdentifier
    IOBufferMemoryDescriptor* buffer = nullptr;  // its data buffer, max_transfer bytes
    IODMACommand* dma = nullptr;            // the buffer's preparation for the controller's device
    // The command it carries, while one is outstanding.
    std::uint64_t serial = 0;               // the submission, as fTaskTagIdentifier; 0: free
    std::uint64_t target = 0;
    storage::ScsiCommand command;
    std::function<void(const storage::ScsiOutcome&)> done;
    OSAction* action = nullptr;             // the completion action sent with it
    sim::EventId timeout = 0;
    bool bundle_pending = false;            // bundled: prepared, waiting for the target thread's next message
    bool with_dext = false;                 // bundled: the dext owns the slot
    bool completed = false;                 // the dext completed it (or the family ended it)
    bool ended_by_family = false;           // by a timeout or Stop: a late completion is no mistake
    sim::SimTime completed_at = 0;
    bool version_dropped = false;           // a completion was dropped for its version
    // The previous command's action and when it completed: a completion on it is a second one.
    OSAction* previous_action = nullptr;
    sim::SimTime previous_completed_at = 0;
    bool previous_ended_by_family = false;
  };
  struct Waiting {
    std::uint64_t target;
    storage::ScsiCommand command;
    std::function<void(const storage::ScsiOutcome&)> done;
  };

  // What went through a controller (a service's figures add up every process it had).
  struct Counts {
    std::uint64_t tasks_sent = 0, tasks_completed = 0;
    std::uint64_t messages = 0;  // UserProcessParallelTask or UserProcessBundledParallelTasks
    std::uint64_t timeouts = 0;
    std::uint64_t task_management = 0;  // User*Request calls sent
    bool bundled = false;
    Counts& operator+=(const Counts& o) {
      tasks_sent += o.tasks_sent;
      tasks_completed += o.tasks_completed;
      messages += o.messages;
      timeouts += o.timeouts;
      task_management += o.task_management;
      bundled = bundled || o.bundled;
      return *this;
    }
  };

  // What the family knows of one controller.
  struct Controller {
    std::uint64_t id = 0;  // never reused, unlike the service's address
    ServiceRecord* record = nullptr;
    IOUserSCSIParallelInterfaceController* hba = nullptr;
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
    bool stopping = false;                 // Stop is coming: no new commands
    std::set<std::uint64_t> targets;       // created and initialised
    std::vector<std::string> steps;        // the messages sent, in order, for tests and traces
    std::vector<Task> tasks;               // one per task_ids entry
    // Bundled tasks: the shared buffers (slot N: the command and the response of task N).
    bool bundled = false;
    IOBufferMemoryDescriptor* bundle_commands = nullptr;
    IOBufferMemoryDescriptor* bundle_responses = nullptr;
    std::set<std::uint64_t> bundle_flush_queued;  // targets whose thread has a message to send queued
    std::deque<Waiting> waiting;           // commands waiting for a free task
    std::map<std::uint64_t, std::unique_ptr<DispatchQueue>> target_threads;  // the kernel's, per target
    Counts counts;
  };
  // nullptr for a service the family does not serve.
  const Controller* controller(const IOService* service) const;
  // Called with each target once it exists (created and initialised), for the storage stack above.
  void on_target(std::function<void(ScsiTargetPort&)> listener) { on_target_ = std::move(listener); }
  // The ports of every target created so far, in order (they outlive their controllers).
  const std::vector<std::unique_ptr<ScsiTargetPort>>& ports() const { return ports_; }
  // Task management: SCSIControllerDriverKit's six requests (scsi_task_management.cpp).
  enum class TaskManagement { kAbortTask, kAbortTaskSet, kClearAca, kClearTaskSet, kLogicalUnitReset, kTargetReset };
  static const char* method_of(TaskManagement function);  // "UserLogicalUnitResetRequest"
  struct TaskManagementAnswer {
    kern_return_t result = 0;
    bool response_set = false;  // the dext wrote *response
    std::uint32_t response = 0;  // SCSIServiceResponse
    std::uint64_t covered = 0;  // the nexus's tasks outstanding when the request was sent
    std::uint64_t left = 0;     // of those, not completed when the dext answered
  };
  // Sends `function` for target/LUN (a target reset covers every LUN) to the running controller
  // whose provider is `location`, from the target's kernel thread; ABORT TASK names the nexus's
  // oldest outstanding task. `answered` hears the dext's answer. Returns why it could not be
  // sent, or an empty string.
  std::string request_task_management(const std::string& location, std::uint64_t target, std::uint64_t lun,
                                      TaskManagement function, std::function<void(const TaskManagementAnswer&)> answered);
  // From ScsiTargetPort::submit.
  void submit(std::uint64_t controller, std::uint64_t target, storage::ScsiCommand command,
              std::function<void(const storage::ScsiOutcome&)> done);

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
  Controller* find_id(std::uint64_t id);
  void target_created(Controller& c, std::uint64_t target);
  // scsi_tasks.cpp
  void allocate_tasks(Controller& c);
  // Ends every command of the controller still outstanding or waiting (the storage stack hears
  // DeviceNotPresent), keeping the tasks' buffers prepared.
  void end_commands(Controller& c);
  // Releases the kernel's objects for the controller's tasks (their DMA preparations included).
  void release_tasks(Controller& c);
  // The controller is gone for good: its counts join its service's, its objects are released.
  void retire(const IOService* service);
  void completed_twice(const Controller& c, const SCSIUserParallelResponse& response, sim::SimTime first,
                       bool bundled);
  static const std::string& location_of(const ServiceRecord& record);
  void start_task(Controller& c, Task& task, Waiting command);
  void send_task(std::uint64_t controller, std::uint32_t slot, std::uint64_t serial);
  // The request for the task's command, its buffer filled and prepared; false when that failed
  // (the task is finished then).
  bool prepare_request(Controller& c, Task& task, SCSIUserParallelTask& request);
  // Bundled: sends the target's prepared slots in one UserProcessBundledParallelTasks.
  void send_bundle(std::uint64_t controller, std::uint64_t target);
  // A response for the task's current command (by its action or its slot).
  void complete_task(Controller& c, Task& task, const SCSIUserParallelResponse& response);
  // Starts the oldest waiting command on a task that just became free.
  void start_waiting(Controller& c, Task& task);
  bool map_bundle_buffers(Controller& c);
  // Ends the task's command with `outcome` (data from the buffer for a read) and frees the task
  // once the client has heard, a Mach message later.
  void finish_task(Controller& c, Task& task, storage::ScsiOutcome outcome, bool complete_dma = true);
  void task_timed_out(std::uint64_t controller, std::uint32_t slot, std::uint64_t serial);
  // `covered`: (slot, serial) of the tasks the request covers, to see which are left at the answer.
  // `judged`: the answer goes to ScsiFamilyChecker (not for the abort dexthil adds at a timeout,
  // which a Mac is not known to send). Returns why it could not be sent, or an empty string.
  std::string send_task_management(Controller& c, TaskManagement function, std::uint64_t target, std::uint64_t lun,
                                   std::uint64_t tag, std::vector<std::pair<std::uint32_t, std::uint64_t>> covered,
                                   std::function<void(const TaskManagementAnswer&)> answered, bool judged);
  Task* task_for(Controller& c, const OSAction* action);
  // `done` hears `outcome` a Mach message from now, outside any dext's code.
  void deliver_later(std::function<void(const storage::ScsiOutcome&)> done, storage::ScsiOutcome outcome);

  Kernel& kernel_;
  std::map<const IOService*, Controller> controllers_;
  std::uint64_t next_controller_id_ = 1;
  std::uint64_t next_serial_ = 1;
  std::function<void(ScsiTargetPort&)> on_target_;
  std::vector<std::unique_ptr<ScsiTargetPort>> ports_;
  std::vector<std::unique_ptr<DispatchQueue>> retired_threads_;  // of controllers gone, kept to the run's end
  std::map<std::string, Counts> retired_counts_;  // by service name: its controllers gone
};

}  // namespace dexthil::driverkit
