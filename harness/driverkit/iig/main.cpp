// dexthil-iig INPUT.iig --header OUT.h --impl OUT.iig.cpp: the harness's substitute for Apple's
// iig (see docs/iig.md). Exit 0 on success; 2 on bad input (one "FILE:LINE:COL: error: ..." on
// stderr, and no output written) and on usage or I/O errors.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "harness/driverkit/iig/iig.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

constexpr const char* kUsage =
    "usage: dexthil-iig INPUT.iig --header OUT.h --impl OUT.iig.cpp\n"
    "\n"
    "Turns the iig class declarations in INPUT.iig into a C++ header and an implementation file\n"
    "for dexthil's host DriverKit. See docs/iig.md for the syntax and what is generated.\n"
    "\n"
    "  --header FILE  the header to write (the dext's sources include it)\n"
    "  --impl FILE    the implementation file to write (compiled into the dext)\n"
    "  --help         print this and exit\n";

int usage_error(const std::string& what) {
  std::cerr << "dexthil-iig: " << what << "\n" << kUsage;
  return kExitError;
}

// Writes both files or neither: each goes to a temporary name first and is renamed into place
// once both are written, so a failed run never leaves half its output for the build to use.
bool write_outputs(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  auto fail = [&](const std::string& path) {
    std::cerr << path << ": error: cannot write the file\n";
    std::error_code ignored;
    for (const std::string& temp : temps) std::filesystem::remove(temp, ignored);
    return false;
  };
  for (const auto& [path, text] : files) {
    temps.push_back(path + ".tmp");
    std::ofstream out(temps.back(), std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return fail(path);
  }
  for (std::size_t n = 0; n < files.size(); ++n) {
    std::error_code ec;
    std::filesystem::rename(temps[n], files[n].first, ec);
    if (ec) return fail(files[n].first);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  std::string input, header, impl;
  for (std::size_t n = 0; n < args.size(); ++n) {
    const std::string& a = args[n];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return kExitOk;
    }
    // --header FILE, --header=FILE, and the same for --impl.
    std::string* slot = nullptr;
    std::string name, value;
    for (auto [option, target] : {std::pair{"--header", &header}, std::pair{"--impl", &impl}}) {
      if (a == option) {
        if (n + 1 == args.size()) return usage_error(std::string(option) + " needs a file name");
        slot = target, name = option, value = args[++n];
      } else if (a.starts_with(std::string(option) + "=")) {
        slot = target, name = option, value = a.substr(name.size() + 1);
      }
    }
    if (slot) {
      if (!slot->empty()) return usage_error(name + " given twice");
      if (value.empty()) return usage_error(name + " needs a file name");
      *slot = value;
    } else if (a.starts_with("-")) {
      return usage_error("unknown option '" + a + "'");
    } else if (input.empty()) {
      input = a;
    } else {
      return usage_error("more than one input file ('" + input + "', '" + a + "')");
    }
  }
  if (input.empty()) return usage_error("no input file");
  if (header.empty()) return usage_error("no --header file");
  if (impl.empty()) return usage_error("no --impl file");

  const std::optional<std::string> source = dexthil::iig::read_text_file(input);
  if (!source) {
    std::cerr << input << ": error: cannot read the file\n";
    return kExitError;
  }
  dexthil::iig::GenerateOptions options;
  options.input_name = std::filesystem::path(input).filename().string();
  options.header_name = std::filesystem::path(header).filename().string();
  std::string error;
  const auto generated = dexthil::iig::translate(*source, options, &error);
  if (!generated) {
    std::cerr << input << ":" << error << "\n";
    return kExitError;
  }
  if (!write_outputs({{header, generated->header}, {impl, generated->impl}})) return kExitError;
  return kExitOk;
}
