#include "harness/runner/result_codec.hpp"

#include <cstring>
#include <stdexcept>

namespace dexthil::runner {

namespace {

constexpr std::uint32_t kMagic = 0x64787231;  // "dxr1"

class Writer {
 public:
  void u64(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void f64(double v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  std::uint64_t u64() {
    std::uint64_t v;
    take(&v, sizeof v, "a number");
    return v;
  }
  double f64() {
    double v;
    take(&v, sizeof v, "a number");
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (n > in_.size() - pos_) fail("a string of " + std::to_string(n) + " bytes");
    std::string s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t count() {  // a list length, bounded by what is left
    const std::uint64_t n = u64();
    if (n > in_.size() - pos_) fail("a list of " + std::to_string(n) + " entries");
    return static_cast<std::size_t>(n);
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  void take(void* out, std::size_t n, const char* what) {
    if (n > in_.size() - pos_) fail(what);
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("the result ends at byte " + std::to_string(pos_) + " of " + std::to_string(in_.size()) +
                             " where " + what + " should be");
  }
  const std::string& in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_result(const ScenarioResult& r) {
  Writer w;
  w.u64(kMagic);
  w.str(r.name);
  w.str(r.file);
  w.u64(r.labels.size());
  for (const auto& l : r.labels) w.str(l);
  w.u64(r.seed);
  w.u64(static_cast<std::uint64_t>(r.outcome));
  w.u64(r.findings.size());
  for (const JudgedFinding& f : r.findings) {
    w.str(f.finding.check);
    w.str(f.finding.where);
    w.u64(f.finding.time);
    w.str(f.finding.what);
    w.str(f.finding.why);
    w.str(f.finding.subject);
    w.u64(f.finding.data.size());
    for (const auto& [key, value] : f.finding.data) {
      w.str(key);
      w.str(value);
    }
    w.u64(f.finding.informational);
    w.u64(f.expected);
  }
  w.u64(r.held_back.size());
  for (const JudgedHeldBack& h : r.held_back) {
    w.str(h.held.check);
    w.str(h.held.where);
    w.str(h.held.subject);
    w.u64(h.held.count);
    w.u64(h.held.informational);
    w.u64(h.expected);
  }
  w.u64(r.failures.size());
  for (const auto& f : r.failures) w.str(f);
  w.u64(r.notes.size());
  for (const auto& n : r.notes) w.str(n);
  w.u64(r.simulated);
  w.f64(r.wall_seconds);
  w.u64(r.trace_hash);
  w.u64(r.trace_records);
  w.u64(r.events);
  w.u64(r.clock_edges);
  w.u64(r.models.size());
  for (const ModelStats& m : r.models) {
    w.str(m.model);
    w.u64(m.values.size());
    for (const auto& [k, v] : m.values) {
      w.str(k);
      w.str(v);
    }
  }
  w.u64(r.trace.size());
  for (const sim::TraceRecord& t : r.trace) {
    w.u64(t.time);
    w.str(t.source);
    w.str(t.message);
  }
  return w.take();
}

std::optional<ScenarioResult> decode_result(const std::string& bytes, std::string* error) {
  try {
    Reader in(bytes);
    if (in.u64() != kMagic) throw std::runtime_error("it does not start with a dexthil result header");
    ScenarioResult r;
    r.name = in.str();
    r.file = in.str();
    for (std::size_t n = in.count(); n > 0; --n) r.labels.push_back(in.str());
    r.seed = in.u64();
    const std::uint64_t outcome = in.u64();
    if (outcome > static_cast<std::uint64_t>(Outcome::kHarnessError)) throw std::runtime_error("unknown outcome");
    r.outcome = static_cast<Outcome>(outcome);
    for (std::size_t n = in.count(); n > 0; --n) {
      JudgedFinding f;
      f.finding.check = in.str();
      f.finding.where = in.str();
      f.finding.time = in.u64();
      f.finding.what = in.str();
      f.finding.why = in.str();
      f.finding.subject = in.str();
      for (std::size_t d = in.count(); d > 0; --d) {
        std::string key = in.str();
        f.finding.data.emplace_back(std::move(key), in.str());
      }
      f.finding.informational = in.u64() != 0;
      f.expected = in.u64() != 0;
      r.findings.push_back(std::move(f));
    }
    for (std::size_t n = in.count(); n > 0; --n) {
      JudgedHeldBack h;
      h.held.check = in.str();
      h.held.where = in.str();
      h.held.subject = in.str();
      h.held.count = in.u64();
      h.held.informational = in.u64() != 0;
      h.expected = in.u64() != 0;
      r.held_back.push_back(std::move(h));
    }
    for (std::size_t n = in.count(); n > 0; --n) r.failures.push_back(in.str());
    for (std::size_t n = in.count(); n > 0; --n) r.notes.push_back(in.str());
    r.simulated = in.u64();
    r.wall_seconds = in.f64();
    r.trace_hash = in.u64();
    r.trace_records = in.u64();
    r.events = in.u64();
    r.clock_edges = in.u64();
    for (std::size_t n = in.count(); n > 0; --n) {
      ModelStats m;
      m.model = in.str();
      for (std::size_t k = in.count(); k > 0; --k) {
        std::string key = in.str();
        m.values.emplace_back(std::move(key), in.str());
      }
      r.models.push_back(std::move(m));
    }
    for (std::size_t n = in.count(); n > 0; --n) {
      sim::TraceRecord t;
      t.time = in.u64();
      t.source = in.str();
      t.message = in.str();
      r.trace.push_back(std::move(t));
    }
    if (!in.at_end()) throw std::runtime_error("bytes follow the end of the result");
    return r;
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

}  // namespace dexthil::runner
