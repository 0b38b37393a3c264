#include <fstream>

#include "models/common/rtl_assertions.hpp"

namespace dexthil::models::rtl_assertions {
namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first);
}

// The assertion as written: its label (on the line Verilator names) and the rule its comment on
// the line above states.
struct Source {
  std::string label, rule;
};
Source source_of(const std::string& file, int line) {
  std::ifstream in(file);
  std::string previous, text;
  for (int n = 1; n <= line && std::getline(in, text); ++n) {
    if (n < line) previous = text;
  }
  if (!in) return {};
  Source s;
  text = trimmed(text);
  if (const auto colon = text.find(" :"); colon != std::string::npos) s.label = text.substr(0, colon);
  previous = trimmed(previous);
  if (previous.rfind("//", 0) == 0) s.rule = trimmed(previous.substr(2));
  return s;
}

}  // namespace

void report(const std::string& model, checks::FindingLog& findings) {
  for (const RtlAssertionFailure& f : take(model)) {
    const std::string file = f.file.substr(f.file.rfind('/') + 1);
    const Source source = source_of(f.file, f.line);
    findings.add({"rtl.assertion", model, f.time,
                  file + ":" + std::to_string(f.line) + ": assertion " + (source.label.empty() ? "" : source.label + " ") +
                      "failed" + (source.rule.empty() ? std::string() : ": " + source.rule),
                  "A rule the RTL's designers wrote down as a SystemVerilog assertion did not hold on this edge. It is a "
                  "bug in the device model or in what drives it (the harness side of a port), not in the dext."});
  }
}

}  // namespace dexthil::models::rtl_assertions
