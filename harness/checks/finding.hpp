#pragma once
// A finding: something a check saw that a person must look at. It says what happened (in the
// platform's words where there are any), where, when, and why it matters.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/sim/time.hpp"

namespace dexthil::checks {

struct Finding {
  std::string check;     // stable id, e.g. "dma.data-mismatch"; scenarios expect findings by it
  std::string where;     // the model, device or dext it concerns
  sim::SimTime time = 0;
  std::string what;      // one line: what happened
  std::string why;       // the explanation a person needs to act on it
  std::string subject = {};  // the model or endpoint name [[expect]] entries match; empty: `where`

  const std::string& matched_name() const { return subject.empty() ? where : subject; }
};

class FindingLog {
 public:
  void add(Finding finding) { findings_.push_back(std::move(finding)); }
  const std::vector<Finding>& all() const { return findings_; }
  bool empty() const { return findings_.empty(); }

 private:
  std::vector<Finding> findings_;
};

// The checks a scenario can name; each finding's `check` is one of these ids.
struct CheckInfo {
  const char* id;
  const char* summary;
};
const std::vector<CheckInfo>& known_checks();
bool is_known_check(const std::string& id);

}  // namespace dexthil::checks
