#include "harness/runner/sections/scsi_task_management.hpp"

#include <string>
#include <vector>

#include "harness/driverkit/families/scsi/scsi_family.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"
#include "harness/runner/run_context.hpp"
#include "harness/storage/scsi_initiator.hpp"

namespace dexthil::runner {
namespace {

using Function = driverkit::ScsiFamily::TaskManagement;

struct Request {
  std::string endpoint;
  std::uint64_t target = 0, lun = 0;
  Function function = Function::kAbortTask;
  sim::SimTime at = 0;
  std::size_t number = 0;  // its place in the section, from 1
  std::string place() const { return endpoint + ".t" + std::to_string(target) + "." + std::to_string(number); }
};

// What became of one request during a run.
struct Outcome {
  std::string state = "not sent";  // "not sent", "refused", "sent", "answered"
  std::string refused;             // why it could not be sent
  driverkit::ScsiFamily::TaskManagementAnswer answer;
};

// The figure's value: SCSITask.h's name without its kSCSIServiceResponse_ prefix.
std::string response_name(std::uint32_t response) {
  const char* name = storage::service_response_name(response);
  return name ? std::string(name).substr(std::string_view("kSCSIServiceResponse_").size()) : "not a service response";
}

class TaskManagementData final : public scenario::SectionData {
 public:
  explicit TaskManagementData(std::vector<Request> requests) : requests_(std::move(requests)) {}

  std::vector<std::string> places() const override {
    std::vector<std::string> places;
    for (const Request& r : requests_) places.push_back(r.place());
    return places;
  }

  void apply(RunContext& run) const override {
    auto outcomes = std::make_shared<std::vector<Outcome>>(requests_.size());
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      const Request& r = requests_[i];
      run.sim.at(r.at, [scsi = run.scsi, kernel = run.kernel, outcomes, i, r] {
        Outcome& o = (*outcomes)[i];
        const std::string why =
            scsi ? scsi->request_task_management(r.endpoint, r.target, r.lun, r.function,
                                                 [outcomes, i](const driverkit::ScsiFamily::TaskManagementAnswer& a) {
                                                   (*outcomes)[i].state = "answered";
                                                   (*outcomes)[i].answer = a;
                                                 })
                 : "no dexts are loaded";
        o.state = why.empty() ? "sent" : "refused";
        o.refused = why;
        if (!why.empty() && kernel) {
          kernel->trace(r.endpoint, std::string("[[scsi_task_management]] ") +
                                        driverkit::ScsiFamily::method_of(r.function) + " not sent: " + why);
        }
      });
    }
    run.figures.push_back([this, outcomes](RunContext::Figures& out) {
      for (std::size_t i = 0; i < requests_.size(); ++i) {
        const Outcome& o = (*outcomes)[i];
        std::vector<std::pair<std::string, std::string>> v;
        v.emplace_back("method", driverkit::ScsiFamily::method_of(requests_[i].function));
        v.emplace_back("state", o.state);
        if (!o.refused.empty()) v.emplace_back("refused", o.refused);
        if (o.state == "answered") {
          v.emplace_back("result", driverkit::ioreturn_name(o.answer.result));
          v.emplace_back("response", o.answer.response_set ? response_name(o.answer.response) : "not set");
          v.emplace_back("covered", std::to_string(o.answer.covered));
          v.emplace_back("left", std::to_string(o.answer.left));
        }
        out.emplace_back("task_management@" + requests_[i].place(), std::move(v));
      }
    });
  }

 private:
  std::vector<Request> requests_;
};

class TaskManagementSection final : public scenario::SectionPlugin {
 public:
  std::string_view key() const override { return "scsi_task_management"; }
  std::string_view summary() const override {
    return "stimulus: the SCSI family sends a task management request (abort-task, abort-task-set, clear-aca, "
           "clear-task-set, logical-unit-reset, target-reset) to the controller dext on an endpoint at a time "
           "(endpoint, target, lun, function, at)";
  }
  std::shared_ptr<const scenario::SectionData> read(const toml::node& section, const toml_input::TomlReader& in,
                                                    const scenario::SectionScope& scope) const override {
    std::vector<Request> requests;
    in.for_each_table(section, "scsi_task_management", [&](const toml::table& t, const std::string& path) {
      in.allow_keys(t, path, {"endpoint", "target", "lun", "function", "at"});
      Request r;
      r.endpoint = scenario::read_endpoint(in, t, path, true, scope.has_topology, scope.endpoints).value();
      r.target = static_cast<std::uint64_t>(in.integer(t, "target", path, 0, 15).value_or(0));
      r.lun = static_cast<std::uint64_t>(in.integer(t, "lun", path, 0, 7).value_or(0));
      const std::string function = in.one_of(t, "function", path,
                                             {"abort-task", "abort-task-set", "clear-aca", "clear-task-set",
                                              "logical-unit-reset", "target-reset"});
      r.function = function == "abort-task"           ? Function::kAbortTask
                   : function == "abort-task-set"     ? Function::kAbortTaskSet
                   : function == "clear-aca"          ? Function::kClearAca
                   : function == "clear-task-set"     ? Function::kClearTaskSet
                   : function == "logical-unit-reset" ? Function::kLogicalUnitReset
                                                      : Function::kTargetReset;
      r.at = in.duration(t, "at", path, true, 0, scope.scenario.duration).value();
      r.number = requests.size() + 1;
      requests.push_back(std::move(r));
    });
    return std::make_shared<TaskManagementData>(std::move(requests));
  }
};

}  // namespace

std::shared_ptr<const scenario::SectionPlugin> scsi_task_management_section() {
  return std::make_shared<TaskManagementSection>();
}

}  // namespace dexthil::runner
