#include "harness/checks/lifecycle_checker.hpp"

namespace dexthil::checks {

LifecycleChecker::LifecycleChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace)
    : findings_(findings, trace) {
  monitor.subscribe<monitor::ServiceStartFailed>([this](const auto& e) { on_start_failed(e); });
  monitor.subscribe<monitor::ServiceStarted>([this](const auto& e) { on_started(e); });
  monitor.subscribe<monitor::FamilyNotSimulated>([this](const auto& e) { on_family_not_simulated(e); });
  monitor.subscribe<monitor::NotSimulated>([this](const auto& e) { on_not_simulated(e); });
  monitor.subscribe<monitor::ServiceStopped>([this](const auto& e) { on_stopped(e); });
  monitor.subscribe<monitor::UserClientRefused>([this](const auto& e) { on_user_client_refused(e); });
  monitor.subscribe<monitor::PowerChangeUnacknowledged>([this](const auto& e) { on_power_unacknowledged(e); });
}

// A finding about a service, placed on its nub's location (what [[expect]] endpoint= matches).
void LifecycleChecker::add(sim::SimTime time, std::string_view check, std::string_view service,
                           std::string_view location, std::string what, std::string why) {
  findings_.add({std::string(check), std::string(service), time, std::move(what), std::move(why), std::string(location)});
}

void LifecycleChecker::on_start_failed(const monitor::ServiceStartFailed& e) {
  const std::string cls(e.class_name);
  using Reason = monitor::ServiceStartFailed::Reason;
  switch (e.reason) {
    case Reason::kNotAService:
      add(e.time, "lifecycle.start-failed", e.service, e.location,
          "IOUserClass " + cls + " is not an IOService the dext defines",
          "The personality's IOUserClass must name an IOService subclass declared in the dext's .iig.");
      return;
    case Reason::kInitFailed:
      add(e.time, "lifecycle.start-failed", e.service, e.location, cls + "::init() returned false",
          "The kernel never calls Start on a service whose init failed; the device stays without a driver.");
      return;
    case Reason::kStartFailed:
      add(e.time, "lifecycle.start-failed", e.service, e.location, cls + "::Start returned " + std::string(e.result),
          e.created ? "IOService::Create fails when the new service's Start fails."
                    : "The kernel does not register a service whose Start failed; the device stays without a driver.");
      return;
  }
}

void LifecycleChecker::on_started(const monitor::ServiceStarted& e) {
  if (!e.super_start_called) {
    add(e.time, "lifecycle.super-start", e.service, e.location,
        std::string(e.class_name) + "::Start returned kIOReturnSuccess without calling Start(provider, SUPERDISPATCH)",
        "The kernel side of Start (IOService::Start) never ran, so the service is not set up in the kernel; call "
        "Start(provider, SUPERDISPATCH) first in Start.");
  }
}

// The service runs, but none of the family's messages will come, so the run cannot stand for a
// Mac's.
void LifecycleChecker::on_family_not_simulated(const monitor::FamilyNotSimulated& e) {
  const std::string family(e.family);
  add(e.time, "dext.family-not-simulated", e.service, e.location,
      "IOClass " + std::string(e.io_class) + " asks for " + family + "'s kernel half, which dexthil does not simulate "
      "yet",
      "The kernel started " + std::string(e.class_name) + " as a plain IOUserService: Start, Stop and power changes "
      "arrive, but none of " + family + "'s messages will, so this run does not show how the dext behaves on a Mac.");
}

void LifecycleChecker::on_not_simulated(const monitor::NotSimulated& e) {
  const std::string who = e.service.empty() ? std::string("the harness") : std::string(e.service);
  add(e.time, "dext.not-simulated", e.service, e.location,
      std::string(e.api) + " from " + who + " asked for " + std::string(e.what) +
          ", which dexthil does not simulate yet; " + std::string(e.outcome),
      "A Mac would have carried this call out. The dext got something else, so what it does from here on is not "
      "what it does on a Mac; docs/driverkit.md lists what is not simulated yet.");
}

void LifecycleChecker::on_stopped(const monitor::ServiceStopped& e) {
  const std::string cls(e.class_name);
  if (!e.succeeded) {
    add(e.time, "lifecycle.stop-failed", e.service, e.location, cls + "::Stop returned " + std::string(e.result),
        "Stop cannot fail: the kernel terminates the service whatever Stop returns.");
  }
  if (!e.super_stop_called) {
    add(e.time, "lifecycle.super-stop", e.service, e.location,
        cls + "::Stop never called Stop(provider, SUPERDISPATCH)",
        "The kernel side of Stop never ran, so the service is never fully terminated. Call Stop(provider, "
        "SUPERDISPATCH) last in Stop, or later, once the sources Stop cancelled have finished (from the last "
        "cancel handler), as xnu allows.");
  }
  for (const monitor::LeftRunning& l : e.left_running) {
    add(e.time, "lifecycle.io-after-stop", e.service, e.location, l.what, l.why);
  }
}

void LifecycleChecker::on_user_client_refused(const monitor::UserClientRefused& e) {
  using Reason = monitor::UserClientRefused::Reason;
  if (e.reason == Reason::kNoStartedClient) {
    add(e.time, "lifecycle.user-client", e.service, e.location,
        std::string(e.class_name) + "::NewUserClient returned kIOReturnSuccess without a started user client",
        "NewUserClient must hand back a client made with IOService::Create(this, \"UserClientProperties\", ...) "
        "(the personality's dictionary names its IOUserClass); IOServiceOpen fails without one.");
    return;
  }
  const std::string key(e.key);
  add(e.time, "lifecycle.user-client", e.service, e.location,
      "IOService::Create(provider, \"" + key + "\") found no dictionary \"" + key +
          "\" with an IOUserClass in personality " + (e.personality.empty() ? "?" : std::string(e.personality)),
      "Create makes the service a dictionary in the matched personality describes (IOClass, IOUserClass); add it to "
      "the Info.plist, e.g. UserClientProperties = { IOClass = IOUserUserClient; IOUserClass = ... }.");
}

void LifecycleChecker::on_power_unacknowledged(const monitor::PowerChangeUnacknowledged& e) {
  if (e.run_ended) {
    add(e.time, "power.ack-timeout", e.service, e.location, "a SetPowerState was still unacknowledged when the run ended",
        "The kernel waits up to " + sim::format_time(e.limit) + " for the dext to call SetPowerState(flags, SUPERDISPATCH) or "
        "return an error; this one never did.");
    return;
  }
  add(e.time, "power.ack-timeout", e.service, e.location,
      "SetPowerState(" + std::string(e.state) + ") sent at " + sim::format_time(e.sent) + " was not acknowledged within " +
          sim::format_time(e.limit),
      "The kernel waits up to " + sim::format_time(e.limit) + " for a dext to acknowledge a power change by calling "
      "SetPowerState(flags, SUPERDISPATCH) (or returning an error), then gives up on it and the system's power change "
      "stalls meanwhile. Call the superclass when the device has reached the state.");
}

}  // namespace dexthil::checks
