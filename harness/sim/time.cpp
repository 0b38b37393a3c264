#include "harness/sim/time.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <numeric>

namespace dexthil::sim {
namespace {

struct Unit {
  std::string_view name;
  SimTime scale;
};

// Splits "<digits>[.<digits>]<spaces><unit>" and scales it exactly; rejects signs, exponents,
// overflow and results that are not a whole number of picoseconds.
std::optional<SimTime> parse_scaled(std::string_view text, const Unit* units, std::size_t unit_count,
                                    std::string_view what, std::string* error,
                                    std::string_view* unit_out) {
  auto fail = [&](std::string message) -> std::optional<SimTime> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    return fail(std::string(what) + " must not have a sign: \"" + std::string(text) + "\"");
  }
  std::size_t int_begin = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  std::string_view int_part = text.substr(int_begin, i - int_begin);
  std::string_view frac_part;
  if (i < text.size() && text[i] == '.') {
    std::size_t frac_begin = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    frac_part = text.substr(frac_begin, i - frac_begin);
  }
  if (int_part.empty() && frac_part.empty()) {
    return fail("expected a number followed by a unit, got \"" + std::string(text) + "\"");
  }
  while (i < text.size() && text[i] == ' ') ++i;
  std::string_view unit = text.substr(i);
  const Unit* found = nullptr;
  for (std::size_t u = 0; u < unit_count; ++u) {
    if (units[u].name == unit) found = &units[u];
  }
  if (!found) {
    std::string names;
    for (std::size_t u = 0; u < unit_count; ++u) names += (u ? ", " : "") + std::string(units[u].name);
    return fail("unknown or missing unit in \"" + std::string(text) + "\" (use one of " + names + ")");
  }
  if (unit_out) *unit_out = found->name;
  // value = int_part * scale + frac_part * scale / 10^len(frac_part), all in integers.
  unsigned __int128 whole = 0;
  for (char c : int_part) {
    whole = whole * 10 + static_cast<unsigned>(c - '0');
    if (whole > UINT64_MAX) return fail(std::string(what) + " \"" + std::string(text) + "\" is too large");
  }
  unsigned __int128 value = whole * found->scale;
  unsigned __int128 frac_num = 0, frac_den = 1;
  for (char c : frac_part) {
    if (frac_den > UINT64_MAX) break;  // further digits cannot matter at picosecond resolution
    frac_num = frac_num * 10 + static_cast<unsigned>(c - '0');
    frac_den *= 10;
  }
  unsigned __int128 frac_scaled = frac_num * found->scale;
  if (frac_scaled % frac_den != 0) {
    return fail(std::string(what) + " \"" + std::string(text) + "\" is not a whole number of picoseconds");
  }
  value += frac_scaled / frac_den;
  if (value > UINT64_MAX - 1) return fail(std::string(what) + " \"" + std::string(text) + "\" is too large");
  return static_cast<SimTime>(value);
}

}  // namespace

std::string format_time(SimTime t) {
  static constexpr std::array<Unit, 5> units{{{"s", kSecond}, {"ms", kMillisecond}, {"us", kMicrosecond},
                                              {"ns", kNanosecond}, {"ps", kPicosecond}}};
  for (const Unit& u : units) {
    if (t >= u.scale || u.scale == kPicosecond) {
      char buf[64];
      if (t % u.scale == 0) {
        std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(t / u.scale), u.name.data());
      } else {
        std::snprintf(buf, sizeof buf, "%.3f %s", static_cast<double>(t) / static_cast<double>(u.scale),
                      u.name.data());
      }
      return buf;
    }
  }
  return "0 ps";
}

std::optional<SimTime> parse_duration(std::string_view text, std::string* error) {
  static constexpr Unit units[] = {
      {"ps", kPicosecond}, {"ns", kNanosecond}, {"us", kMicrosecond}, {"ms", kMillisecond}, {"s", kSecond}};
  return parse_scaled(text, units, std::size(units), "duration", error, nullptr);
}

std::optional<Period> parse_frequency(std::string_view text, std::string* error) {
  const auto rounded = parse_frequency_period(text, error);  // the same checks and messages
  if (!rounded) return std::nullopt;
  static constexpr Unit units[] = {
      {"Hz", 1'000}, {"kHz", 1'000'000}, {"MHz", 1'000'000'000}, {"GHz", 1'000'000'000'000}};
  const std::uint64_t millihertz = *parse_scaled(text, units, std::size(units), "frequency", error, nullptr);
  const std::uint64_t ps_millihertz = 1'000'000'000'000'000ULL;
  const std::uint64_t g = std::gcd(ps_millihertz, millihertz);
  return Period{ps_millihertz / g, millihertz / g};
}

std::optional<SimTime> parse_frequency_period(std::string_view text, std::string* error) {
  // Parse the frequency in millihertz so "1.5MHz" stays exact, then period = 10^15 / mHz ps.
  static constexpr Unit units[] = {
      {"Hz", 1'000}, {"kHz", 1'000'000}, {"MHz", 1'000'000'000}, {"GHz", 1'000'000'000'000}};
  auto millihertz = parse_scaled(text, units, std::size(units), "frequency", error, nullptr);
  if (!millihertz) return std::nullopt;
  constexpr unsigned __int128 kPsMillihertz = static_cast<unsigned __int128>(1'000'000'000'000'000ULL);
  if (*millihertz == 0) {
    if (error) *error = "frequency \"" + std::string(text) + "\" must be above zero";
    return std::nullopt;
  }
  // Periods round to the nearest picosecond (48 MHz gives 20833 ps): the error is far below any
  // tolerance a device cares about, and time stays integral.
  auto period = static_cast<SimTime>((kPsMillihertz + *millihertz / 2) / *millihertz);
  if (period == 0) {
    if (error) *error = "frequency \"" + std::string(text) + "\" is above 1 THz";
    return std::nullopt;
  }
  return period;
}

}  // namespace dexthil::sim
