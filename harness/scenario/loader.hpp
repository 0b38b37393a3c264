#pragma once
// Reads scenario files (TOML, see docs/scenarios.md) into validated Scenarios. Every problem is
// reported as "file:line:column: key.path: what is wrong", and the first problem in a file is the
// one reported, so a user fixes files one precise message at a time.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/scenario/scenario.hpp"

namespace dexthil::scenario {

class ScenarioLoader {
 public:
  explicit ScenarioLoader(std::vector<ModelTypeInfo> model_types,
                          std::vector<std::shared_ptr<const SectionPlugin>> sections = {})
      : model_types_(std::move(model_types)), sections_(std::move(sections)) {}

  // Returns the scenario, or nullopt with one message in *error.
  std::optional<Scenario> load(const std::string& path, std::string* error) const;
  // Parses text as if read from `path` (relative paths inside resolve against its folder).
  std::optional<Scenario> load_text(const std::string& text, const std::string& path, std::string* error) const;

  const std::vector<ModelTypeInfo>& model_types() const { return model_types_; }
  const std::vector<std::shared_ptr<const SectionPlugin>>& sections() const { return sections_; }

 private:
  std::vector<ModelTypeInfo> model_types_;
  std::vector<std::shared_ptr<const SectionPlugin>> sections_;
};

// Expands command-line arguments into scenario files: a file stands for itself, a folder for
// every *.toml below it (sorted, so runs are ordered the same everywhere). Missing paths and
// folders without scenarios are errors.
std::vector<std::string> collect_scenario_files(const std::vector<std::string>& args,
                                                std::vector<std::string>* errors);

// Scenario names identify results in reports, so they must be unique across one run.
void check_unique_names(const std::vector<Scenario>& scenarios, std::vector<std::string>* errors);

}  // namespace dexthil::scenario
