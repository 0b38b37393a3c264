#pragma once
// The message of the exception of type E that `f` throws, or "" when it throws none: lets a test
// assert the exact words an error carries.
#include <string>

namespace dexthil::util {

template <typename E, typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace dexthil::util
