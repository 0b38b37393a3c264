#pragma once
// A DriverKit family's kernel half. A personality's IOClass names the kernel class a dext's
// service works through: IOUserService for a plain service, or a family's class such as
// IOUserSCSIParallelInterfaceController, whose kernel half then drives the dext with the
// family's messages (UserInitializeController, UserProcessParallelTask, ...). A family plug-in
// supplies that kernel half; its definition (families/) lists the classes and messages.
#include <string>
#include <utility>
#include <vector>

#include "harness/driverkit/families/family_definition.hpp"

namespace dexthil::driverkit {

class Kernel;
struct ServiceRecord;

class FamilyPlugin {
 public:
  virtual ~FamilyPlugin() = default;
  virtual const families::FamilyDefinition& definition() const = 0;
  // The dext's Start succeeded for a service whose IOClass is one of the family's kernel
  // classes; runs on the kernel's thread for that service, so it may send messages and wait.
  virtual void started(Kernel& kernel, ServiceRecord& service) = 0;
  // The kernel is about to send Stop to such a service.
  virtual void stopping(Kernel& kernel, ServiceRecord& service) {
    (void)kernel;
    (void)service;
  }
  // The service's Stop has completed (its superclass Stop ran): the dext has let its device go.
  virtual void stopped(Kernel& kernel, ServiceRecord& service) {
    (void)kernel;
    (void)service;
  }
  // Figures of the family's own about a service (by its name, for every process it had), for
  // reports and [[expect]] stat; appended after the kernel's.
  virtual void add_figures(const std::string& service, std::vector<std::pair<std::string, std::string>>& out) const {
    (void)service;
    (void)out;
  }
  // The service's process crashed (it gets no Stop). The provider's crash recovery, which stops
  // the device's DMA, follows on the kernel's thread.
  virtual void crashed(Kernel& kernel, ServiceRecord& service) {
    (void)kernel;
    (void)service;
  }
};

}  // namespace dexthil::driverkit
