#pragma once
// Judges how a dext reaches its device through its provider nub, from the monitor's device
// events: an access while the kernel has the device powered off (power.access-while-off), an
// access during IOPCIDevice::Reset (pci.access-during-reset), and requests the function could not
// take (pci.unsupported-request, pci.completion-timeout). The kernel and the PCI bus only say what
// happened; the rules and the words are here.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness/checks/finding.hpp"
#include "harness/monitor/device_events.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class DeviceAccessChecker {
 public:
  DeviceAccessChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  void on_power(const monitor::DevicePowerChanged& e);
  void on_service_ended(const monitor::ServiceEnded& e);
  void on_reset(const monitor::DeviceReset& e);
  void on_access(const monitor::DeviceAccessed& e);
  void on_failed(const monitor::DeviceAccessFailed& e);

  FindingSink findings_;
  // Per nub, the services whose device is off and that have not touched it since (one finding per
  // off period), in the order they went off.
  std::map<std::string, std::vector<std::string>, std::less<>> off_;
  std::set<std::string, std::less<>> reported_this_reset_;  // nubs already reported during the running Reset
  std::set<std::string> reported_failures_;                 // nub, kind and rule of each failure reported
};

}  // namespace dexthil::checks
