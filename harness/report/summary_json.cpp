#include <cstdio>
#include <sstream>

#include "harness/report/reports.hpp"

namespace dexthil::report {
namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string hex64(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string summary_json(const RunInfo& info, const std::vector<runner::ScenarioResult>& results) {
  std::size_t counts[runner::kOutcomeCount] = {};
  for (const auto& r : results) ++counts[static_cast<int>(r.outcome)];
  std::ostringstream j;
  j << "{\n  \"schema\": \"dexthil-summary/1\",\n";
  j << "  \"dexthil_version\": " << json_string(info.version) << ",\n";
  j << "  \"seed_override\": " << (info.seed_override ? std::to_string(*info.seed_override) : "null") << ",\n";
  j << "  \"totals\": {\"scenarios\": " << results.size() << ", \"pass\": " << counts[0] << ", \"fail\": " << counts[1]
    << ", \"error\": " << counts[2] << ", \"harness_error\": " << counts[3] << "},\n";
  j << "  \"scenarios\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    j << (i ? "," : "") << "\n    {\n";
    j << "      \"name\": " << json_string(r.name) << ",\n";
    j << "      \"file\": " << json_string(r.file) << ",\n";
    j << "      \"labels\": [";
    for (std::size_t k = 0; k < r.labels.size(); ++k) j << (k ? ", " : "") << json_string(r.labels[k]);
    j << "],\n";
    j << "      \"seed\": " << r.seed << ",\n";
    j << "      \"outcome\": " << json_string(runner::to_string(r.outcome)) << ",\n";
    j << "      \"simulated_ps\": " << r.simulated << ",\n";
    j << "      \"wall_seconds\": " << r.wall_seconds << ",\n";
    j << "      \"trace_hash\": " << json_string(hex64(r.trace_hash)) << ",\n";
    j << "      \"trace_records\": " << r.trace_records << ",\n";
    j << "      \"events\": " << r.events << ",\n";
    j << "      \"clock_edges\": " << r.clock_edges << ",\n";
    j << "      \"failures\": [";
    for (std::size_t k = 0; k < r.failures.size(); ++k) j << (k ? ", " : "") << "\n        " << json_string(r.failures[k]);
    j << (r.failures.empty() ? "" : "\n      ") << "],\n";
    j << "      \"notes\": [";
    for (std::size_t k = 0; k < r.notes.size(); ++k) j << (k ? ", " : "") << "\n        " << json_string(r.notes[k]);
    j << (r.notes.empty() ? "" : "\n      ") << "],\n";
    j << "      \"findings\": [";
    for (std::size_t k = 0; k < r.findings.size(); ++k) {
      const auto& f = r.findings[k];
      j << (k ? "," : "") << "\n        {\"check\": " << json_string(f.finding.check) << ", \"where\": "
        << json_string(f.finding.where) << ", \"time_ps\": " << f.finding.time << ", \"what\": "
        << json_string(f.finding.what) << ", \"why\": " << json_string(f.finding.why)
        << ", \"subject\": " << json_string(f.finding.matched_name()) << ", \"data\": {";
      for (std::size_t d = 0; d < f.finding.data.size(); ++d) {
        j << (d ? ", " : "") << json_string(f.finding.data[d].first) << ": " << json_string(f.finding.data[d].second);
      }
      j << "}, \"informational\": " << (f.finding.informational ? "true" : "false")
        << ", \"expected\": " << (f.expected ? "true" : "false") << "}";
    }
    j << (r.findings.empty() ? "" : "\n      ") << "],\n";
    j << "      \"held_back\": [";
    for (std::size_t k = 0; k < r.held_back.size(); ++k) {
      const auto& h = r.held_back[k];
      j << (k ? "," : "") << "\n        {\"check\": " << json_string(h.held.check) << ", \"where\": "
        << json_string(h.held.where) << ", \"count\": " << h.held.count
        << ", \"informational\": " << (h.held.informational ? "true" : "false")
        << ", \"expected\": " << (h.expected ? "true" : "false") << "}";
    }
    j << (r.held_back.empty() ? "" : "\n      ") << "],\n";
    j << "      \"models\": {";
    for (std::size_t m = 0; m < r.models.size(); ++m) {
      j << (m ? "," : "") << "\n        " << json_string(r.models[m].model) << ": {";
      const auto& values = r.models[m].values;
      for (std::size_t v = 0; v < values.size(); ++v) {
        j << (v ? ", " : "") << json_string(values[v].first) << ": " << json_string(values[v].second);
      }
      j << "}";
    }
    j << (r.models.empty() ? "" : "\n      ") << "}\n    }";
  }
  j << (results.empty() ? "" : "\n  ") << "]\n}\n";
  return j.str();
}

}  // namespace dexthil::report
