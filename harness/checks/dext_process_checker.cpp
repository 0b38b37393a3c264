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
  // How it died, in the crash reporter's words; then what the kernel and the provider did about it.
  findings_.add({std::string(e.kind), service, e.time, std::string(e.report), std::string(e.explanation), location});
  const std::string today = std::to_string(e.crashes_today);
  std::string why = "The dext process died. ";
  if (!e.provider_recovery.empty()) why += std::string(e.provider_recovery) + " ";
  if (!e.also_terminated.empty()) {
    why += "The kernel terminates " + std::string(e.also_terminated) +
           " and matches each one's device again once it has stopped. ";
  }
  if (!e.started) {
    why += "Its Start had not returned success, so the kernel only detaches the service, as for a failed start, and "
           "does not launch the dext again for " + location + " (IOService::startCandidate; IOUserServer::finalize: "
           "\"server exit before start()\"); nor does the crash count against the dext's daily limit.";
  } else if (e.relaunching) {
    why += "The kernel terminates " + service + " and rematches " + location +
           " to the same personality: a new process starts " +
           (e.provider_recovery.empty() ? "at once" : "as soon as the provider's recovery is done") + " (" + location +
           "'s IORematchCount is now " + std::to_string(e.rematch_count) +
           "; the kernel relaunches the same dext while it is at most dextrelaunch, " +
           std::to_string(e.relaunch_limit) + ").";
  } else {
    why += "The kernel terminates " + service + " but does not launch the dext again for " + location + ".";
  }
  std::vector<std::pair<std::string, std::string>> data{{"started", e.started ? "true" : "false"},
                                                        {"crashes_today", today}};
  if (!e.reset_type.empty()) {
    std::string reset;
    for (const std::string& f : e.reset) reset += (reset.empty() ? "" : ",") + f;
    data.emplace_back("reset_type", std::string(e.reset_type));
    data.emplace_back("reset", reset);
  }
  if (e.started) data.emplace_back("rematch_count", std::to_string(e.rematch_count));
  data.emplace_back("relaunching", e.relaunching ? "true" : "false");
  findings_.add({"dext.crashed", service, e.time,
                 "IOUserServer(" + server + "): ClientCrashed " +
                     (e.started ? "(crash " + today + " today, on " + location + ")"
                                : "(on " + location + ", before its Start returned)"),
                 why, location, std::move(data)});
  // OSDextStatistics::recordCrash: one crash more than the daily limit turns its policy to reboot.
  if (e.started && e.crashes_today == e.daily_limit + 1) {
    findings_.add({"dext.crash-loop", service, e.time,
                   server + " crashed " + today + " times within a day: more than daily_max_dext_crashes (" +
                       std::to_string(e.daily_limit) + ")",
                   "OSDextStatistics::recordCrash now answers with the reboot policy: for a dext that is part of macOS "
                   "(a platform binary) the kernel would panic with \"Driver " + server +
                       " has crashed too many times\". A third-party dext is launched again regardless, up to " +
                       std::to_string(e.relaunch_limit) +
                       " times per device (dextrelaunch), so the device keeps a driver that dies the same way. Fix the "
                       "first crash reported for it.",
                   location});
  }
  if (e.started && !e.relaunching && e.rematch_count > e.relaunch_limit) {
    findings_.add({"dext.crash-loop", service, e.time,
                   server + " is no longer launched for " + location + ": its IORematchCount " +
                       std::to_string(e.rematch_count) + " is beyond dextrelaunch (" + std::to_string(e.relaunch_limit) +
                       ")",
                   "IOService::doServiceMatch relaunches the same dext on a device only while the device's "
                   "IORematchCount is within dextrelaunch; beyond it only other personalities may match, so " +
                       location + " is left without this driver. Fix the first crash reported for it.",
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
