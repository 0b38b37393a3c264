#pragma once
// A finding: something a check saw that a person must look at. It says what happened (in the
// platform's words where there are any), where, when, and why it matters, with the facts behind
// it as data fields.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "harness/sim/time.hpp"
#include "harness/sim/trace.hpp"

namespace dexthil::checks {

struct Finding {
  std::string check;     // stable id, e.g. "dma.data-mismatch"; scenarios expect findings by it
  std::string where;     // the model, device or dext it concerns
  sim::SimTime time = 0;
  std::string what;      // one line: what happened
  std::string why;       // the explanation a person needs to act on it
  std::string subject = {};  // the model or endpoint name [[expect]] entries match; empty: `where`
  // The facts behind `what` as fields a program can read (offset, size, status, ...), in order.
  std::vector<std::pair<std::string, std::string>> data = {};
  // Worth knowing, not wrong: reported, and a scenario does not fail on it unexpected.
  bool informational = false;

  const std::string& matched_name() const { return subject.empty() ? where : subject; }
};

// Findings of the same id in the same place that were counted but not kept.
struct HeldBack {
  std::string check;
  std::string where;
  std::string subject;
  std::uint64_t count = 0;
  bool informational = false;  // as the findings it counts
};

// Keeps the first `kept_per_place` findings of each (id, where) in full and counts the rest, so
// a bug that repeats on every transfer gives a readable report in bounded memory.
class FindingLog {
 public:
  static constexpr std::size_t kDefaultKeptPerPlace = 10;
  explicit FindingLog(std::size_t kept_per_place = kDefaultKeptPerPlace) : kept_per_place_(kept_per_place) {}

  void add(Finding finding);
  const std::vector<Finding>& all() const { return findings_; }  // the kept ones, in order
  const std::vector<HeldBack>& held_back() const { return held_back_; }
  std::uint64_t total() const { return total_; }
  bool empty() const { return total_ == 0; }

 private:
  std::size_t kept_per_place_;
  std::vector<Finding> findings_;
  std::vector<HeldBack> held_back_;
  std::map<std::pair<std::string, std::string>, std::size_t> per_place_;  // (check, where) -> how many so far
  std::uint64_t total_ = 0;
};

// Where a monitor checker's findings go: into the run's trace first (so the trace hash covers
// them), then into the log. (The DMA path checkers and the models' own reports write to the log
// alone; what they judge is already in the trace.)
class FindingSink {
 public:
  FindingSink(FindingLog& log, sim::Trace& trace) : log_(log), trace_(trace) {}
  void add(Finding finding) {
    trace_.record(finding.time, "checks", "finding " + finding.check + " on " + finding.where);
    log_.add(std::move(finding));
  }

 private:
  FindingLog& log_;
  sim::Trace& trace_;
};

// The checks a scenario can name; each finding's `check` is one of these ids.
struct CheckInfo {
  const char* id;
  const char* summary;
};
const std::vector<CheckInfo>& known_checks();
bool is_known_check(const std::string& id);

}  // namespace dexthil::checks
