#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/report/reports.hpp"

namespace dexthil::report {
namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

std::string finding_text(const runner::JudgedFinding& f) {
  std::string data;
  for (const auto& [key, value] : f.finding.data) data += (data.empty() ? "\n  data: " : ", ") + key + "=" + value;
  return "[" + f.finding.check + "] " + f.finding.where + " at " + sim::format_time(f.finding.time) + ": " +
         f.finding.what + "\n  why: " + f.finding.why + data + (f.expected ? "\n  (expected by the scenario)" : "") +
         (f.finding.informational ? "\n  (informational)" : "");
}

}  // namespace

std::string junit_xml(const RunInfo& info, const std::vector<runner::ScenarioResult>& results) {
  std::size_t failures = 0, errors = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.outcome == runner::Outcome::kFail;
    errors += r.outcome == runner::Outcome::kError || r.outcome == runner::Outcome::kHarnessError;
    total += r.wall_seconds;
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"dexthil\" tests=\"" << results.size() << "\" failures=\"" << failures << "\" errors=\""
    << errors << "\" time=\"" << seconds(total) << "\">\n";
  x << "  <testsuite name=\"dexthil.scenarios\" tests=\"" << results.size() << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" skipped=\"0\" time=\"" << seconds(total) << "\">\n";
  x << "    <properties>\n      <property name=\"dexthil.version\" value=\"" << xml_escape(info.version) << "\"/>\n";
  if (info.seed_override) x << "      <property name=\"seed\" value=\"" << *info.seed_override << "\"/>\n";
  x << "    </properties>\n";
  for (const auto& r : results) {
    x << "    <testcase classname=\"dexthil.scenarios\" name=\"" << xml_escape(r.name) << "\" file=\""
      << xml_escape(r.file) << "\" time=\"" << seconds(r.wall_seconds) << "\">\n";
    x << "      <properties>\n        <property name=\"seed\" value=\"" << r.seed << "\"/>\n";
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.trace_hash));
    x << "        <property name=\"trace_hash\" value=\"" << hash << "\"/>\n";
    x << "        <property name=\"simulated\" value=\"" << sim::format_time(r.simulated) << "\"/>\n";
    x << "      </properties>\n";
    std::string failure_text;
    for (const auto& f : r.failures) failure_text += f + "\n";
    if (r.outcome == runner::Outcome::kFail) {
      x << "      <failure message=\"" << xml_escape(r.failures.empty() ? "failed" : r.failures.front())
        << "\" type=\"scenario\">" << xml_escape(failure_text) << "</failure>\n";
    } else if (r.outcome == runner::Outcome::kError || r.outcome == runner::Outcome::kHarnessError) {
      x << "      <error message=\"" << xml_escape(r.failures.empty() ? "error" : r.failures.front()) << "\" type=\""
        << (r.outcome == runner::Outcome::kError ? "input" : "harness") << "\">" << xml_escape(failure_text)
        << "</error>\n";
    }
    std::string out = "seed " + std::to_string(r.seed) + "\n";
    for (const auto& f : r.findings) out += finding_text(f) + "\n";
    for (const auto& h : r.held_back) {
      out += "... and " + std::to_string(h.held.count) + " more [" + h.held.check + "] on " + h.held.where +
             " (counted, not listed)\n";
    }
    x << "      <system-out>" << xml_escape(out) << "</system-out>\n";
    x << "    </testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

bool write_reports(const std::string& dir, const RunInfo& info, const std::vector<runner::ScenarioResult>& results,
                   std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = dir + ": cannot create the report folder: " + ec.message();
    return false;
  }
  for (const auto& [name, text] : {std::pair{"junit.xml", junit_xml(info, results)},
                                   std::pair{"summary.json", summary_json(info, results)}}) {
    const fs::path path = fs::path(dir) / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      *error = path.string() + ": cannot write the report";
      return false;
    }
  }
  return true;
}

}  // namespace dexthil::report
