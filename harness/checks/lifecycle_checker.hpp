#pragma once
// Judges a service's life as the kernel reports it through the monitor: a Start or init that
// failed (lifecycle.start-failed), Start or Stop without the superclass call (lifecycle.super-start,
// lifecycle.super-stop), a Stop that failed (lifecycle.stop-failed), what a service left running
// after Stop (lifecycle.io-after-stop), a user client that could not be made
// (lifecycle.user-client), an IOClass whose family dexthil does not simulate
// (dext.family-not-simulated) and a SetPowerState never acknowledged (power.ack-timeout). The
// kernel runs the services and says what it saw; the rules and the words are here.
#include "harness/checks/finding.hpp"
#include "harness/monitor/monitor.hpp"
#include "harness/monitor/service_events.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

class LifecycleChecker {
 public:
  LifecycleChecker(monitor::Monitor& monitor, FindingLog& findings, sim::Trace& trace);

 private:
  void on_start_failed(const monitor::ServiceStartFailed& e);
  void on_started(const monitor::ServiceStarted& e);
  void on_family_not_simulated(const monitor::FamilyNotSimulated& e);
  void on_not_simulated(const monitor::NotSimulated& e);
  void on_stopped(const monitor::ServiceStopped& e);
  void on_user_client_refused(const monitor::UserClientRefused& e);
  void on_power_unacknowledged(const monitor::PowerChangeUnacknowledged& e);
  void add(sim::SimTime time, std::string_view check, std::string_view service, std::string_view location,
           std::string what, std::string why);

  FindingSink findings_;
};

}  // namespace dexthil::checks
