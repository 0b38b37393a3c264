#include "harness/runner/determinism.hpp"

#include <algorithm>

#include "harness/util/hex.hpp"

namespace dexthil::runner {

namespace {

std::string describe(const sim::TraceRecord& r) {
  return "at " + sim::format_time(r.time) + " " + r.source + ": " + r.message;
}

// Where two kept traces part: "record #N differs: first run <...>, second run <...>".
std::string first_difference(const std::vector<sim::TraceRecord>& a, const std::vector<sim::TraceRecord>& b,
                             const char* first, const char* second) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i].time != b[i].time || a[i].source != b[i].source || a[i].message != b[i].message) {
      return "trace record #" + std::to_string(i) + " differs: " + first + " " + describe(a[i]) + "; " + second + " " +
             describe(b[i]);
    }
  }
  if (a.size() != b.size()) {
    const bool a_longer = a.size() > b.size();
    return "the traces agree for " + std::to_string(n) + " records, then only the " + (a_longer ? first : second) +
           " goes on: " + describe((a_longer ? a : b)[n]);
  }
  return "the traces agreed record for record when both were run again (the difference did not repeat)";
}

void fail(ScenarioResult* r, std::string why) {
  r->failures.push_back(std::move(why));
  if (r->outcome == Outcome::kPass) r->outcome = Outcome::kFail;
}

}  // namespace

std::uint64_t edges_without_skipping(const scenario::Scenario& s) {
  std::uint64_t edges = 0;
  for (const scenario::ModelSpec& m : s.models) {
    if (m.clock) edges += static_cast<std::uint64_t>(static_cast<unsigned __int128>(s.duration) * m.clock->den / m.clock->num);
  }
  return edges;
}

void check_determinism(const std::vector<scenario::Scenario>& scenarios, const ModelCatalog& catalog,
                       const RunOptions& options, unsigned jobs, std::vector<ScenarioResult>* results) {
  const std::vector<ScenarioResult> again = run_isolated(scenarios, catalog, options, jobs, {});
  std::vector<scenario::Scenario> affordable;
  std::vector<std::size_t> affordable_index;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    if (edges_without_skipping(scenarios[i]) <= kMaxCheckedEdges) {
      affordable.push_back(scenarios[i]);
      affordable_index.push_back(i);
    }
  }
  RunOptions every_edge = options;
  every_edge.skip_idle = false;
  const std::vector<ScenarioResult> unskipped = run_isolated(affordable, catalog, every_edge, jobs, {});

  RunOptions keep = options;
  keep.keep_trace_records = true;
  RunOptions keep_every_edge = every_edge;
  keep_every_edge.keep_trace_records = true;
  auto rerun_and_compare = [&](const scenario::Scenario& s, const RunOptions& a, const RunOptions& b, const char* first,
                               const char* second) {
    const auto ra = run_isolated({s}, catalog, a, 1, {});
    const auto rb = run_isolated({s}, catalog, b, 1, {});
    return first_difference(ra[0].trace, rb[0].trace, first, second);
  };

  std::vector<bool> repeatable(scenarios.size(), true);
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    ScenarioResult& r = (*results)[i];
    if (r.outcome == Outcome::kError || r.outcome == Outcome::kHarnessError) continue;
    if (again[i].trace_hash != r.trace_hash) {
      repeatable[i] = false;
      fail(&r, "not deterministic: the same seed gave trace hash " + util::hex(r.trace_hash) + ", then " +
                   util::hex(again[i].trace_hash) + "; " + rerun_and_compare(scenarios[i], keep, keep, "one run", "the next"));
    }
  }
  for (std::size_t k = 0; k < affordable.size(); ++k) {
    ScenarioResult& r = (*results)[affordable_index[k]];
    // Without a repeatable run, comparing it with the every-edge run says nothing more.
    if (r.outcome == Outcome::kError || r.outcome == Outcome::kHarnessError || !repeatable[affordable_index[k]]) continue;
    if (unskipped[k].trace_hash != r.trace_hash) {
      fail(&r, "idle skipping changed the run: trace hash " + util::hex(r.trace_hash) + " with it, " +
                   util::hex(unskipped[k].trace_hash) + " evaluating every clock edge; " +
                   rerun_and_compare(affordable[k], keep, keep_every_edge, "skipping", "every edge") +
                   ". A model must not change state or draw random numbers on an edge where it said it was idle.");
    }
  }
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    if (edges_without_skipping(scenarios[i]) > kMaxCheckedEdges) {
      (*results)[i].notes.push_back("determinism: two runs compared; the run without idle skipping was left out (" +
                                    std::to_string(edges_without_skipping(scenarios[i])) + " clock edges, more than " +
                                    std::to_string(kMaxCheckedEdges) + ")");
    }
  }
}

}  // namespace dexthil::runner
