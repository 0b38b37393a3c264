// dexthil-regs DESCRIPTION.toml --sv PACKAGE.sv --cxx HEADER.h: generates a device's register
// constants for its RTL and for C++ from one description (docs/registers.md). Exit status 2 on
// bad input, with one message naming file, line, column and key; nothing is written then.
#include <fstream>
#include <iostream>
#include <string>

#include "harness/regs/regs.hpp"

int main(int argc, char** argv) {
  std::string input, sv, cxx;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--sv" || a == "--cxx") && i + 1 < argc) {
      (a == "--sv" ? sv : cxx) = argv[++i];
    } else if (!a.empty() && a[0] != '-' && input.empty()) {
      input = a;
    } else {
      std::cerr << "usage: dexthil-regs DESCRIPTION.toml [--sv PACKAGE.sv] [--cxx HEADER.h]\n";
      return 2;
    }
  }
  if (input.empty() || (sv.empty() && cxx.empty())) {
    std::cerr << "usage: dexthil-regs DESCRIPTION.toml [--sv PACKAGE.sv] [--cxx HEADER.h]\n";
    return 2;
  }
  std::string error;
  auto device = dexthil::regs::load(input, &error);
  if (!device) {
    std::cerr << error << "\n";
    return 2;
  }
  for (const auto& [path, text] : {std::pair{sv, dexthil::regs::systemverilog_package(*device)},
                                   std::pair{cxx, dexthil::regs::cxx_header(*device)}}) {
    if (path.empty()) continue;
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) {
      std::cerr << path << ": error: cannot write\n";
      return 2;
    }
  }
  return 0;
}
