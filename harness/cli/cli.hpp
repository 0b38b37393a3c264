#pragma once
// The `dexthil` command, callable in-process so tests can check its output and exit codes.
#include <iosfwd>
#include <string>
#include <vector>

namespace dexthil::cli {

inline constexpr int kExitPass = 0;
inline constexpr int kExitFail = 1;
inline constexpr int kExitUsage = 2;  // usage or input error
inline constexpr int kExitHarness = 3;  // dexthil itself failed (never a dext's fault)

// args excludes the program name. `interactive` is whether stdout is a terminal.
int main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool interactive);

}  // namespace dexthil::cli
