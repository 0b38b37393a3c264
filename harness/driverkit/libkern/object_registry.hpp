#pragma once
// Every OSObject alive in the process, with where it was created. A run takes a mark when it
// starts and, when it ends, lists what was created since and is still alive: the dext's leaks.
#include <cstdint>
#include <string>
#include <vector>

class OSObject;

namespace dexthil::driverkit {

struct LiveObject {
  std::string class_name;
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t retain_count = 0;
  std::uint64_t serial = 0;  // creation order
  std::uint64_t owner = 0;   // the dext process whose code created it (0: the kernel or a test)
};

class ObjectRegistry {
 public:
  static std::uint64_t mark();  // the serial the next object will get
  static std::vector<LiveObject> alive_since(std::uint64_t mark);
  static std::size_t alive_count();
  // Objects created from now on belong to `owner` (the kernel sets it as it switches between
  // dext processes' code and its own).
  static void set_current_owner(std::uint64_t owner);
  static std::vector<LiveObject> alive_owned_by(std::uint64_t owner);

  // Called by OSObject's constructor and destructor.
  static void created(const OSObject* object);
  static void destroyed(const OSObject* object);
};

}  // namespace dexthil::driverkit
