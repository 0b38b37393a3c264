#include "harness/checks/dext_process_checker.hpp"

namespace dexthil::checks {

DextProcessChecker::DextProcessChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::DextCrashed>([this](const auto& e) { on_crashed(e); });
  monitor.subscribe<monitor::DextObjectAlive>([this](const auto& e) { on_object_alive(e); });
  monitor.subscribe<monitor::DextMatchedNothing>([this](const auto& e) { on_matched_nothing(e); });
}

void DextProcessChecker::on_crashed(const monitor::DextCrashed& e) {
  const std::string service(e.service), location(e.location), server(e.server);
  // How it died, in the crash reporter's words; then what the kernel did about it.
  findings_.add({std::string(e.kind), service, e.time, std::string(e.report), std::string(e.explanation), location});
  const std::string count = std::to_string(e.crash_count);
  findings_.add({"dext.crashed", service, e.time,
       "IOUserServer(" + server + "): ClientCrashed (crash " + count + " on " + location + ")",
       e.restarting ? "The kernel saw the dext process die and starts it again for " + location + " (restart " + count +
                          " of " + std::to_string(e.restart_limit) + ")."
                    : std::string("The kernel saw the dext process die."),
       location});
  if (!e.restarting) {
    findings_.add({"dext.crash-loop", service, e.time, server + " crashed " + count + " times on " + location + "; not restarted",
         "The dext crashes the same way on every start, so the device never gets a working driver. Fix the first "
         "crash reported for it.",
         location});
  }
}

void DextProcessChecker::on_object_alive(const monitor::DextObjectAlive& e) {
  findings_.add({"dext.leak", std::string(e.service), e.time,
       std::string(e.class_name) + " created at " + std::string(e.file) + ":" + std::to_string(e.line) +
           " is still alive (retain count " + std::to_string(e.retain_count) + ") after the service was freed",
       "Every object the dext creates must be released by the time its service is freed; an OSAction that is never "
       "released also keeps its target (usually the service) alive.",
       std::string(e.location)});
}

void DextProcessChecker::on_matched_nothing(const monitor::DextMatchedNothing& e) {
  const std::string name(e.dext);
  std::string why;
  if (!e.personality.empty()) {
    std::string reasons;
    for (const std::string& r : e.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    why = "Closest: personality \"" + std::string(e.personality) + "\" against " + std::string(e.nub) + ": " +
          reasons + ".";
  } else {
    why = e.has_personalities ? "No bus published a nub (the scenario has no PCI function or USB device)."
                              : "The Info.plist has no IOKitPersonalities.";
  }
  why += " The kernel starts a dext only for a nub one of its personalities matches.";
  if (!e.ids_hint.empty()) why += " " + std::string(e.ids_hint);
  findings_.add({"dext.no-match", name, e.time, name + " matched nothing: the kernel started none of its personalities", why,
       std::string(e.location)});
}

}  // namespace dexthil::checks
