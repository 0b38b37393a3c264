#pragma once
// A ScenarioResult as bytes, so a scenario's child process can hand its result to the parent
// (isolation.hpp). Length-prefixed little-endian fields; decoding checks every length, so a
// truncated or garbled result is an error, never a crash.
#include <optional>
#include <string>

#include "harness/runner/run.hpp"

namespace dexthil::runner {

std::string encode_result(const ScenarioResult& result);
// nullopt with *error saying where the bytes stopped making sense.
std::optional<ScenarioResult> decode_result(const std::string& bytes, std::string* error);

}  // namespace dexthil::runner
