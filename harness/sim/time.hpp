#pragma once
// Simulated time: an unsigned count of picoseconds since the start of a run. 2^64 ps is about
// 213 days, far beyond any scenario, and integer time keeps runs bit-for-bit reproducible.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dexthil::sim {

using SimTime = std::uint64_t;

inline constexpr SimTime kPicosecond = 1;
inline constexpr SimTime kNanosecond = 1'000;
inline constexpr SimTime kMicrosecond = 1'000'000;
inline constexpr SimTime kMillisecond = 1'000'000'000;
inline constexpr SimTime kSecond = 1'000'000'000'000;
inline constexpr SimTime kNever = UINT64_MAX;

// "1.25 us", "3 ms", "0 ps": the largest unit that keeps the value at or above one.
std::string format_time(SimTime t);

// Parses "<number><unit>" with unit ps, ns, us, ms or s ("2ms", "1.5 us", "250ns").
// Decimal fractions are allowed as long as the result is a whole number of picoseconds.
// On failure returns nullopt and sets *error to a sentence naming the problem.
std::optional<SimTime> parse_duration(std::string_view text, std::string* error);

// Parses "<number><unit>" with unit Hz, kHz, MHz or GHz and returns the clock period in
// picoseconds, rounded to the nearest picosecond.
std::optional<SimTime> parse_frequency_period(std::string_view text, std::string* error);

// A clock period as an exact fraction of picoseconds (num / den), so that a clock of 22.5792 or
// 24.576 MHz keeps its exact rate however long it runs, though each edge falls on a whole
// picosecond.
struct Period {
  std::uint64_t num = 1;
  std::uint64_t den = 1;
  static Period of(SimTime picoseconds) { return {picoseconds, 1}; }
  SimTime rounded() const { return (num + den / 2) / den; }
  bool operator==(const Period&) const = default;
};
// "22.5792MHz" as its exact period (1e15 / millihertz ps, reduced). Same errors as above.
std::optional<Period> parse_frequency(std::string_view text, std::string* error);

}  // namespace dexthil::sim
