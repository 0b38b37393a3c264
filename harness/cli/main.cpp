#include <unistd.h>

#include <iostream>

#include "harness/cli/cli.hpp"
#include "harness/util/heap_tuning.hpp"

int main(int argc, char** argv) {
  dexthil::util::keep_freed_heap_memory();
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return dexthil::cli::main(args, std::cout, std::cerr, isatty(STDOUT_FILENO) != 0);
  } catch (const std::exception& e) {
    // The harness reports its own failures; it never dies with an unexplained abort.
    std::cerr << "dexthil: harness error: " << e.what() << "\n";
    return dexthil::cli::kExitHarness;
  }
}
