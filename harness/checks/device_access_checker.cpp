#include "harness/checks/device_access_checker.hpp"

#include <algorithm>

#include "harness/util/hex.hpp"

namespace dexthil::checks {

DeviceAccessChecker::DeviceAccessChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::DevicePowerChanged>([this](const auto& e) { on_power(e); });
  monitor.subscribe<monitor::ServiceEnded>([this](const auto& e) { on_service_ended(e); });
  monitor.subscribe<monitor::DeviceReset>([this](const auto& e) { on_reset(e); });
  monitor.subscribe<monitor::DeviceAccessed>([this](const auto& e) { on_access(e); });
  monitor.subscribe<monitor::DeviceAccessFailed>([this](const auto& e) { on_failed(e); });
}

void DeviceAccessChecker::on_power(const monitor::DevicePowerChanged& e) {
  auto& services = off_[std::string(e.location)];
  std::erase(services, e.service);
  if (!e.on) services.emplace_back(e.service);
}

void DeviceAccessChecker::on_service_ended(const monitor::ServiceEnded& e) {
  if (auto it = off_.find(e.location); it != off_.end()) std::erase(it->second, e.service);
}

void DeviceAccessChecker::on_reset(const monitor::DeviceReset& e) {
  // A new reset: an access during it is reported again.
  if (!e.begins) return;
  if (auto it = reported_this_reset_.find(e.location); it != reported_this_reset_.end()) reported_this_reset_.erase(it);
}

void DeviceAccessChecker::on_access(const monitor::DeviceAccessed& e) {
  auto it = off_.find(e.location);
  if (it == off_.end()) return;
  for (const std::string& service : it->second) {
    findings_.add({"power.access-while-off", service, e.time,
         std::string(e.accessor) + " on " + std::string(e.location) + " while the device is powered off",
         "The dext acknowledged SetPowerState(Off) and the kernel then turned the device off; register access now "
         "reads all-ones or hangs the bus on a real Mac. Stop timers, interrupts and I/O before acknowledging Off, "
         "and touch the device again only after SetPowerState(On).",
         std::string(e.location),
         {{"accessor", std::string(e.accessor)}}});
  }
  it->second.clear();  // one finding per off period
}

void DeviceAccessChecker::on_failed(const monitor::DeviceAccessFailed& e) {
  using Reason = monitor::DeviceAccessFailed::Reason;
  const std::string name(e.location);
  if (e.reason == Reason::kDuringReset) {
    if (!reported_this_reset_.insert(name).second) return;
    findings_.add({"pci.access-during-reset", name, e.time,
         std::string(e.accessor) + " on " + name + " while IOPCIDevice::Reset is in progress",
         "IOPCIDevice::Reset saves config space, resets the function and restores config space only once the "
         "function may be accessed again (100 ms after the reset); the caller must not touch the device meanwhile. "
         "This access came from another queue or source of the dext: quiesce timers, interrupts and other queues "
         "before resetting. It read all-ones or was dropped.",
         name, {{"accessor", std::string(e.accessor)}}});
    return;
  }
  // A request the function could not take: a finding once per rule that refused it.
  const bool timeout = e.reason == Reason::kCompletionTimeout;
  if (!reported_failures_.insert(name + (timeout ? "\tT\t" : "\tU\t") + std::string(e.why)).second) return;
  std::vector<std::pair<std::string, std::string>> data{
      {"accessor", std::string(e.accessor)}, {"memory_index", std::to_string(e.memory_index)},
      {"offset", util::hex(e.offset)},       {"size", std::to_string(e.size)},
      {"status", timeout ? "Completion Timeout" : "Unsupported Request"}};
  findings_.add({timeout ? "pci.completion-timeout" : "pci.unsupported-request", name, e.time,
       std::string(e.accessor) + "(" + std::to_string(e.memory_index) + ", " + util::hex(e.offset) + ") on " + name +
           (timeout ? ": Completion Timeout" : ": Unsupported Request") + (e.read ? ", read all ones" : ", write dropped"),
       std::string(e.why) + ". " +
           (e.read ? "The root complex completes a failed read with all ones, which a driver can take for a register "
                     "value; check for 0xFFFFFFFF where a register can never hold it. "
                   : "A posted write that fails is dropped silently on a Mac (only the root port's error log sees it). ") +
           (timeout ? "A read that never completes stalls the CPU for the whole completion timeout."
                    : "Touch the device only while it is powered and decoding (D0, Memory Space Enable), at offsets "
                      "inside its BARs."),
       name, std::move(data)});
}

}  // namespace dexthil::checks
